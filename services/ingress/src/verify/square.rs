//! Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256 of notification URL + raw body>`,
//! keyed with the subscription's signature key (<https://developer.squareup.com/docs/webhooks/step3validate>).
//! The URL is the notification URL exactly as registered with Square: set the source's
//! `public_url` to it (see `signed_url`). The legacy SHA-1 `x-square-signature` is not accepted.
//! No signed timestamp; dedup keys on `event_id` in the body.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::{Inbound, VerifyError, required_header, signed_url};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "x-square-hmacsha256-signature";

pub(super) fn verify(public_url: Option<&str>, req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given = decode(HEADER, required_header(req.headers, HEADER)?, Base64, Sha256)?;
    let url = signed_url::resolve(public_url, req.url, "square")?;
    outcome(any_matches(secrets, &[given], |key| compute(Sha256, key, &[url.as_bytes(), req.body])))
}

pub(super) fn sign(public_url: Option<&str>, secret: &str, body: &[u8]) -> Result<Vec<(String, String)>, VerifyError> {
    let url = signed_url::for_signing(public_url, "square")?;
    let mac = compute(Sha256, secret.as_bytes(), &[url.as_bytes(), body]);
    Ok(pairs([(HEADER, encode(Base64, &mac)), ("Content-Type", "application/json".into())]))
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Square: x-square-hmacsha256-signature <base64 HMAC-SHA256 of notification URL + body>",
    headers: &[HEADER],
    verify: |s, req, keys, _| verify(s.public_url.as_deref(), req, keys),
    sign: |s, g| sign(s.public_url.as_deref(), g.secret, g.body),
    round_trips: false,
    identify: |_, _, body| fields(body, "/event_id", "/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use super::super::Scheme;
    use super::super::test_util::Case;
    use super::*;

    // From Square's Node SDK test suite (square/square-nodejs-sdk,
    // test/utilities/webhooksHelper.test.ts), cross-checked with
    //   printf '%s' "$URL$BODY" | openssl dgst -sha256 -hmac 'Ibxx_5AKakO-3qeNVR61Dw' -binary | base64
    const KEY: &str = "Ibxx_5AKakO-3qeNVR61Dw";
    const URL: &str = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    const BODY: &[u8] = br#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;
    const SIG: &str = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";

    /// As the ingress sees it: only the path arrives, `public_url` supplies the rest.
    fn case() -> Case {
        let scheme = Scheme { kind: hookbus_core::config::SchemeKind::Square, public_url: Some(URL.into()), hmac: None, settings: Default::default() };
        Case::new(scheme, KEY, &[(HEADER, SIG)], BODY, 1_700_000_000).at_url("/webhooks/square")
    }

    #[test]
    fn sdk_vectors_and_negatives() {
        let case = case();
        case.standard("MCmhFRxGX82xMwg5FsaoQA");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"1z2n3DEJJiUPKcPzQo1ftvbxGdw=", b"***", b""]);
        // The SDK's other vectors: a fixed URL and key, with and without characters JSON may escape.
        let other = |body: &[u8], sig: &str| {
            let scheme = Scheme { kind: hookbus_core::config::SchemeKind::Square, public_url: Some("https://webhook.site/webhooks".into()), hmac: None, settings: Default::default() };
            Case::new(scheme, "signature-key", &[(HEADER, sig)], body, 0).verify()
        };
        assert_eq!(
            other(br#"{"data":{"type":"webhooks","id":"fake_id"}}"#, "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA="),
            Ok(())
        );
        assert_eq!(
            other(br#"{"data":{"type":"webhooks","id":">id<"}}"#, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="),
            Ok(())
        );
    }

    #[test]
    fn the_url_is_signed() {
        let case = case();
        let wrong = Case { scheme: Scheme { kind: hookbus_core::config::SchemeKind::Square, public_url: Some(URL.replace("679a", "79a")), hmac: None, settings: Default::default() }, ..case.clone() };
        assert_eq!(wrong.verify(), Err(VerifyError::SignatureMismatch));
        // Without public_url: an absolute URL (hookbus verify --url) works, a bare path cannot.
        let bare = Case { scheme: Scheme { kind: hookbus_core::config::SchemeKind::Square, public_url: None, hmac: None, settings: Default::default() }, ..case.clone() };
        assert_eq!(bare.clone().at_url(URL).verify(), Ok(()));
        assert_eq!(bare.verify().unwrap_err().code(), "source_misconfigured");
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let case = case();
        case.round_trips();
        assert_eq!(case.scheme.sign(KEY, BODY, 0, "d").unwrap()[0].1, SIG);
        let bare = Scheme { kind: hookbus_core::config::SchemeKind::Square, public_url: None, hmac: None, settings: Default::default() };
        assert_eq!(bare.sign(KEY, BODY, 0, "d").unwrap_err().code(), "source_misconfigured");
    }
}
