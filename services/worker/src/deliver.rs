//! The owner of outbound HTTP: the client (no redirects, names resolved through the SSRF guard,
//! connections only to vetted addresses), Standard Webhooks signing, and one attempt's outcome.
//! No retry logic here: the caller decides what a failure means.
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hookbus_core::config::HttpMethod;
use hookbus_core::retry::Failure;
use hookbus_core::{Attempt, AttemptOutcome, Decision};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use time::OffsetDateTime;

use crate::destination::Rendered;
use crate::request::{self, Outgoing};
use crate::ssrf::{Guard, GuardedResolver};
use crate::{Subscription, WorkerError};

/// How much of a failed response body is kept on the attempt record.
const SNIPPET: usize = 1024;

/// The attempt record (its decision filled in by the caller), when it failed why, and the
/// request headers as the attempt log may show them (secrets redacted).
pub(crate) struct AttemptResult {
    pub attempt: Attempt,
    pub failure: Option<Failure>,
    pub request_headers: Vec<(String, String)>,
}

/// Sends signed deliveries; one per process, shared by every subscription.
#[derive(Clone)]
pub(crate) struct WebhookClient {
    client: reqwest::Client,
    guard: Arc<Guard>,
}

impl WebhookClient {
    pub fn new(guard: Arc<Guard>) -> Result<Self, WorkerError> {
        // Targets are called as configured: no redirects, so a 3xx is a visible failure, not a
        // detour; names resolve through the SSRF guard, and connections go only to the addresses it vetted.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .user_agent(concat!("hookbus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WorkerError::Http(e.to_string()))?;
        Ok(Self { client, guard })
    }

    /// Attempt `out.number` of delivering `body` (the mapped event) to `dest`, the event's target.
    pub async fn attempt(
        &self,
        sub: &Subscription,
        dest: &Rendered,
        out: &Outgoing<'_>,
        body: Vec<u8>,
    ) -> AttemptResult {
        let number = out.number;
        let at = OffsetDateTime::now_utc();
        let started = Instant::now();
        let mut headers = request::headers(sub, &dest.headers, out, &body, at.unix_timestamp());
        let mut request_headers = request::redacted(&headers, sub);
        let failed = |error: String, failure: Failure, request_headers| AttemptResult {
            attempt: failed_attempt(number, at, started, AttemptOutcome::ConnectError, error),
            failure: Some(failure),
            request_headers,
        };
        // IP-literal targets bypass the resolver, so they are vetted here; names are vetted as resolved.
        if let Some(refused) = literal_refused(&self.guard, &dest.url) {
            return failed(refused, Failure::Refused, request_headers);
        }
        let auth = match &sub.auth {
            None => None,
            Some(auth) => {
                if let Some(refused) = auth.token_url().and_then(|u| literal_refused(&self.guard, u)) {
                    return failed(format!("token endpoint: {refused}"), Failure::Refused, request_headers);
                }
                match auth.header(&self.client, sub.timeout).await {
                    Ok(v) => Some((auth, v)),
                    // The token endpoint may come back: retried like a target that is down.
                    Err(e) => return failed(e, Failure::Connect, request_headers),
                }
            }
        };
        if let Some((_, value)) = &auth {
            headers.insert(AUTHORIZATION, value.clone());
            request_headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            request_headers.push(("authorization".into(), request::REDACTED.into()));
        }
        // Kept only when a 401 could be answered by fetching a new token and sending once more.
        let spare = auth.as_ref().filter(|(a, _)| a.token_url().is_some()).map(|_| (headers.clone(), body.clone()));
        let mut result = self.send(sub, dest, headers, body).await;
        let unauthorized = matches!(&result, Ok(r) if r.status() == StatusCode::UNAUTHORIZED);
        if let (true, Some((auth, used)), Some((mut headers, body))) = (unauthorized, &auth, spare)
            && auth.rejected(used).await
        {
            match auth.header(&self.client, sub.timeout).await {
                Ok(fresh) if fresh != *used => {
                    tracing::info!("target answered 401; sending once more with a new access token");
                    headers.insert(AUTHORIZATION, fresh);
                    result = self.send(sub, dest, headers, body).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "target answered 401 and no new access token could be had"),
            }
        }
        let (mut record, failure) = outcome(number, at, result).await;
        record.latency_ms = started.elapsed().as_millis() as u64;
        AttemptResult { attempt: record, failure, request_headers }
    }

    async fn send(
        &self,
        sub: &Subscription,
        dest: &Rendered,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> reqwest::Result<reqwest::Response> {
        let method = match sub.config.method {
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
        };
        self.client.request(method, &dest.url).timeout(sub.timeout).headers(headers).body(body).send().await
    }
}

/// The attempt record and, when it failed, how.
async fn outcome(
    number: u32,
    at: OffsetDateTime,
    result: reqwest::Result<reqwest::Response>,
) -> (Attempt, Option<Failure>) {
    let mut record = Attempt {
        attempt: number,
        at,
        latency_ms: 0,
        outcome: AttemptOutcome::Delivered,
        decision: Decision::Delivered,
        status: None,
        error: None,
        response_snippet: None,
        retry_after_ms: None,
    };
    let failure = match result {
        Ok(resp) => {
            let status = resp.status();
            record.status = Some(status.as_u16());
            let retry_after = resp.headers().get(RETRY_AFTER).and_then(parse_retry_after);
            record.retry_after_ms = retry_after.map(|d| d.as_millis() as u64);
            // Read (a bounded part of) the body so the connection can be reused and the reason kept.
            let text = resp.bytes().await.unwrap_or_default();
            if status.is_success() {
                None
            } else {
                record.outcome = AttemptOutcome::HttpError;
                let cut = &text[..text.len().min(SNIPPET)];
                record.response_snippet = Some(String::from_utf8_lossy(cut).into_owned());
                Some(Failure::Status { status: status.as_u16(), retry_after })
            }
        }
        Err(e) => {
            let (outcome, failure) = if refused_by_guard(&e) {
                (AttemptOutcome::ConnectError, Failure::Refused)
            } else if e.is_timeout() {
                (AttemptOutcome::Timeout, Failure::Timeout)
            } else if e.is_connect() {
                (AttemptOutcome::ConnectError, Failure::Connect)
            } else {
                (AttemptOutcome::OtherError, Failure::Other)
            };
            record.outcome = outcome;
            record.error = Some(error_chain(&e));
            Some(failure)
        }
    };
    (record, failure)
}

fn literal_refused(guard: &Guard, target: &str) -> Option<String> {
    let url = reqwest::Url::parse(target).ok()?;
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
        url::Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    guard.check(ip).err().map(|r| r.to_string())
}

fn failed_attempt(
    number: u32,
    at: OffsetDateTime,
    started: Instant,
    outcome: AttemptOutcome,
    error: String,
) -> Attempt {
    Attempt {
        attempt: number,
        at,
        latency_ms: started.elapsed().as_millis() as u64,
        outcome,
        decision: Decision::GiveUp,
        status: None,
        error: Some(error),
        response_snippet: None,
        retry_after_ms: None,
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let s = v.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(s).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn refused_by_guard(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if c.is::<crate::ssrf::HostRefused>() {
            return true;
        }
        cur = c.source();
    }
    false
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("120")), Some(Duration::from_secs(120)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(600));
        let d = parse_retry_after(&HeaderValue::try_from(future).unwrap()).unwrap();
        assert!((590..=600).contains(&d.as_secs()), "{d:?}");
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }
}
