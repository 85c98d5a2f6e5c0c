//! Delivery history records: the retry envelope that travels through retry tiers and the
//! dead-letter record (schemas/dead-letter.json) written when a delivery gives up.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::CloudEvent;
use crate::batch::Batch;
use crate::contract::Violation;

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Delivered,
    HttpError,
    Timeout,
    ConnectError,
    OtherError,
}

/// What the worker decided after the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Delivered,
    Retry,
    GiveUp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub latency_ms: u64,
    pub outcome: AttemptOutcome,
    pub decision: Decision,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub response_snippet: Option<String>,
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

/// Why a delivery was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// The target answered a status that retrying cannot fix (4xx other than 408/409/425/429).
    PermanentFailure,
    /// Every attempt of the schedule failed.
    RetriesExhausted,
    /// The jq filter or transform failed on this event.
    TransformError,
    /// The event is older than the subscription's max age.
    MaxAgeExceeded,
    /// The transform's output broke the subscription's output schema; it was never sent.
    OutputSchema,
}

impl AttemptOutcome {
    /// The snake_case name used in records and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::HttpError => "http_error",
            Self::Timeout => "timeout",
            Self::ConnectError => "connect_error",
            Self::OtherError => "other_error",
        }
    }
}

impl Decision {
    /// The snake_case name used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::GiveUp => "give_up",
        }
    }
}

impl GiveUpReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PermanentFailure => "permanent_failure",
            Self::RetriesExhausted => "retries_exhausted",
            Self::TransformError => "transform_error",
            Self::MaxAgeExceeded => "max_age_exceeded",
            Self::OutputSchema => "output_schema",
        }
    }
}

/// One output of a subscription's transform, kept as it was first computed: a retry or a redrive
/// resends exactly this body instead of mapping the event again (the subscription may have changed,
/// or the transform may not be deterministic, e.g. it reads `now`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappedOutput {
    /// Position among the transform's outputs for the event, from 0.
    pub index: u32,
    /// How many outputs the transform produced for the event.
    pub count: u32,
    /// The output itself.
    pub body: Value,
}

impl MappedOutput {
    /// The idempotency key of this output's delivery: the event id when the transform produced one
    /// output (as without fan-out), else `<event id>:<index>`, so a target can dedupe each output.
    pub fn delivery_id(&self, event_id: &str) -> String {
        if self.count > 1 { format!("{event_id}:{}", self.index) } else { event_id.to_owned() }
    }
}

/// A pending retry: the event, its history and when it may be attempted again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryEnvelope {
    pub subscription: String,
    /// The subscription generation that scheduled it; a subscription created again under the same
    /// name skips its predecessor's retries. Empty (redrives, replays, config-file subscriptions):
    /// for whichever generation runs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generation: String,
    /// When the worker scheduled this retry (absent on redrives and replays).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub scheduled_at: Option<OffsetDateTime>,
    /// Set when an operator asked for this event to be retried now: a retry the worker scheduled
    /// for it before this moment is then dropped instead of being sent as well.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub requested_at: Option<OffsetDateTime>,
    pub event: CloudEvent,
    /// The transform outputs still to deliver, as first computed; `attempts` are those of the
    /// first. Empty: the event is mapped when the retry runs (redrives and replays of whole events,
    /// subscriptions without a transform). Unordered subscriptions retry each output on its own
    /// (one here); ordered ones keep the failed output and every one after it, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<MappedOutput>,
    pub attempts: Vec<Attempt>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// A batch subscription's request, retried as a whole: these items are resent as they are
    /// (`event` is then the first item's event, `outputs` empty). Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
}

impl RetryEnvelope {
    /// `event` due at once with a fresh attempt count (redrive, replay), for whichever generation
    /// of `subscription` runs.
    pub fn due_now(subscription: &str, event: CloudEvent) -> Self {
        Self {
            subscription: subscription.to_owned(),
            generation: String::new(),
            scheduled_at: None,
            requested_at: None,
            event,
            outputs: Vec::new(),
            attempts: Vec::new(),
            not_before: OffsetDateTime::now_utc(),
            batch: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub version: u32,
    pub subscription: String,
    pub event: CloudEvent,
    /// The transform output that was given up on, when the event was mapped: a redrive resends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<MappedOutput>,
    pub attempts: Vec<Attempt>,
    pub reason: GiveUpReason,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_lettered_at: OffsetDateTime,
    /// `output_schema`: where the output broke the schema, each with its JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// A batch subscription's request, dead-lettered as a whole (`event` is the first item's event):
    /// a redrive resends these items as one request. Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
}

impl DeadLetter {
    pub const VERSION: u32 = 1;

    pub fn new(
        subscription: &str,
        event: CloudEvent,
        attempts: Vec<Attempt>,
        reason: GiveUpReason,
        message: String,
    ) -> Self {
        Self {
            version: Self::VERSION,
            subscription: subscription.to_owned(),
            event,
            output: None,
            attempts,
            reason,
            message,
            dead_lettered_at: OffsetDateTime::now_utc(),
            violations: Vec::new(),
            batch: None,
        }
    }

    /// How many deliveries the record stands for: the items of a batch, else one.
    pub fn items(&self) -> usize {
        self.batch.as_ref().map_or(1, Batch::len)
    }

    /// The same record for one output of the event's transform.
    pub fn with_output(mut self, output: Option<MappedOutput>) -> Self {
        self.output = output;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` names what the records hold, so metric labels and stored records agree.
    #[test]
    fn names_are_the_serialized_forms() {
        let json = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        use AttemptOutcome::*;
        for o in [Delivered, HttpError, Timeout, ConnectError, OtherError] {
            assert_eq!(json(serde_json::to_value(o).unwrap()), o.as_str());
        }
        for d in [Decision::Delivered, Decision::Retry, Decision::GiveUp] {
            assert_eq!(json(serde_json::to_value(d).unwrap()), d.as_str());
        }
        use GiveUpReason::*;
        for r in [PermanentFailure, RetriesExhausted, TransformError, MaxAgeExceeded, OutputSchema] {
            assert_eq!(json(serde_json::to_value(r).unwrap()), r.as_str());
        }
    }
}
