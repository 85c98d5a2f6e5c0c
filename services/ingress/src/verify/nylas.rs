//! Nylas v3: `X-Nylas-Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook secret, and a
//! `GET ?challenge=<text>` when the webhook URL is registered, answered by echoing the challenge as
//! text with `X-Content-Type-Options: nosniff` (<https://developer.nylas.com/docs/v3/notifications/webhooks/>).
//! Notifications are CloudEvents-like: `id` identifies the event and `type` names it.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;
use crate::handshake::{Answer, query_param};

const MAC: BodyMac = BodyMac { header: "X-Nylas-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Nylas: X-Nylas-Signature <hex HMAC-SHA256 of the body>; answers GET ?challenge=",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| fields(body, "/id", "/type"),
    get_handshake: |method, _, query| {
        let challenge = query_param(query, "challenge").filter(|_| method == "GET")?;
        Some(Answer::text("nylas", challenge))
    },
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Nylas publishes no vector; built from the docs with
    //   printf '%s' '{"specversion":"1.0","type":"message.created","id":"evt_nylas_1","data":{}}' \
    //     | openssl dgst -sha256 -hmac 'nylas-webhook-secret'
    const BODY: &[u8] = br#"{"specversion":"1.0","type":"message.created","id":"evt_nylas_1","data":{}}"#;
    const SIG: &str = "d86c477c625bb1cf095729a1cae47b286b66a880c6f072a0c179c771fd60c830";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Nylas), "nylas-webhook-secret", &[(MAC.header, SIG)], BODY, 0);
        case.body_mac("nylas-webhook-secreT", MAC.header);
    }

    #[test]
    fn challenge_is_echoed_on_get_only() {
        let h = http::HeaderMap::new();
        let answer = (PROVIDER.get_handshake)("GET", &h, Some("challenge=f%20a%3Cb"));
        assert_eq!(answer, Some(Answer::text("nylas", "f a<b")));
        assert_eq!((PROVIDER.get_handshake)("HEAD", &h, Some("challenge=x")), None);
        assert_eq!((PROVIDER.get_handshake)("GET", &h, Some("other=x")), None);
        assert_eq!((PROVIDER.get_handshake)("GET", &h, None), None);
    }
}
