//! Pure webhook signature verification (and the matching signing, for `hookbus sign` and tests).
//!
//! Everything here works on the exact raw request bytes and an injected clock (`Inbound::now`),
//! so it does no I/O and is deterministic under test. Failures are values, never panics: the
//! input is attacker-controlled.
//!
//! One file per provider (named as the config spells the scheme), each citing the provider's docs
//! and carrying its vectors, holds everything about that provider in one `PROVIDER` constant: how
//! it verifies and signs, how it identifies the delivery id and event type, and the handshakes it
//! answers (see [`Provider`]). The provider list next to `SchemeKind` in hookbus-core declares the
//! files and builds the dispatch table below; adding a provider is its file plus one line there.
//! Shared pieces live in `mac` (HMAC helpers), `signed_url` and `identify`.
use std::collections::BTreeMap;

use hookbus_core::config::{HmacParams, SchemeKind, Secret, SourceConfig};
use http::HeaderMap;
use serde_json::Value;

pub use error::VerifyError;
pub use provider::{Ids, Prefix, Provider, Signing};

mod error;
mod identify;
mod jwt;
mod mac;
mod provider;
mod signed_url;
#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod tests;

/// Declares every provider's file and the dispatch table from the one provider list
/// (`hookbus_core::with_providers!`, next to `SchemeKind`).
macro_rules! provider_table {
    ($($(#[$attr:meta])* $kind:ident => $file:ident,)*) => {
        $(pub mod $file;)*

        /// The provider behind a scheme kind: the dispatch table.
        pub fn provider(kind: SchemeKind) -> &'static Provider {
            match kind {
                $(SchemeKind::$kind => &$file::PROVIDER,)*
            }
        }
    };
}

hookbus_core::with_providers!(provider_table);

/// One inbound request, as far as verification needs it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The HTTP method (`POST`, or `GET` for providers that deliver with GET); some schemes sign it.
    pub method: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The request URL as received (path and query at the ingress; absolute from `hookbus verify --url`).
    /// Schemes that sign the URL prefer the source's `public_url` (see `signed_url`).
    pub url: &'a str,
    /// Unix seconds; injected so tolerance checks are testable.
    pub now: i64,
}

/// A scheme ready to verify: built once from config at load time, with the settings some
/// providers need (`public_url` for those that sign the URL, the generic `hmac` parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub kind: SchemeKind,
    pub public_url: Option<String>,
    pub hmac: Option<HmacParams>,
    /// `sources.NAME.settings`, checked against the provider's list at load time.
    pub settings: BTreeMap<String, String>,
}

/// Every scheme name as written in config (`scheme = "..."`), for `hookbus verify --list-schemes`.
pub fn all_names() -> &'static [&'static str] {
    SchemeKind::ALL
}

impl Scheme {
    /// A scheme without settings (enough for every provider but `hmac` and the URL-signing ones).
    pub fn of(kind: SchemeKind) -> Scheme {
        Scheme { kind, public_url: None, hmac: None, settings: BTreeMap::new() }
    }

    /// With `public_url` set, for the providers that sign the URL.
    pub fn at(kind: SchemeKind, public_url: &str) -> Scheme {
        Scheme { kind, public_url: Some(public_url.to_owned()), hmac: None, settings: BTreeMap::new() }
    }

    /// Builds the scheme for a source; fails when the config cannot work at all, so that it is
    /// reported at load time rather than as a rejected delivery.
    pub fn from_config(source: &SourceConfig) -> Result<Scheme, VerifyError> {
        let public_url = match &source.public_url {
            Some(u) => Some(signed_url::validate(u)?),
            None => None,
        };
        let scheme =
            Scheme { kind: source.scheme, public_url, hmac: source.hmac.clone(), settings: source.settings.clone() };
        let allowed = scheme.provider().settings;
        if let Some(unknown) = scheme.settings.keys().find(|k| !allowed.contains(&k.as_str())) {
            let takes = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            return Err(VerifyError::Misconfigured(format!(
                "scheme `{}` takes no setting `{unknown}` (its settings: {takes})",
                scheme.name()
            )));
        }
        (scheme.provider().check)(&scheme)?;
        Ok(scheme)
    }

    pub fn provider(&self) -> &'static Provider {
        provider(self.kind)
    }

    /// The config name (one of [`all_names`]).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Verifies on the exact raw bytes and returns the secret that matched. Only secrets active
    /// at `req.now` are tried; any one matching accepts (rotation). For key-pair schemes
    /// (`sendgrid`, `discord`, ...) the "secrets" are public keys.
    pub fn verify<'s>(
        &self,
        req: &Inbound<'_>,
        secrets: &'s [Secret],
        tolerance_secs: u64,
    ) -> Result<&'s Secret, VerifyError> {
        let active: Vec<&Secret> = secrets.iter().filter(|s| s.active_at(req.now)).collect();
        if active.is_empty() {
            return Err(VerifyError::NoActiveSecret);
        }
        let keys: Vec<&str> = active.iter().map(|s| s.value.as_str()).collect();
        for k in &keys {
            check_not_empty(k)?;
        }
        let i = (self.provider().verify)(self, req, &keys, tolerance_secs)?;
        // A provider returns an index into `keys`; anything else is a bug there, not a match.
        active
            .get(i)
            .copied()
            .ok_or_else(|| VerifyError::Misconfigured(format!("scheme `{}` matched no key", self.name())))
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
        (self.provider().sign)(self, &Signing { secret, body, now, id: delivery_id })
    }

    /// The provider's delivery id (the dedup key) and event type suffix.
    pub fn identify(&self, headers: &HeaderMap, body: Option<&Value>) -> Ids {
        (self.provider().identify)(self, headers, body)
    }
}

/// The error of `sign` for schemes whose signature needs the provider's private key.
pub(crate) fn asymmetric(name: &str) -> VerifyError {
    VerifyError::Misconfigured(format!(
        "scheme `{name}` cannot be signed without the provider's private key (the source holds only its public key)"
    ))
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
