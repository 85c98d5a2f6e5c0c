//! Dropbox: `X-Dropbox-Signature: <hex HMAC-SHA256 of the body>` keyed with the app secret, and a
//! `GET ?challenge=<text>` when the webhook URL is registered, answered by echoing the challenge as
//! text with `X-Content-Type-Options: nosniff` (<https://www.dropbox.com/developers/reference/webhooks>).
//! Notifications only list the accounts that changed: no delivery id, no event type.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::mac::BodyMac;
use crate::handshake::{Answer, query_param};

const MAC: BodyMac = BodyMac { header: "X-Dropbox-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Dropbox: X-Dropbox-Signature <hex HMAC-SHA256 of the body>; answers GET ?challenge=",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    get_handshake: |method, _, query| {
        let challenge = query_param(query, "challenge").filter(|_| method == "GET")?;
        Some(Answer::text("dropbox", challenge))
    },
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Dropbox publishes no vector; built from the docs with
    //   printf '%s' '{"list_folder":{"accounts":["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}}' \
    //     | openssl dgst -sha256 -hmac 'dropbox-app-secret'
    const BODY: &[u8] = br#"{"list_folder":{"accounts":["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}}"#;
    const SIG: &str = "24ae1721acc7afaa9662c95e7f61cf98f5d80647a5f95493ab3d1fad5275ae2d";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Dropbox), "dropbox-app-secret", &[(MAC.header, SIG)], BODY, 0);
        case.body_mac("dropbox-app-secreT", MAC.header);
    }

    #[test]
    fn challenge_is_echoed_on_get_only() {
        let h = http::HeaderMap::new();
        let answer = (PROVIDER.get_handshake)("GET", &h, Some("challenge=f%20a%3Cb"));
        assert_eq!(answer, Some(Answer::text("dropbox", "f a<b")));
        assert_eq!((PROVIDER.get_handshake)("HEAD", &h, Some("challenge=x")), None);
        assert_eq!((PROVIDER.get_handshake)("GET", &h, Some("other=x")), None);
        assert_eq!((PROVIDER.get_handshake)("GET", &h, None), None);
    }
}
