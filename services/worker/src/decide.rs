//! What to do with an event after one pass through the pipeline: a pure function of the retry
//! policy, what happened on the pass, and the ordering mode. No broker, no HTTP, no clock: the
//! caller turns the decision into records and metrics.
use std::time::Duration;

use hookbus_core::retry::{Failure, RetryPolicy, Verdict};
use hookbus_core::{Decision, GiveUpReason};
use rand::Rng;

/// How an event leaves a pass: the label of `hookbus_worker_events` and the word in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Delivered,
    Filtered,
    /// Not an event type the subscription takes.
    SkippedType,
    /// Accepted before the subscription's start.
    BeforeStart,
    /// A retry scheduled by an earlier subscription of the same name (deleted, then created again).
    Superseded,
    RetryScheduled,
    /// The target's circuit is open: the event waits without being charged an attempt.
    CircuitDeferred,
    DeadLettered,
}

impl EventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Filtered => "filtered",
            Self::SkippedType => "skipped_type",
            Self::BeforeStart => "before_start",
            Self::Superseded => "superseded",
            Self::RetryScheduled => "retry_scheduled",
            Self::CircuitDeferred => "circuit_deferred",
            Self::DeadLettered => "dead_lettered",
        }
    }
}

/// What happened to the event on this pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pass<'a> {
    /// Not an event type the subscription wants.
    UnwantedType,
    /// Accepted before the subscription's start position.
    BeforeStart,
    /// A retry of another generation of the subscription.
    Superseded,
    /// The filter dropped it.
    Filtered,
    /// The filter or transform failed on it.
    MappingFailed { error: &'a str },
    /// The output broke the subscription's output schema.
    OutputRefused { error: &'a str },
    /// The circuit is open: hold off for `wait`; `number` is the attempt that would have been made.
    Deferred { number: u32, wait: Duration },
    /// Attempt `number` (1 on the first try) was made; `failure` is None when it succeeded.
    Attempted { number: u32, failure: Option<&'a Failure>, status: Option<u16>, error: Option<&'a str> },
}

/// Where a retry waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Ordered mode: the record stays unfinished and its key waits behind it.
    InPlace,
    /// Unordered mode: a record in retry tier `n`, so the partition moves on.
    Tier(usize),
}

/// The next step for the event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Nothing more to do.
    Finish(EventOutcome),
    /// Try again once `after` has passed. `outcome` is RetryScheduled or CircuitDeferred.
    Retry { after: Duration, place: Place, outcome: EventOutcome },
    /// Give up: write a dead letter.
    DeadLetter { reason: GiveUpReason, message: String },
}

impl Next {
    pub fn outcome(&self) -> EventOutcome {
        match self {
            Next::Finish(o) | Next::Retry { outcome: o, .. } => *o,
            Next::DeadLetter { .. } => EventOutcome::DeadLettered,
        }
    }

    /// What goes on the attempt record of the pass that led here.
    pub fn decision(&self) -> Decision {
        match self {
            Next::Finish(_) => Decision::Delivered,
            Next::Retry { .. } => Decision::Retry,
            Next::DeadLetter { .. } => Decision::GiveUp,
        }
    }
}

/// The next step after `pass`, under `policy`, for an ordered or unordered subscription.
pub(crate) fn decide(policy: &RetryPolicy, pass: Pass<'_>, ordered: bool, rng: &mut impl Rng) -> Next {
    let place = |number: u32| if ordered { Place::InPlace } else { Place::Tier(number as usize) };
    match pass {
        Pass::UnwantedType => Next::Finish(EventOutcome::SkippedType),
        Pass::BeforeStart => Next::Finish(EventOutcome::BeforeStart),
        Pass::Superseded => Next::Finish(EventOutcome::Superseded),
        Pass::Filtered => Next::Finish(EventOutcome::Filtered),
        Pass::MappingFailed { error } => {
            Next::DeadLetter { reason: GiveUpReason::TransformError, message: error.to_owned() }
        }
        Pass::OutputRefused { error } => {
            Next::DeadLetter { reason: GiveUpReason::OutputSchema, message: error.to_owned() }
        }
        Pass::Deferred { number, wait } => {
            Next::Retry { after: wait, place: place(number), outcome: EventOutcome::CircuitDeferred }
        }
        Pass::Attempted { failure: None, .. } => Next::Finish(EventOutcome::Delivered),
        Pass::Attempted { number, failure: Some(failure), status, error } => match policy.next(number, failure, rng) {
            Verdict::RetryIn(after) => {
                Next::Retry { after, place: place(number), outcome: EventOutcome::RetryScheduled }
            }
            Verdict::GiveUp(reason) => {
                Next::DeadLetter { reason, message: give_up_message(reason, number, status, error) }
            }
        },
    }
}

fn give_up_message(reason: GiveUpReason, number: u32, status: Option<u16>, error: Option<&str>) -> String {
    match reason {
        GiveUpReason::PermanentFailure => match (status, error) {
            (Some(s), _) => format!("target answered {s}, which retrying cannot fix"),
            (None, Some(e)) => e.to_owned(),
            (None, None) => "permanent failure".into(),
        },
        _ => format!("gave up after {number} attempts"),
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
