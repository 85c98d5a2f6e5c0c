//! Secrets given through the API are sealed with XChaCha20-Poly1305 before they reach the store.
//! A sealed value is `v1.<key id>.<nonce>.<ciphertext>` (base64url); the key id picks the key, so
//! the current key and earlier ones can be configured together while stored values are re-sealed
//! (rotation). The associated data binds a value to its subscription and field, so a sealed value
//! copied into another row does not open.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("no encryption key is configured; set [admin] encryption_key to store secrets given through the API")]
    NoKey,
    #[error("sealed with key {0}, which is not configured; add it to [admin] previous_encryption_keys")]
    UnknownKey(String),
    #[error("a sealed secret is damaged or was sealed for another field")]
    Damaged,
}

struct SealKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    /// Any string works as key material: it is hashed to 32 bytes (use 32 random bytes).
    fn new(material: &str) -> Self {
        let key: [u8; 32] = Sha256::digest(material.as_bytes()).into();
        let id = hex8(&Sha256::digest([b"hookbus-key-id:".as_slice(), &key].concat()));
        Self { id, cipher: XChaCha20Poly1305::new(Key::from_slice(&key)) }
    }
}

fn hex8(d: &[u8]) -> String {
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The configured keys: the first seals, all open.
pub struct Sealer {
    keys: Vec<SealKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("key_ids", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>()).finish()
    }
}

impl Sealer {
    /// `current` seals; `previous` only open. No current key: secrets cannot be stored.
    pub fn new(current: Option<&str>, previous: &[String]) -> Self {
        Self { keys: current.into_iter().chain(previous.iter().map(String::as_str)).map(SealKey::new).collect() }
    }

    pub fn seal(&self, plaintext: &str, aad: &str) -> Result<String, SealError> {
        let key = self.keys.first().ok_or(SealError::NoKey)?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = key
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| SealError::Damaged)?;
        Ok(format!("v1.{}.{}.{}", key.id, B64.encode(nonce), B64.encode(ct)))
    }

    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, SealError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(id), Some(nonce), Some(ct), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Damaged);
        };
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let nonce = B64.decode(nonce).map_err(|_| SealError::Damaged)?;
        let ct = B64.decode(ct).map_err(|_| SealError::Damaged)?;
        if nonce.len() != 24 {
            return Err(SealError::Damaged);
        }
        let pt = key
            .cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(pt).map_err(|_| SealError::Damaged)
    }

    /// True when `sealed` was sealed with another than the current key.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        let id = sealed.split('.').nth(1).unwrap_or_default();
        self.keys.first().is_some_and(|k| k.id != id)
    }
}

/// What GET shows of a secret: its last four characters, so a person can tell which one is set.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = if chars.len() > 8 { chars[chars.len() - 4..].iter().collect() } else { String::new() };
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_binds_to_its_field() {
        let s = Sealer::new(Some("key-one"), &[]);
        let sealed = s.seal("whsec_abc", "crm/signing_secret").unwrap();
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(s.open(&sealed, "crm/signing_secret").unwrap(), "whsec_abc");
        assert_eq!(s.open(&sealed, "other/signing_secret"), Err(SealError::Damaged));
        // Two seals of one value differ (random nonce).
        assert_ne!(sealed, s.seal("whsec_abc", "crm/signing_secret").unwrap());
    }

    #[test]
    fn rotation_opens_old_values_and_flags_them_for_resealing() {
        let old = Sealer::new(Some("key-one"), &[]);
        let sealed = old.seal("v", "a").unwrap();
        let rotated = Sealer::new(Some("key-two"), &["key-one".to_owned()]);
        assert_eq!(rotated.open(&sealed, "a").unwrap(), "v");
        assert!(rotated.needs_reseal(&sealed));
        assert!(!rotated.needs_reseal(&rotated.seal("v", "a").unwrap()));
        let without_old = Sealer::new(Some("key-two"), &[]);
        assert!(matches!(without_old.open(&sealed, "a"), Err(SealError::UnknownKey(_))));
        assert_eq!(Sealer::new(None, &[]).seal("v", "a"), Err(SealError::NoKey));
    }

    #[test]
    fn hints_show_only_the_tail_of_long_secrets() {
        assert_eq!(hint("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "****LaSw");
        assert_eq!(hint("short"), "****");
    }
}
