//! `[sources.NAME]`: where webhooks come from and how they are verified.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::SchemaRef;
use super::secret::SecretRef;

/// Every provider, one line each: its [`SchemeKind`] variant and its file in
/// `services/ingress/src/verify/`, whose name is the config spelling (`scheme = "github"`). The
/// ingress builds its dispatch table from this same list, so adding a provider is that file plus
/// one line here. Attributes on a line go to the enum variant (e.g. a serde alias).
#[macro_export]
macro_rules! with_providers {
    ($then:ident) => {
        $then! {
            // Standard Webhooks; Svix sends the same scheme under `svix-*` headers.
            #[serde(alias = "svix")]
            StandardWebhooks => standard_webhooks,
            Github => github,
            Stripe => stripe,
            Hmac => hmac,
            Gitlab => gitlab,
            Slack => slack,
            Shopify => shopify,
            Twilio => twilio,
            Paddle => paddle,
            Square => square,
            Hubspot => hubspot,
            HubspotV2 => hubspot_v2,
            HubspotV1 => hubspot_v1,
            Sendgrid => sendgrid,
            CoinbaseCommerce => coinbase_commerce,
            Pagerduty => pagerduty,
            Woocommerce => woocommerce,
            Zoom => zoom,
            Linear => linear,
            Mailgun => mailgun,
            Intercom => intercom,
            Twitch => twitch,
            Discord => discord,
            Typeform => typeform,
            Calendly => calendly,
            Bitbucket => bitbucket,
            Jira => jira,
            Razorpay => razorpay,
            Paystack => paystack,
            LemonSqueezy => lemon_squeezy,
            Line => line,
            Sentry => sentry,
            Vercel => vercel,
            CheckoutCom => checkout_com,
            Segment => segment,
            Intuit => intuit,
            Clickup => clickup,
            Gitea => gitea,
            Notion => notion,
            CalCom => cal_com,
            TerraformCloud => terraform_cloud,
            Helpscout => helpscout,
            Mailersend => mailersend,
            Xero => xero,
            Mux => mux,
            Frameio => frameio,
            Customerio => customerio,
            Webflow => webflow,
            Zendesk => zendesk,
            Recurly => recurly,
            Persona => persona,
            Buildkite => buildkite,
            Dropbox => dropbox,
            Nylas => nylas,
            Okta => okta,
            Telegram => telegram,
            BasicAuth => basic_auth,
            Trello => trello,
            // `box` is a Rust keyword, so the file is box_com.rs; `box` is accepted in config too.
            #[serde(alias = "box")]
            BoxCom => box_com,
            Docusign => docusign,
            Circleci => circleci,
            Airtable => airtable,
            Sumsub => sumsub,
            Figma => figma,
            Adyen => adyen,
            Monday => monday,
            Netlify => netlify,
            Plaid => plaid,
            AwsSns => aws_sns,
            Paypal => paypal,
            Gogs => gogs,
        }
    };
}

/// Defines [`SchemeKind`] from the provider list.
macro_rules! scheme_kind {
    ($($(#[$attr:meta])* $kind:ident => $file:ident,)*) => {
        /// The signature scheme a source uses. The serde names (`snake_case`) are the config
        /// spelling and equal the provider's file name; what each one checks is documented in
        /// docs/sources.md and in the provider's file in `services/ingress/src/verify/`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum SchemeKind {
            $($(#[$attr])* $kind,)*
        }

        impl SchemeKind {
            /// Every kind, in list order.
            pub const KINDS: &'static [SchemeKind] = &[$(SchemeKind::$kind),*];
            /// Every config name, in list order (aliases such as `svix` are not listed).
            pub const ALL: &'static [&'static str] = &[$(stringify!($file)),*];

            /// The config name.
            pub fn name(self) -> &'static str {
                match self {
                    $(SchemeKind::$kind => stringify!($file),)*
                }
            }
        }
    };
}

with_providers!(scheme_kind);

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
    /// Provider-specific settings that are neither secrets nor URLs (e.g. PayPal's `webhook_id`);
    /// each provider says which it takes and refuses others at load time.
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    /// Schema contracts: CloudEvent type (exact, or a prefix ending in `*`) to the JSON Schema its
    /// `data` must match, checked after verification and normalization. Types without one pass.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contracts: BTreeMap<String, SchemaRef>,
    /// What happens to an event that breaks its contract.
    #[serde(default)]
    pub on_violation: OnViolation,
}

/// What ingress does with an event whose data breaks its contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnViolation {
    /// Answer 422 with the violations; nothing is stored.
    #[default]
    Reject,
    /// Store it in the source's quarantine topic with the violations attached, answer 202; no
    /// subscription sees it until it is released (`hookbus quarantine release`).
    Quarantine,
}

impl OnViolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Quarantine => "quarantine",
        }
    }
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
