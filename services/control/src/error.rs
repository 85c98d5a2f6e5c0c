//! The control crate's one error type, rendered as `{"error":{"code","message"}}` like ingress.
//! Validation failures add `details`: every problem, each with its field (and jq position).
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One thing wrong with a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The field, e.g. `transform` or `retry.schedule`.
    pub field: String,
    pub message: String,
    /// 1-based position in a jq program, for compile errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), line: None, column: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("missing or unknown bearer token; send `Authorization: Bearer <token>` with a token from [admin] tokens")]
    Unauthorized,
    #[error("too many failed authentications from this address; try again in {0} s")]
    TooManyFailures(u64),
    #[error("this token has read scope; changing things needs a token with scope = \"write\"")]
    Forbidden,
    #[error("{what} `{name}` not found")]
    NotFound { what: &'static str, name: String },
    #[error(
        "subscription `{0}` comes from the config file and is read-only here; change it in the file (or \
         create an API subscription with another name)"
    )]
    ManagedByConfig(String),
    #[error("subscription `{0}` already exists; PATCH it, or DELETE it first")]
    AlreadyExists(String),
    #[error("subscription `{0}` was changed by another request meanwhile; read it again and retry")]
    VersionConflict(String),
    #[error("{} problem(s): {}", .0.len(), .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    BadRequest(String),
    #[error("the control store is unavailable: {0}")]
    Store(String),
    #[error("the broker is unavailable: {0}")]
    Broker(String),
    #[error("{0}")]
    Internal(String),
}

impl ControlError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooManyFailures(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::ManagedByConfig(_) | Self::AlreadyExists(_) | Self::VersionConflict(_) => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) | Self::Broker(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable snake_case code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "insufficient_scope",
            Self::TooManyFailures(_) => "too_many_auth_failures",
            Self::NotFound { what, .. } => match *what {
                "subscription" => "subscription_not_found",
                "event" => "event_not_found",
                "job" => "job_not_found",
                "source" => "source_not_found",
                _ => "not_found",
            },
            Self::ManagedByConfig(_) => "managed_by_config",
            Self::AlreadyExists(_) => "subscription_exists",
            Self::VersionConflict(_) => "version_conflict",
            Self::Invalid(_) => "validation_failed",
            Self::BadRequest(_) => "bad_request",
            Self::Store(_) => "store_unavailable",
            Self::Broker(_) => "broker_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn not_found(what: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound { what, name: name.into() }
    }
}

/// The error body, for the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`.
    pub code: String,
    pub message: String,
    /// Every problem, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<Problem>>,
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Store(_) | Self::Internal(_) | Self::Broker(_)) {
            tracing::warn!(code = self.code(), error = %self, "admin request failed");
        }
        let details = match &self {
            Self::Invalid(p) => Some(p.clone()),
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code().into(), message: self.to_string(), details } };
        let mut resp = (self.status(), Json(body)).into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if let Self::TooManyFailures(secs) = self {
            resp.headers_mut().insert("retry-after", axum::http::HeaderValue::from(secs.max(1)));
        }
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("5"));
        }
        resp
    }
}

impl From<hookbus_broker::BrokerError> for ControlError {
    fn from(e: hookbus_broker::BrokerError) -> Self {
        Self::Broker(e.to_string())
    }
}

impl From<hookbus_worker::WorkerError> for ControlError {
    fn from(e: hookbus_worker::WorkerError) -> Self {
        Self::Internal(e.to_string())
    }
}
