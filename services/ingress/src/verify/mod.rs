//! Pure webhook signature verification (and the matching signing, for `hookbus sign` and tests).
//!
//! Everything here works on the exact raw request bytes and an injected clock (`Inbound::now`),
//! so it does no I/O and is deterministic under test. Failures are values, never panics: the
//! input is attacker-controlled. One file per provider, each citing the provider's docs and
//! carrying its vectors; shared pieces live in `mac` (HMAC helpers) and `signed_url`.
use hookbus_core::config::{HmacParams, SchemeKind, Secret, SourceConfig};
use http::HeaderMap;

pub use error::VerifyError;

mod bitbucket;
mod calendly;
mod coinbase_commerce;
mod discord;
mod error;
mod github;
mod gitlab;
mod hmac;
mod hubspot;
mod intercom;
mod jira;
mod linear;
mod mac;
mod mailgun;
mod paddle;
mod pagerduty;
mod sendgrid;
mod shopify;
mod signed_url;
mod slack;
mod square;
mod standard_webhooks;
mod stripe;
#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod tests;
mod twilio;
mod twitch;
mod typeform;
mod woocommerce;
mod zoom;

/// One inbound request, as far as verification needs it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The request URL as received (path and query at the ingress; absolute from `hookbus verify --url`).
    /// Schemes that sign the URL prefer the source's `public_url` (see `signed_url`).
    pub url: &'a str,
    /// Unix seconds; injected so tolerance checks are testable.
    pub now: i64,
}

/// A scheme ready to verify: built once from config at load time. Schemes that sign the URL
/// carry the source's `public_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    StandardWebhooks,
    Github,
    Stripe,
    Hmac { params: HmacParams, public_url: Option<String> },
    Gitlab,
    Slack,
    Shopify,
    Twilio { public_url: Option<String> },
    Paddle,
    Square { public_url: Option<String> },
    Hubspot { public_url: Option<String> },
    HubspotV2 { public_url: Option<String> },
    HubspotV1,
    Sendgrid,
    CoinbaseCommerce,
    Pagerduty,
    Woocommerce,
    Zoom,
    Linear,
    Mailgun,
    Intercom,
    Twitch,
    Discord,
    Typeform,
    Calendly,
    Bitbucket,
    Jira,
}

/// Every scheme name as written in config (`scheme = "..."`), for `hookbus verify --list-schemes`.
pub fn all_names() -> &'static [&'static str] {
    &SchemeKind::ALL
}

impl Scheme {
    /// Builds the scheme for a source; fails when the config cannot work at all, so that it is
    /// reported at load time rather than as a rejected delivery.
    pub fn from_config(source: &SourceConfig) -> Result<Scheme, VerifyError> {
        let public_url = match &source.public_url {
            Some(u) => Some(signed_url::validate(u)?),
            None => None,
        };
        use SchemeKind as K;
        Ok(match source.scheme {
            K::StandardWebhooks => Scheme::StandardWebhooks,
            K::Github => Scheme::Github,
            K::Stripe => Scheme::Stripe,
            K::Hmac => {
                let params = source.hmac.as_ref().ok_or_else(|| {
                    VerifyError::Misconfigured(
                        "scheme `hmac` needs a `[sources.NAME.hmac]` table with at least `header`".into(),
                    )
                })?;
                hmac::validate(params)?;
                Scheme::Hmac { params: params.clone(), public_url }
            }
            K::Gitlab => Scheme::Gitlab,
            K::Slack => Scheme::Slack,
            K::Shopify => Scheme::Shopify,
            K::Twilio => Scheme::Twilio { public_url },
            K::Paddle => Scheme::Paddle,
            K::Square => Scheme::Square { public_url },
            K::Hubspot => Scheme::Hubspot { public_url },
            K::HubspotV2 => Scheme::HubspotV2 { public_url },
            K::HubspotV1 => Scheme::HubspotV1,
            K::Sendgrid => Scheme::Sendgrid,
            K::CoinbaseCommerce => Scheme::CoinbaseCommerce,
            K::Pagerduty => Scheme::Pagerduty,
            K::Woocommerce => Scheme::Woocommerce,
            K::Zoom => Scheme::Zoom,
            K::Linear => Scheme::Linear,
            K::Mailgun => Scheme::Mailgun,
            K::Intercom => Scheme::Intercom,
            K::Twitch => Scheme::Twitch,
            K::Discord => Scheme::Discord,
            K::Typeform => Scheme::Typeform,
            K::Calendly => Scheme::Calendly,
            K::Bitbucket => Scheme::Bitbucket,
            K::Jira => Scheme::Jira,
        })
    }

    /// The config name (one of [`all_names`]).
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::StandardWebhooks => "standard_webhooks",
            Scheme::Github => "github",
            Scheme::Stripe => "stripe",
            Scheme::Hmac { .. } => "hmac",
            Scheme::Gitlab => "gitlab",
            Scheme::Slack => "slack",
            Scheme::Shopify => "shopify",
            Scheme::Twilio { .. } => "twilio",
            Scheme::Paddle => "paddle",
            Scheme::Square { .. } => "square",
            Scheme::Hubspot { .. } => "hubspot",
            Scheme::HubspotV2 { .. } => "hubspot_v2",
            Scheme::HubspotV1 => "hubspot_v1",
            Scheme::Sendgrid => "sendgrid",
            Scheme::CoinbaseCommerce => "coinbase_commerce",
            Scheme::Pagerduty => "pagerduty",
            Scheme::Woocommerce => "woocommerce",
            Scheme::Zoom => "zoom",
            Scheme::Linear => "linear",
            Scheme::Mailgun => "mailgun",
            Scheme::Intercom => "intercom",
            Scheme::Twitch => "twitch",
            Scheme::Discord => "discord",
            Scheme::Typeform => "typeform",
            Scheme::Calendly => "calendly",
            Scheme::Bitbucket => "bitbucket",
            Scheme::Jira => "jira",
        }
    }

    /// Verifies on the exact raw bytes. Only secrets active at `req.now` are tried; any one
    /// matching accepts (rotation). For `sendgrid` and `discord` the "secrets" are public keys.
    pub fn verify(&self, req: &Inbound<'_>, secrets: &[Secret], tolerance_secs: u64) -> Result<(), VerifyError> {
        let keys = active_secrets(secrets, req.now)?;
        let tol = tolerance_secs;
        match self {
            Scheme::StandardWebhooks => standard_webhooks::verify(req, &keys, tol),
            Scheme::Github => github::verify(req, &keys),
            Scheme::Stripe => stripe::verify(req, &keys, tol),
            Scheme::Hmac { params, public_url } => hmac::verify(params, public_url.as_deref(), req, &keys, tol),
            Scheme::Gitlab => gitlab::verify(req, &keys),
            Scheme::Slack => slack::verify(req, &keys, tol),
            Scheme::Shopify => shopify::MAC.verify(req, &keys),
            Scheme::Twilio { public_url } => twilio::verify(public_url.as_deref(), req, &keys),
            Scheme::Paddle => paddle::verify(req, &keys, tol),
            Scheme::Square { public_url } => square::verify(public_url.as_deref(), req, &keys),
            Scheme::Hubspot { public_url } => hubspot::verify_v3(public_url.as_deref(), req, &keys, tol),
            Scheme::HubspotV2 { public_url } => hubspot::verify_v2(public_url.as_deref(), req, &keys),
            Scheme::HubspotV1 => hubspot::verify_v1(req, &keys),
            Scheme::Sendgrid => sendgrid::verify(req, &keys, tol),
            Scheme::CoinbaseCommerce => coinbase_commerce::MAC.verify(req, &keys),
            Scheme::Pagerduty => pagerduty::verify(req, &keys),
            Scheme::Woocommerce => woocommerce::MAC.verify(req, &keys),
            Scheme::Zoom => zoom::verify(req, &keys, tol),
            Scheme::Linear => linear::verify(req, &keys, tol),
            Scheme::Mailgun => mailgun::verify(req, &keys, tol),
            Scheme::Intercom => intercom::MAC.verify(req, &keys),
            Scheme::Twitch => twitch::verify(req, &keys, tol),
            Scheme::Discord => discord::verify(req, &keys, tol),
            Scheme::Typeform => typeform::MAC.verify(req, &keys),
            Scheme::Calendly => calendly::verify(req, &keys, tol),
            Scheme::Bitbucket => bitbucket::MAC.verify(req, &keys),
            Scheme::Jira => jira::MAC.verify(req, &keys),
        }
    }

    /// Headers a provider would send for `body`, as name/value pairs. Schemes that sign a URL sign
    /// the source's `public_url`; asymmetric schemes cannot sign without the provider's private
    /// key and say so.
    pub fn sign(
        &self,
        secret: &str,
        body: &[u8],
        now: i64,
        delivery_id: &str,
    ) -> Result<Vec<(String, String)>, VerifyError> {
        check_not_empty(secret)?;
        let id = delivery_id;
        match self {
            Scheme::StandardWebhooks => standard_webhooks::sign(secret, body, now, id),
            Scheme::Github => Ok(github::sign(secret, body, id)),
            Scheme::Stripe => Ok(stripe::sign(secret, body, now)),
            Scheme::Hmac { params, public_url } => hmac::sign(params, public_url.as_deref(), secret, body, now),
            Scheme::Gitlab => gitlab::sign(secret, id),
            Scheme::Slack => Ok(slack::sign(secret, body, now)),
            Scheme::Shopify => Ok(shopify::sign(secret, body, id)),
            Scheme::Twilio { public_url } => twilio::sign(public_url.as_deref(), secret, body, id),
            Scheme::Paddle => Ok(paddle::sign(secret, body, now)),
            Scheme::Square { public_url } => square::sign(public_url.as_deref(), secret, body),
            Scheme::Hubspot { public_url } => hubspot::sign_v3(public_url.as_deref(), secret, body, now),
            Scheme::HubspotV2 { public_url } => hubspot::sign_v2(public_url.as_deref(), secret, body),
            Scheme::HubspotV1 => Ok(hubspot::sign_v1(secret, body)),
            Scheme::Sendgrid => Err(asymmetric("sendgrid")),
            Scheme::CoinbaseCommerce => Ok(coinbase_commerce::sign(secret, body)),
            Scheme::Pagerduty => Ok(pagerduty::sign(secret, body)),
            Scheme::Woocommerce => Ok(woocommerce::sign(secret, body, id)),
            Scheme::Zoom => Ok(zoom::sign(secret, body, now)),
            Scheme::Linear => Ok(linear::sign(secret, body, id)),
            Scheme::Mailgun => Err(mailgun::cannot_sign()),
            Scheme::Intercom => Ok(intercom::sign(secret, body)),
            Scheme::Twitch => Ok(twitch::sign(secret, body, now, id)),
            Scheme::Discord => Err(asymmetric("discord")),
            Scheme::Typeform => Ok(typeform::sign(secret, body)),
            Scheme::Calendly => Ok(calendly::sign(secret, body, now)),
            Scheme::Bitbucket => Ok(bitbucket::sign(secret, body, id)),
            Scheme::Jira => Ok(jira::sign(secret, body, id)),
        }
    }
}

fn asymmetric(name: &str) -> VerifyError {
    VerifyError::Misconfigured(format!(
        "scheme `{name}` cannot be signed without the provider's private key (the source holds only its public key)"
    ))
}

/// The secret values usable at `now`. An empty one is refused outright: an HMAC under an empty
/// key is computable by anyone, so accepting it would silently disable verification.
fn active_secrets(secrets: &[Secret], now: i64) -> Result<Vec<&str>, VerifyError> {
    let active: Vec<&str> = secrets.iter().filter(|s| s.active_at(now)).map(|s| s.value.as_str()).collect();
    if active.is_empty() {
        return Err(VerifyError::NoActiveSecret);
    }
    for s in &active {
        check_not_empty(s)?;
    }
    Ok(active)
}

fn check_not_empty(secret: &str) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::Misconfigured(
            "a secret is empty, which would let anyone forge signatures; set a real secret".into(),
        ));
    }
    Ok(())
}

/// The first value of header `name` as trimmed text. Non-visible-ASCII values are malformed
/// rather than lossily converted: a signature never needs them.
pub(crate) fn required_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, VerifyError> {
    let value = headers.get(name).ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))?;
    let text = value.to_str().map_err(|_| VerifyError::malformed(name, "the value is not visible ASCII text"))?;
    Ok(text.trim())
}

/// Parses a unix-seconds timestamp header value; overlong or signed garbage is malformed.
pub(crate) fn parse_timestamp(header: &str, value: &str) -> Result<i64, VerifyError> {
    value.parse::<i64>().map_err(|_| VerifyError::malformed(header, "the timestamp is not an integer of unix seconds"))
}

/// Accepts `ts` when it is within `tolerance_secs` of `now`, in either direction. Saturating so
/// that extreme timestamps are simply out of tolerance instead of overflowing.
pub(crate) fn check_tolerance(now: i64, ts: i64, tolerance_secs: u64) -> Result<(), VerifyError> {
    let skew_secs = now.saturating_sub(ts);
    if skew_secs.unsigned_abs() > tolerance_secs {
        return Err(VerifyError::TimestampOutOfTolerance { skew_secs, tolerance_secs });
    }
    Ok(())
}
