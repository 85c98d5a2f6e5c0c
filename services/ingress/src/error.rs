//! The ingress crate's one error type, rendered as `{"error":{"code","message"}}` with its status.
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use hookbus_core::contract::Violation;

use crate::verify::VerifyError;

#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error("no source named `{0}` is configured; check the URL path /webhooks/{{source}}")]
    UnknownSource(String),
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("body is larger than the {limit} bytes this server accepts")]
    TooLarge { limit: usize },
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("the request body stalled: no data arrived within the server's body timeout")]
    BodyTimeout,
    #[error("too many requests for this source; retry after {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("content type `{got}` is not accepted by this source; it accepts: {allowed}")]
    UnsupportedMediaType { got: String, allowed: String },
    #[error("{0}")]
    BadHandshake(String),
    #[error("{0}")]
    HandshakeRejected(String),
    #[error("{method} is not allowed here: {hint}")]
    MethodNotAllowed { method: String, allow: &'static str, hint: &'static str },
    #[error("the broker did not acknowledge the event: {0}; nothing was stored, retry later")]
    BrokerUnavailable(String),
    #[error("this delivery id is being processed by another request; retry later")]
    InFlight,
    #[error("dedup store unavailable: {0}")]
    Dedup(String),
    #[error("the event's data does not match the `{event_type}` contract of this source ({} violation(s)); nothing was stored", violations.len())]
    SchemaViolation { event_type: String, violations: Vec<Violation> },
    #[error("{0}")]
    Internal(String),
}

impl IngressError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownSource(_) => StatusCode::NOT_FOUND,
            Self::Verify(VerifyError::Misconfigured(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Verify(_) => StatusCode::UNAUTHORIZED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) | Self::BadHandshake(_) => StatusCode::BAD_REQUEST,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HandshakeRejected(_) => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::BrokerUnavailable(_) | Self::InFlight | Self::Dedup(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::SchemaViolation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable snake_case code for clients and the `reason` label of the rejection metric.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownSource(_) => "unknown_source",
            Self::Verify(v) => v.code(),
            Self::TooLarge { .. } => "payload_too_large",
            Self::BodyRead(_) => "body_read_error",
            Self::BodyTimeout => "request_timeout",
            Self::RateLimited { .. } => "rate_limited",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::BadHandshake(_) => "bad_handshake",
            Self::HandshakeRejected(_) => "handshake_rejected",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::BrokerUnavailable(_) => "broker_unavailable",
            Self::InFlight => "delivery_in_flight",
            Self::Dedup(_) => "dedup_unavailable",
            Self::SchemaViolation { .. } => "schema_violation",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for IngressError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } });
        if let Self::SchemaViolation { violations, .. } = &self {
            // Each with its JSON path into the payload, so the sender can see what to fix.
            body["error"]["violations"] = serde_json::to_value(violations).unwrap_or_default();
        }
        let mut resp = (self.status(), Json(body)).into_response();
        match self {
            Self::RateLimited { retry_after_secs } => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::MethodNotAllowed { allow, .. } => {
                resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            // The rest of a stalled body may never come: do not wait for it on this connection.
            Self::BodyTimeout => {
                resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        resp
    }
}
