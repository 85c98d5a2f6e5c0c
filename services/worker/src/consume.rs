//! The consume loop of one subscription: poll, hold retries that are not due yet (pausing only
//! their partition), dispatch deliveries concurrently, and commit each partition's low watermark.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, OffsetTracker, Received};
use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::SubLabel;
use crate::process::{Ctx, Work, process};
use crate::{Subscription, WorkerError, WorkerMetrics};

const COMMIT_EVERY: Duration = Duration::from_millis(200);
const POLL: Duration = Duration::from_millis(100);

/// Runs every subscription until `shutdown`; then lets in-flight deliveries finish within `grace`,
/// commits what finished, and returns.
pub async fn run(
    subs: Vec<Arc<Subscription>>,
    broker: Arc<dyn Broker>,
    metrics: WorkerMetrics,
    shutdown: CancellationToken,
    grace: Duration,
) -> Result<(), WorkerError> {
    let publisher = broker.publisher();
    // Targets are called as configured: no redirects, so a 3xx is a visible failure, not a detour.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hookbus/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WorkerError::Http(e.to_string()))?;
    let mut tasks = JoinSet::new();
    for sub in subs {
        publisher.ensure_topics(&sub.owned_topics()).await?;
        let ctx = Arc::new(Ctx {
            sub,
            client: client.clone(),
            publisher: publisher.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
        });
        tasks.spawn(run_one(ctx, broker.clone(), grace));
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| WorkerError::Http(format!("worker task failed: {e}")))??;
    }
    Ok(())
}

/// A retry record whose time has not come; its partition is paused meanwhile.
struct Held {
    record: Received,
    work: Work,
    due: OffsetDateTime,
}

type Done = (String, i32, i64, bool);

async fn run_one(ctx: Arc<Ctx>, broker: Arc<dyn Broker>, grace: Duration) -> Result<(), WorkerError> {
    let sub = ctx.sub.clone();
    let mut consumer = broker.consumer(&sub.group(), &sub.consumed_topics())?;
    tracing::info!(subscription = %sub.name, topic = %sub.config.topic, target = %sub.config.target, "subscription started");
    let mut tracker = OffsetTracker::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let permits = Arc::new(Semaphore::new(sub.config.concurrency));
    let mut held: Vec<Held> = Vec::new();
    let mut outstanding = 0usize;
    let mut last_commit = Instant::now();
    let gauge = ctx.metrics.in_flight.get_or_create(&SubLabel { subscription: sub.name.clone() }).clone();

    while !ctx.shutdown.is_cancelled() {
        while let Ok(done) = done_rx.try_recv() {
            outstanding -= 1;
            finish(&mut tracker, done);
        }
        if last_commit.elapsed() >= COMMIT_EVERY {
            commit(consumer.as_mut(), &mut tracker).await;
            last_commit = Instant::now();
        }
        let now = OffsetDateTime::now_utc();
        let (due, waiting): (Vec<Held>, Vec<Held>) = held.into_iter().partition(|h| h.due <= now);
        held = waiting;
        for h in due {
            let (topic, partition) = (h.record.topic.clone(), h.record.partition);
            if !held.iter().any(|w| w.record.topic == topic && w.record.partition == partition) {
                consumer.resume(&topic, partition)?;
            }
            let permit = permits.clone().acquire_owned().await.expect("semaphore is never closed");
            outstanding += 1;
            spawn(&ctx, h.record, h.work, permit, done_tx.clone(), gauge.clone());
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("semaphore is never closed"),
            _ = ctx.shutdown.cancelled() => break,
        };
        let next_due = held.iter().map(|h| h.due).min();
        let wait = next_due.map_or(POLL, |d| (d - now).try_into().unwrap_or(Duration::ZERO).min(POLL));
        let record = match consumer.poll(wait).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(subscription = %sub.name, error = %e, "poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        tracker.started(&record.topic, record.partition, record.offset);
        match Work::decode(&sub, &record) {
            Err(e) => {
                // Not a hookbus record (another producer on the topic): nothing to deliver.
                tracing::error!(error = %e, "skipping undecodable record");
                tracker.finished(&record.topic, record.partition, record.offset);
            }
            Ok(work) => match work.not_before().filter(|nb| *nb > OffsetDateTime::now_utc()) {
                Some(due) => {
                    consumer.pause(&record.topic, record.partition)?;
                    held.push(Held { record, work, due });
                }
                None => {
                    outstanding += 1;
                    spawn(&ctx, record, work, permit, done_tx.clone(), gauge.clone());
                }
            },
        }
    }

    // Shutdown: no new work; let started deliveries finish within the grace period.
    let deadline = Instant::now() + grace;
    while outstanding > 0 {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(done)) => {
                outstanding -= 1;
                finish(&mut tracker, done);
            }
            _ => break,
        }
    }
    commit(consumer.as_mut(), &mut tracker).await;
    tracing::info!(subscription = %sub.name, unfinished = outstanding, held = held.len(), "subscription stopped");
    Ok(())
}

fn finish(tracker: &mut OffsetTracker, (topic, partition, offset, finished): Done) {
    // An unfinished record keeps the watermark below it: it is consumed again after a restart.
    if finished {
        tracker.finished(&topic, partition, offset);
    }
}

fn spawn(
    ctx: &Arc<Ctx>,
    record: Received,
    work: Work,
    permit: tokio::sync::OwnedSemaphorePermit,
    done: mpsc::UnboundedSender<Done>,
    gauge: prometheus_client::metrics::gauge::Gauge,
) {
    let ctx = ctx.clone();
    gauge.inc();
    tokio::spawn(async move {
        let finished = process(&ctx, work).await;
        drop(permit);
        gauge.dec();
        let _ = done.send((record.topic, record.partition, record.offset, finished));
    });
}

async fn commit(consumer: &mut dyn Consumer, tracker: &mut OffsetTracker) {
    let positions = tracker.take_commits();
    if !positions.is_empty()
        && let Err(e) = consumer.commit(&positions).await
    {
        tracing::warn!(error = %e, "offset commit failed; it is retried with the next one");
    }
}
