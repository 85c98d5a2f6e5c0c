//! Outbound authentication: the `Authorization` header of a subscription's deliveries. Basic and
//! bearer are fixed values built once. OAuth2 client credentials fetches a token from the token
//! endpoint, keeps it for every delivery until shortly before it expires, and forgets it when the
//! target answers 401 with it (the token may have been revoked), so the next request fetches anew.
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookbus_core::config::OutboundAuth;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;

/// How much of a failed token response is kept in the error.
const SNIPPET: usize = 256;
/// Lifetime assumed for a token whose response has no `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// A token is refreshed this long before it expires at most (less for short-lived tokens).
const MAX_MARGIN: Duration = Duration::from_secs(60);

pub(crate) enum Auth {
    /// Basic or bearer: the same header on every request.
    Static(HeaderValue),
    OAuth2(OAuth2),
}

pub(crate) struct OAuth2 {
    token_url: String,
    /// The token request's form: grant type, client id and secret, scope, audience.
    form: Vec<(&'static str, String)>,
    /// Held across a fetch, so concurrent deliveries wait for one fetch instead of each making one.
    cached: Mutex<Option<Token>>,
}

#[derive(Clone)]
struct Token {
    header: HeaderValue,
    refresh_at: Instant,
}

/// The token endpoint's answer (RFC 6749 5.1); some servers send `expires_in` as a string.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// When to fetch a token again: before it expires by a margin of a fifth of its lifetime, at most
/// [`MAX_MARGIN`], so a short-lived token is still used for most of its life.
pub(crate) fn refresh_at(fetched: Instant, expires_in: Option<Duration>) -> Instant {
    let lifetime = expires_in.unwrap_or(DEFAULT_LIFETIME);
    fetched + lifetime - (lifetime / 5).min(MAX_MARGIN)
}

fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::try_from(value).map_err(|_| "the credential has characters a header cannot carry")?;
    v.set_sensitive(true);
    Ok(v)
}

impl Auth {
    /// `secret` is the resolved password, token or client secret of `config`.
    pub fn build(config: &OutboundAuth, secret: String) -> Result<Self, String> {
        Ok(match config {
            OutboundAuth::Basic { username, .. } => {
                Auth::Static(sensitive(&format!("Basic {}", B64.encode(format!("{username}:{secret}"))))?)
            }
            OutboundAuth::Bearer { .. } => Auth::Static(sensitive(&format!("Bearer {secret}"))?),
            OutboundAuth::Oauth2ClientCredentials { token_url, client_id, scope, audience, .. } => {
                let mut form = vec![
                    ("grant_type", "client_credentials".to_owned()),
                    ("client_id", client_id.clone()),
                    ("client_secret", secret),
                ];
                form.extend(scope.clone().map(|s| ("scope", s)));
                form.extend(audience.clone().map(|a| ("audience", a)));
                Auth::OAuth2(OAuth2 { token_url: token_url.clone(), form, cached: Mutex::new(None) })
            }
        })
    }

    /// The token endpoint, for the SSRF check of its address.
    pub fn token_url(&self) -> Option<&str> {
        match self {
            Auth::Static(_) => None,
            Auth::OAuth2(o) => Some(&o.token_url),
        }
    }

    /// The `Authorization` value for the next request; for OAuth2 the cached token, fetched when
    /// there is none or it is due for refresh. The error says why a token could not be had.
    pub async fn header(&self, client: &reqwest::Client, timeout: Duration) -> Result<HeaderValue, String> {
        let o = match self {
            Auth::Static(v) => return Ok(v.clone()),
            Auth::OAuth2(o) => o,
        };
        let mut cached = o.cached.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(t.header.clone());
        }
        let token = o.fetch(client, timeout).await?;
        *cached = Some(token.clone());
        Ok(token.header)
    }

    /// The target answered 401 to a request sent with `used`: forget that token (unless another
    /// delivery already replaced it). Returns whether a fresh token may help (OAuth2 only).
    pub async fn rejected(&self, used: &HeaderValue) -> bool {
        let Auth::OAuth2(o) = self else { return false };
        let mut cached = o.cached.lock().await;
        if cached.as_ref().is_some_and(|t| t.header == *used) {
            *cached = None;
        }
        true
    }
}

impl OAuth2 {
    async fn fetch(&self, client: &reqwest::Client, timeout: Duration) -> Result<Token, String> {
        let fetched = Instant::now();
        let resp = client
            .post(&self.token_url)
            .timeout(timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&self.form)
            .send()
            .await
            .map_err(|e| format!("token endpoint {}: {}", self.token_url, crate::deliver::error_chain(&e)))?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            let cut = String::from_utf8_lossy(&body[..body.len().min(SNIPPET)]).into_owned();
            return Err(format!("token endpoint {} answered {}: {cut}", self.token_url, status.as_u16()));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| format!("token endpoint {} sent no access token: {e}", self.token_url))?;
        if let Some(ty) = parsed.token_type.as_deref().filter(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(format!(
                "token endpoint {} sent a `{ty}` token; only bearer tokens are supported",
                self.token_url
            ));
        }
        let expires_in = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let header = sensitive(&format!("Bearer {}", parsed.access_token))?;
        tracing::debug!(token_url = %self.token_url, expires_in, "fetched an access token");
        Ok(Token { header, refresh_at: refresh_at(fetched, expires_in.map(Duration::from_secs)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        let t0 = Instant::now();
        assert_eq!(refresh_at(t0, Some(Duration::from_secs(3600))), t0 + Duration::from_secs(3540));
        assert_eq!(refresh_at(t0, Some(Duration::from_secs(10))), t0 + Duration::from_secs(8));
        assert_eq!(refresh_at(t0, None), t0 + Duration::from_secs(3540));
        assert_eq!(refresh_at(t0, Some(Duration::ZERO)), t0, "an already expired token is fetched again");
    }

    #[test]
    fn static_credentials_are_built_once_and_marked_sensitive() {
        let basic: OutboundAuth = serde_json::from_value(serde_json::json!({
            "kind": "basic", "username": "Aladdin", "password": {"value": "x"}
        }))
        .unwrap();
        let Auth::Static(v) = Auth::build(&basic, "open sesame".into()).unwrap() else { panic!("static") };
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
        let bearer: OutboundAuth =
            serde_json::from_value(serde_json::json!({"kind": "bearer", "token": {"value": "x"}})).unwrap();
        assert!(Auth::build(&bearer, "bad\ntoken".into()).is_err());
    }
}
