//! Request and response bodies of the subscription routes.
use std::collections::BTreeMap;

use hookbus_core::config::{BreakerSettings, RetryConfig, SchemaRef, SubscriptionConfig};
use hookbus_core::live::{Managed, SubscriptionSpec};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::delivery::{
    AuthInput, AuthView, BatchInput, DeliveryInput, DestinationInput, MethodInput, auth_view, secret_maps_view,
};
pub use super::settings::{BreakerInput, ContentModeInput, RetryInput};
use crate::crypto::hint;

/// `POST /api/v1/subscriptions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// 1-100 characters from A-Z a-z 0-9 . _ -
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    pub name: String,
    /// Topic consumed (a source's topic).
    pub topic: String,
    /// CloudEvent types delivered; `github.*` matches a prefix. Empty = all.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// `http(s)://` URL events are POSTed to; omitted with a topic `destination`.
    #[serde(default)]
    pub target: String,
    /// Publish to a topic instead of calling `target`.
    pub destination: Option<DestinationInput>,
    /// jq program; the event is delivered when its first output is truthy.
    pub filter: Option<String>,
    /// jq program producing the request body from the CloudEvent.
    pub transform: Option<String>,
    /// Omitted: `structured` without a transform, `raw` with one.
    pub content_mode: Option<ContentModeInput>,
    /// Extra request headers, shown by GET.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Extra request headers whose values are secret (e.g. an API key): stored encrypted, never returned.
    #[serde(default)]
    pub secret_headers: BTreeMap<String, String>,
    /// Standard Webhooks secret (`whsec_...`) signing outbound requests: stored encrypted, never returned.
    pub signing_secret: Option<String>,
    pub timeout_ms: Option<u64>,
    /// Deliveries in flight at once.
    pub concurrency: Option<usize>,
    pub retry: Option<RetryInput>,
    pub rate_limit_per_sec: Option<u32>,
    /// Deliver events with the same partition key strictly in order.
    #[serde(default)]
    pub ordered: bool,
    pub ordered_backlog: Option<usize>,
    pub circuit_breaker: Option<BreakerInput>,
    /// Most outputs the transform may produce for one event, each delivered on its own (default 100).
    pub max_outputs: Option<usize>,
    /// Send up to `max_events` deliveries per request as a JSON array (absent: one per request).
    pub batch: Option<BatchInput>,
    /// `POST` (default), `PUT` or `PATCH`.
    pub method: Option<MethodInput>,
    /// Credentials for the target's API; the secret is stored encrypted, never returned.
    pub auth: Option<AuthInput>,
    /// Named maps of secrets (map -> key -> secret) that header templates look up with
    /// `{{ secret("map"; .data.key) }}`; stored encrypted, never returned.
    #[serde(default)]
    pub secret_maps: BTreeMap<String, BTreeMap<String, String>>,
    /// `latest` (default: events accepted from now on), `earliest`, or an RFC 3339 time.
    pub start: Option<String>,
    /// Create paused: nothing is delivered until resumed.
    #[serde(default)]
    pub paused: bool,
    /// An inline JSON Schema the transform's output (the envelope without a transform) must match;
    /// an output that breaks it is dead-lettered with reason `output_schema` and never sent.
    pub output_schema: Option<serde_json::Value>,
}

/// `PATCH /api/v1/subscriptions/{name}`: a JSON merge patch (RFC 7396) of the creation body.
/// Fields given replace the current ones, `null` clears an optional one; in `secret_headers`
/// a `null` value removes that header. The name cannot change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Parsed to check the types; the patch itself is applied as JSON.
pub struct SubscriptionPatch {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub target: Option<String>,
    pub destination: Option<DestinationInput>,
    pub filter: Option<String>,
    pub transform: Option<String>,
    pub content_mode: Option<ContentModeInput>,
    pub headers: Option<BTreeMap<String, String>>,
    pub secret_headers: Option<BTreeMap<String, Option<String>>>,
    pub signing_secret: Option<String>,
    pub timeout_ms: Option<u64>,
    pub concurrency: Option<usize>,
    pub retry: Option<RetryInput>,
    pub rate_limit_per_sec: Option<u32>,
    pub ordered: Option<bool>,
    pub ordered_backlog: Option<usize>,
    pub circuit_breaker: Option<BreakerInput>,
    pub max_outputs: Option<usize>,
    /// Merged into the current batch setting (e.g. `{"max_wait": "1s"}`); `null`: one delivery per
    /// request again.
    #[schema(value_type = Option<BatchInput>)]
    pub batch: Option<serde_json::Value>,
    pub method: Option<MethodInput>,
    /// Merged into the current auth (e.g. `{"scope": "x"}` keeps the secret); `null` removes it.
    #[schema(value_type = Option<AuthInput>)]
    pub auth: Option<serde_json::Value>,
    /// Merged per map and key; a `null` key removes that entry, a `null` map the whole map.
    #[allow(clippy::type_complexity)] // Spelled out: the OpenAPI schema is derived from it.
    pub secret_maps: Option<BTreeMap<String, Option<BTreeMap<String, Option<String>>>>>,
    pub start: Option<String>,
    pub paused: Option<bool>,
    /// Replaces the output schema as a whole (`null` removes it).
    pub output_schema: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManagedBy {
    /// From the config file: read-only here.
    Config,
    /// Created through the API.
    Api,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetryView {
    pub schedule: Vec<String>,
    pub jitter: f64,
    pub max_retry_after: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakerView {
    pub enabled: bool,
    pub window: String,
    pub min_requests: usize,
    pub failure_ratio: f64,
    pub cool_down: String,
    pub disable_after: Option<String>,
}

/// A subscription as GET shows it: secrets appear only as hints (their last four characters).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub name: String,
    pub managed: ManagedBy,
    /// Bumped by every change.
    pub version: u64,
    /// New each time the name is created; a re-created subscription starts fresh.
    pub generation: String,
    pub paused: bool,
    pub start: String,
    pub topic: String,
    pub event_types: Vec<String>,
    pub target: String,
    /// A topic instead of `target`, when set.
    pub destination: Option<DestinationInput>,
    pub filter: Option<String>,
    pub transform: Option<String>,
    /// The mode in effect (the default resolved when none was set).
    pub content_mode: ContentModeInput,
    /// Whether `content_mode` was set explicitly (false: it follows the transform).
    pub content_mode_set: bool,
    pub headers: BTreeMap<String, String>,
    /// Header name -> hint of its value.
    pub secret_headers: BTreeMap<String, String>,
    /// Hint of the signing secret, e.g. `****LaSw`; null when requests are not signed.
    pub signing_secret: Option<String>,
    pub timeout_ms: u64,
    pub concurrency: usize,
    pub retry: RetryView,
    pub rate_limit_per_sec: Option<u32>,
    pub ordered: bool,
    pub ordered_backlog: usize,
    pub circuit_breaker: BreakerView,
    /// The output schema: inline, or the file path of a config-file subscription's.
    pub output_schema: Option<serde_json::Value>,
    pub max_outputs: usize,
    /// The batch setting with its wait resolved; null: one delivery per request.
    pub batch: Option<BatchInput>,
    pub method: MethodInput,
    pub auth: Option<AuthView>,
    /// Map -> key -> hint of the secret.
    pub secret_maps: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionList {
    pub subscriptions: Vec<SubscriptionView>,
    /// The store revision these were read at.
    pub revision: u64,
}

impl SubscriptionView {
    pub fn of(spec: &SubscriptionSpec) -> Self {
        let c = &spec.config;
        Self {
            name: spec.name.clone(),
            managed: match spec.managed {
                Managed::Config => ManagedBy::Config,
                Managed::Api => ManagedBy::Api,
            },
            version: spec.version,
            generation: spec.generation.clone(),
            paused: spec.paused,
            start: spec.start.as_string(),
            topic: c.topic.clone(),
            event_types: c.event_types.clone(),
            target: c.target.clone(),
            destination: c.destination.as_ref().map(Into::into),
            filter: c.filter.clone(),
            transform: c.transform.clone(),
            content_mode: c.content_mode().into(),
            content_mode_set: c.content_mode.is_some(),
            headers: c.headers.clone(),
            secret_headers: spec.secret_headers.iter().map(|(k, v)| (k.clone(), hint(v))).collect(),
            signing_secret: spec.signing_secret.as_deref().map(hint),
            timeout_ms: c.timeout_ms,
            concurrency: c.concurrency,
            retry: RetryView {
                schedule: c.retry.schedule.clone(),
                jitter: c.retry.jitter,
                max_retry_after: c.retry.max_retry_after.clone(),
            },
            rate_limit_per_sec: c.rate_limit_per_sec,
            ordered: c.ordered,
            ordered_backlog: c.ordered_backlog,
            circuit_breaker: BreakerView {
                enabled: c.circuit_breaker.enabled,
                window: c.circuit_breaker.window.clone(),
                min_requests: c.circuit_breaker.min_requests,
                failure_ratio: c.circuit_breaker.failure_ratio,
                cool_down: c.circuit_breaker.cool_down.clone(),
                disable_after: c.circuit_breaker.disable_after.clone(),
            },
            output_schema: c.output_schema.as_ref().and_then(|r| serde_json::to_value(r).ok()),
            max_outputs: c.max_outputs,
            batch: c.batch.as_ref().map(Into::into),
            method: c.method.into(),
            auth: auth_view(spec),
            secret_maps: secret_maps_view(spec),
        }
    }
}

impl SubscriptionInput {
    /// The subscription config this input describes (secrets excluded), defaults filled in.
    pub fn config(&self) -> SubscriptionConfig {
        let mut c: SubscriptionConfig = serde_json::from_value(serde_json::json!({
            "topic": self.topic, "target": self.target,
        }))
        .unwrap_or_else(|_| unreachable_config());
        c.event_types = self.event_types.clone();
        c.filter = self.filter.clone().filter(|f| !f.trim().is_empty());
        c.transform = self.transform.clone().filter(|t| !t.trim().is_empty());
        c.content_mode = self.content_mode.map(Into::into);
        c.headers = self.headers.clone();
        if let Some(t) = self.timeout_ms {
            c.timeout_ms = t;
        }
        if let Some(n) = self.concurrency {
            c.concurrency = n;
        }
        if let Some(r) = &self.retry {
            let d = RetryConfig::default();
            c.retry = RetryConfig {
                schedule: r.schedule.clone().unwrap_or(d.schedule),
                jitter: r.jitter.unwrap_or(d.jitter),
                max_retry_after: r.max_retry_after.clone().unwrap_or(d.max_retry_after),
            };
        }
        c.rate_limit_per_sec = self.rate_limit_per_sec;
        c.ordered = self.ordered;
        if let Some(n) = self.ordered_backlog {
            c.ordered_backlog = n;
        }
        if let Some(b) = &self.circuit_breaker {
            let d = BreakerSettings::default();
            c.circuit_breaker = BreakerSettings {
                enabled: b.enabled.unwrap_or(d.enabled),
                window: b.window.clone().unwrap_or(d.window),
                min_requests: b.min_requests.unwrap_or(d.min_requests),
                failure_ratio: b.failure_ratio.unwrap_or(d.failure_ratio),
                cool_down: b.cool_down.clone().unwrap_or(d.cool_down),
                disable_after: b.disable_after.clone().or(d.disable_after),
            };
        }
        // A string would name a file, which only the config file can (subscription_issues says so).
        c.output_schema = self.output_schema.clone().map(|v| match v {
            serde_json::Value::String(path) => SchemaRef::File { path, schema: None },
            other => SchemaRef::Inline(other),
        });
        self.delivery().apply(&mut c);
        c
    }

    /// The delivery settings (fan-out limit, method, auth, secret maps) of this input.
    pub fn delivery(&self) -> DeliveryInput {
        DeliveryInput {
            destination: self.destination.clone(),
            max_outputs: self.max_outputs,
            batch: self.batch.clone(),
            method: self.method,
            auth: self.auth.clone(),
            secret_maps: self.secret_maps.clone(),
        }
    }

    /// The creation body that describes `spec`, the base a PATCH applies to: the signing secret and
    /// secret headers left out (PATCH handles them apart), the delivery settings' secrets in (so a
    /// merge patch keeps what it does not mention). Never shown.
    pub fn of(spec: &SubscriptionSpec) -> Self {
        let c = &spec.config;
        let delivery = DeliveryInput::of(spec);
        Self {
            max_outputs: delivery.max_outputs,
            batch: delivery.batch,
            method: delivery.method,
            auth: delivery.auth,
            secret_maps: delivery.secret_maps,
            name: spec.name.clone(),
            topic: c.topic.clone(),
            event_types: c.event_types.clone(),
            target: c.target.clone(),
            destination: delivery.destination,
            filter: c.filter.clone(),
            transform: c.transform.clone(),
            content_mode: c.content_mode.map(Into::into),
            headers: c.headers.clone(),
            secret_headers: BTreeMap::new(),
            signing_secret: None,
            timeout_ms: Some(c.timeout_ms),
            concurrency: Some(c.concurrency),
            retry: Some(RetryInput {
                schedule: Some(c.retry.schedule.clone()),
                jitter: Some(c.retry.jitter),
                max_retry_after: Some(c.retry.max_retry_after.clone()),
            }),
            rate_limit_per_sec: c.rate_limit_per_sec,
            ordered: c.ordered,
            ordered_backlog: Some(c.ordered_backlog),
            circuit_breaker: Some(BreakerInput {
                enabled: Some(c.circuit_breaker.enabled),
                window: Some(c.circuit_breaker.window.clone()),
                min_requests: Some(c.circuit_breaker.min_requests),
                failure_ratio: Some(c.circuit_breaker.failure_ratio),
                cool_down: Some(c.circuit_breaker.cool_down.clone()),
                disable_after: c.circuit_breaker.disable_after.clone(),
            }),
            start: Some(spec.start.as_string()),
            paused: spec.paused,
            output_schema: c.output_schema.as_ref().and_then(|r| serde_json::to_value(r).ok()),
        }
    }
}

/// `topic` and `target` are the only required fields and both are strings, so parsing the
/// two-field object cannot fail; this keeps the worker-facing code free of a panic path anyway.
fn unreachable_config() -> SubscriptionConfig {
    serde_json::from_str(r#"{"topic":"","target":""}"#).expect("a minimal subscription config parses")
}
