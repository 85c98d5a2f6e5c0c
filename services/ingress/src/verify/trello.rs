//! Trello: `X-Trello-Webhook: <base64 HMAC-SHA1 of body + callbackURL>` keyed with the application's
//! secret, the callback URL exactly as registered (the source's `public_url`), and a `HEAD` to the
//! callback URL when a webhook is created, which must get 200
//! (<https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/#webhook-signatures>).
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Base64;

use super::identify::body_str;
use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header, signed_url};
use crate::handshake::Answer;

const HEADER: &str = "X-Trello-Webhook";

pub(super) const PROVIDER: Provider = Provider {
    about: "Trello: X-Trello-Webhook <base64 HMAC-SHA1 of body + callback URL>; answers the creation HEAD",
    headers: &[HEADER],
    verify: |s, req, keys, _| verify(s.public_url.as_deref(), req, keys),
    sign: |s, g| {
        let url = signed_url::for_signing(s.public_url.as_deref(), "trello")?;
        let mac = compute(Sha1, g.secret.as_bytes(), &[g.body, url.as_bytes()]);
        Ok(pairs([(HEADER, encode(Base64, &mac)), ("Content-Type", "application/json".into())]))
    },
    round_trips: false,
    identify: |_, _, body| (body_str(body, "/action/id"), body_str(body, "/action/type")),
    get_handshake: |method, _, _| (method == "HEAD").then(|| Answer::text("trello", "")),
    ..Provider::DEFAULT
};

fn verify(public_url: Option<&str>, req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given = decode(HEADER, required_header(req.headers, HEADER)?, Base64, Sha1)?;
    let url = signed_url::resolve(public_url, req.url, "trello")?;
    outcome(any_matches(secrets, &[given], |key| compute(Sha1, key, &[req.body, url.as_bytes()])))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::Scheme;
    use super::super::test_util::Case;
    use super::*;

    // Trello publishes no vector; built from the docs with
    //   printf '%s' '{"action":{"id":"51f9424bcd6e040f3c002412","type":"updateCard"}}https://hooks.example.com/webhooks/trello' \
    //     | openssl dgst -sha1 -hmac 'trello-app-secret' -binary | base64
    const BODY: &[u8] = br#"{"action":{"id":"51f9424bcd6e040f3c002412","type":"updateCard"}}"#;
    const URL: &str = "https://hooks.example.com/webhooks/trello";

    fn case() -> Case {
        let scheme = Scheme::at(SchemeKind::Trello, URL);
        Case::new(scheme, "trello-app-secret", &[(HEADER, "zKajYo/YHgVQAOg9fTT2qRb2Gco=")], BODY, 0).at_url("/webhooks/trello")
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.body_mac("trello-app-secreT", HEADER);
        // The URL is signed.
        let elsewhere = Case { scheme: Scheme::at(SchemeKind::Trello, "https://hooks.example.com/other"), ..case.clone() };
        assert_eq!(elsewhere.verify(), Err(VerifyError::SignatureMismatch));
        let bare = Case { scheme: Scheme::of(SchemeKind::Trello), ..case };
        assert_eq!(bare.verify().unwrap_err().code(), "source_misconfigured");
    }

    #[test]
    fn creation_head_gets_200() {
        let h = http::HeaderMap::new();
        assert_eq!((PROVIDER.get_handshake)("HEAD", &h, None), Some(Answer::text("trello", "")));
        assert_eq!((PROVIDER.get_handshake)("GET", &h, None), None);
    }
}
