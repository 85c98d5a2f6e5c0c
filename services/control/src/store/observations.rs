//! The statements that apply one delivery observation: an attempt row, and the delivery's status.
use hookbus_core::live::{DeliveryObservation, ObservationKind};

use super::{Stmt, ms};

fn text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The upsert that moves a delivery to `status`.
fn delivery(o: &DeliveryObservation, status: &str, reason: Option<String>, next: Option<i64>) -> Stmt {
    Stmt::new(
        "INSERT INTO deliveries (subscription, generation, event_id, event_type, status, version, reason, \
         next_attempt_ms, attempts, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) \
         ON CONFLICT (subscription, generation, event_id) DO UPDATE SET status = excluded.status, \
         version = excluded.version, reason = excluded.reason, next_attempt_ms = excluded.next_attempt_ms, \
         updated_ms = excluded.updated_ms",
        vec![
            o.subscription.clone().into(),
            o.generation.clone().into(),
            o.event_id.clone().into(),
            o.event_type.clone().into(),
            status.into(),
            (o.version as i64).into(),
            reason.into(),
            next.into(),
            ms(o.at).into(),
        ],
    )
}

pub(super) fn observation_stmts(o: &DeliveryObservation) -> Vec<Stmt> {
    match &o.kind {
        ObservationKind::Attempted { attempt: a, request_headers } => vec![
            Stmt::new(
                "INSERT INTO attempts (subscription, generation, event_id, version, attempt, at_ms, status, \
                 latency_ms, outcome, decision, error, response, request_headers) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    o.subscription.clone().into(),
                    o.generation.clone().into(),
                    o.event_id.clone().into(),
                    (o.version as i64).into(),
                    i64::from(a.attempt).into(),
                    ms(a.at).into(),
                    a.status.map(i64::from).into(),
                    (a.latency_ms as i64).into(),
                    text(&a.outcome).into(),
                    text(&a.decision).into(),
                    a.error.clone().into(),
                    a.response_snippet.clone().into(),
                    serde_json::to_string(request_headers).unwrap_or_else(|_| "[]".into()).into(),
                ],
            ),
            // The attempt counts; the status stays until the verdict arrives.
            Stmt::new(
                "INSERT INTO deliveries (subscription, generation, event_id, event_type, status, version, \
                 attempts, updated_ms) VALUES (?, ?, ?, ?, 'pending', ?, 1, ?) \
                 ON CONFLICT (subscription, generation, event_id) DO UPDATE SET \
                 attempts = deliveries.attempts + 1, version = excluded.version, updated_ms = excluded.updated_ms",
                vec![
                    o.subscription.clone().into(),
                    o.generation.clone().into(),
                    o.event_id.clone().into(),
                    o.event_type.clone().into(),
                    (o.version as i64).into(),
                    ms(o.at).into(),
                ],
            ),
        ],
        ObservationKind::Delivered => vec![delivery(o, "delivered", None, None)],
        ObservationKind::Filtered => vec![delivery(o, "filtered", None, None)],
        ObservationKind::RetryScheduled { next_attempt_at } => {
            vec![delivery(o, "retrying", None, Some(ms(*next_attempt_at)))]
        }
        ObservationKind::DeadLettered { reason } => {
            vec![delivery(o, "dead_lettered", Some(reason.as_str().to_owned()), None)]
        }
    }
}
