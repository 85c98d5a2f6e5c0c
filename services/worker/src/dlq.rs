//! Dead-letter and replay operations as library functions (the CLI and a future admin API call these).
//!
//! A subscription's dead letters live in `<prefix>.<sub>.dlq`. What was done with each one lives in a
//! ledger topic beside it, `<prefix>.<sub>.dlq.resolved` (one record per redriven or purged dead
//! letter; see [`crate::ledger`], shared with the quarantine), so any subset can be redriven or
//! purged and `list` shows exactly the pending ones, on both backends.
use hookbus_broker::Broker;
use hookbus_core::{CloudEvent, DeadLetter, GiveUpReason, RetryEnvelope, topics};
use time::OffsetDateTime;

use crate::{WorkerError, codec, ledger};

/// A dead letter and where it sits.
#[derive(Debug, Clone)]
pub struct DlqEntry {
    pub partition: i32,
    pub offset: i64,
    pub record: DeadLetter,
}

/// Which dead letters an operation applies to; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact CloudEvent type, or a prefix ending in `*`.
    pub event_type: Option<String>,
    pub reason: Option<GiveUpReason>,
    pub event_id: Option<String>,
    /// Dead-lettered at or after.
    pub since: Option<OffsetDateTime>,
    /// Dead-lettered before.
    pub until: Option<OffsetDateTime>,
}

impl Filter {
    pub fn matches(&self, dl: &DeadLetter) -> bool {
        self.event_type.as_deref().is_none_or(|t| type_matches(t, &dl.event.ty))
            && self.reason.is_none_or(|r| r == dl.reason)
            && self.event_id.as_deref().is_none_or(|id| id == dl.event.id || in_batch(dl, id))
            && self.since.is_none_or(|s| dl.dead_lettered_at >= s)
            && self.until.is_none_or(|u| dl.dead_lettered_at < u)
    }
}

/// Whether a batch dead letter holds an item of event `id`.
fn in_batch(dl: &DeadLetter, id: &str) -> bool {
    dl.batch.as_ref().is_some_and(|b| b.items.iter().any(|i| i.event_id == id))
}

fn type_matches(pattern: &str, ty: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ty.starts_with(prefix),
        None => pattern == ty,
    }
}

/// Pending (not redriven, not purged) dead letters of `subscription` matching `filter`.
pub async fn list(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    filter: &Filter,
) -> Result<Vec<DlqEntry>, WorkerError> {
    let mut out = Vec::new();
    for r in ledger::pending(broker, &topics::dead_letter(prefix, subscription)).await? {
        let record: DeadLetter = codec::decode(&r)?;
        if filter.matches(&record) {
            out.push(DlqEntry { partition: r.partition, offset: r.offset, record });
        }
    }
    Ok(out)
}

/// Queues the dead letter's event for immediate delivery to `subscription` with a fresh attempt
/// count; its transform output, or its batch, is sent as it was first computed (not mapped again).
async fn requeue(broker: &dyn Broker, prefix: &str, subscription: &str, dl: &DeadLetter) -> Result<(), WorkerError> {
    let mut retry = RetryEnvelope::due_now(subscription, dl.event.clone());
    retry.outputs = dl.output.clone().into_iter().collect();
    retry.batch = dl.batch.clone();
    enqueue(broker, prefix, retry).await.map(drop)
}

/// An operator's "retry now" of one event: delivered at once with a fresh attempt count, and any
/// retry the worker had scheduled for it before is dropped rather than sent as well. Returns the
/// topic it was queued on.
pub async fn retry_now(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    event: CloudEvent,
) -> Result<String, WorkerError> {
    let mut retry = RetryEnvelope::due_now(subscription, event);
    retry.requested_at = Some(OffsetDateTime::now_utc());
    enqueue(broker, prefix, retry).await
}

async fn enqueue(broker: &dyn Broker, prefix: &str, retry: RetryEnvelope) -> Result<String, WorkerError> {
    let topic = topics::retry_tier(prefix, &retry.subscription, 0);
    let publisher = broker.publisher();
    publisher.ensure_topics(std::slice::from_ref(&topic)).await?;
    publisher.publish(&topic, codec::encode(&retry.event.partitionkey, &retry)?).await?;
    Ok(topic)
}

async fn resolve(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    e: &DlqEntry,
    action: &str,
) -> Result<(), WorkerError> {
    let topic = topics::dead_letter(prefix, subscription);
    ledger::resolve(broker, &topic, (e.partition, e.offset), &e.record.event.id, action).await
}

/// Re-delivers the matching pending dead letters (fresh attempt count), then marks them redriven.
/// A crash between the two redelivers an event twice at most; never loses one.
pub async fn redrive(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    filter: &Filter,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, WorkerError> {
    let publisher = broker.publisher();
    publisher.ensure_topics(&[topics::retry_tier(prefix, subscription, 0)]).await?;
    let pending = list(broker, prefix, subscription, filter).await?;
    for (n, e) in pending.iter().enumerate() {
        requeue(broker, prefix, subscription, &e.record).await?;
        resolve(broker, prefix, subscription, e, "redriven").await?;
        progress(n + 1, pending.len());
    }
    Ok(pending.len())
}

/// Marks the matching pending dead letters as purged: they stay in the topic for audit but are no
/// longer listed or redriven.
pub async fn purge(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    filter: &Filter,
) -> Result<usize, WorkerError> {
    let pending = list(broker, prefix, subscription, filter).await?;
    for e in &pending {
        resolve(broker, prefix, subscription, e, "purged").await?;
    }
    Ok(pending.len())
}

/// Summary of a replay.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub scanned: usize,
    pub replayed: usize,
}

/// Re-delivers to `subscription` the accepted events of its topic received in `[from, to)` (and of
/// its event types), each with a fresh attempt count. Scans the topic from its start.
pub async fn replay(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    sub: &hookbus_core::config::SubscriptionConfig,
    from: OffsetDateTime,
    to: OffsetDateTime,
    mut progress: impl FnMut(usize) + Send,
) -> Result<ReplaySummary, WorkerError> {
    broker.publisher().ensure_topics(&[topics::retry_tier(prefix, subscription, 0)]).await?;
    let records = ledger::read_all(broker, &sub.topic, &mut progress).await?;
    let mut summary = ReplaySummary { scanned: records.len(), replayed: 0 };
    for r in records {
        let Ok(event) = r.record.event() else { continue };
        if event.time < from || event.time >= to || !sub.wants(&event.ty) {
            continue;
        }
        enqueue(broker, prefix, RetryEnvelope::due_now(subscription, event)).await?;
        summary.replayed += 1;
    }
    Ok(summary)
}
