//! One subscription's view of its target's health: the circuit breaker (a pure state machine in
//! `health`) behind a lock, the rate limit, and the gauges and logs that report them.
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::DefaultDirectRateLimiter;
use hookbus_core::live::CircuitState;
use hookbus_core::retry::Failure;

use crate::health::{Admit, Breaker};
use crate::metrics::SubLabel;
use crate::{Subscription, WorkerMetrics};

/// A disabled endpoint's events are held and looked at again this often.
const DISABLED_RECHECK: Duration = Duration::from_secs(300);

pub(crate) struct Endpoint {
    breaker: Option<Mutex<Breaker>>,
    limiter: Option<DefaultDirectRateLimiter>,
    metrics: WorkerMetrics,
    label: SubLabel,
    target: String,
}

impl Endpoint {
    pub fn new(sub: &Subscription, metrics: WorkerMetrics) -> Self {
        Self {
            breaker: sub.breaker.map(|c| Mutex::new(Breaker::new(c))),
            limiter: sub
                .config
                .rate_limit_per_sec
                .and_then(std::num::NonZeroU32::new)
                .map(|n| governor::RateLimiter::direct(governor::Quota::per_second(n))),
            metrics,
            label: SubLabel { subscription: sub.name.clone() },
            target: sub.config.target.clone(),
        }
    }

    fn breaker(&self) -> Option<std::sync::MutexGuard<'_, Breaker>> {
        // A panic while holding the lock leaves a consistent breaker: its state is plain data.
        self.breaker.as_ref().map(|b| b.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How long to hold off because the circuit is open (or the endpoint disabled); None to go ahead.
    pub fn hold_off(&self) -> Option<Duration> {
        let now = Instant::now();
        let admit = self.breaker()?.admit(now);
        let disabled = self.metrics.endpoint_disabled.get_or_create(&self.label);
        match admit {
            Admit::Go | Admit::Probe => {
                disabled.set(0);
                None
            }
            Admit::WaitUntil(t) => Some(t.saturating_duration_since(now)),
            Admit::Disabled => {
                if disabled.set(1) == 0 {
                    tracing::error!(
                        subscription = %self.label.subscription, target = %self.target,
                        "endpoint disabled: it has failed without a success for longer than circuit_breaker.disable_after; \
                         events are held (not dropped) and retried every 5 minutes; restart the worker to re-enable it"
                    );
                }
                Some(DISABLED_RECHECK)
            }
        }
    }

    /// The circuit as the admin API reports it.
    pub fn circuit(&self) -> CircuitState {
        let Some(breaker) = self.breaker() else { return CircuitState::Closed };
        let open = breaker.is_open();
        drop(breaker);
        if self.metrics.endpoint_disabled.get_or_create(&self.label).get() == 1 {
            CircuitState::Disabled
        } else if open {
            CircuitState::Open
        } else {
            CircuitState::Closed
        }
    }

    /// Waits for the subscription's rate limit, if it has one.
    pub async fn throttle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
    }

    /// Feeds the breaker: 5xx, 429, 408, timeouts and connection errors count against the target;
    /// other 4xx are about the payload, not the endpoint's health.
    pub fn record(&self, failure: Option<&Failure>) {
        let Some(mut breaker) = self.breaker() else { return };
        let unhealthy = match failure {
            None | Some(Failure::Refused) => false,
            Some(Failure::Status { status, .. }) => *status >= 500 || *status == 429 || *status == 408,
            Some(_) => true,
        };
        let opened = breaker.record(!unhealthy, Instant::now());
        let open = breaker.is_open();
        drop(breaker);
        self.metrics.circuit_open.get_or_create(&self.label).set(i64::from(open));
        if opened {
            tracing::warn!(subscription = %self.label.subscription, target = %self.target, "circuit opened: the target fails too often; holding deliveries for the cool-down");
        }
    }
}
