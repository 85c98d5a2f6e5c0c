//! The retry, circuit breaker and content mode settings of a subscription as the API takes them,
//! with their conversions to the config's types.
use hookbus_core::config::ContentMode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Retry schedule; omitted fields keep their defaults (Svix's schedule, ±20 % jitter, 1h).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    /// Delay before each attempt, e.g. `["0s", "5s", "5m"]`; its length is the number of attempts.
    pub schedule: Option<Vec<String>>,
    /// ±fraction of random jitter on every delay (0.0 to 1.0).
    pub jitter: Option<f64>,
    /// Upper bound on a target's Retry-After, e.g. "1h".
    pub max_retry_after: Option<String>,
}

/// Circuit breaker; omitted fields keep their defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerInput {
    pub enabled: Option<bool>,
    /// e.g. "60s".
    pub window: Option<String>,
    pub min_requests: Option<usize>,
    pub failure_ratio: Option<f64>,
    /// e.g. "30s".
    pub cool_down: Option<String>,
    /// e.g. "3d"; disables the endpoint after failing this long.
    pub disable_after: Option<String>,
}

/// How deliveries carry the event over HTTP (CloudEvents HTTP binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentModeInput {
    /// `application/cloudevents+json`: the envelope, with the transform's output as `data`.
    Structured,
    /// `ce-*` headers, the data (or the transform's output) as the body.
    Binary,
    /// The transform's output (or the data) as the body.
    Raw,
}

impl From<ContentMode> for ContentModeInput {
    fn from(m: ContentMode) -> Self {
        match m {
            ContentMode::Structured => Self::Structured,
            ContentMode::Binary => Self::Binary,
            ContentMode::Raw => Self::Raw,
        }
    }
}

impl From<ContentModeInput> for ContentMode {
    fn from(m: ContentModeInput) -> Self {
        match m {
            ContentModeInput::Structured => Self::Structured,
            ContentModeInput::Binary => Self::Binary,
            ContentModeInput::Raw => Self::Raw,
        }
    }
}
