//! What happens to one event: type check, filter, transform into one or more outputs, one attempt
//! per output, then `decide` says what comes next for each and this module carries it out —
//! delivered, scheduled into a retry tier or in place, or dead-lettered. A record counts as finished only after its retry or dead-letter record is
//! durable, so a crash can repeat work but never lose it.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Publisher, Record};
use hookbus_core::config::ContentMode;
use hookbus_core::contract::Violation;
use hookbus_core::live::{ObservationKind, ObservationSink};
use hookbus_core::{Attempt, CloudEvent, DeadLetter, MappedOutput, RetryEnvelope};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::codec;
use crate::decide::{EventOutcome, Next, Pass, Place, decide};
use crate::deliver::WebhookClient;
use crate::endpoint::Endpoint;
use crate::metrics::{OutcomeLabels, SubLabel};
use crate::request::Outgoing;
use crate::superseded::OperatorRetries;
pub(crate) use crate::work::{Outcome, Work};
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
    /// Batch subscriptions: where mapped outputs wait for their batch (see `batch`).
    pub batch: Option<tokio::sync::mpsc::UnboundedSender<crate::batch::Item>>,
}

impl Ctx {
    fn observe(&self, event: &CloudEvent, kind: ObservationKind) {
        self.observe_as(&event.id, &event.ty, kind);
    }

    pub(crate) fn observe_as(&self, event_id: &str, event_type: &str, kind: ObservationKind) {
        let sub = &self.sub;
        self.observer.observe(hookbus_core::live::DeliveryObservation {
            subscription: sub.name.clone(),
            generation: sub.generation.clone(),
            version: sub.version,
            event_id: event_id.to_owned(),
            event_type: event_type.to_owned(),
            at: OffsetDateTime::now_utc(),
            kind,
        });
    }
}

/// One delivery as it moves through one pass: the event, the transform output it sends (none: the
/// event itself, for subscriptions without a transform), the attempts made so far and, when the
/// output broke the output schema, how.
pub(crate) struct InFlight {
    pub event: CloudEvent,
    pub output: Option<MappedOutput>,
    pub attempts: Vec<Attempt>,
    /// Where the output broke the subscription's output schema, for its dead letter.
    pub violations: Vec<Violation>,
}

impl InFlight {
    /// The idempotency key: the event id, with the output's index when the event fanned out.
    pub fn delivery_id(&self) -> String {
        self.output.as_ref().map_or_else(|| self.event.id.clone(), |o| o.delivery_id(&self.event.id))
    }
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
    let (event, attempts, stored) = match work {
        Work::Fresh(event) => (event, Vec::new(), Vec::new()),
        // A batch retries as a whole: the same items, as one request.
        Work::Retry(r) if skip.is_none() && r.batch.is_some() => return crate::batch::resend(ctx, r).await,
        Work::Retry(r) => (r.event, r.attempts, r.outputs),
    };
    if let Some(pass) = skip {
        let next = decide(&sub.policy, pass, sub.config.ordered, &mut rand::rng());
        return carry_out(ctx, next, InFlight { event, output: None, attempts, violations: Vec::new() }).await;
    }
    let span =
        tracing::info_span!("deliver", subscription = %sub.name, event_id = %event.id, attempt = attempts.len() + 1);
    hookbus_core::trace::set_parent(&span, event.traceparent.as_deref());
    async move {
        let envelope = serde_json::to_value(&event).unwrap_or_default();
        // A retry carries its outputs as first computed: they are resent, never mapped again.
        let outputs = if stored.is_empty() {
            match materialize(sub, &envelope) {
                Ok(outputs) => outputs,
                Err(pass) => {
                    let next = decide(&sub.policy, pass.as_pass(), sub.config.ordered, &mut rand::rng());
                    let flight = InFlight { event, output: None, attempts, violations: Vec::new() };
                    return carry_out(ctx, next, flight).await;
                }
            }
        } else {
            stored.into_iter().map(Some).collect()
        };
        // The envelope is a third copy of the event's data; held across every request in flight
        // (or a batch's wait) it was about 5 KiB of each one's memory. Once mapped, only an output
        // schema checked on the envelope itself (no transform) or a templated destination reads it.
        let envelope = if sub.mapping.has_transform() && !sub.destination.reads_event() {
            serde_json::Value::Null
        } else {
            envelope
        };
        if sub.config.batch.is_some() {
            return crate::batch::join(ctx, &envelope, event, outputs).await;
        }
        deliver_all(ctx, &envelope, event, attempts, outputs).await
    }
    .instrument(span)
    .await
}

/// Why an event has nothing to deliver.
enum Unmapped {
    Filtered,
    Failed(String),
}

impl Unmapped {
    fn as_pass(&self) -> Pass<'_> {
        match self {
            Unmapped::Filtered => Pass::Filtered,
            Unmapped::Failed(error) => Pass::MappingFailed { error },
        }
    }
}

/// The deliveries of an event: one per transform output (up to `max_outputs`), or the event
/// itself without a transform. No output at all (the filter, or `.items[]` of an empty list) is
/// "filtered".
fn materialize(sub: &Subscription, envelope: &serde_json::Value) -> Result<Vec<Option<MappedOutput>>, Unmapped> {
    let outputs =
        sub.mapping.apply_all(envelope, sub.config.max_outputs).map_err(|e| Unmapped::Failed(e.to_string()))?;
    if outputs.is_empty() {
        return Err(Unmapped::Filtered);
    }
    if !sub.mapping.has_transform() {
        return Ok(vec![None]);
    }
    let count = outputs.len() as u32;
    Ok(outputs.into_iter().enumerate().map(|(i, body)| Some(MappedOutput { index: i as u32, count, body })).collect())
}

/// Delivers each output in turn, each with its own attempts, retry and dead letter. The record is
/// finished once every output is delivered, dead-lettered or durably scheduled. Ordered
/// subscriptions keep order across outputs too: when one must retry, it and every later output
/// wait in place together.
async fn deliver_all(
    ctx: &Ctx,
    envelope: &serde_json::Value,
    event: CloudEvent,
    mut attempts: Vec<Attempt>,
    outputs: Vec<Option<MappedOutput>>,
) -> Outcome {
    let mut finished = true;
    let mut rest = outputs.into_iter().peekable();
    let mut event = Some(event);
    while let Some(output) = rest.next() {
        // The attempts so far belong to the first output (the one a retry was scheduled for).
        let attempts = std::mem::take(&mut attempts);
        // The last output takes the event itself: a copy per delivery in flight costs memory.
        let event = if rest.peek().is_some() { event.clone() } else { event.take() };
        let event = event.expect("the event is taken by the last output only");
        let flight = InFlight { event, output, attempts, violations: Vec::new() };
        let (next, flight) = one_pass(ctx, envelope, flight).await;
        match carry_out(ctx, next, flight).await {
            Outcome::Finished => {}
            Outcome::Unfinished => finished = false,
            Outcome::RetryInPlace(mut retry) => {
                retry.outputs.extend(rest.flatten());
                return if finished { Outcome::RetryInPlace(retry) } else { Outcome::Unfinished };
            }
        }
    }
    finished.into()
}

/// One attempt: a publish to the destination topic, or (unless the circuit says otherwise) an HTTP
/// request to the rendered target; none for an output that breaks the output schema.
async fn one_pass(ctx: &Ctx, envelope: &serde_json::Value, mut flight: InFlight) -> (Next, InFlight) {
    let sub = &ctx.sub;
    let mapped = flight.output.as_ref().map(|o| &o.body);
    // Each output is checked on its own (the envelope, without a transform), on every attempt: a
    // schema tightened since the output was stored applies to its retries too.
    if let Err(refused) = crate::contract::check(sub.output_schema.as_ref(), mapped.unwrap_or(envelope)) {
        let next =
            decide(&sub.policy, Pass::OutputRefused { error: &refused.message }, sub.config.ordered, &mut rand::rng());
        flight.violations = refused.violations;
        return (next, flight);
    }
    let number = flight.attempts.len() as u32 + 1;
    let traceparent = hookbus_core::trace::traceparent(&tracing::Span::current()).or(flight.event.traceparent.clone());
    let delivery_id = flight.delivery_id();
    let out = Outgoing {
        event: &flight.event,
        delivery_id: &delivery_id,
        mapped: mapped.is_some(),
        number,
        traceparent: traceparent.as_deref(),
        batch: None,
    };
    let result = if let Some(d) = &sub.config.destination {
        // Binary mode: the output (or the event's data) is the record's value.
        let body = crate::content::body(ContentMode::Binary, &flight.event, mapped);
        crate::topic::attempt(ctx.publisher.as_ref(), d.topic(), &out, &body).await
    } else {
        let body = crate::content::body(sub.config.content_mode(), &flight.event, mapped);
        match http_attempt(ctx, envelope, &out, body).await {
            Ok(result) => result,
            Err(none) => return (decide(&sub.policy, none.as_pass(), sub.config.ordered, &mut rand::rng()), flight),
        }
    };
    record(ctx, result, number, flight)
}

/// Why a pass made no attempt.
pub(crate) enum NoAttempt {
    /// A template of the destination failed on the event.
    Unrenderable(String),
    /// The circuit is open: hold off for this long.
    Deferred { number: u32, wait: std::time::Duration },
}

impl NoAttempt {
    pub fn as_pass(&self) -> Pass<'_> {
        match self {
            NoAttempt::Unrenderable(error) => Pass::MappingFailed { error },
            NoAttempt::Deferred { number, wait } => Pass::Deferred { number: *number, wait: *wait },
        }
    }
}

/// One HTTP attempt to the rendered target, unless the circuit is open.
pub(crate) async fn http_attempt(
    ctx: &Ctx,
    envelope: &serde_json::Value,
    out: &Outgoing<'_>,
    body: Vec<u8>,
) -> Result<crate::deliver::AttemptResult, NoAttempt> {
    let dest = ctx.sub.destination.render(envelope).map_err(|e| NoAttempt::Unrenderable(e.to_string()))?;
    if let Some(wait) = ctx.endpoint.hold_off() {
        return Err(NoAttempt::Deferred { number: out.number, wait });
    }
    ctx.endpoint.throttle().await;
    let result = ctx.http.attempt(&ctx.sub, &dest, out, body).await;
    ctx.endpoint.record(result.failure.as_ref());
    Ok(result)
}

/// Metrics, the decision and the attempt log for one attempt.
fn record(ctx: &Ctx, result: crate::deliver::AttemptResult, number: u32, mut flight: InFlight) -> (Next, InFlight) {
    let (next, attempt) = judge(ctx, result.attempt, result.failure.as_ref(), number, ctx.sub.config.ordered);
    let request_headers = result.request_headers;
    ctx.observe(&flight.event, ObservationKind::Attempted { attempt: attempt.clone(), request_headers });
    if result.failure.is_some() {
        // Failed attempts travel with the output into its retry or dead letter.
        flight.attempts.push(attempt);
    } else {
        // Per-event line at debug (the delivery metrics count them); failures stay at INFO.
        tracing::debug!(status = attempt.status, latency_ms = attempt.latency_ms, "delivered");
    }
    (next, flight)
}

/// Counts an attempt in the metrics and decides what follows it; the attempt carries the decision.
pub(crate) fn judge(
    ctx: &Ctx,
    mut attempt: Attempt,
    failure: Option<&hookbus_core::retry::Failure>,
    number: u32,
    ordered: bool,
) -> (Next, Attempt) {
    let sub = &ctx.sub;
    let labels = OutcomeLabels { subscription: sub.name.clone(), outcome: attempt.outcome.as_str().to_owned() };
    ctx.metrics.attempts.get_or_create(&labels).inc();
    let sub_label = SubLabel { subscription: sub.name.clone() };
    ctx.metrics.attempt_seconds.get_or_create(&sub_label).observe(attempt.latency_ms as f64 / 1000.0);
    let pass = Pass::Attempted { number, failure, status: attempt.status, error: attempt.error.as_deref() };
    let next = decide(&sub.policy, pass, ordered, &mut rand::rng());
    attempt.decision = next.decision();
    (next, attempt)
}

/// Makes the decision durable: metrics for every outcome, a retry record or a dead letter.
pub(crate) async fn carry_out(ctx: &Ctx, next: Next, flight: InFlight) -> Outcome {
    let sub = &ctx.sub;
    ctx.metrics.event(&sub.name, next.outcome());
    let InFlight { event, output, attempts, violations } = flight;
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
                outputs: output.into_iter().collect(),
                attempts,
                not_before,
                batch: None,
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
            let mut dl = DeadLetter::new(&sub.name, event, attempts, reason, message).with_output(output);
            dl.violations = violations;
            write(ctx, &sub.dlq_topic(), codec::encode(&dl.event.id, &dl)).await
        }
    }
}

/// What the attempt log records for a decision; nothing for events that were never this
/// subscription's to deliver (before its start, or another generation's retries).
pub(crate) fn observation(next: &Next, now: OffsetDateTime) -> Option<ObservationKind> {
    Some(match next {
        Next::Finish(EventOutcome::Delivered) => ObservationKind::Delivered,
        Next::Finish(EventOutcome::BeforeStart | EventOutcome::Superseded) => return None,
        Next::Finish(_) => ObservationKind::Filtered,
        Next::Retry { after, .. } => ObservationKind::RetryScheduled { next_attempt_at: now + *after },
        Next::DeadLetter { reason, .. } => ObservationKind::DeadLettered { reason: *reason },
    })
}

/// Writes a retry or dead-letter record; the source record is finished only once it is durable.
pub(crate) async fn write(ctx: &Ctx, topic: &str, record: Result<Record, WorkerError>) -> Outcome {
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
