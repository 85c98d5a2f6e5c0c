//! Every branch of `decide`: the retry policy's verdicts in both ordering modes, the circuit,
//! mapping outcomes, and the records and metric labels each decision leads to.
use std::time::Duration;

use hookbus_core::retry::{Failure, RetryPolicy};
use hookbus_core::{Decision, GiveUpReason};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

fn rng() -> StdRng {
    StdRng::seed_from_u64(11)
}

/// No jitter, so delays are exact.
fn policy() -> RetryPolicy {
    RetryPolicy { jitter: 0.0, ..RetryPolicy::default() }
}

fn status(s: u16) -> Failure {
    Failure::Status { status: s, retry_after: None }
}

fn attempted<'a>(number: u32, failure: &'a Failure, status: Option<u16>, error: Option<&'a str>) -> Pass<'a> {
    Pass::Attempted { number, failure: Some(failure), status, error }
}

#[test]
fn success_finishes_as_delivered() {
    for ordered in [false, true] {
        let pass = Pass::Attempted { number: 3, failure: None, status: Some(200), error: None };
        let next = decide(&policy(), pass, ordered, &mut rng());
        assert_eq!(next, Next::Finish(EventOutcome::Delivered));
        assert_eq!(next.decision(), Decision::Delivered);
    }
}

#[test]
fn unwanted_types_and_filtered_events_finish_without_an_attempt() {
    for ordered in [false, true] {
        assert_eq!(decide(&policy(), Pass::UnwantedType, ordered, &mut rng()), Next::Finish(EventOutcome::SkippedType));
        assert_eq!(decide(&policy(), Pass::Filtered, ordered, &mut rng()), Next::Finish(EventOutcome::Filtered));
        assert_eq!(decide(&policy(), Pass::BeforeStart, ordered, &mut rng()), Next::Finish(EventOutcome::BeforeStart));
        assert_eq!(decide(&policy(), Pass::Superseded, ordered, &mut rng()), Next::Finish(EventOutcome::Superseded));
    }
}

#[test]
fn mapping_errors_dead_letter_with_the_error() {
    let next = decide(&policy(), Pass::MappingFailed { error: "jq: cannot index number" }, false, &mut rng());
    assert_eq!(
        next,
        Next::DeadLetter { reason: GiveUpReason::TransformError, message: "jq: cannot index number".into() }
    );
    assert_eq!(next.outcome(), EventOutcome::DeadLettered);
    assert_eq!(next.decision(), Decision::GiveUp);
}

#[test]
fn an_output_breaking_its_schema_is_dead_lettered_at_once_even_in_ordered_mode() {
    for ordered in [false, true] {
        let next = decide(&policy(), Pass::OutputRefused { error: "output breaks s.json: /a: x" }, ordered, &mut rng());
        assert_eq!(
            next,
            Next::DeadLetter { reason: GiveUpReason::OutputSchema, message: "output breaks s.json: /a: x".into() }
        );
    }
}

#[test]
fn retryable_failure_goes_to_the_tier_of_its_attempt_number_unordered() {
    let f = status(503);
    let next = decide(&policy(), attempted(1, &f, Some(503), None), false, &mut rng());
    assert_eq!(
        next,
        Next::Retry { after: Duration::from_secs(5), place: Place::Tier(1), outcome: EventOutcome::RetryScheduled }
    );
    assert_eq!(next.decision(), Decision::Retry);
    let next = decide(&policy(), attempted(3, &f, Some(503), None), false, &mut rng());
    assert_eq!(
        next,
        Next::Retry { after: Duration::from_secs(1800), place: Place::Tier(3), outcome: EventOutcome::RetryScheduled }
    );
}

#[test]
fn retryable_failure_waits_in_place_when_ordered() {
    let f = Failure::Connect;
    let next = decide(&policy(), attempted(2, &f, None, Some("connection refused")), true, &mut rng());
    assert_eq!(
        next,
        Next::Retry { after: Duration::from_secs(300), place: Place::InPlace, outcome: EventOutcome::RetryScheduled }
    );
}

#[test]
fn overload_and_retry_after_shape_the_delay() {
    let p = policy();
    let timeout = decide(&p, attempted(1, &Failure::Timeout, None, Some("timed out")), false, &mut rng());
    assert!(matches!(timeout, Next::Retry { after, .. } if after == Duration::from_secs(10)), "{timeout:?}");
    let ra = Failure::Status { status: 429, retry_after: Some(Duration::from_secs(120)) };
    let asked = decide(&p, attempted(1, &ra, Some(429), None), true, &mut rng());
    assert!(matches!(asked, Next::Retry { after, place: Place::InPlace, .. } if after == Duration::from_secs(120)));
}

#[test]
fn jitter_stays_within_its_band() {
    let p = RetryPolicy::default();
    for seed in 0..50 {
        let next = decide(&p, attempted(1, &status(500), Some(500), None), false, &mut StdRng::seed_from_u64(seed));
        let Next::Retry { after, .. } = next else { panic!("{next:?}") };
        assert!((4.0..=6.0).contains(&after.as_secs_f64()), "{after:?}");
    }
}

#[test]
fn permanent_status_dead_letters_at_once_in_both_modes() {
    for ordered in [false, true] {
        let f = status(404);
        let next = decide(&policy(), attempted(1, &f, Some(404), None), ordered, &mut rng());
        assert_eq!(
            next,
            Next::DeadLetter {
                reason: GiveUpReason::PermanentFailure,
                message: "target answered 404, which retrying cannot fix".into()
            }
        );
    }
}

#[test]
fn refused_target_dead_letters_with_the_guards_reason() {
    let next = decide(&policy(), attempted(1, &Failure::Refused, None, Some("10.0.0.1 is private")), false, &mut rng());
    assert_eq!(
        next,
        Next::DeadLetter { reason: GiveUpReason::PermanentFailure, message: "10.0.0.1 is private".into() }
    );
    let bare = decide(&policy(), attempted(1, &Failure::Refused, None, None), false, &mut rng());
    assert_eq!(bare, Next::DeadLetter { reason: GiveUpReason::PermanentFailure, message: "permanent failure".into() });
}

#[test]
fn exhausted_schedule_dead_letters_in_both_modes() {
    let p = policy();
    let last = p.max_attempts();
    for ordered in [false, true] {
        let next = decide(&p, attempted(last, &status(500), Some(500), None), ordered, &mut rng());
        assert_eq!(
            next,
            Next::DeadLetter {
                reason: GiveUpReason::RetriesExhausted,
                message: format!("gave up after {last} attempts")
            }
        );
    }
    let single = RetryPolicy { schedule: vec![Duration::ZERO], ..policy() };
    let next = decide(&single, attempted(1, &Failure::Other, None, Some("reset")), false, &mut rng());
    assert!(matches!(next, Next::DeadLetter { reason: GiveUpReason::RetriesExhausted, .. }), "{next:?}");
}

#[test]
fn open_circuit_defers_without_charging_an_attempt() {
    let wait = Duration::from_secs(30);
    let unordered = decide(&policy(), Pass::Deferred { number: 2, wait }, false, &mut rng());
    assert_eq!(unordered, Next::Retry { after: wait, place: Place::Tier(2), outcome: EventOutcome::CircuitDeferred });
    let ordered = decide(&policy(), Pass::Deferred { number: 1, wait }, true, &mut rng());
    assert_eq!(ordered, Next::Retry { after: wait, place: Place::InPlace, outcome: EventOutcome::CircuitDeferred });
    assert_eq!(ordered.outcome().as_str(), "circuit_deferred");
}

#[test]
fn outcome_labels_are_stable() {
    use EventOutcome::*;
    let labels: Vec<_> =
        [Delivered, Filtered, SkippedType, BeforeStart, Superseded, RetryScheduled, CircuitDeferred, DeadLettered]
            .map(|o| o.as_str())
            .into();
    assert_eq!(
        labels,
        [
            "delivered",
            "filtered",
            "skipped_type",
            "before_start",
            "superseded",
            "retry_scheduled",
            "circuit_deferred",
            "dead_lettered"
        ]
    );
}
