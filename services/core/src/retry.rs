//! The retry policy: a pure function from (attempts made, how the last one failed, rng) to a verdict.
use std::time::Duration;

use rand::Rng;

use crate::GiveUpReason;

/// Svix's schedule: immediate, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_SCHEDULE_SECS: [u64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// `schedule[i]` is the delay before attempt `i + 1`; its length is the maximum number of attempts.
    pub schedule: Vec<Duration>,
    /// Fraction of each delay added or removed at random (0.2 = ±20 %), so retries of a burst spread out.
    pub jitter: f64,
    /// Upper bound for a target's `Retry-After`, so a hostile or buggy header cannot park an event for days.
    pub max_retry_after: Duration,
    /// Multiplier for 429 and timeouts: the target is overloaded, so back off harder.
    pub overload_factor: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: DEFAULT_SCHEDULE_SECS.iter().map(|s| Duration::from_secs(*s)).collect(),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(3600),
            overload_factor: 2,
        }
    }
}

/// How an attempt failed, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Timeout,
    /// DNS, connect and TLS errors: the target may come back.
    Connect,
    /// The SSRF guard refused the target's address: a configuration matter, not retried.
    Refused,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    RetryIn(Duration),
    GiveUp(GiveUpReason),
}

/// 4xx that retrying cannot fix. 408 (timeout), 409 (conflict), 425 (too early) and 429 (too many
/// requests) are the exceptions: each says "try again later".
pub fn is_permanent(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 408 | 409 | 425 | 429)
}

impl RetryPolicy {
    pub fn max_attempts(&self) -> u32 {
        self.schedule.len().max(1) as u32
    }

    /// Verdict after `attempts_made` attempts (>= 1), the last of which failed with `failure`.
    pub fn next(&self, attempts_made: u32, failure: &Failure, rng: &mut impl Rng) -> Verdict {
        let permanent = match failure {
            Failure::Status { status, .. } => is_permanent(*status),
            Failure::Refused => true,
            _ => false,
        };
        if permanent {
            return Verdict::GiveUp(GiveUpReason::PermanentFailure);
        }
        let Some(base) = self.schedule.get(attempts_made as usize) else {
            return Verdict::GiveUp(GiveUpReason::RetriesExhausted);
        };
        let overloaded = matches!(failure, Failure::Timeout | Failure::Status { status: 429, .. });
        let base = if overloaded { base.saturating_mul(self.overload_factor) } else { *base };
        let delay = jittered(base, self.jitter, rng);
        let asked = match failure {
            Failure::Status { retry_after: Some(ra), .. } => (*ra).min(self.max_retry_after),
            _ => Duration::ZERO,
        };
        Verdict::RetryIn(delay.max(asked))
    }
}

fn jittered(base: Duration, jitter: f64, rng: &mut impl Rng) -> Duration {
    if base.is_zero() || jitter <= 0.0 {
        return base;
    }
    let factor = 1.0 + rng.random_range(-jitter..=jitter);
    base.mul_f64(factor.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn status(s: u16) -> Failure {
        Failure::Status { status: s, retry_after: None }
    }

    #[test]
    fn default_schedule_is_svix_like_within_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts(), 8);
        let mut r = rng();
        for (i, secs) in DEFAULT_SCHEDULE_SECS.iter().enumerate().skip(1) {
            let Verdict::RetryIn(d) = p.next(i as u32, &status(500), &mut r) else { panic!("attempt {i}") };
            let (lo, hi) = (*secs as f64 * 0.8, *secs as f64 * 1.2);
            assert!((lo..=hi).contains(&d.as_secs_f64()), "attempt {i}: {d:?} not in {lo}..{hi}");
        }
        assert_eq!(p.next(8, &status(500), &mut r), Verdict::GiveUp(GiveUpReason::RetriesExhausted));
    }

    #[test]
    fn permanent_4xx_gives_up_at_once_but_retryable_4xx_do_not() {
        let p = RetryPolicy::default();
        for s in [400, 401, 403, 404, 410, 422] {
            assert_eq!(p.next(1, &status(s), &mut rng()), Verdict::GiveUp(GiveUpReason::PermanentFailure), "{s}");
        }
        for s in [408, 409, 425, 429, 500, 502, 503, 301] {
            assert!(matches!(p.next(1, &status(s), &mut rng()), Verdict::RetryIn(_)), "{s}");
        }
        assert!(matches!(p.next(1, &Failure::Connect, &mut rng()), Verdict::RetryIn(_)));
        assert_eq!(p.next(1, &Failure::Refused, &mut rng()), Verdict::GiveUp(GiveUpReason::PermanentFailure));
    }

    #[test]
    fn overload_backs_off_harder_and_retry_after_is_honoured_but_clamped() {
        let p = RetryPolicy { jitter: 0.0, ..RetryPolicy::default() };
        assert_eq!(p.next(1, &status(500), &mut rng()), Verdict::RetryIn(Duration::from_secs(5)));
        assert_eq!(p.next(1, &status(429), &mut rng()), Verdict::RetryIn(Duration::from_secs(10)));
        assert_eq!(p.next(1, &Failure::Timeout, &mut rng()), Verdict::RetryIn(Duration::from_secs(10)));
        let ra = |s| Failure::Status { status: 503, retry_after: Some(Duration::from_secs(s)) };
        assert_eq!(p.next(1, &ra(60), &mut rng()), Verdict::RetryIn(Duration::from_secs(60)));
        assert_eq!(p.next(1, &ra(1), &mut rng()), Verdict::RetryIn(Duration::from_secs(5)));
        assert_eq!(p.next(1, &ra(999_999), &mut rng()), Verdict::RetryIn(Duration::from_secs(3600)));
    }

    #[test]
    fn single_attempt_schedule_never_retries() {
        let p = RetryPolicy { schedule: vec![Duration::ZERO], ..RetryPolicy::default() };
        assert_eq!(p.next(1, &status(500), &mut rng()), Verdict::GiveUp(GiveUpReason::RetriesExhausted));
    }
}
