//! Signing primitives shared by ingress (verify), worker (sign outbound) and the CLI (`hookbus sign`).
//!
//! Standard Webhooks (<https://www.standardwebhooks.com/>): the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 keyed with the base64-decoded secret
//! (after an optional `whsec_` prefix), sent as `v1,{base64(mac)}`; several space-separated
//! signatures may be present (key rotation).
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Errors from decoding keys; verification failures are reported by the callers' own types.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("the Standard Webhooks secret is not valid base64 (expected `whsec_<base64>`)")]
    BadSecret,
}

/// Headers a Standard Webhooks signer produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardWebhooksHeaders {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

/// Decodes a Standard Webhooks secret (`whsec_` prefix optional) into raw key bytes.
pub fn standard_webhooks_key(secret: &str) -> Result<Vec<u8>, SigningError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    B64.decode(b64.trim()).map_err(|_| SigningError::BadSecret)
}

/// HMAC-SHA256 over `parts` concatenated, without allocating the concatenation.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The `v1,<base64>` signature for one message under one key.
pub fn standard_webhooks_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", B64.encode(mac))
}

/// Signs `body` with a Standard Webhooks secret.
pub fn sign_standard_webhooks(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<StandardWebhooksHeaders, SigningError> {
    let key = standard_webhooks_key(secret)?;
    Ok(StandardWebhooksHeaders {
        id: id.to_owned(),
        timestamp,
        signature: standard_webhooks_signature(&key, id, timestamp, body),
    })
}

/// True when any `v1,` entry of a space-separated `webhook-signature` header matches, in constant time.
pub fn standard_webhooks_matches(key: &[u8], id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = standard_webhooks_signature(key, id, timestamp, body);
    header
        .split_whitespace()
        .filter(|s| s.starts_with("v1,"))
        .fold(false, |found, candidate| found | constant_time_eq(candidate.as_bytes(), expected.as_bytes()))
}

/// Constant-time equality for signatures (length differences are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vector from the Standard Webhooks reference libraries' test suite
    // (https://github.com/standard-webhooks/standard-webhooks, libraries/*/tests).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_reference_vector() {
        let h = sign_standard_webhooks(SECRET, ID, TS, BODY).unwrap();
        assert_eq!(h.signature, SIG);
    }

    #[test]
    fn matches_any_of_several_signatures() {
        let key = standard_webhooks_key(SECRET).unwrap();
        let header = format!("v1,bm90IGl0 {SIG}");
        assert!(standard_webhooks_matches(&key, ID, TS, BODY, &header));
        assert!(!standard_webhooks_matches(&key, ID, TS + 1, BODY, &header));
        assert!(!standard_webhooks_matches(&key, ID, TS, b"{}", SIG));
    }

    #[test]
    fn rejects_non_base64_secret() {
        assert_eq!(standard_webhooks_key("whsec_***"), Err(SigningError::BadSecret));
    }
}
