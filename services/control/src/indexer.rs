//! The event index is derived from the broker, not written by ingress: this task reads the source
//! topics in its own consumer group (`<prefix>.control.index`), writes batches to the store and
//! commits only after the store has them. A crash re-reads at most one batch (inserts of an
//! already indexed offset are ignored), so the index can lag but never lose an event.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, Position, Received};
use hookbus_core::CloudEvent;
use prometheus_client::metrics::counter::Counter;
use tokio_util::sync::CancellationToken;

use crate::store::{IndexedEvent, Store, from_ms};

const BATCH: usize = 500;
const LINGER: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, Default)]
pub struct IndexMetrics {
    pub indexed: Counter,
    pub undecodable: Counter,
    pub errors: Counter,
}

/// The indexer's consumer group.
pub fn group(prefix: &str) -> String {
    format!("{prefix}.control.index")
}

/// The index row of a record, or None when the record is not a CloudEvent.
pub fn to_indexed(r: &Received) -> Option<IndexedEvent> {
    let event = CloudEvent::from_binary(&r.record.headers, &r.record.payload).ok()?;
    let source = event.source.strip_prefix("hookbus://sources/").unwrap_or(&event.source).to_owned();
    Some(IndexedEvent {
        id: event.id.clone(),
        source,
        ty: event.ty.clone(),
        subject: event.subject.clone(),
        time: event.time,
        received_at: from_ms(r.record.timestamp_ms),
        topic: r.topic.clone(),
        partition: r.partition,
        offset: r.offset,
        envelope: serde_json::to_string(&event).ok()?,
        payload: r.record.payload.clone(),
    })
}

async fn sleep_or_stop(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Indexes `topics` until `shutdown`.
pub async fn run(
    broker: Arc<dyn Broker>,
    store: Store,
    group: String,
    topics: Vec<String>,
    metrics: IndexMetrics,
    shutdown: CancellationToken,
) {
    if topics.is_empty() {
        return;
    }
    if let Err(e) = broker.publisher().ensure_topics(&topics).await {
        tracing::warn!(error = %e, "indexer: cannot create source topics; they appear with their first event");
    }
    let mut consumer: Box<dyn Consumer> = loop {
        match broker.consumer(&group, &topics) {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, "indexer: cannot join its consumer group; retrying");
                if !sleep_or_stop(Duration::from_secs(1), &shutdown).await {
                    return;
                }
            }
        }
    };
    while !shutdown.is_cancelled() {
        let mut batch: Vec<Received> = Vec::new();
        let poll = tokio::select! {
            r = consumer.poll(Duration::from_millis(500)) => r,
            _ = shutdown.cancelled() => break,
        };
        match poll {
            Ok(Some(r)) => batch.push(r),
            Ok(None) => continue,
            Err(e) => {
                metrics.errors.inc();
                tracing::warn!(error = %e, "indexer: poll failed");
                sleep_or_stop(Duration::from_millis(500), &shutdown).await;
                continue;
            }
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match consumer.poll(left).await {
                Ok(Some(r)) => batch.push(r),
                _ => break,
            }
        }
        let rows: Vec<IndexedEvent> = batch.iter().filter_map(to_indexed).collect();
        metrics.undecodable.inc_by((batch.len() - rows.len()) as u64);
        // The commit waits for the store: retry until it takes the batch (or shutdown, leaving the
        // batch uncommitted to be read again).
        loop {
            match store.insert_events(&rows).await {
                Ok(()) => break,
                Err(e) => {
                    metrics.errors.inc();
                    tracing::warn!(error = %e, "indexer: cannot write to the store; retrying");
                    if !sleep_or_stop(Duration::from_secs(1), &shutdown).await {
                        return;
                    }
                }
            }
        }
        metrics.indexed.inc_by(rows.len() as u64);
        let mut next: HashMap<(String, i32), i64> = HashMap::new();
        for r in &batch {
            let e = next.entry((r.topic.clone(), r.partition)).or_insert(0);
            *e = (*e).max(r.offset + 1);
        }
        let positions: Vec<Position> =
            next.into_iter().map(|((topic, partition), offset)| Position { topic, partition, offset }).collect();
        if let Err(e) = consumer.commit(&positions, false).await {
            metrics.errors.inc();
            tracing::warn!(error = %e, "indexer: commit failed; the batch may be indexed again (harmless)");
        }
    }
}
