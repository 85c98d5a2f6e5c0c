//! What the consume loop hands a delivery task, and what the task hands back.
use hookbus_broker::Received;
use hookbus_core::{CloudEvent, RetryEnvelope};
use time::OffsetDateTime;

use crate::{Subscription, WorkerError, codec};

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
