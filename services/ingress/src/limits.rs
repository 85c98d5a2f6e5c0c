//! Hostile-input limits checked before a body is read or verified: a per-source request rate
//! (token bucket, per process) and the media types a source accepts. Body size is in the router.
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use http::HeaderMap;
use http::header::CONTENT_TYPE;

use crate::IngressError;

/// A source's request budget: `per_second` sustained, bursts of up to `burst` (default: one
/// second's worth). Per process: N ingress replicas together admit up to N times the rate.
pub struct RateLimiter {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// None when the rate is zero (config validation refuses that, so it means "no limit").
    pub fn new(config: &hookbus_core::config::RateLimit) -> Option<Self> {
        let per_second = NonZeroU32::new(config.per_second)?;
        let burst = config.burst.and_then(NonZeroU32::new).unwrap_or(per_second);
        let clock = DefaultClock::default();
        let limiter =
            governor::RateLimiter::direct_with_clock(Quota::per_second(per_second).allow_burst(burst), clock.clone());
        Some(Self { limiter, clock })
    }

    /// Takes one token, or says how long until one is free (`RateLimited`, answered 429).
    pub fn check(&self) -> Result<(), IngressError> {
        self.limiter.check().map_err(|not_until| IngressError::RateLimited {
            retry_after_secs: retry_after_secs(not_until.wait_time_from(self.clock.now())),
        })
    }
}

/// `Retry-After` is whole seconds: round up, and never 0 (which would invite an immediate retry).
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The media type of a `Content-Type` value without parameters, lowercased: `application/json`
/// for `Application/JSON; charset=utf-8`.
pub fn media_type(value: &str) -> String {
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Accepts the request when `allowed` is empty, or when its media type (parameters ignored,
/// case-insensitive) is listed; `type/*` in the list accepts every subtype. A request without a
/// usable Content-Type is refused when the list is not empty.
pub fn check_media_type(allowed: &[String], headers: &HeaderMap) -> Result<(), IngressError> {
    if allowed.is_empty() {
        return Ok(());
    }
    let got = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(media_type).unwrap_or_default();
    let accepted = !got.is_empty()
        && allowed.iter().any(|a| {
            let a = media_type(a);
            match a.strip_suffix("/*") {
                Some(ty) => got.split_once('/').is_some_and(|(t, _)| t == ty),
                None => a == got,
            }
        });
    if accepted {
        return Ok(());
    }
    Err(IngressError::UnsupportedMediaType {
        got: if got.is_empty() { "(none)".to_owned() } else { got },
        allowed: allowed.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn with_ct(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    fn allowed(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn media_type_ignores_parameters_and_case() {
        let json = allowed(&["application/json"]);
        assert!(check_media_type(&json, &with_ct("application/json")).is_ok());
        assert!(check_media_type(&json, &with_ct("Application/JSON; charset=UTF-8")).is_ok());
        assert!(check_media_type(&json, &with_ct("  application/json  ;x=1")).is_ok());
        let err = check_media_type(&json, &with_ct("text/plain")).unwrap_err();
        assert_eq!(err.code(), "unsupported_media_type");
        assert!(err.to_string().contains("text/plain") && err.to_string().contains("application/json"), "{err}");
    }

    #[test]
    fn empty_list_accepts_anything_and_a_list_refuses_a_missing_type() {
        assert!(check_media_type(&[], &HeaderMap::new()).is_ok());
        assert!(check_media_type(&[], &with_ct("x/y")).is_ok());
        let err = check_media_type(&allowed(&["application/json"]), &HeaderMap::new()).unwrap_err();
        assert!(err.to_string().contains("(none)"), "{err}");
        assert!(check_media_type(&allowed(&["application/json"]), &with_ct(";charset=utf-8")).is_err());
    }

    #[test]
    fn wildcard_subtype_and_several_entries() {
        let list = allowed(&["application/x-www-form-urlencoded", "text/*"]);
        assert!(check_media_type(&list, &with_ct("text/plain")).is_ok());
        assert!(check_media_type(&list, &with_ct("TEXT/xml; charset=utf-8")).is_ok());
        assert!(check_media_type(&list, &with_ct("application/x-www-form-urlencoded")).is_ok());
        assert!(check_media_type(&list, &with_ct("application/json")).is_err());
        // `text/*` is not a prefix match on the whole string.
        assert!(check_media_type(&list, &with_ct("textual/plain")).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }

    #[test]
    fn bucket_admits_the_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::new(&hookbus_core::config::RateLimit { per_second: 1, burst: Some(3) }).unwrap();
        for _ in 0..3 {
            limiter.check().expect("within the burst");
        }
        match limiter.check() {
            Err(IngressError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(RateLimiter::new(&hookbus_core::config::RateLimit { per_second: 0, burst: None }).is_none());
    }
}
