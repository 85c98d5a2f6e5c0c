//! What happens to one event: type check, filter, transform, one attempt, then `decide` says what
//! comes next and this module carries it out — delivered, scheduled into a retry tier or in place,
//! or dead-lettered. A record counts as finished only after its retry or dead-letter record is
//! durable, so a crash can repeat work but never lose it.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Publisher, Received, Record};
use hookbus_core::live::{ObservationKind, ObservationSink};
use hookbus_core::{Attempt, CloudEvent, DeadLetter, RetryEnvelope};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::codec;
use crate::decide::{EventOutcome, Next, Pass, Place, decide};
use crate::deliver::WebhookClient;
use crate::endpoint::Endpoint;
use crate::metrics::{OutcomeLabels, SubLabel};
use crate::superseded::OperatorRetries;
use crate::{Subscription, WorkerError, WorkerMetrics};

/// Shared by every delivery task of one subscription; built before its consume loop starts.
pub(crate) struct Ctx {
    pub sub: Arc<Subscription>,
    pub http: WebhookClient,
    pub publisher: Arc<dyn Publisher>,
    pub metrics: WorkerMetrics,
    pub shutdown: CancellationToken,
    pub endpoint: Endpoint,
    /// Told what happened to every event (the attempt log); never blocks.
    pub observer: Arc<dyn ObservationSink>,
    pub operator_retries: OperatorRetries,
}

impl Ctx {
    fn observe(&self, event: &CloudEvent, kind: ObservationKind) {
        let sub = &self.sub;
        self.observer.observe(hookbus_core::live::DeliveryObservation {
            subscription: sub.name.clone(),
            generation: sub.generation.clone(),
            version: sub.version,
            event_id: event.id.clone(),
            event_type: event.ty.clone(),
            at: OffsetDateTime::now_utc(),
            kind,
        });
    }
}

/// A consumed record: a fresh event from the source topic, or a pending retry from a tier.
pub(crate) enum Work {
    Fresh(CloudEvent),
    Retry(RetryEnvelope),
}

impl Work {
    pub fn decode(sub: &Subscription, r: &Received) -> Result<Work, WorkerError> {
        if sub.tier_of(&r.topic).is_some() {
            codec::decode(r).map(Work::Retry)
        } else {
            r.record.event().map(Work::Fresh).map_err(|e| codec::bad_record(r, e))
        }
    }

    /// The partition key: in ordered mode, events with the same key are delivered one at a time.
    pub fn key(&self) -> &str {
        match self {
            Work::Fresh(e) => &e.partitionkey,
            Work::Retry(r) => &r.event.partitionkey,
        }
    }

    /// When a retry may be attempted; fresh events are due at once.
    pub fn not_before(&self) -> Option<OffsetDateTime> {
        match self {
            Work::Fresh(_) => None,
            Work::Retry(r) => Some(r.not_before),
        }
    }
}

/// What became of one piece of work.
pub(crate) enum Outcome {
    /// Delivered, filtered, dead-lettered or durably scheduled: the record is finished.
    Finished,
    /// Shutdown interrupted a durable write: the record must be consumed again after restart.
    Unfinished,
    /// Ordered subscriptions retry in place: the key waits, the record stays unfinished meanwhile.
    RetryInPlace(Box<RetryEnvelope>),
}

impl From<bool> for Outcome {
    fn from(finished: bool) -> Self {
        if finished { Outcome::Finished } else { Outcome::Unfinished }
    }
}

/// The event with its attempt history, as it moves through one pass.
struct InFlight {
    event: CloudEvent,
    attempts: Vec<Attempt>,
}

pub(crate) async fn process(ctx: &Ctx, work: Work) -> Outcome {
    let sub = &ctx.sub;
    let skip = match &work {
        Work::Fresh(event) if sub.before_start(event.time) => Some(Pass::BeforeStart),
        Work::Fresh(event) if !sub.config.wants(&event.ty) => Some(Pass::UnwantedType),
        Work::Retry(r) if !r.generation.is_empty() && r.generation != sub.generation => Some(Pass::Superseded),
        Work::Retry(r) if ctx.operator_retries.superseded(r) => Some(Pass::Superseded),
        _ => None,
    };
    let flight = match work {
        Work::Fresh(event) => InFlight { event, attempts: Vec::new() },
        Work::Retry(r) => InFlight { event: r.event, attempts: r.attempts },
    };
    if let Some(pass) = skip {
        let next = decide(&sub.policy, pass, sub.config.ordered, &mut rand::rng());
        return carry_out(ctx, next, flight).await;
    }
    let span = tracing::info_span!("deliver", subscription = %sub.name, event_id = %flight.event.id, attempt = flight.attempts.len() + 1);
    hookbus_core::trace::set_parent(&span, flight.event.traceparent.as_deref());
    async move {
        let (next, flight) = one_pass(ctx, flight).await;
        carry_out(ctx, next, flight).await
    }
    .instrument(span)
    .await
}

/// Maps the event and, unless the filter or the circuit says otherwise, makes one attempt.
async fn one_pass(ctx: &Ctx, mut flight: InFlight) -> (Next, InFlight) {
    let sub = &ctx.sub;
    let ordered = sub.config.ordered;
    let pass = |p: Pass<'_>| decide(&sub.policy, p, ordered, &mut rand::rng());
    let envelope = serde_json::to_value(&flight.event).unwrap_or_default();
    let body = match sub.mapping.apply(&envelope) {
        Ok(Some(out)) => {
            let mapped = sub.mapping.has_transform().then_some(&out);
            crate::content::body(sub.config.content_mode(), &flight.event, mapped)
        }
        Ok(None) => return (pass(Pass::Filtered), flight),
        Err(e) => return (pass(Pass::MappingFailed { error: &e.to_string() }), flight),
    };
    let dest = match sub.destination.render(&envelope) {
        Ok(dest) => dest,
        Err(e) => return (pass(Pass::MappingFailed { error: &e.to_string() }), flight),
    };
    let number = flight.attempts.len() as u32 + 1;
    if let Some(wait) = ctx.endpoint.hold_off() {
        return (pass(Pass::Deferred { number, wait }), flight);
    }
    ctx.endpoint.throttle().await;
    let traceparent = hookbus_core::trace::traceparent(&tracing::Span::current()).or(flight.event.traceparent.clone());
    let result = ctx.http.attempt(sub, &dest, &flight.event, body, number, traceparent.as_deref()).await;
    let mut attempt = result.attempt;
    let labels = OutcomeLabels { subscription: sub.name.clone(), outcome: attempt.outcome.as_str().to_owned() };
    ctx.metrics.attempts.get_or_create(&labels).inc();
    let sub_label = SubLabel { subscription: sub.name.clone() };
    ctx.metrics.attempt_seconds.get_or_create(&sub_label).observe(attempt.latency_ms as f64 / 1000.0);
    ctx.endpoint.record(result.failure.as_ref());
    let next = pass(Pass::Attempted {
        number,
        failure: result.failure.as_ref(),
        status: attempt.status,
        error: attempt.error.as_deref(),
    });
    attempt.decision = next.decision();
    let request_headers = result.request_headers;
    ctx.observe(&flight.event, ObservationKind::Attempted { attempt: attempt.clone(), request_headers });
    if result.failure.is_some() {
        // Failed attempts travel with the event into its retry or dead letter.
        flight.attempts.push(attempt);
    } else {
        // Per-event line at debug (the delivery metrics count them); failures stay at INFO.
        tracing::debug!(status = attempt.status, latency_ms = attempt.latency_ms, "delivered");
    }
    (next, flight)
}

/// Makes the decision durable: metrics for every outcome, a retry record or a dead letter.
async fn carry_out(ctx: &Ctx, next: Next, flight: InFlight) -> Outcome {
    let sub = &ctx.sub;
    ctx.metrics.event(&sub.name, next.outcome());
    let InFlight { event, attempts } = flight;
    let now = OffsetDateTime::now_utc();
    if let Some(kind) = observation(&next, now) {
        ctx.observe(&event, kind);
    }
    match next {
        Next::Finish(_) => Outcome::Finished,
        Next::Retry { after, place, outcome } => {
            if outcome == EventOutcome::RetryScheduled {
                let last = attempts.last();
                tracing::info!(status = last.and_then(|a| a.status), error = last.and_then(|a| a.error.as_deref()), delay = ?after, "attempt failed; retry scheduled");
            }
            let not_before = now + after;
            let retry = RetryEnvelope {
                subscription: sub.name.clone(),
                generation: sub.generation.clone(),
                scheduled_at: Some(now),
                requested_at: None,
                event,
                attempts,
                not_before,
            };
            match place {
                Place::InPlace => Outcome::RetryInPlace(Box::new(retry)),
                Place::Tier(n) => {
                    write(ctx, &sub.tier_topic(n), codec::encode(&retry.event.partitionkey, &retry)).await
                }
            }
        }
        Next::DeadLetter { reason, message } => {
            tracing::warn!(status = attempts.last().and_then(|a| a.status), reason = reason.as_str(), %message, "dead-lettering");
            let dl = DeadLetter::new(&sub.name, event, attempts, reason, message);
            write(ctx, &sub.dlq_topic(), codec::encode(&dl.event.id, &dl)).await
        }
    }
}

/// What the attempt log records for a decision; nothing for events that were never this
/// subscription's to deliver (before its start, or another generation's retries).
fn observation(next: &Next, now: OffsetDateTime) -> Option<ObservationKind> {
    Some(match next {
        Next::Finish(EventOutcome::Delivered) => ObservationKind::Delivered,
        Next::Finish(EventOutcome::BeforeStart | EventOutcome::Superseded) => return None,
        Next::Finish(_) => ObservationKind::Filtered,
        Next::Retry { after, .. } => ObservationKind::RetryScheduled { next_attempt_at: now + *after },
        Next::DeadLetter { reason, .. } => ObservationKind::DeadLettered { reason: *reason },
    })
}

/// Writes a retry or dead-letter record; the source record is finished only once it is durable.
async fn write(ctx: &Ctx, topic: &str, record: Result<Record, WorkerError>) -> Outcome {
    match record {
        Ok(record) => publish(ctx, topic, record).await.into(),
        Err(e) => {
            // Cannot happen for these types (string keys only); if it did, keeping the record
            // unfinished holds the partition rather than dropping the event.
            tracing::error!(error = %e, topic, "cannot encode a worker record");
            Outcome::Unfinished
        }
    }
}

/// Publishes until the broker acknowledges, backing off; gives up only at shutdown, leaving the
/// source record unfinished so it is consumed again after restart.
async fn publish(ctx: &Ctx, topic: &str, record: Record) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        match ctx.publisher.publish(topic, record.clone()).await {
            Ok(_) => return true,
            Err(e) => tracing::error!(error = %e, topic, "cannot write retry/dead-letter record; will retry"),
        }
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return false,
            _ = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(Duration::from_secs(5)),
        }
    }
}
