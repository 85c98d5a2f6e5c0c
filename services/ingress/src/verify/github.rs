//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the secret's
//! raw bytes (<https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>).
//! GitHub sends no signed timestamp, so there is no tolerance check; replays are left to dedup
//! on `X-GitHub-Delivery`.
use hookbus_core::signing::{constant_time_eq, hmac_sha256};

use super::{Inbound, VerifyError, required_header};

const SIG_HEADER: &str = "X-Hub-Signature-256";
const PREFIX: &str = "sha256=";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<(), VerifyError> {
    let value = required_header(req.headers, SIG_HEADER)?;
    let hex_sig =
        value.strip_prefix(PREFIX).ok_or_else(|| VerifyError::malformed(SIG_HEADER, "expected `sha256=<hex>`"))?;
    // Decoding (rather than comparing hex text) accepts either hex case, as GitHub's docs'
    // own examples do not promise one.
    let given = hex::decode(hex_sig)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| VerifyError::malformed(SIG_HEADER, "expected 64 hex digits after `sha256=`"))?;
    let matched = secrets
        .iter()
        .fold(false, |found, s| found | constant_time_eq(&hmac_sha256(s.as_bytes(), &[req.body]), &given));
    if matched { Ok(()) } else { Err(VerifyError::SignatureMismatch) }
}

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    let mac = hmac_sha256(secret.as_bytes(), &[body]);
    vec![
        (SIG_HEADER.into(), format!("{PREFIX}{}", hex::encode(mac))),
        ("X-GitHub-Event".into(), "push".into()),
        ("X-GitHub-Delivery".into(), delivery_id.into()),
        ("Content-Type".into(), "application/json".into()),
    ]
}

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
        Scheme::Github.verify(&inbound(map, body, NOW), secrets, 300)
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
        let only_sha1 = headers(&[("X-Hub-Signature".into(), "sha1=abc".into())]);
        assert_eq!(check(&only_sha1, BODY, &[Secret::new(SECRET)]), Err(VerifyError::MissingHeader(SIG_HEADER.into())));
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
        let pairs = Scheme::Github.sign(SECRET, BODY, NOW, "d-1").unwrap();
        assert_eq!(pairs[0], (SIG_HEADER.to_string(), SIG.to_string()));
        assert!(pairs.contains(&("X-GitHub-Delivery".into(), "d-1".into())));
        assert!(pairs.contains(&("X-GitHub-Event".into(), "push".into())));
        assert_eq!(check(&headers(&pairs), BODY, &[Secret::new(SECRET)]), Ok(()));
        let empty = Scheme::Github.sign(SECRET, b"", NOW, "d-2").unwrap();
        assert_eq!(check(&headers(&empty), b"", &[Secret::new(SECRET)]), Ok(()));
    }
}
