//! Held records and what was done with them: a topic of records waiting for an operator (a
//! subscription's dead letters, a source's quarantine) and, beside it, a ledger topic
//! (`<topic>.resolved`) with one record per entry redriven, released or purged. Pending = in the
//! topic and not in the ledger, so any subset can be acted on and listing shows exactly what is
//! left, on both backends. Readers are assigned partitions directly (no group) and never commit.
use std::collections::HashSet;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, Received};
use hookbus_core::topics;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{WorkerError, codec};

#[derive(Debug, Serialize, Deserialize)]
struct Resolution {
    partition: i32,
    offset: i64,
    action: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

/// How long to wait for the first record: a Kafka reader needs its first fetch round trip.
fn first_wait(broker: &dyn Broker) -> Duration {
    if broker.name() == "kafka" { Duration::from_secs(3) } else { Duration::from_millis(500) }
}

const IDLE: Duration = Duration::from_millis(1000);

/// Reads a whole topic without a consumer group, stopping once it goes quiet. `progress` gets the count.
pub(crate) async fn read_all(
    broker: &dyn Broker,
    topic: &str,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Received>, WorkerError> {
    let mut consumer: Box<dyn Consumer> = broker.reader(&[topic.to_owned()])?;
    let mut out = Vec::new();
    let mut wait = first_wait(broker);
    while let Some(r) = consumer.poll(wait).await? {
        out.push(r);
        wait = IDLE;
        if out.len() % 1000 == 0 {
            progress(out.len());
        }
    }
    Ok(out)
}

/// The records of `topic` not yet resolved in its ledger, oldest first per partition.
pub(crate) async fn pending(broker: &dyn Broker, topic: &str) -> Result<Vec<Received>, WorkerError> {
    let ledger = topics::resolved(topic);
    broker.publisher().ensure_topics(&[topic.to_owned(), ledger.clone()]).await?;
    let resolved: HashSet<(i32, i64)> = read_all(broker, &ledger, &mut |_| {})
        .await?
        .iter()
        .map(codec::decode::<Resolution>)
        .map(|r| r.map(|r| (r.partition, r.offset)))
        .collect::<Result<_, _>>()?;
    let all = read_all(broker, topic, &mut |_| {}).await?;
    Ok(all.into_iter().filter(|r| !resolved.contains(&(r.partition, r.offset))).collect())
}

/// Records in `topic`'s ledger that the entry at (`partition`, `offset`) was dealt with by
/// `action` (`redriven`, `released`, `purged`); `key` keeps one event's entries together.
pub(crate) async fn resolve(
    broker: &dyn Broker,
    topic: &str,
    (partition, offset): (i32, i64),
    key: &str,
    action: &str,
) -> Result<(), WorkerError> {
    let res = Resolution { partition, offset, action: action.into(), at: OffsetDateTime::now_utc() };
    broker.publisher().publish(&topics::resolved(topic), codec::encode(key, &res)?).await?;
    Ok(())
}
