//! Pure webhook signature verification (and the matching signing, for `hookbus sign` and tests).
//!
//! Everything here works on the exact raw request bytes and an injected clock (`Inbound::now`),
//! so it does no I/O and is deterministic under test. Failures are values, never panics: the
//! input is attacker-controlled.
use hookbus_core::config::{HmacParams, SchemeKind, Secret};
use http::HeaderMap;

mod github;
mod hmac;
mod standard_webhooks;
mod stripe;

/// One inbound request, as far as verification needs it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub url: &'a str,
    /// Unix seconds; injected so tolerance checks are testable.
    pub now: i64,
}

/// A scheme ready to verify: built once from config at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    StandardWebhooks,
    Github,
    Stripe,
    Hmac(HmacParams),
}

/// Why a request was rejected. `Display` tells the operator what to check and never includes a
/// secret or the expected signature (it ends up in logs and, via `code`, in responses).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error(
        "missing signature header `{0}`: check that the provider signs deliveries and that the \
         source's scheme matches the provider"
    )]
    MissingHeader(String),
    #[error(
        "malformed signature header `{header}`: {reason}; check the source's scheme and \
         signature settings"
    )]
    MalformedHeader { header: String, reason: String },
    #[error(
        "webhook timestamp is {skew_secs}s away from this server's clock (tolerance \
         {tolerance_secs}s): check clock sync on both sides, or this is a replayed delivery"
    )]
    TimestampOutOfTolerance { skew_secs: i64, tolerance_secs: u64 },
    #[error(
        "signature does not match under any active secret: check the source's secret and that \
         nothing in front of ingress rewrites the body"
    )]
    SignatureMismatch,
    #[error("no active secret for this source: every configured secret has expired; add a current one")]
    NoActiveSecret,
    #[error("source is misconfigured: {0}")]
    Misconfigured(String),
}

impl VerifyError {
    /// Stable machine-readable code for responses, metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader(_) => "missing_signature_header",
            VerifyError::MalformedHeader { .. } => "malformed_signature_header",
            VerifyError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            VerifyError::SignatureMismatch => "signature_mismatch",
            VerifyError::NoActiveSecret => "no_active_secret",
            VerifyError::Misconfigured(_) => "source_misconfigured",
        }
    }

    pub(crate) fn malformed(header: &str, reason: impl Into<String>) -> Self {
        VerifyError::MalformedHeader { header: header.to_owned(), reason: reason.into() }
    }
}

impl Scheme {
    /// Builds the scheme for a source; fails when the config cannot work at all, so that it is
    /// reported at load time rather than as a rejected delivery.
    pub fn from_config(kind: SchemeKind, hmac: Option<&HmacParams>) -> Result<Scheme, VerifyError> {
        Ok(match kind {
            SchemeKind::StandardWebhooks => Scheme::StandardWebhooks,
            SchemeKind::Github => Scheme::Github,
            SchemeKind::Stripe => Scheme::Stripe,
            SchemeKind::Hmac => {
                let params = hmac.ok_or_else(|| {
                    VerifyError::Misconfigured(
                        "scheme `hmac` needs a `[sources.NAME.hmac]` table with at least `header`".into(),
                    )
                })?;
                hmac::validate(params)?;
                Scheme::Hmac(params.clone())
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scheme::StandardWebhooks => "standard_webhooks",
            Scheme::Github => "github",
            Scheme::Stripe => "stripe",
            Scheme::Hmac(_) => "hmac",
        }
    }

    /// Verifies on the exact raw bytes. Only secrets active at `req.now` are tried; any one
    /// matching accepts (rotation).
    pub fn verify(&self, req: &Inbound<'_>, secrets: &[Secret], tolerance_secs: u64) -> Result<(), VerifyError> {
        let keys = active_secrets(secrets, req.now)?;
        match self {
            Scheme::StandardWebhooks => standard_webhooks::verify(req, &keys, tolerance_secs),
            Scheme::Github => github::verify(req, &keys),
            Scheme::Stripe => stripe::verify(req, &keys, tolerance_secs),
            Scheme::Hmac(params) => hmac::verify(params, req, &keys),
        }
    }

    /// Headers a provider would send for `body`, as name/value pairs.
    pub fn sign(
        &self,
        secret: &str,
        body: &[u8],
        now: i64,
        delivery_id: &str,
    ) -> Result<Vec<(String, String)>, VerifyError> {
        check_not_empty(secret)?;
        match self {
            Scheme::StandardWebhooks => standard_webhooks::sign(secret, body, now, delivery_id),
            Scheme::Github => Ok(github::sign(secret, body, delivery_id)),
            Scheme::Stripe => Ok(stripe::sign(secret, body, now)),
            Scheme::Hmac(params) => Ok(hmac::sign(params, secret, body)),
        }
    }
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

#[cfg(test)]
pub(crate) mod test_util {
    use hookbus_core::config::{HmacAlgorithm, SigEncoding};
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    pub fn headers(pairs: &[(String, String)]) -> HeaderMap {
        pairs.iter().fold(HeaderMap::new(), |map, (k, v)| with_header(&map, k, v.as_bytes()))
    }

    /// Replaces (or adds) one header, for tampering tests; takes bytes to allow non-UTF-8.
    pub fn with_header(map: &HeaderMap, name: &str, value: &[u8]) -> HeaderMap {
        let mut map = map.clone();
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        map.insert(name, HeaderValue::from_bytes(value).unwrap());
        map
    }

    pub fn inbound<'a>(headers: &'a HeaderMap, body: &'a [u8], now: i64) -> Inbound<'a> {
        let url = "http://localhost/hooks/test";
        Inbound { headers, body, url, now }
    }

    /// A secret that expired one second before `now`.
    pub fn expired(value: &str, now: i64) -> Secret {
        let mut secret = Secret::new(value);
        secret.expires = Some(time::OffsetDateTime::from_unix_timestamp(now - 1).unwrap());
        secret
    }

    /// Generic HMAC params on `X-Signature`.
    pub fn hmac_params(alg: HmacAlgorithm, enc: SigEncoding, prefix: Option<&str>) -> HmacParams {
        HmacParams {
            header: "X-Signature".into(),
            algorithm: alg,
            encoding: enc,
            prefix: prefix.map(str::to_owned),
            id_header: None,
            type_header: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::{HmacAlgorithm, SigEncoding};

    use super::test_util::{hmac_params, inbound};
    use super::*;

    #[test]
    fn names_match_config_spelling() {
        use SchemeKind::*;
        let params = hmac_params(HmacAlgorithm::Sha256, SigEncoding::Hex, None);
        let names: Vec<&str> = [StandardWebhooks, Github, Stripe, Hmac]
            .into_iter()
            .map(|kind| Scheme::from_config(kind, Some(&params)).unwrap().name())
            .collect();
        assert_eq!(names, SchemeKind::ALL);
    }

    #[test]
    fn codes_are_stable() {
        let errors = [
            VerifyError::MissingHeader("h".into()),
            VerifyError::malformed("h", "r"),
            check_tolerance(10, 0, 1).unwrap_err(),
            VerifyError::SignatureMismatch,
            VerifyError::NoActiveSecret,
            VerifyError::Misconfigured("m".into()),
        ];
        let codes: Vec<&str> = errors.iter().map(VerifyError::code).collect();
        let expected = "missing_signature_header malformed_signature_header \
                        timestamp_out_of_tolerance signature_mismatch no_active_secret \
                        source_misconfigured";
        assert_eq!(codes.join(" "), expected);
    }

    #[test]
    fn tolerance_is_inclusive_and_saturates_on_extremes() {
        assert_eq!(check_tolerance(100, 400, 300), Ok(()));
        assert_eq!(check_tolerance(i64::MAX, i64::MIN, u64::MAX), Ok(()));
        let err = check_tolerance(100, 401, 300).unwrap_err();
        assert_eq!(err.code(), "timestamp_out_of_tolerance");
        let err = check_tolerance(0, i64::MIN, 300);
        let saturated = VerifyError::TimestampOutOfTolerance { skew_secs: i64::MAX, tolerance_secs: 300 };
        assert_eq!(err, Err(saturated));
    }

    #[test]
    fn empty_secret_is_refused_not_accepted() {
        let map = HeaderMap::new();
        let req = inbound(&map, b"{}", 0);
        let err = Scheme::Github.verify(&req, &[Secret::new("")], 300);
        assert_eq!(err.map_err(|e| e.code()), Err("source_misconfigured"));
        let err = Scheme::Github.sign("", b"{}", 0, "d");
        assert_eq!(err.map_err(|e| e.code()), Err("source_misconfigured"));
    }
}
