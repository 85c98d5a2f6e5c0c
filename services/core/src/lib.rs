//! hookbus core: the event envelope, configuration, retry policy, dead-letter records and signing
//! primitives. Pure: nothing here performs network or disk I/O except reading the config file.
pub mod batch;
pub mod config;
pub mod contract;
pub mod dead_letter;
pub mod envelope;
pub mod error;
pub mod live;
pub mod retry;
pub mod signing;
pub mod topics;
pub mod trace;

pub use batch::{Batch, BatchItem};
pub use dead_letter::{Attempt, AttemptOutcome, DeadLetter, Decision, GiveUpReason, MappedOutput, RetryEnvelope};
pub use envelope::{BinaryEvent, CloudEvent};
pub use error::CoreError;
