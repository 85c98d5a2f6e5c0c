//! Console sessions: a signed, stateless cookie (any admin node sharing `[admin] session_key`
//! accepts it) with idle and absolute limits, and a CSRF token derived from the session.
//!
//! Cookie value: `base64url(claims JSON) "." base64url(HMAC-SHA256(key, claims))`. The claims name
//! the token by a keyed tag of its digest, so changing or removing a token in the config ends its
//! sessions; signing out records the session id in the store (see store/sessions.rs).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const COOKIE: &str = "hookbus_session";
/// The header carrying the CSRF token on state-changing requests made with the cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's `seen` time is refreshed (a new cookie) at most this often, in seconds.
pub const REFRESH_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Random session id; also what the CSRF token is derived from.
    pub sid: String,
    /// Keyed tag of the token's digest (see [`SessionKey::token_tag`]).
    pub tok: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Last request, Unix seconds.
    pub seen: i64,
}

/// Why a cookie is not a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Malformed,
    BadSignature,
    Idle,
    Expired,
}

pub struct SessionKey {
    key: Vec<u8>,
    pub idle_secs: i64,
    pub max_secs: i64,
}

impl SessionKey {
    pub fn new(key: &[u8], idle: std::time::Duration, max: std::time::Duration) -> Self {
        Self { key: key.to_vec(), idle_secs: idle.as_secs() as i64, max_secs: max.as_secs() as i64 }
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> [u8; 32] {
        let mut m = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(domain);
        m.update(&[0]);
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// A tag naming a token without revealing anything about it.
    pub fn token_tag(&self, digest: &[u8; 32]) -> String {
        B64.encode(&self.mac(b"token", digest)[..16])
    }

    pub fn csrf(&self, sid: &str) -> String {
        B64.encode(self.mac(b"csrf", sid.as_bytes()))
    }

    /// Constant-time check of a presented CSRF token.
    pub fn csrf_ok(&self, sid: &str, presented: &str) -> bool {
        let expected = self.csrf(sid);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), presented.as_bytes()).into()
    }

    pub fn seal(&self, c: &Claims) -> String {
        let body = B64.encode(serde_json::to_vec(c).unwrap_or_default());
        let sig = B64.encode(self.mac(b"session", body.as_bytes()));
        format!("{body}.{sig}")
    }

    /// The claims of a cookie value, if it is ours and within both limits at `now`.
    pub fn open(&self, value: &str, now: i64) -> Result<Claims, Invalid> {
        let (body, sig) = value.split_once('.').ok_or(Invalid::Malformed)?;
        let sig = B64.decode(sig).map_err(|_| Invalid::Malformed)?;
        let mut m = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(b"session");
        m.update(&[0]);
        m.update(body.as_bytes());
        m.verify_slice(&sig).map_err(|_| Invalid::BadSignature)?;
        let json = B64.decode(body).map_err(|_| Invalid::Malformed)?;
        let c: Claims = serde_json::from_slice(&json).map_err(|_| Invalid::Malformed)?;
        if now - c.iat >= self.max_secs {
            return Err(Invalid::Expired);
        }
        if now - c.seen >= self.idle_secs {
            return Err(Invalid::Idle);
        }
        Ok(c)
    }

    /// The `Set-Cookie` value for `c`; it lives until the absolute expiry.
    pub fn cookie(&self, c: &Claims, now: i64, secure: bool) -> String {
        let max_age = (c.iat + self.max_secs - now).max(0);
        let secure = if secure { "; Secure" } else { "" };
        format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", self.seal(c))
    }

    pub fn clear_cookie(secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
    }
}

/// The session cookie's value among the request's cookies.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key() -> SessionKey {
        SessionKey::new(b"k", Duration::from_secs(1800), Duration::from_secs(43200))
    }

    fn claims(iat: i64, seen: i64) -> Claims {
        Claims { sid: "s1".into(), tok: "t".into(), iat, seen }
    }

    #[test]
    fn round_trips_within_both_limits() {
        let k = key();
        let c = claims(1000, 1500);
        assert_eq!(k.open(&k.seal(&c), 1500 + 1799), Ok(c.clone()));
        assert_eq!(k.open(&k.seal(&c), 1500 + 1800), Err(Invalid::Idle));
        let fresh = claims(1000, 1000 + 43199);
        assert_eq!(k.open(&k.seal(&fresh), 1000 + 43200), Err(Invalid::Expired));
    }

    #[test]
    fn refuses_tampering_and_other_keys() {
        let k = key();
        let sealed = k.seal(&claims(1000, 1000));
        let (body, sig) = sealed.split_once('.').unwrap();
        let forged = B64.encode(serde_json::to_vec(&claims(1000, 9_999_999)).unwrap());
        assert_eq!(k.open(&format!("{forged}.{sig}"), 1001), Err(Invalid::BadSignature));
        let other = SessionKey::new(b"other", Duration::from_secs(1800), Duration::from_secs(43200));
        assert_eq!(other.open(&sealed, 1001), Err(Invalid::BadSignature));
        assert_eq!(k.open(body, 1001), Err(Invalid::Malformed));
        assert_eq!(k.open("", 1001), Err(Invalid::Malformed));
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let k = key();
        let t = k.csrf("s1");
        assert!(k.csrf_ok("s1", &t));
        assert!(!k.csrf_ok("s2", &t));
        assert!(!k.csrf_ok("s1", ""));
    }

    #[test]
    fn cookie_is_http_only_strict_and_bounded() {
        let k = key();
        let c = k.cookie(&claims(1000, 1000), 1000, false);
        assert!(c.starts_with("hookbus_session="));
        assert!(c.contains("; HttpOnly; SameSite=Strict; Max-Age=43200"));
        assert!(!c.contains("Secure"));
        assert!(k.cookie(&claims(1000, 1000), 2000, true).ends_with("Max-Age=42200; Secure"));
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=b; hookbus_session=xyz; c=d".parse().unwrap());
        assert_eq!(cookie_value(&h), Some("xyz"));
    }
}
