//! Batch delivery: a batch subscription's mapped outputs wait here until `max_events` of them are
//! gathered or the first has waited `max_wait`, then go out as one request whose body is the array
//! of the items. The batch is retried and dead-lettered as a whole, its items carried in the retry
//! or dead-letter record so every resend is the same array.
//!
//! A consumed record is finished only when every item it gave has settled (delivered, scheduled
//! for retry or dead-lettered, durably): each item holds a share of its record's [`Settle`], and an
//! item dropped without settling (shutdown) leaves the record unfinished, to be consumed again.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hookbus_core::live::ObservationKind;
use hookbus_core::{Attempt, Batch, BatchItem, CloudEvent, DeadLetter, MappedOutput, RetryEnvelope};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::codec;
use crate::decide::{EventOutcome, Next, Pass, Place, decide};
use crate::metrics::SubLabel;
use crate::process::{Ctx, InFlight, Outcome, carry_out, http_attempt, judge, observation, write};
use crate::request::Outgoing;

/// The shared fate of one consumed record's items: when the last share is dropped, the record's
/// task learns whether all of them settled durably.
pub(crate) struct Settle {
    finished: AtomicBool,
    done: std::sync::Mutex<Option<oneshot::Sender<bool>>>,
}

impl Settle {
    fn new() -> (Arc<Self>, oneshot::Receiver<bool>) {
        let (tx, rx) = oneshot::channel();
        (Arc::new(Self { finished: AtomicBool::new(true), done: std::sync::Mutex::new(Some(tx)) }), rx)
    }

    /// Something of the record was not made durable: it must be consumed again after a restart.
    fn unfinished(&self) {
        self.finished.store(false, Ordering::SeqCst);
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        if let Some(tx) = self.done.get_mut().ok().and_then(Option::take) {
            let _ = tx.send(self.finished.load(Ordering::SeqCst));
        }
    }
}

/// An item waiting for its batch.
pub(crate) struct Item {
    item: BatchItem,
    event: CloudEvent,
    settle: Arc<Settle>,
    settled: bool,
}

impl Drop for Item {
    fn drop(&mut self) {
        // Dropped unsent (the gatherer stopped): the record stays unfinished rather than lost.
        if !self.settled {
            self.settle.unfinished();
        }
    }
}

/// What the gatherer does next, given what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing gathered: wait for the first item, however long.
    Idle,
    /// Send what is gathered now.
    Send,
    /// Wait this long at most for more.
    Wait(Duration),
}

/// Send once the batch is full or its first item has waited `max_wait`.
pub(crate) fn step(gathered: usize, max_events: usize, waited: Duration, max_wait: Duration) -> Step {
    if gathered == 0 {
        Step::Idle
    } else if gathered >= max_events || waited >= max_wait {
        Step::Send
    } else {
        Step::Wait(max_wait - waited)
    }
}

/// Hands the outputs of one event to the gatherer and waits until all of them have settled. An
/// output that breaks the output schema is dead-lettered on its own, as without batching.
pub(crate) async fn join(
    ctx: &Ctx,
    envelope: &Value,
    event: CloudEvent,
    outputs: Vec<Option<MappedOutput>>,
) -> Outcome {
    let sub = &ctx.sub;
    let Some(gatherer) = &ctx.batch else { return Outcome::Unfinished };
    let (settle, done) = Settle::new();
    let mode = sub.config.content_mode();
    for output in outputs {
        let mapped = output.as_ref().map(|o| &o.body);
        if let Err(refused) = crate::contract::check(sub.output_schema.as_ref(), mapped.unwrap_or(envelope)) {
            let next = decide(&sub.policy, Pass::OutputRefused { error: &refused.message }, false, &mut rand::rng());
            let flight =
                InFlight { event: event.clone(), output, attempts: Vec::new(), violations: refused.violations };
            if !matches!(carry_out(ctx, next, flight).await, Outcome::Finished) {
                settle.unfinished();
            }
            continue;
        }
        let flight = InFlight { event: event.clone(), output, attempts: Vec::new(), violations: Vec::new() };
        let body = crate::content::item(mode, &event, flight.output.as_ref().map(|o| &o.body));
        let item =
            BatchItem { id: flight.delivery_id(), event_id: event.id.clone(), event_type: event.ty.clone(), body };
        // A closed gatherer (stopped for shutdown) drops the item, which leaves the record unfinished.
        let _ = gatherer.send(Item { item, event: event.clone(), settle: settle.clone(), settled: false });
    }
    drop(settle);
    done.await.unwrap_or(false).into()
}

const IDLE: Duration = Duration::from_secs(3600);

/// The gatherer of one subscription: runs until the subscription stops, then sends what it holds
/// (within the shutdown grace period); items that arrive after that stay unfinished.
pub(crate) async fn gather(ctx: Arc<Ctx>, mut items: mpsc::UnboundedReceiver<Item>) {
    let Some(config) = ctx.sub.config.batch.clone() else { return };
    // Checked when the subscription was built.
    let max_wait = config.max_wait().unwrap_or(Duration::from_millis(200));
    let mut held: Vec<Item> = Vec::new();
    let mut since = Instant::now();
    loop {
        let wait = match step(held.len(), config.max_events, since.elapsed(), max_wait) {
            Step::Send => {
                send(&ctx, std::mem::take(&mut held)).await;
                continue;
            }
            Step::Wait(d) => d,
            // Nothing held: only a new item (or shutdown) matters; the loop just looks again.
            Step::Idle => IDLE,
        };
        tokio::select! {
            item = items.recv() => match item {
                Some(item) => {
                    if held.is_empty() {
                        since = Instant::now();
                    }
                    held.push(item);
                }
                None => break,
            },
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.shutdown.cancelled() => break,
        }
    }
    if !held.is_empty() {
        send(&ctx, held).await;
    }
}

/// One request for the gathered items; each item's record learns how it went.
async fn send(ctx: &Ctx, mut items: Vec<Item>) {
    let Some(first) = items.first() else { return };
    let event = first.event.clone();
    let batch = Batch { items: items.iter().map(|i| i.item.clone()).collect() };
    let finished = matches!(attempt(ctx, event, batch, Vec::new()).await, Outcome::Finished);
    for item in &mut items {
        if !finished {
            item.settle.unfinished();
        }
        item.settled = true;
    }
}

/// A batch from a retry tier (a retry or a redrive): the same items, sent again as one request.
pub(crate) async fn resend(ctx: &Ctx, retry: RetryEnvelope) -> Outcome {
    let RetryEnvelope { event, attempts, batch, .. } = retry;
    match batch {
        Some(batch) if !batch.is_empty() => attempt(ctx, event, batch, attempts).await,
        // An empty batch has nothing to send.
        _ => Outcome::Finished,
    }
}

/// One attempt of a batch and what follows from it, for the batch as a whole: delivered, a retry
/// record carrying its items, or a dead letter carrying them. `event` is the first item's event
/// (the records need one; its partition key places them).
async fn attempt(ctx: &Ctx, event: CloudEvent, batch: Batch, mut attempts: Vec<Attempt>) -> Outcome {
    let sub = &ctx.sub;
    let label = SubLabel { subscription: sub.name.clone() };
    ctx.metrics.batch_items.get_or_create(&label).observe(batch.len() as f64);
    let number = attempts.len() as u32 + 1;
    let key = batch.key();
    let out = Outgoing {
        event: &event,
        delivery_id: &key,
        mapped: true,
        number,
        traceparent: None,
        batch: Some(batch.len()),
    };
    // Batch targets are never templated (the config refuses it): rendering does not read the event.
    let envelope =
        if sub.destination.reads_event() { serde_json::to_value(&event).unwrap_or_default() } else { Value::Null };
    let pass = |p: Pass<'_>| decide(&sub.policy, p, false, &mut rand::rng());
    let next = match http_attempt(ctx, &envelope, &out, batch.body()).await {
        Err(none) => pass(none.as_pass()),
        Ok(result) => {
            let (next, attempt) = judge(ctx, result.attempt, result.failure.as_ref(), number, false);
            for i in &batch.items {
                let kind = ObservationKind::Attempted {
                    attempt: attempt.clone(),
                    request_headers: result.request_headers.clone(),
                };
                ctx.observe_as(&i.event_id, &i.event_type, kind);
            }
            if result.failure.is_some() {
                attempts.push(attempt);
            }
            next
        }
    };
    settle(ctx, next, event, batch, attempts).await
}

/// Makes the decision on a batch durable; metrics and the attempt log count every item.
async fn settle(ctx: &Ctx, next: Next, event: CloudEvent, batch: Batch, attempts: Vec<Attempt>) -> Outcome {
    let sub = &ctx.sub;
    let now = OffsetDateTime::now_utc();
    let kind = observation(&next, now);
    for i in &batch.items {
        ctx.metrics.event(&sub.name, next.outcome());
        if let Some(kind) = &kind {
            ctx.observe_as(&i.event_id, &i.event_type, kind.clone());
        }
    }
    match next {
        Next::Finish(_) => Outcome::Finished,
        Next::Retry { after, place, outcome } => {
            if outcome == EventOutcome::RetryScheduled {
                let last = attempts.last();
                tracing::info!(items = batch.len(), status = last.and_then(|a| a.status), delay = ?after, "batch attempt failed; retry scheduled");
            }
            // Batches are refused for ordered subscriptions, so a retry always goes to a tier.
            let tier = match place {
                Place::Tier(n) => n,
                Place::InPlace => 0,
            };
            let mut retry = RetryEnvelope::due_now(&sub.name, event);
            retry.generation = sub.generation.clone();
            retry.scheduled_at = Some(now);
            retry.attempts = attempts;
            retry.not_before = now + after;
            retry.batch = Some(batch);
            write(ctx, &sub.tier_topic(tier), codec::encode(&retry.event.partitionkey, &retry)).await
        }
        Next::DeadLetter { reason, message } => {
            tracing::warn!(items = batch.len(), reason = reason.as_str(), %message, "dead-lettering a batch");
            let mut dl = DeadLetter::new(&sub.name, event, attempts, reason, message);
            dl.batch = Some(batch);
            write(ctx, &sub.dlq_topic(), codec::encode(&dl.event.id, &dl)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_batch_goes_out_when_full_or_when_its_first_item_has_waited_enough() {
        assert_eq!(step(0, 10, ms(900), ms(200)), Step::Idle, "nothing to send, however long");
        assert_eq!(step(3, 10, ms(50), ms(200)), Step::Wait(ms(150)));
        assert_eq!(step(3, 10, ms(200), ms(200)), Step::Send, "max_wait reached");
        assert_eq!(step(10, 10, ms(0), ms(200)), Step::Send, "full");
        assert_eq!(step(12, 10, ms(0), ms(200)), Step::Send);
    }

    fn item(settle: &Arc<Settle>) -> Item {
        let event = CloudEvent::from_body("e-1".into(), "crm", "crm.contact".into(), None, b"{}");
        let item = BatchItem { id: "e-1".into(), event_id: "e-1".into(), event_type: "t".into(), body: Value::Null };
        Item { item, event, settle: settle.clone(), settled: false }
    }

    #[test]
    fn a_record_is_finished_once_all_its_items_settled() {
        let (settle, mut done) = Settle::new();
        let (mut a, mut b) = (item(&settle), item(&settle));
        drop(settle);
        a.settled = true;
        drop(a);
        assert!(done.try_recv().is_err(), "one item still waits");
        b.settled = true;
        drop(b);
        assert_eq!(done.try_recv(), Ok(true));
    }

    #[test]
    fn an_item_dropped_unsent_leaves_its_record_unfinished() {
        let (settle, mut done) = Settle::new();
        let (mut a, b) = (item(&settle), item(&settle));
        drop(settle);
        a.settled = true;
        drop((a, b));
        assert_eq!(done.try_recv(), Ok(false));
    }
}
