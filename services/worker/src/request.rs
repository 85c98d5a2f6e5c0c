//! What a delivery request carries: the subscription's headers, hookbus's own (idempotency key,
//! attempt number, CloudEvents attributes, trace context), the Standard Webhooks signature — and
//! the same headers as the attempt log may show them, with secret values redacted.
use hookbus_core::CloudEvent;
use hookbus_core::signing::standard_webhooks_signature;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::Subscription;

/// Shown instead of a secret header value.
pub(crate) const REDACTED: &str = "[redacted]";

/// What one attempt sends, apart from the body and the destination.
pub(crate) struct Outgoing<'a> {
    pub event: &'a CloudEvent,
    /// The idempotency key (`webhook-id`): the event id, or `<id>:<index>` for one of several outputs.
    pub delivery_id: &'a str,
    /// Whether the body is a transform's output (rather than the event or its data).
    pub mapped: bool,
    /// 1 on the first try.
    pub number: u32,
    pub traceparent: Option<&'a str>,
    /// A batch request: how many items its array body holds.
    pub batch: Option<usize>,
}

pub(crate) fn headers(
    sub: &Subscription,
    configured: &[(String, String)],
    out: &Outgoing<'_>,
    body: &[u8],
    ts: i64,
) -> HeaderMap {
    let mut h = HeaderMap::new();
    // The configured headers as rendered for this event, then the secret ones.
    let secret = sub.secret_headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in configured.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(secret) {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            h.insert(k, v);
        }
    }
    match out.batch {
        // The items' own attributes are in the items; headers speak for the request.
        Some(_) => crate::content::batch_headers(sub.config.content_mode(), &mut h),
        None => crate::content::headers(sub.config.content_mode(), out.event, out.mapped, &mut h),
    }
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::try_from(value) {
            h.insert(name, v);
        }
    };
    // Stable across retries, redrives and replays: targets dedupe on it.
    put("webhook-id", out.delivery_id);
    put("idempotency-key", out.delivery_id);
    put("webhook-timestamp", &ts.to_string());
    // 1 on the first try; lets a target tell retries from first deliveries.
    put("hookbus-attempt", &out.number.to_string());
    if let Some(n) = out.batch {
        put("hookbus-batch-size", &n.to_string());
    }
    if let Some(key) = &sub.signing_key {
        put("webhook-signature", &standard_webhooks_signature(key, out.delivery_id, ts, body));
    }
    if let Some(tp) = out.traceparent {
        put("traceparent", tp);
    }
    h
}

/// The headers for the attempt log: values of the subscription's secret headers, and of configured
/// headers whose name says they hold a credential, are replaced by [`REDACTED`]. hookbus's own
/// headers (idempotency key, signature, ...) are shown as sent.
pub(crate) fn redacted(headers: &HeaderMap, sub: &Subscription) -> Vec<(String, String)> {
    let named =
        |map: &std::collections::BTreeMap<String, String>, name: &str| map.keys().any(|k| k.eq_ignore_ascii_case(name));
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let secret = named(&sub.secret_headers, name)
                || sub.destination.is_secret_header(name)
                || (named(&sub.config.headers, name) && credential_name(name));
            let shown =
                if secret { REDACTED.to_owned() } else { String::from_utf8_lossy(value.as_bytes()).into_owned() };
            (name.to_owned(), shown)
        })
        .collect()
}

/// Header names that carry credentials by convention (`Authorization`, `X-Api-Key`, ...).
fn credential_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "authorization" | "proxy-authorization" | "cookie")
        || ["key", "token", "secret", "password", "auth"].iter().any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Subscription {
        let config = serde_json::from_value(serde_json::json!({
            "topic": "t",
            "target": "http://127.0.0.1:9/x",
            "headers": {"x-tenant": "acme", "Authorization": "Bearer plain-config-token"}
        }))
        .unwrap();
        let mut sub = Subscription::build("crm", &config, "hookbus").unwrap();
        sub.secret_headers.insert("x-crm-credential".into(), "s3cr3t-value".into());
        sub
    }

    #[test]
    fn secrets_are_sent_but_redacted_in_the_log() {
        let sub = sub();
        let event = CloudEvent::from_body("e-1".into(), "github", "github.push".into(), None, b"{}");
        let configured: Vec<(String, String)> = sub.config.headers.clone().into_iter().collect();
        let out =
            Outgoing { event: &event, delivery_id: "e-1", mapped: true, number: 2, traceparent: None, batch: None };
        let h = headers(&sub, &configured, &out, b"{}", 1_700_000_000);
        assert_eq!(h["x-crm-credential"], "s3cr3t-value");
        assert_eq!(h["idempotency-key"], "e-1");
        assert_eq!(h["hookbus-attempt"], "2");
        let shown = redacted(&h, &sub);
        let get = |n: &str| shown.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-crm-credential"), Some(REDACTED));
        assert_eq!(get("authorization"), Some(REDACTED));
        assert_eq!(get("x-tenant"), Some("acme"));
        assert_eq!(get("webhook-id"), Some("e-1"));
        assert_eq!(get("idempotency-key"), Some("e-1"), "hookbus's own headers are shown as sent");
        let all = format!("{shown:?}");
        assert!(!all.contains("s3cr3t") && !all.contains("plain-config-token"), "{all}");
    }

    #[test]
    fn credential_names_are_recognised() {
        for n in ["Authorization", "x-api-key", "X-Auth-Token", "client-secret", "cookie"] {
            assert!(credential_name(n), "{n}");
        }
        for n in ["content-type", "webhook-id", "x-tenant", "traceparent"] {
            assert!(!credential_name(n), "{n}");
        }
    }
}
