//! `[sources.NAME]`: where webhooks come from and how they are verified.
use serde::{Deserialize, Serialize};

use super::secret::SecretRef;

/// The signature scheme a source uses. The serde names (`snake_case`) are the config spelling,
/// listed in [`SchemeKind::ALL`]; what each one checks is documented in docs/sources.md and on the
/// scheme's file in `services/ingress/src/verify/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemeKind {
    /// Standard Webhooks `webhook-id`, `webhook-timestamp`, `webhook-signature`; Svix's `svix-*`
    /// headers too, so `svix` is accepted as another name for it.
    #[serde(alias = "svix")]
    StandardWebhooks,
    /// GitHub `X-Hub-Signature-256: sha256=<hex>`, or the legacy `X-Hub-Signature: sha1=<hex>`.
    Github,
    /// Stripe `Stripe-Signature: t=...,v1=...` with a timestamp tolerance.
    Stripe,
    /// A configurable HMAC (see `[sources.NAME.hmac]`).
    Hmac,
    /// GitLab `X-Gitlab-Token`: the secret itself (it signs nothing).
    Gitlab,
    /// Slack `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Slack,
    /// Shopify `X-Shopify-Hmac-Sha256: <base64>`.
    Shopify,
    /// Twilio `X-Twilio-Signature`: HMAC-SHA1 of the URL and the sorted form parameters (or of the
    /// URL with `bodySHA256` for JSON bodies). Needs `public_url` behind a proxy.
    Twilio,
    /// Paddle Billing `Paddle-Signature: ts=...;h1=<hex>` over `{ts}:{body}`.
    Paddle,
    /// Square `x-square-hmacsha256-signature`: base64 HMAC-SHA256 of the notification URL + body.
    Square,
    /// HubSpot `X-HubSpot-Signature-v3` (method, URI, body, millisecond timestamp).
    Hubspot,
    /// HubSpot legacy v2 `X-HubSpot-Signature`: SHA-256 of secret + method + URI + body.
    HubspotV2,
    /// HubSpot legacy v1 `X-HubSpot-Signature`: SHA-256 of secret + body.
    HubspotV1,
    /// SendGrid Event Webhook: ECDSA P-256 over timestamp + body; the "secret" is the public key.
    Sendgrid,
    /// Coinbase Commerce `X-CC-Webhook-Signature: <hex>`.
    CoinbaseCommerce,
    /// PagerDuty v3 webhooks `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`.
    Pagerduty,
    /// WooCommerce `X-WC-Webhook-Signature: <base64>`.
    Woocommerce,
    /// Zoom `x-zm-signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Zoom,
    /// Linear `Linear-Signature: <hex>` plus `webhookTimestamp` in the body.
    Linear,
    /// Mailgun: `signature.{timestamp,token,signature}` fields in the body.
    Mailgun,
    /// Intercom `X-Hub-Signature: sha1=<hex>`.
    Intercom,
    /// Twitch EventSub `Twitch-Eventsub-Message-Signature: sha256=<hex>` over id + timestamp + body.
    Twitch,
    /// Discord interactions: Ed25519 over timestamp + body; the "secret" is the app's public key.
    Discord,
    /// Typeform `Typeform-Signature: sha256=<base64>`.
    Typeform,
    /// Calendly `Calendly-Webhook-Signature: t=...,v1=<hex>` over `{t}.{body}`.
    Calendly,
    /// Bitbucket `X-Hub-Signature: sha256=<hex>`.
    Bitbucket,
    /// Jira Cloud admin webhooks with a secret: `X-Hub-Signature: sha256=<hex>`.
    Jira,
}

impl SchemeKind {
    /// Every config name, in declaration order (`svix` is an alias and not listed).
    pub const ALL: [&'static str; 27] = [
        "standard_webhooks",
        "github",
        "stripe",
        "hmac",
        "gitlab",
        "slack",
        "shopify",
        "twilio",
        "paddle",
        "square",
        "hubspot",
        "hubspot_v2",
        "hubspot_v1",
        "sendgrid",
        "coinbase_commerce",
        "pagerduty",
        "woocommerce",
        "zoom",
        "linear",
        "mailgun",
        "intercom",
        "twitch",
        "discord",
        "typeform",
        "calendly",
        "bitbucket",
        "jira",
    ];
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

/// What the generic HMAC scheme signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HmacSigned {
    /// The raw body.
    #[default]
    Body,
    /// The `timestamp_header` value, then the body (timestamp checked against `tolerance_secs`).
    TimestampBody,
    /// The URL the provider posted to (`public_url` when set), then the body.
    UrlBody,
}

/// Parameters of the generic HMAC scheme. The signed content is the parts `signed` names, joined
/// by `separator`; the key is the secret's text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
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
    /// What is signed: `body` (default), `timestamp_body` or `url_body`.
    #[serde(default)]
    pub signed: HmacSigned,
    /// Header with the unix-seconds timestamp; required by `signed = "timestamp_body"`.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Text between the signed parts, e.g. `.` for `{timestamp}.{body}`; none by default.
    #[serde(default)]
    pub separator: Option<String>,
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
    /// Subscription handshakes answered (without publishing) beyond those the scheme implies
    /// (Slack, Zoom and Twitch answer theirs by scheme): `["meta", "msgraph", "websub"]`.
    #[serde(default)]
    pub handshakes: Vec<Handshake>,
}

/// A provider's endpoint-verification request that is not implied by the signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Handshake {
    /// `GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..` (WhatsApp, Messenger, Instagram).
    Meta,
    /// Microsoft Graph `POST ?validationToken=..`.
    Msgraph,
    /// W3C WebSub `GET ?hub.mode=subscribe|unsubscribe&hub.topic=..&hub.challenge=..`.
    Websub,
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
