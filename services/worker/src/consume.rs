//! The consume loop of one subscription: poll, hold retries that are not due yet (pausing only
//! their partition), dispatch deliveries concurrently, and commit each partition's low watermark.
//! Everything it needs is built before it starts (`Pipeline::new`); `drive` only runs it.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Consumer, OffsetTracker, Received};
use prometheus_client::metrics::gauge::Gauge;
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use hookbus_core::live::SubscriptionHealth;

use crate::WorkerError;
use crate::metrics::SubLabel;
use crate::ordering::KeyGate;
use crate::process::{Ctx, Outcome, Work, process};

/// Commit after this long, or after `COMMIT_AFTER` finished records, whichever comes first: what a
/// crash redelivers is what finished since the last commit, so the count bounds it at any rate.
const COMMIT_EVERY: Duration = Duration::from_millis(50);
const COMMIT_AFTER: usize = 32;
/// How often the consumer lag is measured and reported.
const HEALTH_EVERY: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// Records in flight at once. A batch subscription's records wait for their batch while holding a
/// permit, so there are enough for a full batch being sent and the next one gathering.
fn permits(config: &hookbus_core::config::SubscriptionConfig) -> usize {
    let batch = config.batch.as_ref().map_or(0, |b| 2 * b.max_events);
    config.concurrency.max(batch)
}

/// A retry record whose time has not come; its partition is paused meanwhile (unordered mode), or,
/// in ordered mode, an event retrying in place while its key waits.
struct Held {
    record: Received,
    work: Work,
    due: OffsetDateTime,
}

/// A finished delivery task: where its record sits, its key, and what became of it.
struct Done {
    record: Received,
    key: String,
    outcome: Outcome,
}

/// One subscription's consume loop and its state.
pub(crate) struct Pipeline {
    ctx: Arc<Ctx>,
    consumer: Box<dyn Consumer>,
    tracker: OffsetTracker,
    permits: Arc<Semaphore>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    /// Paused tier records (partition paused) and in-place retries (ordered mode).
    paused: Vec<Held>,
    in_place: Vec<Held>,
    /// Records read while too many events wait behind busy keys; their partitions are paused.
    overflow: Vec<(Received, Work)>,
    gate: KeyGate<(Received, Work)>,
    outstanding: usize,
    /// Records finished since the last commit.
    uncommitted: usize,
    gauge: Gauge,
}

impl Pipeline {
    pub fn new(ctx: Arc<Ctx>, consumer: Box<dyn Consumer>) -> Self {
        let sub = &ctx.sub;
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
        let gauge = ctx.metrics.in_flight.get_or_create(&SubLabel { subscription: sub.name.clone() }).clone();
        Self {
            consumer,
            tracker: OffsetTracker::default(),
            permits: Arc::new(Semaphore::new(permits(&sub.config))),
            done_tx,
            done_rx,
            paused: Vec::new(),
            in_place: Vec::new(),
            overflow: Vec::new(),
            gate: KeyGate::new(sub.config.ordered),
            outstanding: 0,
            uncommitted: 0,
            gauge,
            ctx,
        }
    }

    /// Runs until shutdown; then lets in-flight deliveries finish within `grace`, commits what
    /// finished, and returns.
    pub async fn drive(mut self, grace: Duration) -> Result<(), WorkerError> {
        let ctx = self.ctx.clone();
        let sub = &ctx.sub;
        tracing::info!(subscription = %sub.name, topic = %sub.config.topic, target = %sub.config.target, ordered = sub.config.ordered, "subscription started");
        let mut last_commit = Instant::now();
        let mut last_health = Instant::now();
        while !ctx.shutdown.is_cancelled() {
            while let Ok(done) = self.done_rx.try_recv() {
                self.finish(done).await;
            }
            if last_commit.elapsed() >= COMMIT_EVERY || self.uncommitted >= COMMIT_AFTER {
                self.commit(false).await;
                last_commit = Instant::now();
            }
            if last_health.elapsed() >= HEALTH_EVERY {
                self.report_health().await;
                last_health = Instant::now();
            }
            self.release_due().await?;
            self.release_overflow().await?;
            let permit = tokio::select! {
                p = self.permits.clone().acquire_owned() => p.expect("semaphore is never closed"),
                _ = ctx.shutdown.cancelled() => break,
            };
            match self.consumer.poll(self.poll_wait()).await {
                Ok(Some(record)) => self.take(record, permit)?,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(subscription = %sub.name, error = %e, "poll failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        self.drain(grace).await;
        Ok(())
    }

    /// A polled record: skipped when foreign, held when not due, queued behind its key, or started.
    fn take(&mut self, record: Received, permit: OwnedSemaphorePermit) -> Result<(), WorkerError> {
        self.tracker.started(&record.topic, record.partition, record.offset, record.record.timestamp_ms);
        let sub = &self.ctx.sub;
        let work = match Work::decode(sub, &record) {
            Ok(work) => work,
            Err(e) => {
                // Not a hookbus record (another producer on the topic): nothing to deliver.
                tracing::error!(error = %e, "skipping undecodable record");
                self.tracker.finished(&record.topic, record.partition, record.offset);
                return Ok(());
            }
        };
        match work.not_before().filter(|nb| *nb > OffsetDateTime::now_utc()) {
            Some(due) => {
                tracing::debug!(topic = %record.topic, partition = record.partition, offset = record.offset, %due, "holding retry until due; partition paused");
                self.consumer.pause(&record.topic, record.partition)?;
                self.paused.push(Held { record, work, due });
            }
            None if self.gate.queued() >= sub.config.ordered_backlog => {
                // Ordered mode with a stuck key and a flood behind it: stop reading this partition
                // until the queue drains, but keep polling so the consumer stays in its group.
                self.consumer.pause(&record.topic, record.partition)?;
                self.overflow.push((record, work));
            }
            None => {
                let key = work.key().to_owned();
                if let Some((record, work)) = self.gate.admit(&key, (record, work)) {
                    self.spawn(record, work, permit);
                }
            }
        }
        Ok(())
    }

    /// Measures how far behind the source topic this loop is and reports it (metrics, admin API).
    async fn report_health(&mut self) {
        let sub = &self.ctx.sub;
        let topic = &sub.config.topic;
        let ends = match self.consumer.ends(topic).await {
            Ok(ends) => ends,
            Err(e) => {
                return tracing::debug!(subscription = %sub.name, error = %e, "cannot read the topic's end offsets");
            }
        };
        let records: i64 = ends
            .iter()
            // A partition not read yet counts from where it stands: nothing is known to be behind.
            .map(|end| (end.offset - self.tracker.position(topic, end.partition).unwrap_or(end.offset)).max(0))
            .sum();
        let now_ms = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let seconds = match (records, self.tracker.oldest_ms(topic)) {
            (0, _) | (_, None) => 0.0,
            (_, Some(ts)) => ((now_ms - i128::from(ts)).max(0) as f64) / 1000.0,
        };
        let label = SubLabel { subscription: sub.name.clone() };
        self.ctx.metrics.lag_records.get_or_create(&label).set(records);
        self.ctx.metrics.lag_seconds.get_or_create(&label).set(seconds);
        self.ctx.observer.health(SubscriptionHealth {
            subscription: sub.name.clone(),
            generation: sub.generation.clone(),
            lag_records: records as u64,
            lag_seconds: seconds,
            circuit: self.ctx.endpoint.circuit(),
            at: OffsetDateTime::now_utc(),
        });
    }

    /// Shutdown: no new work; started deliveries may finish within `grace`; then the final commit.
    async fn drain(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.outstanding > 0 {
            match tokio::time::timeout_at(deadline, self.done_rx.recv()).await {
                Ok(Some(done)) => {
                    self.outstanding -= 1;
                    self.settle(&done);
                }
                _ => break,
            }
        }
        self.commit(true).await;
        let held = self.paused.len() + self.in_place.len() + self.overflow.len();
        tracing::info!(subscription = %self.ctx.sub.name, unfinished = self.outstanding, held, "subscription stopped");
    }
}

impl Pipeline {
    /// How long a poll may wait: never past the next held record's due time.
    fn poll_wait(&self) -> Duration {
        let next = self.paused.iter().chain(&self.in_place).map(|h| h.due).min();
        let now = OffsetDateTime::now_utc();
        next.map_or(POLL, |d| (d - now).try_into().unwrap_or(Duration::ZERO).min(POLL))
    }

    /// Dispatches held records whose time has come, resuming partitions that hold nothing else.
    async fn release_due(&mut self) -> Result<(), WorkerError> {
        let now = OffsetDateTime::now_utc();
        let (due, waiting): (Vec<Held>, Vec<Held>) =
            std::mem::take(&mut self.paused).into_iter().partition(|h| h.due <= now);
        self.paused = waiting;
        for h in due {
            let (topic, partition) = (h.record.topic.clone(), h.record.partition);
            let resume = !self.holds(&topic, partition);
            tracing::debug!(%topic, partition, offset = h.record.offset, resume, "retry due");
            if resume {
                self.consumer.resume(&topic, partition)?;
            }
            let key = h.work.key().to_owned();
            if let Some((record, work)) = self.gate.admit(&key, (h.record, h.work)) {
                let permit = self.permits.clone().acquire_owned().await.expect("semaphore is never closed");
                self.spawn(record, work, permit);
            }
        }
        let (due, waiting): (Vec<Held>, Vec<Held>) =
            std::mem::take(&mut self.in_place).into_iter().partition(|h| h.due <= now);
        self.in_place = waiting;
        for h in due {
            // The key is still busy with this very event: run it again directly.
            let permit = self.permits.clone().acquire_owned().await.expect("semaphore is never closed");
            self.spawn(h.record, h.work, permit);
        }
        Ok(())
    }

    /// Whether a paused record still waits on this partition (a retry not due, or overflow).
    fn holds(&self, topic: &str, partition: i32) -> bool {
        let here = |r: &Received| r.topic == topic && r.partition == partition;
        self.paused.iter().any(|h| here(&h.record)) || self.overflow.iter().any(|(r, _)| here(r))
    }

    /// Once the queue behind busy keys has drained to half the limit, admits the overflow records in
    /// the order they were read and resumes their partitions.
    async fn release_overflow(&mut self) -> Result<(), WorkerError> {
        if self.overflow.is_empty() || self.gate.queued() > self.ctx.sub.config.ordered_backlog / 2 {
            return Ok(());
        }
        for (record, work) in std::mem::take(&mut self.overflow) {
            let (topic, partition) = (record.topic.clone(), record.partition);
            let key = work.key().to_owned();
            if let Some((record, work)) = self.gate.admit(&key, (record, work)) {
                let permit = self.permits.clone().acquire_owned().await.expect("semaphore is never closed");
                self.spawn(record, work, permit);
            }
            if !self.holds(&topic, partition) {
                self.consumer.resume(&topic, partition)?;
            }
        }
        Ok(())
    }

    /// Records the outcome: offsets, in-place retries, and the next event of the key.
    async fn finish(&mut self, done: Done) {
        self.outstanding -= 1;
        if let Some((record, work)) = self.settle(&done) {
            let permit = self.permits.clone().acquire_owned().await.expect("semaphore is never closed");
            self.spawn(record, work, permit);
        }
        if let Outcome::RetryInPlace(env) = done.outcome {
            self.in_place.push(Held { record: done.record, due: env.not_before, work: Work::Retry(*env) });
        }
    }

    /// Offset bookkeeping for a finished task; returns the key's next waiting event, if any.
    fn settle(&mut self, done: &Done) -> Option<(Received, Work)> {
        let r = &done.record;
        match done.outcome {
            // An unfinished record keeps the watermark below it: it is consumed again after a restart.
            Outcome::Finished => {
                self.tracker.finished(&r.topic, r.partition, r.offset);
                self.uncommitted += 1;
            }
            Outcome::Unfinished => {}
            Outcome::RetryInPlace(_) => return None,
        }
        self.gate.release(&done.key)
    }

    fn spawn(&mut self, record: Received, work: Work, permit: OwnedSemaphorePermit) {
        let ctx = self.ctx.clone();
        let done = self.done_tx.clone();
        let gauge = self.gauge.clone();
        let key = work.key().to_owned();
        self.outstanding += 1;
        gauge.inc();
        tokio::spawn(async move {
            let outcome = process(&ctx, work).await;
            drop(permit);
            gauge.dec();
            let _ = done.send(Done { record, key, outcome });
        });
    }

    /// Commits finished positions: fire-and-forget while running, all of them and waiting at the end.
    async fn commit(&mut self, wait: bool) {
        self.uncommitted = 0;
        let positions = if wait { self.tracker.positions() } else { self.tracker.take_commits() };
        if !positions.is_empty()
            && let Err(e) = self.consumer.commit(&positions, wait).await
        {
            tracing::warn!(error = %e, "offset commit failed; it is retried with the next one");
        }
    }
}
