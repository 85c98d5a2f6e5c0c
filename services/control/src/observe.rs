//! The sinks the worker and ingress report to: bounded queues, never waited on (a full queue drops
//! and counts), drained by background tasks that write batches to the store.
use std::time::Duration;

use std::collections::HashMap;
use std::sync::Mutex;

use hookbus_core::live::{DeliveryObservation, ObservationSink, Rejection, RejectionSink, SubscriptionHealth};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Queue sizes: ~a few seconds of a busy worker; beyond that, observations are dropped.
pub const OBSERVATION_QUEUE: usize = 65_536;
pub const REJECTION_QUEUE: usize = 4_096;
/// Rows per store transaction.
const BATCH: usize = 1_000;
/// How long a partial batch waits for company.
const LINGER: Duration = Duration::from_millis(100);

#[derive(Clone, Debug, Default)]
pub struct SinkMetrics {
    pub written: Counter,
    pub dropped: Counter,
    pub write_errors: Counter,
}

pub struct ChannelSink<T> {
    tx: mpsc::Sender<T>,
    metrics: SinkMetrics,
}

impl<T> ChannelSink<T> {
    pub fn new(capacity: usize, metrics: SinkMetrics) -> (Self, mpsc::Receiver<T>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self { tx, metrics }, rx)
    }

    fn offer(&self, v: T) {
        if self.tx.try_send(v).is_err() {
            self.metrics.dropped.inc();
        }
    }
}

/// What this node's worker reports: observations for the attempt log (queued to the store) and
/// the latest lag and circuit state per subscription (kept in memory for the stats endpoint).
pub struct WorkerSink {
    observations: ChannelSink<DeliveryObservation>,
    health: Mutex<HashMap<String, SubscriptionHealth>>,
}

impl WorkerSink {
    pub fn new(observations: ChannelSink<DeliveryObservation>) -> Self {
        Self { observations, health: Mutex::default() }
    }

    /// The latest report of `subscription`'s `generation`, if this node's worker runs it.
    pub fn health_of(&self, subscription: &str, generation: &str) -> Option<SubscriptionHealth> {
        let health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        health.get(subscription).filter(|h| h.generation == generation).cloned()
    }
}

impl ObservationSink for WorkerSink {
    fn observe(&self, o: DeliveryObservation) {
        self.observations.offer(o);
    }

    fn health(&self, h: SubscriptionHealth) {
        self.health.lock().unwrap_or_else(|p| p.into_inner()).insert(h.subscription.clone(), h);
    }
}

impl RejectionSink for ChannelSink<Rejection> {
    fn rejected(&self, r: Rejection) {
        self.offer(r);
    }
}

/// Something the writer can store in batches.
#[async_trait::async_trait]
pub trait Batch: Sized + Send + 'static {
    async fn write(store: &Store, batch: &[Self]) -> Result<(), crate::store::StoreError>;
}

#[async_trait::async_trait]
impl Batch for DeliveryObservation {
    async fn write(store: &Store, batch: &[Self]) -> Result<(), crate::store::StoreError> {
        store.record_observations(batch).await
    }
}

#[async_trait::async_trait]
impl Batch for Rejection {
    async fn write(store: &Store, batch: &[Self]) -> Result<(), crate::store::StoreError> {
        store.record_rejections(batch).await
    }
}

/// Drains `rx` into the store until `shutdown`, then writes what is queued and returns. A batch the
/// store refuses is retried a few times, then dropped and counted: the attempt log is a record,
/// not the source of truth, and must not grow memory without bound while the store is down.
pub async fn write_batches<T: Batch>(
    store: Store,
    mut rx: mpsc::Receiver<T>,
    metrics: SinkMetrics,
    shutdown: CancellationToken,
) {
    let mut batch: Vec<T> = Vec::with_capacity(BATCH);
    loop {
        let first = tokio::select! {
            v = rx.recv() => v,
            _ = shutdown.cancelled() => None,
        };
        let Some(first) = first else { break };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(v)) => batch.push(v),
                _ => break,
            }
        }
        flush(&store, &mut batch, &metrics).await;
    }
    // Shutdown: what is already queued is still written.
    rx.close();
    while let Some(v) = rx.recv().await {
        batch.push(v);
        if batch.len() >= BATCH {
            flush(&store, &mut batch, &metrics).await;
        }
    }
    flush(&store, &mut batch, &metrics).await;
}

async fn flush<T: Batch>(store: &Store, batch: &mut Vec<T>, metrics: &SinkMetrics) {
    if batch.is_empty() {
        return;
    }
    for attempt in 0..3u32 {
        match T::write(store, batch).await {
            Ok(()) => {
                metrics.written.inc_by(batch.len() as u64);
                batch.clear();
                return;
            }
            Err(e) => {
                metrics.write_errors.inc();
                tracing::warn!(error = %e, rows = batch.len(), attempt, "cannot write to the control store");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    metrics.dropped.inc_by(batch.len() as u64);
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(i: usize) -> DeliveryObservation {
        DeliveryObservation {
            subscription: "s".into(),
            generation: String::new(),
            version: 1,
            event_id: format!("e{i}"),
            event_type: "t".into(),
            at: time::OffsetDateTime::now_utc(),
            kind: hookbus_core::live::ObservationKind::Delivered,
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let metrics = SinkMetrics::default();
        let (sink, _rx) = ChannelSink::new(2, metrics.clone());
        let sink = WorkerSink::new(sink);
        for i in 0..5 {
            sink.observe(obs(i));
        }
        assert_eq!(metrics.dropped.get(), 3);
    }

    #[tokio::test]
    async fn the_writer_stores_everything_queued_before_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::sqlite(&dir.path().join("c.db")).unwrap();
        store.migrate().await.unwrap();
        let metrics = SinkMetrics::default();
        let (sink, rx) = ChannelSink::new(10_000, metrics.clone());
        let sink = WorkerSink::new(sink);
        for i in 0..2_500 {
            sink.observe(obs(i));
        }
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        write_batches(store.clone(), rx, metrics.clone(), shutdown).await;
        assert_eq!((metrics.written.get(), metrics.dropped.get()), (2_500, 0));
        assert_eq!(store.deliveries("e2499").await.unwrap()[0].status, "delivered");
    }
}
