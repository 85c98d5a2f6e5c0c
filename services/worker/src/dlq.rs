//! Dead-letter operations as library functions (the CLI and a future admin API call these).
//! A subscription's dead letters live in its DLQ topic; the `dlq-redrive` group's committed offset
//! marks how far they were redriven, so `list` shows what is still pending.
use std::collections::HashMap;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, Position, Received, Record};
use hookbus_core::{DeadLetter, RetryEnvelope, topics};
use time::OffsetDateTime;

use crate::WorkerError;

/// A pending dead letter and where it sits.
#[derive(Debug, Clone)]
pub struct DlqEntry {
    pub partition: i32,
    pub offset: i64,
    pub record: DeadLetter,
}

/// How long to wait for the first record: a new Kafka group member needs a moment to join.
fn first_wait(broker: &dyn Broker) -> Duration {
    if broker.name() == "kafka" { Duration::from_secs(15) } else { Duration::from_millis(500) }
}

const IDLE: Duration = Duration::from_millis(1500);

/// Reads what is currently in the topic past the group's commit, stopping once it goes quiet.
async fn read_pending(consumer: &mut dyn Consumer, first: Duration) -> Result<Vec<Received>, WorkerError> {
    let mut out = Vec::new();
    let mut wait = first;
    while let Some(r) = consumer.poll(wait).await? {
        out.push(r);
        wait = IDLE;
    }
    Ok(out)
}

fn decode(r: &Received) -> Result<DeadLetter, WorkerError> {
    serde_json::from_slice(&r.record.payload).map_err(|e| WorkerError::BadRecord {
        topic: r.topic.clone(),
        partition: r.partition,
        offset: r.offset,
        message: e.to_string(),
    })
}

/// Dead letters of `subscription` not yet redriven.
pub async fn list(broker: &dyn Broker, prefix: &str, subscription: &str) -> Result<Vec<DlqEntry>, WorkerError> {
    let mut c =
        broker.consumer(&topics::redrive_group(prefix, subscription), &[topics::dead_letter(prefix, subscription)])?;
    read_pending(c.as_mut(), first_wait(broker))
        .await?
        .iter()
        .map(|r| Ok(DlqEntry { partition: r.partition, offset: r.offset, record: decode(r)? }))
        .collect()
}

/// Re-publishes every pending dead letter of `subscription` to its immediate retry tier with a fresh
/// attempt count, then marks them redriven. `progress` is called after each one with the count so far.
pub async fn redrive(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    mut progress: impl FnMut(usize),
) -> Result<usize, WorkerError> {
    let dlq = topics::dead_letter(prefix, subscription);
    let tier0 = topics::retry_tier(prefix, subscription, 0);
    let publisher = broker.publisher();
    publisher.ensure_topics(&[dlq.clone(), tier0.clone()]).await?;
    let mut c = broker.consumer(&topics::redrive_group(prefix, subscription), &[dlq])?;
    let pending = read_pending(c.as_mut(), first_wait(broker)).await?;
    let mut next: HashMap<(String, i32), i64> = HashMap::new();
    for (n, r) in pending.iter().enumerate() {
        let dl = decode(r)?;
        let retry = RetryEnvelope {
            subscription: subscription.to_owned(),
            event: dl.event,
            attempts: Vec::new(),
            not_before: OffsetDateTime::now_utc(),
        };
        let record = Record {
            key: Some(retry.event.partitionkey.clone().into_bytes()),
            headers: vec![("content-type".into(), b"application/json".to_vec())],
            payload: serde_json::to_vec(&retry).map_err(hookbus_core::CoreError::from)?,
            timestamp_ms: OffsetDateTime::now_utc().unix_timestamp() * 1000,
        };
        publisher.publish(&tier0, record).await?;
        next.insert((r.topic.clone(), r.partition), r.offset + 1);
        progress(n + 1);
    }
    let positions: Vec<Position> =
        next.into_iter().map(|((topic, partition), offset)| Position { topic, partition, offset }).collect();
    c.commit(&positions).await?;
    Ok(pending.len())
}
