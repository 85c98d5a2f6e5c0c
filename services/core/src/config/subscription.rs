//! `[subscriptions.NAME]`: a downstream target fed from a topic, with filter, transform and retries.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::batch::BatchConfig;
use super::delivery::{DestinationConfig, HttpMethod, OutboundAuth, SecretMaps, default_max_outputs};
use super::schema::SchemaRef;
use super::secret::SecretRef;
use crate::retry::{DEFAULT_SCHEDULE_SECS, RetryPolicy};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    /// Topic consumed (a source's topic).
    pub topic: String,
    /// CloudEvent types delivered; `github.*` matches a prefix. Empty = all.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// `http(s)://` URL events are POSTed to; empty with a topic `destination`.
    #[serde(default)]
    pub target: String,
    /// Publish to a topic instead of calling `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<DestinationConfig>,
    /// jq program; the event is delivered when its first output is truthy.
    #[serde(default)]
    pub filter: Option<String>,
    /// jq program producing the request body from the CloudEvent; without it the envelope is sent.
    #[serde(default)]
    pub transform: Option<String>,
    /// Standard Webhooks secret (`whsec_...`) used to sign outbound requests.
    #[serde(default)]
    pub signing_secret: Option<SecretRef>,
    /// Extra request headers (e.g. an API key header for the target).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Deliveries in flight at once for this subscription.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub retry: RetryConfig,
    /// Requests per second to the target at most (smooths bursts for rate-limited APIs).
    #[serde(default)]
    pub rate_limit_per_sec: Option<u32>,
    #[serde(default)]
    pub circuit_breaker: BreakerSettings,
    /// Deliver events with the same partition key strictly in order: the next waits until the
    /// previous is delivered or dead-lettered, retrying in place. Different keys run in parallel.
    #[serde(default)]
    pub ordered: bool,
    /// Ordered mode: how many events may wait behind keys that are busy retrying. Beyond it the
    /// worker stops reading new events (pausing their partitions) until half of them have drained,
    /// so one stuck key cannot fill memory; other keys then wait too.
    #[serde(default = "default_ordered_backlog")]
    pub ordered_backlog: usize,
    /// How the event travels over HTTP (CloudEvents HTTP binding); unset: `structured` without a
    /// transform, `raw` with one. See [`ContentMode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_mode: Option<ContentMode>,
    /// JSON Schema the transform's output (the envelope without a transform) must match; an output
    /// that breaks it is dead-lettered with reason `output_schema` and never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<SchemaRef>,
    /// Most outputs the transform may produce for one event; each output is a delivery of its own
    /// (fan-out). An event with more is dead-lettered, nothing of it sent.
    #[serde(default = "default_max_outputs")]
    pub max_outputs: usize,
    /// `POST` (default), `PUT` or `PATCH`.
    #[serde(default, skip_serializing_if = "HttpMethod::is_post")]
    pub method: HttpMethod,
    /// Credentials for the target's API: basic, a bearer token, or OAuth2 client credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OutboundAuth>,
    /// Named secret maps that header templates look values up in by a key from the event.
    #[serde(default, skip_serializing_if = "SecretMaps::is_empty")]
    pub secret_maps: SecretMaps,
    /// Send up to `max_events` deliveries per request as a JSON array, retried and dead-lettered
    /// as a whole; absent: one request per delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchConfig>,
}

/// The CloudEvents HTTP content mode of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentMode {
    /// `Content-Type: application/cloudevents+json`, the body is the envelope; with a transform,
    /// its output is the envelope's `data`.
    Structured,
    /// `ce-*` headers carry the attributes, the body is the data (the transform's output, or the
    /// event's data as received) with the event's `datacontenttype`.
    Binary,
    /// The body is the transform's output (or the event's data) as `application/json`; only
    /// `ce-type` and `ce-source` headers, as before content modes existed.
    Raw,
}

impl ContentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Structured => "structured",
            Self::Binary => "binary",
            Self::Raw => "raw",
        }
    }
}

fn default_ordered_backlog() -> usize {
    10_000
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_concurrency() -> usize {
    16
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Delay before each attempt, e.g. `["0s", "5s", "5m"]`; its length is the number of attempts.
    pub schedule: Vec<String>,
    /// ±fraction of random jitter on every delay.
    pub jitter: f64,
    /// Upper bound on a target's Retry-After.
    pub max_retry_after: String,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            schedule: DEFAULT_SCHEDULE_SECS.iter().map(|s| format!("{s}s")).collect(),
            jitter: 0.2,
            max_retry_after: "1h".into(),
        }
    }
}

impl RetryConfig {
    /// The policy, or a message naming the first unparsable duration.
    pub fn policy(&self) -> Result<RetryPolicy, String> {
        let parse = |s: &str| {
            humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (use e.g. \"500ms\", \"5s\", \"2h\")"))
        };
        let schedule = self.schedule.iter().map(|s| parse(s)).collect::<Result<Vec<Duration>, _>>()?;
        Ok(RetryPolicy {
            schedule,
            jitter: self.jitter,
            max_retry_after: parse(&self.max_retry_after)?,
            ..RetryPolicy::default()
        })
    }
}

impl SubscriptionConfig {
    /// The content mode in effect: the configured one, else `structured` for the bare envelope and
    /// `raw` for a transform's output (a mapped body is what the target's API expects).
    pub fn content_mode(&self) -> ContentMode {
        self.content_mode.unwrap_or(if self.transform.is_some() { ContentMode::Raw } else { ContentMode::Structured })
    }

    /// True when `ty` is selected by `event_types`.
    pub fn wants(&self, ty: &str) -> bool {
        self.event_types.is_empty()
            || self.event_types.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => ty.starts_with(prefix),
                None => p == ty,
            })
    }
}

/// `[subscriptions.NAME.circuit_breaker]`: stop hammering a failing target.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    pub enabled: bool,
    /// Attempts considered, e.g. "60s".
    pub window: String,
    /// Fewest attempts in the window before the failure ratio counts.
    pub min_requests: usize,
    /// Fraction of failed attempts (5xx, 429, timeouts, connection errors) that opens the circuit.
    pub failure_ratio: f64,
    /// How long an open circuit waits before one probe, e.g. "30s".
    pub cool_down: String,
    /// Disable the endpoint after failing this long without one success, e.g. "3d" (off by default).
    pub disable_after: Option<String>,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window: "60s".into(),
            min_requests: 20,
            failure_ratio: 0.5,
            cool_down: "30s".into(),
            disable_after: None,
        }
    }
}

impl BreakerSettings {
    /// (window, cool_down, disable_after), or a message naming the bad duration.
    pub fn durations(&self) -> Result<(Duration, Duration, Option<Duration>), String> {
        let parse =
            |s: &str| humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (use e.g. \"30s\", \"5m\")"));
        Ok((parse(&self.window)?, parse(&self.cool_down)?, self.disable_after.as_deref().map(parse).transpose()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<SubscriptionConfig, String> {
        let toml = format!("topic = \"t\"\ntarget = \"https://example.com\"\n{extra}");
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
            .extract()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn content_mode_defaults_follow_the_transform_and_unknown_modes_are_refused() {
        assert_eq!(parse("").unwrap().content_mode(), ContentMode::Structured);
        assert_eq!(parse("transform = '{a: 1}'").unwrap().content_mode(), ContentMode::Raw);
        let binary = parse("transform = '{a: 1}'\ncontent_mode = \"binary\"").unwrap();
        assert_eq!(binary.content_mode(), ContentMode::Binary);
        let err = parse("content_mode = \"batch\"").unwrap_err();
        assert!(err.contains("batch") && err.contains("structured") && err.contains("binary"), "{err}");
    }
}
