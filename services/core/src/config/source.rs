//! `[sources.NAME]`: where webhooks come from and how they are verified.
use serde::{Deserialize, Serialize};

use super::secret::SecretRef;

/// The signature scheme a source uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemeKind {
    /// Standard Webhooks / Svix style `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    StandardWebhooks,
    /// GitHub `X-Hub-Signature-256: sha256=<hex>`.
    Github,
    /// Stripe `Stripe-Signature: t=...,v1=...` with a timestamp tolerance.
    Stripe,
    /// A configurable HMAC over the body (see `[sources.NAME.hmac]`).
    Hmac,
}

impl SchemeKind {
    pub const ALL: [&'static str; 4] = ["standard_webhooks", "github", "stripe", "hmac"];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HmacAlgorithm {
    Sha1,
    #[default]
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SigEncoding {
    #[default]
    Hex,
    Base64,
}

/// Parameters of the generic HMAC scheme.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HmacParams {
    /// Header carrying the signature, e.g. `X-Signature`.
    pub header: String,
    #[serde(default)]
    pub algorithm: HmacAlgorithm,
    #[serde(default)]
    pub encoding: SigEncoding,
    /// Text before the encoded signature, e.g. `sha256=`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Header whose value becomes the event id (and the dedup key), if the provider sends one.
    #[serde(default)]
    pub id_header: Option<String>,
    /// Header whose value becomes the event type suffix, e.g. `X-Event-Type`.
    #[serde(default)]
    pub type_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub scheme: SchemeKind,
    /// Topic the source's events are produced to; defaults to the source name.
    #[serde(default)]
    pub topic: Option<String>,
    /// Active signing secrets; any one matching accepts (rotation).
    pub secrets: Vec<SecretRef>,
    /// Allowed clock skew for timestamped schemes, in seconds.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: u64,
    /// JSON pointer into the payload whose value is the partition key (e.g. `/repository/full_name`).
    /// Without it the event id is the key.
    #[serde(default)]
    pub partition_key: Option<String>,
    #[serde(default)]
    pub hmac: Option<HmacParams>,
    /// The URL the provider posts to, as the provider sees it (schemes that sign the URL, e.g.
    /// Twilio and Square, need it when hookbus sits behind a proxy that rewrites host or path).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Media types accepted (e.g. `["application/json"]`); others get 415. Empty = any.
    #[serde(default)]
    pub content_types: Vec<String>,
    /// Per-source request rate limit; over it, 429 with Retry-After.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// How long a delivery id is remembered for this source (overrides `dedup.window_secs`).
    #[serde(default)]
    pub dedup_window_secs: Option<u64>,
}

/// Token bucket: `per_second` sustained, bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: u32,
    #[serde(default)]
    pub burst: Option<u32>,
}

fn default_tolerance() -> u64 {
    300
}
