//! The consume loop of one subscription: poll, hold retries that are not due yet (pausing only
//! their partition), dispatch deliveries concurrently, and commit each partition's low watermark.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, OffsetTracker, Received};
use prometheus_client::metrics::gauge::Gauge;
use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::SubLabel;
use crate::ordering::KeyGate;
use crate::process::{Ctx, Outcome, Work, process};
use crate::ssrf::{Guard, GuardedResolver};
use crate::{Subscription, WorkerError, WorkerMetrics};

/// Commit after this long, or after `COMMIT_AFTER` finished records, whichever comes first: what a
/// crash redelivers is what finished since the last commit, so the count bounds it at any rate.
const COMMIT_EVERY: Duration = Duration::from_millis(50);
const COMMIT_AFTER: usize = 32;
const POLL: Duration = Duration::from_millis(100);

/// Runs every subscription until `shutdown`; then lets in-flight deliveries finish within `grace`,
/// commits what finished, and returns.
pub async fn run(
    subs: Vec<Arc<Subscription>>,
    broker: Arc<dyn Broker>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
    grace: Duration,
    guard: Arc<Guard>,
) -> Result<(), WorkerError> {
    let publisher = broker.publisher();
    // Targets are called as configured: no redirects, so a 3xx is a visible failure, not a detour;
    // names resolve through the SSRF guard, and connections go only to the addresses it vetted.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
        .user_agent(concat!("hookbus/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WorkerError::Http(e.to_string()))?;
    let mut tasks = JoinSet::new();
    for sub in subs {
        publisher.ensure_topics(&sub.owned_topics()).await?;
        let ctx = Arc::new(Ctx {
            client: client.clone(),
            publisher: publisher.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
            guard: guard.clone(),
            breaker: sub.breaker.map(|c| std::sync::Mutex::new(crate::health::Breaker::new(c))),
            limiter: sub
                .config
                .rate_limit_per_sec
                .and_then(std::num::NonZeroU32::new)
                .map(|n| governor::RateLimiter::direct(governor::Quota::per_second(n))),
            sub,
        });
        tasks.spawn(run_one(ctx, broker.clone(), grace));
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| WorkerError::Http(format!("worker task failed: {e}")))??;
    }
    Ok(())
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

struct Loop {
    ctx: Arc<Ctx>,
    consumer: Box<dyn Consumer>,
    tracker: OffsetTracker,
    permits: Arc<Semaphore>,
    done_tx: mpsc::UnboundedSender<Done>,
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

async fn run_one(ctx: Arc<Ctx>, broker: Arc<dyn Broker>, grace: Duration) -> Result<(), WorkerError> {
    let sub = ctx.sub.clone();
    let consumer = broker.consumer(&sub.group(), &sub.consumed_topics())?;
    tracing::info!(subscription = %sub.name, topic = %sub.config.topic, target = %sub.config.target, ordered = sub.config.ordered, "subscription started");
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let gauge = ctx.metrics.in_flight.get_or_create(&SubLabel { subscription: sub.name.clone() }).clone();
    let mut l = Loop {
        consumer,
        tracker: OffsetTracker::default(),
        permits: Arc::new(Semaphore::new(sub.config.concurrency)),
        done_tx,
        paused: Vec::new(),
        in_place: Vec::new(),
        overflow: Vec::new(),
        gate: KeyGate::new(sub.config.ordered),
        outstanding: 0,
        uncommitted: 0,
        gauge,
        ctx: ctx.clone(),
    };
    let mut last_commit = Instant::now();

    while !ctx.shutdown.is_cancelled() {
        while let Ok(done) = done_rx.try_recv() {
            l.finish(done).await;
        }
        if last_commit.elapsed() >= COMMIT_EVERY || l.uncommitted >= COMMIT_AFTER {
            l.commit(false).await;
            last_commit = Instant::now();
        }
        l.release_due().await?;
        l.release_overflow().await?;
        let permit = tokio::select! {
            p = l.permits.clone().acquire_owned() => p.expect("semaphore is never closed"),
            _ = ctx.shutdown.cancelled() => break,
        };
        let record = match l.consumer.poll(l.poll_wait()).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(subscription = %sub.name, error = %e, "poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        l.tracker.started(&record.topic, record.partition, record.offset);
        match Work::decode(&sub, &record) {
            Err(e) => {
                // Not a hookbus record (another producer on the topic): nothing to deliver.
                tracing::error!(error = %e, "skipping undecodable record");
                l.tracker.finished(&record.topic, record.partition, record.offset);
            }
            Ok(work) => match work.not_before().filter(|nb| *nb > OffsetDateTime::now_utc()) {
                Some(due) => {
                    tracing::debug!(topic = %record.topic, partition = record.partition, offset = record.offset, %due, "holding retry until due; partition paused");
                    l.consumer.pause(&record.topic, record.partition)?;
                    l.paused.push(Held { record, work, due });
                }
                None if l.gate.queued() >= sub.config.ordered_backlog => {
                    // Ordered mode with a stuck key and a flood behind it: stop reading this partition
                    // until the queue drains, but keep polling so the consumer stays in its group.
                    l.consumer.pause(&record.topic, record.partition)?;
                    l.overflow.push((record, work));
                }
                None => {
                    let key = work.key().to_owned();
                    if let Some((record, work)) = l.gate.admit(&key, (record, work)) {
                        l.spawn(record, work, permit);
                    }
                }
            },
        }
    }

    // Shutdown: no new work; let started deliveries finish within the grace period.
    let deadline = Instant::now() + grace;
    while l.outstanding > 0 {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(done)) => {
                l.outstanding -= 1;
                l.settle(&done);
            }
            _ => break,
        }
    }
    l.commit(true).await;
    tracing::info!(subscription = %sub.name, unfinished = l.outstanding, held = l.paused.len() + l.in_place.len() + l.overflow.len(), "subscription stopped");
    Ok(())
}

impl Loop {
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

    fn spawn(&mut self, record: Received, work: Work, permit: tokio::sync::OwnedSemaphorePermit) {
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
