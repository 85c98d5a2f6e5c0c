//! Operator retries ("retry now") seen by one consume loop, so that a retry the worker had
//! scheduled for the same event earlier is dropped instead of being sent as well.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use hookbus_core::RetryEnvelope;
use time::OffsetDateTime;

/// How many recent operator retries are remembered; older ones are forgotten first.
const REMEMBERED: usize = 10_000;

#[derive(Default)]
pub(crate) struct OperatorRetries {
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    by_event: HashMap<String, OffsetDateTime>,
    order: VecDeque<String>,
}

impl OperatorRetries {
    /// Notes `retry` if an operator asked for it; true when it is a retry the worker scheduled
    /// before an operator's retry of the same event, and so must not be sent.
    pub fn superseded(&self, retry: &RetryEnvelope) -> bool {
        let mut seen = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let id = &retry.event.id;
        if let Some(asked) = retry.requested_at {
            if seen.by_event.insert(id.clone(), asked).is_none() {
                seen.order.push_back(id.clone());
                if seen.order.len() > REMEMBERED
                    && let Some(old) = seen.order.pop_front()
                {
                    seen.by_event.remove(&old);
                }
            }
            return false;
        }
        match (retry.scheduled_at, seen.by_event.get(id)) {
            (Some(scheduled), Some(asked)) => scheduled < *asked,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbus_core::CloudEvent;
    use time::Duration;

    fn retry(id: &str, scheduled: Option<i64>, requested: Option<i64>) -> RetryEnvelope {
        let event = CloudEvent::from_body(id.into(), "github", "github.push".into(), None, b"{}");
        let at = |s: i64| OffsetDateTime::UNIX_EPOCH + Duration::seconds(s);
        let mut r = RetryEnvelope::due_now("crm", event);
        r.scheduled_at = scheduled.map(at);
        r.requested_at = requested.map(at);
        r
    }

    #[test]
    fn a_retry_scheduled_before_an_operator_retry_is_dropped() {
        let seen = OperatorRetries::default();
        assert!(!seen.superseded(&retry("e1", Some(10), None)), "nothing asked yet");
        assert!(!seen.superseded(&retry("e1", None, Some(20))), "the operator's retry itself goes");
        assert!(seen.superseded(&retry("e1", Some(10), None)), "scheduled before the ask");
        assert!(!seen.superseded(&retry("e1", Some(30), None)), "scheduled after (the ask's own retry)");
        assert!(!seen.superseded(&retry("e2", Some(10), None)), "another event");
        assert!(!seen.superseded(&retry("e1", None, None)), "a redrive is never dropped");
    }

    #[test]
    fn memory_is_bounded() {
        let seen = OperatorRetries::default();
        for i in 0..(REMEMBERED + 5) {
            seen.superseded(&retry(&format!("e{i}"), None, Some(100)));
        }
        let inner = seen.inner.lock().unwrap();
        assert_eq!(inner.by_event.len(), REMEMBERED);
        assert!(!inner.by_event.contains_key("e0"));
    }
}
