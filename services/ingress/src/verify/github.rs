//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the secret's
//! raw bytes (<https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>).
//! When that header is absent, the legacy `X-Hub-Signature: sha1=<hex HMAC-SHA1>` that GitHub still
//! sends (and GitHub Enterprise Server versions before SHA-256 send alone) is accepted instead
//! (<https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers>); a present
//! but broken SHA-256 header never falls back. GitHub sends no signed timestamp, so there is no
//! tolerance check; replays are left to dedup on `X-GitHub-Delivery`.
use hookbus_core::config::HmacAlgorithm::{Sha1, Sha256};
use hookbus_core::config::SigEncoding::Hex;

use super::mac::BodyMac;
use super::{Inbound, VerifyError};
use super::identify::headers;
use super::Provider;

const SIG_HEADER: &str = "X-Hub-Signature-256";
const PREFIX: &str = "sha256=";
const MAC: BodyMac = BodyMac { header: SIG_HEADER, prefix: PREFIX, alg: Sha256, enc: Hex };
const LEGACY: BodyMac = BodyMac { header: "X-Hub-Signature", prefix: "sha1=", alg: Sha1, enc: Hex };

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    // Hex decoding accepts either case, as GitHub's docs do not promise one.
    if !req.headers.contains_key(SIG_HEADER) && req.headers.contains_key(LEGACY.header) {
        return LEGACY.verify(req, secrets);
    }
    MAC.verify(req, secrets)
}

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    vec![
        (SIG_HEADER.into(), MAC.value(secret, body)),
        ("X-GitHub-Event".into(), "push".into()),
        ("X-GitHub-Delivery".into(), delivery_id.into()),
        ("Content-Type".into(), "application/json".into()),
    ]
}

pub(super) const PROVIDER: Provider = Provider {
    about: "GitHub: X-Hub-Signature-256 sha256=<hex HMAC-SHA256 of the body> (legacy X-Hub-Signature sha1=)",
    headers: &[SIG_HEADER, "X-Hub-Signature"],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    identify: |_, h, _| headers(h, "x-github-delivery", "x-github-event"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::Secret;

    use super::super::Scheme;
    use super::super::test_util::{expired, headers, inbound, with_header};
    use super::*;

    // GitHub's documented example
    // (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries),
    // cross-checked with
    // `printf '%s' 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"`.
    const SECRET: &str = "It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";
    const SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    const NOW: i64 = 1_700_000_000;

    fn map(sig: &str) -> http::HeaderMap {
        headers(&[(SIG_HEADER.into(), sig.into())])
    }

    fn check(map: &http::HeaderMap, body: &[u8], secrets: &[Secret]) -> Result<(), VerifyError> {
        Scheme::of(hookbus_core::config::SchemeKind::Github).verify(&inbound(map, body, NOW), secrets, 300).map(|_| ())
    }

    #[test]
    fn documented_vector_passes() {
        assert_eq!(check(&map(SIG), BODY, &[Secret::new(SECRET)]), Ok(()));
        assert_eq!(
            check(&map(&SIG.to_uppercase().replace("SHA256=", "sha256=")), BODY, &[Secret::new(SECRET)]),
            Ok(())
        );
        let lower = headers(&[("x-hub-signature-256".into(), SIG.into())]);
        assert_eq!(check(&lower, BODY, &[Secret::new(SECRET)]), Ok(()));
    }

    #[test]
    fn wrong_secret_and_tampered_body_mismatch() {
        assert_eq!(
            check(&map(SIG), BODY, &[Secret::new("It's a secret to everybody")]),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(check(&map(SIG), b"Hello, World?", &[Secret::new(SECRET)]), Err(VerifyError::SignatureMismatch));
        assert_eq!(check(&map(SIG), b"", &[Secret::new(SECRET)]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn missing_header() {
        let none = headers(&[("X-GitHub-Event".into(), "push".into())]);
        assert_eq!(check(&none, BODY, &[Secret::new(SECRET)]), Err(VerifyError::MissingHeader(SIG_HEADER.into())));
    }

    // No published SHA-1 vector: built from the same documented secret and payload with
    // `printf '%s' 'Hello, World!' | openssl dgst -sha1 -hmac "It's a Secret to Everybody"`.
    const SHA1_SIG: &str = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59";

    #[test]
    fn legacy_sha1_is_the_fallback_when_sha256_is_absent() {
        let only_sha1 = headers(&[("X-Hub-Signature".into(), SHA1_SIG.into())]);
        let s = [Secret::new(SECRET)];
        assert_eq!(check(&only_sha1, BODY, &s), Ok(()));
        assert_eq!(check(&only_sha1, b"Hello, World?", &s), Err(VerifyError::SignatureMismatch));
        assert_eq!(check(&only_sha1, BODY, &[Secret::new("other")]), Err(VerifyError::SignatureMismatch));
        for bad in ["sha1=abc", SIG, "01dc10d0c83e72ed246219cdd91669667fe2ca59"] {
            let map = headers(&[("X-Hub-Signature".into(), bad.into())]);
            assert_eq!(check(&map, BODY, &s).unwrap_err().code(), "malformed_signature_header", "{bad}");
        }
        // Both present: SHA-256 decides, so a broken SHA-256 cannot be rescued by a good SHA-1.
        let both = with_header(&only_sha1, SIG_HEADER, b"sha256=00");
        assert_eq!(check(&both, BODY, &s).unwrap_err().code(), "malformed_signature_header");
        let wrong256 = with_header(&only_sha1, SIG_HEADER, SIG.replace("757", "000").as_bytes());
        assert_eq!(check(&wrong256, BODY, &s), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn malformed_headers() {
        let base = map(SIG);
        for value in [
            &b"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"[..],
            b"sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            b"sha256=zz",
            b"sha256=757107ea",
            b"sha256=",
            b"sha256=\xff\xff",
        ] {
            let err = check(&with_header(&base, SIG_HEADER, value), BODY, &[Secret::new(SECRET)]).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header", "{value:?}");
            assert!(!err.to_string().contains("757107"), "message must not echo a signature");
        }
    }

    #[test]
    fn rotation_and_expiry() {
        assert_eq!(check(&map(SIG), BODY, &[Secret::new("old"), Secret::new(SECRET)]), Ok(()));
        assert_eq!(check(&map(SIG), BODY, &[expired(SECRET, NOW)]), Err(VerifyError::NoActiveSecret));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let pairs = Scheme::of(hookbus_core::config::SchemeKind::Github).sign(SECRET, BODY, NOW, "d-1").unwrap();
        assert_eq!(pairs[0], (SIG_HEADER.to_string(), SIG.to_string()));
        assert!(pairs.contains(&("X-GitHub-Delivery".into(), "d-1".into())));
        assert!(pairs.contains(&("X-GitHub-Event".into(), "push".into())));
        assert_eq!(check(&headers(&pairs), BODY, &[Secret::new(SECRET)]), Ok(()));
        let empty = Scheme::of(hookbus_core::config::SchemeKind::Github).sign(SECRET, b"", NOW, "d-2").unwrap();
        assert_eq!(check(&headers(&empty), b"", &[Secret::new(SECRET)]), Ok(()));
    }
}
