//! `batch = { max_events = N, max_wait = "200ms" }`: one request carries an array of up to N
//! deliveries, for targets that take batches. What a batch can be is limited by what one request
//! can be: one target, JSON items, no ordering promise.
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ContentMode, SubscriptionConfig};

/// Fewest and most items one batch may be set to hold.
pub const BATCH_EVENTS_RANGE: std::ops::RangeInclusive<usize> = 2..=1000;
/// Longest a partial batch may wait for more items: records wait uncommitted meanwhile.
pub const MAX_BATCH_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Most items (transform outputs, or events without a transform) per request.
    pub max_events: usize,
    /// How long the first item of a batch waits for more before a partial batch is sent.
    #[serde(default = "default_max_wait")]
    pub max_wait: String,
}

fn default_max_wait() -> String {
    "200ms".into()
}

impl BatchConfig {
    /// Batches of up to `max_events`, with the default wait.
    pub fn new(max_events: usize) -> Self {
        Self { max_events, max_wait: default_max_wait() }
    }

    /// `max_wait` parsed, or a message naming the bad value.
    pub fn max_wait(&self) -> Result<Duration, String> {
        humantime::parse_duration(&self.max_wait)
            .map_err(|e| format!("`{}`: {e} (use e.g. \"200ms\", \"2s\")", self.max_wait))
    }
}

/// Problems with the batch setting of `s`, as (field, message).
pub(super) fn issues(s: &SubscriptionConfig) -> Vec<(&'static str, String)> {
    let Some(b) = &s.batch else { return Vec::new() };
    let mut out = Vec::new();
    let mut issue = |field, message: &str| out.push((field, message.to_owned()));
    if !BATCH_EVENTS_RANGE.contains(&b.max_events) {
        issue("batch.max_events", "must be between 2 and 1000");
    }
    match b.max_wait() {
        Ok(d) if d.is_zero() || d > MAX_BATCH_WAIT => issue("batch.max_wait", "must be between 1ms and 60s"),
        Ok(_) => {}
        Err(m) => issue("batch.max_wait", &m),
    }
    if s.ordered {
        issue(
            "batch",
            "cannot be combined with `ordered`: a batch retries as a whole, so one key's retry would hold back every key in it",
        );
    }
    if s.destination.is_some() {
        issue("batch", "applies to HTTP targets only; a topic destination publishes each event as its own record");
    }
    match s.content_mode() {
        ContentMode::Binary => issue(
            "batch",
            "cannot be combined with content_mode \"binary\": the attributes of several events do not fit in one request's headers; use \"structured\" or \"raw\"",
        ),
        ContentMode::Raw if s.transform.is_none() => issue(
            "batch",
            "with content_mode \"raw\" needs a transform: raw sends the event's data as received, which may not be JSON and so cannot be an array item",
        ),
        _ => {}
    }
    let templated = |v: &str| v.contains("{{");
    if templated(&s.target) || s.headers.values().any(|v| templated(v)) {
        issue(
            "batch",
            "cannot be combined with a templated target URL or header: one request has one target, not one per event",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: serde_json::Value) -> SubscriptionConfig {
        let mut base = serde_json::json!({"topic": "t", "target": "https://example.com/in",
            "batch": {"max_events": 10}});
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn messages(extra: serde_json::Value) -> Vec<String> {
        issues(&config(extra)).into_iter().map(|(k, m)| format!("{k}: {m}")).collect()
    }

    #[test]
    fn a_plain_batch_is_accepted_with_the_default_wait() {
        let c = config(serde_json::json!({}));
        assert_eq!(c.batch.as_ref().unwrap().max_wait(), Ok(Duration::from_millis(200)));
        assert!(issues(&c).is_empty());
        assert!(messages(serde_json::json!({"transform": "{a: .id}"})).is_empty());
        assert!(messages(serde_json::json!({"content_mode": "structured", "transform": ".data"})).is_empty());
    }

    #[test]
    fn sizes_and_waits_out_of_range_are_refused() {
        for n in [0, 1, 1001] {
            let m = messages(serde_json::json!({"batch": {"max_events": n}}));
            assert_eq!(m, ["batch.max_events: must be between 2 and 1000"], "{n}");
        }
        for w in ["0s", "61s"] {
            let m = messages(serde_json::json!({"batch": {"max_events": 5, "max_wait": w}}));
            assert_eq!(m, ["batch.max_wait: must be between 1ms and 60s"], "{w}");
        }
        let m = messages(serde_json::json!({"batch": {"max_events": 5, "max_wait": "soon"}}));
        assert!(m[0].starts_with("batch.max_wait: `soon`"), "{m:?}");
    }

    #[test]
    fn what_one_request_cannot_carry_is_refused() {
        let cases = [
            (serde_json::json!({"ordered": true}), "`ordered`"),
            (serde_json::json!({"target": "", "destination": {"kind": "topic", "topic": "out"}}), "topic destination"),
            (serde_json::json!({"transform": ".", "content_mode": "binary"}), "\"binary\""),
            (serde_json::json!({"content_mode": "raw"}), "needs a transform"),
            (serde_json::json!({"target": "https://x.io/{{ .data.tenant }}"}), "templated target"),
            (serde_json::json!({"headers": {"x-tenant": "{{ .data.tenant }}"}}), "templated target"),
        ];
        for (extra, expected) in cases {
            let m = messages(extra.clone());
            assert!(m.len() == 1 && m[0].starts_with("batch: ") && m[0].contains(expected), "{extra}: {m:?}");
        }
    }
}
