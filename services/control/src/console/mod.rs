//! The web console at `/console`: embedded static assets (no build step) and the session routes
//! that exchange an admin token for a cookie. Everything else the console shows comes from the
//! public API under `/api/v1`, which accepts the cookie (with a CSRF token for writes).
mod assets;
pub mod session;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hookbus_core::config::{AdminConfig, SecretRef, TokenScope};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ControlError;
use crate::plane::Inner;
use session::{CSRF_HEADER, Claims, REFRESH_SECS, SessionKey};

/// `[admin] session_key`, or a random key for this process when none is set.
pub(crate) fn session_key(
    admin: &AdminConfig,
    resolve: impl Fn(&SecretRef) -> Result<String, ControlError>,
) -> Result<SessionKey, ControlError> {
    let (idle, max) = admin.session_limits().map_err(|m| ControlError::Internal(format!("admin: {m}")))?;
    let key = match &admin.session_key {
        Some(r) => resolve(r)?.into_bytes(),
        None => {
            let mut k = vec![0u8; 32];
            rand::rng().fill_bytes(&mut k);
            k
        }
    };
    Ok(SessionKey::new(&key, idle, max))
}

pub(crate) fn router() -> Router<Arc<Inner>> {
    Router::new()
        .route("/console", get(assets::index))
        .route("/console/", get(assets::index))
        .route("/console/assets/{file}", get(assets::file))
        .route("/console/session", get(current).post(sign_in).delete(sign_out))
}

/// A token is short; nothing bigger is read.
const SIGN_IN_BODY_LIMIT: usize = 16 * 1024;

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

/// What the console knows about its session; the CSRF token goes with every write.
#[derive(Serialize)]
struct SessionView {
    name: String,
    /// `read` or `write`.
    scope: &'static str,
    csrf: String,
    idle_secs: i64,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn view(inner: &Inner, c: &Claims, scope: TokenScope, name: &str) -> SessionView {
    SessionView {
        name: name.to_owned(),
        scope: if scope == TokenScope::Write { "write" } else { "read" },
        csrf: inner.sessions.csrf(&c.sid),
        idle_secs: inner.sessions.idle_secs,
        expires_at: OffsetDateTime::from_unix_timestamp(c.iat + inner.sessions.max_secs)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    }
}

fn set_cookie(resp: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `POST /console/session {"token": "..."}`: JSON only, so a cross-site form cannot sign a
/// browser in to someone else's session.
async fn sign_in(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let ip = crate::api::throttle::client_ip(&req);
    let now_at = std::time::Instant::now();
    if let Some(wait) = inner.auth_throttle.blocked(ip, now_at) {
        return ControlError::TooManyFailures(wait.as_secs()).into_response();
    }
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let Ok(body) = axum::body::to_bytes(body, SIGN_IN_BODY_LIMIT).await else {
        return ControlError::BadRequest("the sign-in body is too large".into()).into_response();
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return ControlError::BadRequest("send the token as JSON: {\"token\": \"...\"}".into()).into_response();
    }
    let Ok(SignIn { token }) = serde_json::from_slice(&body) else {
        return ControlError::BadRequest("send the token as JSON: {\"token\": \"...\"}".into()).into_response();
    };
    let Some((digest, scope, name)) = inner.tokens.check(token.trim()) else {
        inner.auth_throttle.failed(ip, now_at);
        return ControlError::Unauthorized.into_response();
    };
    let mut sid = [0u8; 16];
    rand::rng().fill_bytes(&mut sid);
    let t = now();
    let c = Claims { sid: hex::encode(sid), tok: inner.sessions.token_tag(&digest), iat: t, seen: t };
    tracing::info!(token = %name, "console sign-in");
    let mut resp = Json(view(&inner, &c, scope, &name)).into_response();
    set_cookie(&mut resp, inner.sessions.cookie(&c, t, inner.cookie_secure));
    resp
}

/// The session of a request's cookie: its claims, scope and token name.
async fn session_of(inner: &Inner, headers: &HeaderMap) -> Result<(Claims, TokenScope, String), ControlError> {
    let value = session::cookie_value(headers).ok_or(ControlError::Unauthorized)?;
    let c = inner.sessions.open(value, now()).map_err(|_| ControlError::Unauthorized)?;
    let (scope, name) =
        inner.tokens.by_tag(|d| inner.sessions.token_tag(d) == c.tok).ok_or(ControlError::Unauthorized)?;
    let name = name.to_owned();
    if inner.store.session_ended(&c.sid).await.map_err(|e| ControlError::Store(e.to_string()))? {
        return Err(ControlError::Unauthorized);
    }
    Ok((c, scope, name))
}

/// Slides the idle limit forward, except for the console's background polls (header
/// `X-Console-Poll`): an open tab alone does not keep a session alive.
fn refresh(inner: &Inner, c: &Claims, poll: bool, resp: &mut Response) {
    let t = now();
    // Short idle limits (tests, strict setups) refresh more often than once a minute.
    if !poll && t - c.seen >= REFRESH_SECS.min(inner.sessions.idle_secs / 2) {
        let fresh = Claims { seen: t, ..c.clone() };
        set_cookie(resp, inner.sessions.cookie(&fresh, t, inner.cookie_secure));
    }
}

fn is_poll(headers: &HeaderMap) -> bool {
    headers.contains_key("x-console-poll")
}

fn csrf_ok(inner: &Inner, c: &Claims, headers: &HeaderMap) -> bool {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|t| inner.sessions.csrf_ok(&c.sid, t))
}

async fn current(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    match session_of(&inner, &headers).await {
        Ok((c, scope, name)) => {
            let mut resp = Json(view(&inner, &c, scope, &name)).into_response();
            refresh(&inner, &c, is_poll(&headers), &mut resp);
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// `DELETE /console/session`: ends the session on every node sharing the store.
async fn sign_out(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let (c, _, name) = match session_of(&inner, &headers).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if !csrf_ok(&inner, &c, &headers) {
        return csrf_error();
    }
    let until =
        OffsetDateTime::from_unix_timestamp(c.iat + inner.sessions.max_secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if let Err(e) = inner.store.end_session(&c.sid, until).await {
        return ControlError::Store(e.to_string()).into_response();
    }
    tracing::info!(token = %name, "console sign-out");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut resp, SessionKey::clear_cookie(inner.cookie_secure));
    resp
}

fn csrf_error() -> Response {
    let body = serde_json::json!({"error": {"code": "csrf_token_invalid",
        "message": "a change made with the session cookie needs the session's X-CSRF-Token header"}});
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

/// The API's authentication for a request carrying the session cookie instead of a bearer token.
pub(crate) async fn with_session(inner: Arc<Inner>, req: Request, next: Next) -> Response {
    let (c, scope, name) = match session_of(&inner, req.headers()).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let writes = crate::api::needs_write(req.method(), req.uri().path());
    // The dry runs are POSTs too: every non-GET needs the CSRF token, reads or not.
    if !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD)
        && !csrf_ok(&inner, &c, req.headers())
    {
        return csrf_error();
    }
    if writes && scope != TokenScope::Write {
        return ControlError::Forbidden.into_response();
    }
    tracing::debug!(token = %name, method = %req.method(), path = req.uri().path(), "admin request (console session)");
    let poll = is_poll(req.headers());
    let mut resp = next.run(req).await;
    refresh(&inner, &c, poll, &mut resp);
    resp
}
