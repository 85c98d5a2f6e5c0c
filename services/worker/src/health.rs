//! Endpoint health: a circuit breaker per subscription target, as a pure state machine over an
//! injected clock. Closed: every attempt goes. When the failure ratio over the recent window crosses
//! the threshold it opens: attempts wait (events are rescheduled, not charged an attempt) until the
//! cool-down ends; then one probe goes (half-open). The probe's success closes it, failure reopens it.
//! A target that has not succeeded for `disable_after` is reported disabled.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Outcomes considered.
    pub window: Duration,
    /// Fewest outcomes in the window before the ratio counts (a single failure opens nothing).
    pub min_requests: usize,
    /// Failure fraction that opens the circuit.
    pub failure_ratio: f64,
    pub cool_down: Duration,
    /// Failing without a single success for this long disables the endpoint.
    pub disable_after: Option<Duration>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            min_requests: 20,
            failure_ratio: 0.5,
            cool_down: Duration::from_secs(30),
            disable_after: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// Half-open: this attempt is the probe.
    Probe,
    /// Open: try again at this instant.
    WaitUntil(Instant),
    /// Failing for longer than `disable_after`.
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: State,
    outcomes: VecDeque<(Instant, bool)>,
    /// Failures among `outcomes`, kept as they enter and leave: counting them on every attempt
    /// cost time in proportion to the window's traffic (2.9 % of a busy worker's samples).
    failures: usize,
    /// Since when the target has failed without a success in between.
    failing_since: Option<Instant>,
}

impl Breaker {
    pub fn new(cfg: BreakerConfig) -> Self {
        Self { cfg, state: State::Closed, outcomes: VecDeque::new(), failures: 0, failing_since: None }
    }

    pub fn admit(&mut self, now: Instant) -> Admit {
        if let (Some(since), Some(limit)) = (self.failing_since, self.cfg.disable_after)
            && now.duration_since(since) >= limit
        {
            return Admit::Disabled;
        }
        match self.state {
            State::Closed => Admit::Go,
            State::Open { until } if now < until => Admit::WaitUntil(until),
            State::Open { .. } | State::HalfOpen { probing: false } => {
                self.state = State::HalfOpen { probing: true };
                Admit::Probe
            }
            // One probe at a time; the others wait a moment for its verdict.
            State::HalfOpen { probing: true } => Admit::WaitUntil(now + Duration::from_secs(1)),
        }
    }

    /// Records an attempt's outcome; returns true when this outcome opened the circuit.
    pub fn record(&mut self, success: bool, now: Instant) -> bool {
        if success {
            self.failing_since = None;
        } else {
            self.failing_since.get_or_insert(now);
        }
        self.outcomes.push_back((now, success));
        self.failures += usize::from(!success);
        while self.outcomes.front().is_some_and(|(t, _)| now.duration_since(*t) > self.cfg.window) {
            if let Some((_, ok)) = self.outcomes.pop_front() {
                self.failures -= usize::from(!ok);
            }
        }
        match self.state {
            State::HalfOpen { .. } if success => {
                self.state = State::Closed;
                self.outcomes.clear();
                self.failures = 0;
                false
            }
            State::HalfOpen { .. } => self.open(now),
            State::Closed if self.tripped() => self.open(now),
            _ => false,
        }
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }

    fn tripped(&self) -> bool {
        let n = self.outcomes.len();
        n >= self.cfg.min_requests && self.failures as f64 / n as f64 >= self.cfg.failure_ratio
    }

    fn open(&mut self, now: Instant) -> bool {
        self.state = State::Open { until: now + self.cfg.cool_down };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            window: Duration::from_secs(10),
            min_requests: 4,
            failure_ratio: 0.5,
            cool_down: Duration::from_secs(5),
            disable_after: Some(Duration::from_secs(60)),
        }
    }

    #[test]
    fn opens_on_failure_ratio_then_probes_and_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(cfg());
        assert!(!b.record(false, t0));
        assert!(!b.record(true, t0));
        assert!(!b.record(false, t0), "3 outcomes are below min_requests");
        assert!(b.record(false, t0), "3 of 4 failed: opens");
        assert_eq!(b.admit(t0 + Duration::from_secs(1)), Admit::WaitUntil(t0 + Duration::from_secs(5)));
        assert_eq!(b.admit(t0 + Duration::from_secs(5)), Admit::Probe);
        assert!(matches!(b.admit(t0 + Duration::from_secs(5)), Admit::WaitUntil(_)), "one probe at a time");
        assert!(!b.record(true, t0 + Duration::from_secs(6)));
        assert_eq!(b.admit(t0 + Duration::from_secs(6)), Admit::Go);
        assert!(!b.is_open());
    }

    #[test]
    fn failed_probe_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(cfg());
        for _ in 0..4 {
            b.record(false, t0);
        }
        assert_eq!(b.admit(t0 + Duration::from_secs(5)), Admit::Probe);
        assert!(b.record(false, t0 + Duration::from_secs(5)));
        assert_eq!(b.admit(t0 + Duration::from_secs(6)), Admit::WaitUntil(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn old_outcomes_leave_the_window() {
        let t0 = Instant::now();
        let mut b = Breaker::new(cfg());
        for _ in 0..3 {
            b.record(false, t0);
        }
        assert!(!b.record(true, t0 + Duration::from_secs(20)), "the old failures expired");
        assert!(!b.record(false, t0 + Duration::from_secs(20)));
    }

    #[test]
    fn failing_without_success_for_too_long_disables() {
        let t0 = Instant::now();
        let mut b = Breaker::new(cfg());
        b.record(false, t0);
        assert_eq!(b.admit(t0 + Duration::from_secs(59)), Admit::Go);
        assert_eq!(b.admit(t0 + Duration::from_secs(60)), Admit::Disabled);
        b.record(true, t0 + Duration::from_secs(61));
        assert_eq!(b.admit(t0 + Duration::from_secs(61)), Admit::Go, "a success re-enables");
    }
}
