//! A topic as a subscription's destination: the mapped output is published to the configured
//! broker in CloudEvents binary mode (`ce_*` headers, the partition key as the record key, the
//! output as the value), a clean stream for downstream consumers. One publish is one attempt: the
//! source record is finished only once the broker has acknowledged it (at-least-once); a failed
//! publish is retried on the subscription's schedule like a failed HTTP attempt.
use std::time::Instant;

use hookbus_broker::{Publisher, Record};
use hookbus_core::retry::Failure;
use hookbus_core::{Attempt, AttemptOutcome, Decision};
use time::OffsetDateTime;

use crate::deliver::AttemptResult;
use crate::request::Outgoing;

const JSON: &str = "application/json";

/// The record for one output: the event's attributes, with the delivery id as `ce_id` (each output
/// of a fan-out is an event of its own) and JSON as the content type when the body is mapped.
pub(crate) fn record(out: &Outgoing<'_>, body: &[u8], now_ms: i64) -> Record {
    let mut event = out.event.clone();
    event.id = out.delivery_id.to_owned();
    if out.mapped {
        event.datacontenttype = JSON.to_owned();
    }
    event.traceparent = out.traceparent.map(str::to_owned).or(event.traceparent);
    Record::from_event(&event, body, now_ms)
}

pub(crate) async fn attempt(publisher: &dyn Publisher, topic: &str, out: &Outgoing<'_>, body: &[u8]) -> AttemptResult {
    let at = OffsetDateTime::now_utc();
    let started = Instant::now();
    let record = record(out, body, (at.unix_timestamp_nanos() / 1_000_000) as i64);
    let request_headers =
        record.headers.iter().map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned())).collect();
    let result = publisher.publish(topic, record).await;
    let failed = result.is_err();
    let attempt = Attempt {
        attempt: out.number,
        at,
        latency_ms: started.elapsed().as_millis() as u64,
        outcome: if failed { AttemptOutcome::ConnectError } else { AttemptOutcome::Delivered },
        decision: Decision::Delivered,
        status: None,
        error: result.err().map(|e| format!("publishing to topic `{topic}`: {e}")),
        response_snippet: None,
        retry_after_ms: None,
    };
    // The broker may come back: retried like a target that cannot be reached.
    AttemptResult { attempt, failure: failed.then_some(Failure::Connect), request_headers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbus_core::CloudEvent;

    #[test]
    fn each_output_is_an_event_of_its_own_in_binary_mode() {
        let mut event = CloudEvent::from_body("e-1".into(), "shop", "shop.order".into(), None, b"{}");
        event.partitionkey = "cust-9".into();
        let out =
            Outgoing { event: &event, delivery_id: "e-1:2", mapped: true, number: 1, traceparent: None, batch: None };
        let r = record(&out, br#"{"sku":"a"}"#, 1_700_000_000_000);
        assert_eq!((r.key.as_deref(), r.payload.as_slice()), (Some(&b"cust-9"[..]), &br#"{"sku":"a"}"#[..]));
        assert_eq!(r.header_str("ce_id"), Some("e-1:2"));
        assert_eq!(r.header_str("ce_type"), Some("shop.order"));
        assert_eq!(r.header_str("content-type"), Some(JSON));
        let back = r.event().unwrap();
        assert_eq!((back.id.as_str(), back.data), ("e-1:2", Some(serde_json::json!({"sku": "a"}))));
    }
}
