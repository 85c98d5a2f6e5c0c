//! Bearer tokens from `[admin] tokens`. Tokens are kept as SHA-256 digests and compared in
//! constant time (equal-length digests, no early exit), and never logged.
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hookbus_core::config::TokenScope;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::St;
use crate::ControlError;

struct Token {
    name: String,
    digest: [u8; 32],
    scope: TokenScope,
}

#[derive(Default)]
pub struct Tokens(Vec<Token>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|t| (&t.name, t.scope))).finish()
    }
}

impl Tokens {
    /// `(name, token, scope)`; the token text is hashed at once.
    pub fn new(tokens: impl IntoIterator<Item = (String, String, TokenScope)>) -> Self {
        Self(
            tokens
                .into_iter()
                .map(|(name, token, scope)| Token { name, digest: Sha256::digest(token.as_bytes()).into(), scope })
                .collect(),
        )
    }

    /// The scope and name of the token presented, if it is one of ours.
    fn find(&self, presented: &str) -> Option<(TokenScope, &str)> {
        let d: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        // Every token is compared, so the time taken does not tell which one matched.
        for t in &self.0 {
            if bool::from(t.digest.ct_eq(&d)) && found.is_none() {
                found = Some((t.scope, t.name.as_str()));
            }
        }
        found
    }
}

impl Tokens {
    /// The digest of a presented token, if it is one of ours, with its scope and name.
    pub(crate) fn check(&self, presented: &str) -> Option<([u8; 32], TokenScope, String)> {
        let (scope, name) = self.find(presented)?;
        Some((Sha256::digest(presented.as_bytes()).into(), scope, name.to_owned()))
    }

    /// The token whose digest has this tag (see console/session.rs), with its scope and name.
    pub(crate) fn by_tag(&self, tag: impl Fn(&[u8; 32]) -> bool) -> Option<(TokenScope, &str)> {
        self.0.iter().find(|t| tag(&t.digest)).map(|t| (t.scope, t.name.as_str()))
    }
}

/// Reading is allowed with any token; changing needs `write`. `POST /mapping/test` only reads.
pub(crate) fn needs_write(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && path != "/api/v1/mapping/test"
        && path != "/api/v1/mapping/check"
}

pub async fn require(axum::extract::State(inner): St, req: Request, next: Next) -> Response {
    let ip = super::throttle::client_ip(&req);
    let now = std::time::Instant::now();
    if let Some(wait) = inner.auth_throttle.blocked(ip, now) {
        return ControlError::TooManyFailures(wait.as_secs()).into_response();
    }
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    // Without a bearer token, the console's session cookie (with its CSRF token for writes).
    if presented.is_none() && crate::console::session::cookie_value(req.headers()).is_some() {
        return crate::console::with_session(inner, req, next).await;
    }
    let Some((scope, name)) = presented.and_then(|p| inner.tokens.find(p)) else {
        // A wrong token counts; no token at all (a probe, a misconfigured scraper) guesses nothing.
        if presented.is_some() {
            inner.auth_throttle.failed(ip, now);
        }
        return ControlError::Unauthorized.into_response();
    };
    if scope != TokenScope::Write && needs_write(req.method(), req.uri().path()) {
        return ControlError::Forbidden.into_response();
    }
    tracing::debug!(token = name, method = %req.method(), path = req.uri().path(), "admin request");
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_exact_tokens() {
        let t = Tokens::new([
            ("ro".to_owned(), "read-token".to_owned(), TokenScope::Read),
            ("rw".to_owned(), "write-token".to_owned(), TokenScope::Write),
        ]);
        assert_eq!(t.find("write-token"), Some((TokenScope::Write, "rw")));
        assert_eq!(t.find("read-token"), Some((TokenScope::Read, "ro")));
        assert_eq!(t.find("write-toke"), None);
        assert_eq!(t.find(""), None);
        assert!(!format!("{t:?}").contains("token\""));
    }
}
