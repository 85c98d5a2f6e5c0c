//! What happens to one event: type check, filter, transform, one attempt, then the verdict —
//! delivered, scheduled into a retry tier, or dead-lettered. A record counts as finished only
//! after its retry or dead-letter record is durable, so a crash can repeat work but never lose it.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Publisher, Received, Record};
use hookbus_core::retry::Verdict;
use hookbus_core::{CloudEvent, DeadLetter, Decision, GiveUpReason, RetryEnvelope};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::deliver;
use crate::health::{Admit, Breaker};
use crate::{Subscription, WorkerError, WorkerMetrics};

/// Shared by every delivery task of one subscription.
pub(crate) struct Ctx {
    pub sub: Arc<Subscription>,
    pub client: reqwest::Client,
    pub publisher: Arc<dyn Publisher>,
    pub metrics: WorkerMetrics,
    pub shutdown: CancellationToken,
    pub guard: Arc<crate::ssrf::Guard>,
    pub breaker: Option<std::sync::Mutex<Breaker>>,
    pub limiter: Option<governor::DefaultDirectRateLimiter>,
}

/// A consumed record: a fresh event from the source topic, or a pending retry from a tier.
pub(crate) enum Work {
    Fresh(CloudEvent),
    Retry(RetryEnvelope),
}

impl Work {
    pub fn decode(sub: &Subscription, r: &Received) -> Result<Work, WorkerError> {
        let bad = |message: String| WorkerError::BadRecord {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: r.offset,
            message,
        };
        if sub.tier_of(&r.topic).is_some() {
            serde_json::from_slice(&r.record.payload).map(Work::Retry).map_err(|e| bad(e.to_string()))
        } else {
            CloudEvent::from_binary(&r.record.headers, &r.record.payload)
                .map(Work::Fresh)
                .map_err(|e| bad(e.to_string()))
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

pub(crate) async fn process(ctx: &Ctx, work: Work) -> Outcome {
    let sub = &ctx.sub;
    let (event, mut attempts) = match work {
        Work::Fresh(ev) if !sub.config.wants(&ev.ty) => {
            ctx.metrics.event(&sub.name, "skipped_type");
            return Outcome::Finished;
        }
        Work::Fresh(ev) => (ev, Vec::new()),
        Work::Retry(r) => (r.event, r.attempts),
    };
    let span =
        tracing::info_span!("deliver", subscription = %sub.name, event_id = %event.id, attempt = attempts.len() + 1);
    hookbus_core::trace::set_parent(&span, event.traceparent.as_deref());
    async {
        let envelope = serde_json::to_value(&event).unwrap_or_default();
        let body = match sub.mapping.apply(&envelope) {
            Ok(Some(body)) => serde_json::to_vec(&body).unwrap_or_default(),
            Ok(None) => {
                ctx.metrics.event(&sub.name, "filtered");
                return Outcome::Finished;
            }
            Err(e) => {
                tracing::warn!(error = %e, "mapping failed; dead-lettering");
                let dl = DeadLetter::new(&sub.name, event, attempts, GiveUpReason::TransformError, e.to_string());
                return dead_letter(ctx, dl).await.into();
            }
        };
        let number = attempts.len() as u32 + 1;
        if let Some(until) = circuit_wait(ctx) {
            // The target is known to be failing: reschedule without charging an attempt.
            let not_before = OffsetDateTime::now_utc() + until;
            let retry = RetryEnvelope { subscription: sub.name.clone(), event, attempts, not_before };
            ctx.metrics.event(&sub.name, "circuit_deferred");
            if sub.config.ordered {
                return Outcome::RetryInPlace(Box::new(retry));
            }
            let topic = sub.tier_topic(number.max(1) as usize);
            return publish(ctx, &topic, &retry.event.partitionkey.clone(), &retry).await.into();
        }
        if let Some(limiter) = &ctx.limiter {
            limiter.until_ready().await;
        }
        let traceparent = hookbus_core::trace::traceparent(&tracing::Span::current()).or(event.traceparent.clone());
        let result = deliver::attempt(ctx, &event, body, number, traceparent.as_deref()).await;
        let mut attempt = result.attempt;
        let outcome = serde_json::to_value(attempt.outcome).ok().and_then(|v| v.as_str().map(str::to_owned));
        ctx.metrics
            .attempts
            .get_or_create(&crate::metrics::OutcomeLabels {
                subscription: sub.name.clone(),
                outcome: outcome.unwrap_or_default(),
            })
            .inc();
        ctx.metrics
            .attempt_seconds
            .get_or_create(&crate::metrics::SubLabel { subscription: sub.name.clone() })
            .observe(attempt.latency_ms as f64 / 1000.0);
        record_health(ctx, &result.failure);
        let Some(failure) = result.failure else {
            tracing::info!(status = attempt.status, latency_ms = attempt.latency_ms, "delivered");
            ctx.metrics.event(&sub.name, "delivered");
            return Outcome::Finished;
        };
        let verdict = sub.policy.next(number, &failure, &mut rand::rng());
        match verdict {
            Verdict::RetryIn(delay) => {
                attempt.decision = Decision::Retry;
                tracing::info!(
                    status = attempt.status,
                    error = attempt.error,
                    ?delay,
                    "attempt failed; retry scheduled"
                );
                attempts.push(attempt);
                let not_before = OffsetDateTime::now_utc() + delay;
                let retry = RetryEnvelope { subscription: sub.name.clone(), event, attempts, not_before };
                ctx.metrics.event(&sub.name, "retry_scheduled");
                if sub.config.ordered {
                    return Outcome::RetryInPlace(Box::new(retry));
                }
                let topic = sub.tier_topic(number as usize);
                publish(ctx, &topic, &retry.event.partitionkey.clone(), &retry).await.into()
            }
            Verdict::GiveUp(reason) => {
                attempt.decision = Decision::GiveUp;
                let message = match reason {
                    GiveUpReason::PermanentFailure => match (attempt.status, &attempt.error) {
                        (Some(s), _) => format!("target answered {s}, which retrying cannot fix"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => "permanent failure".into(),
                    },
                    _ => format!("gave up after {number} attempts"),
                };
                tracing::warn!(status = attempt.status, reason = reason.as_str(), "dead-lettering");
                attempts.push(attempt);
                dead_letter(ctx, DeadLetter::new(&sub.name, event, attempts, reason, message)).await.into()
            }
        }
    }
    .instrument(span)
    .await
}

async fn dead_letter(ctx: &Ctx, dl: DeadLetter) -> bool {
    let key = dl.event.id.clone();
    let done = publish(ctx, &ctx.sub.dlq_topic(), &key, &dl).await;
    ctx.metrics.event(&ctx.sub.name, "dead_lettered");
    done
}

/// Publishes until the broker acknowledges, backing off; gives up only at shutdown, leaving the
/// source record unfinished so it is consumed again after restart.
async fn publish(ctx: &Ctx, topic: &str, key: &str, value: &impl serde::Serialize) -> bool {
    let record = Record {
        key: Some(key.as_bytes().to_vec()),
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        payload: serde_json::to_vec(value).unwrap_or_default(),
        timestamp_ms: OffsetDateTime::now_utc().unix_timestamp() * 1000,
    };
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

/// How long to hold off when the circuit is open (or the endpoint disabled); None to go ahead.
fn circuit_wait(ctx: &Ctx) -> Option<Duration> {
    let breaker = ctx.breaker.as_ref()?;
    let now = std::time::Instant::now();
    let admit = breaker.lock().unwrap_or_else(|p| p.into_inner()).admit(now);
    let labels = crate::metrics::SubLabel { subscription: ctx.sub.name.clone() };
    match admit {
        Admit::Go | Admit::Probe => {
            ctx.metrics.endpoint_disabled.get_or_create(&labels).set(0);
            None
        }
        Admit::WaitUntil(t) => Some(t.saturating_duration_since(now)),
        Admit::Disabled => {
            if ctx.metrics.endpoint_disabled.get_or_create(&labels).set(1) == 0 {
                tracing::error!(
                    subscription = %ctx.sub.name, target = %ctx.sub.config.target,
                    "endpoint disabled: it has failed without a success for longer than circuit_breaker.disable_after; \
                     events are held (not dropped) and retried every 5 minutes; restart the worker to re-enable it"
                );
            }
            Some(Duration::from_secs(300))
        }
    }
}

/// Feeds the breaker: 5xx, 429, timeouts and connection errors count against the target; other
/// 4xx are about the payload, not the endpoint's health.
fn record_health(ctx: &Ctx, failure: &Option<hookbus_core::retry::Failure>) {
    use hookbus_core::retry::Failure;
    let Some(breaker) = &ctx.breaker else { return };
    let unhealthy = match failure {
        None | Some(Failure::Refused) => false,
        Some(Failure::Status { status, .. }) => *status >= 500 || *status == 429 || *status == 408,
        Some(_) => true,
    };
    let (opened, open) = {
        let mut b = breaker.lock().unwrap_or_else(|p| p.into_inner());
        (b.record(!unhealthy, std::time::Instant::now()), b.is_open())
    };
    let labels = crate::metrics::SubLabel { subscription: ctx.sub.name.clone() };
    ctx.metrics.circuit_open.get_or_create(&labels).set(i64::from(open));
    if opened {
        tracing::warn!(subscription = %ctx.sub.name, target = %ctx.sub.config.target, "circuit opened: the target fails too often; holding deliveries for the cool-down");
    }
}
