//! The broker crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The broker cannot be reached or did not acknowledge in time; callers answer 503 and retry.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The embedded store failed (disk full, corrupt file, locked by an incompatible version).
    #[error("embedded log ({path}): {message}")]
    Storage { path: String, message: String },
    /// The embedded log's disk is full: nothing was stored. Transient: it recovers once space is freed.
    #[error("embedded log ({path}): disk full, nothing stored: {message}")]
    Full { path: String, message: String },
    /// Kafka reported a non-retriable error.
    #[error("kafka: {0}")]
    Kafka(String),
    /// A stored record could not be decoded.
    #[error("corrupt record in {topic} at offset {offset}: {message}")]
    Corrupt { topic: String, offset: i64, message: String },
    #[error("broker is shutting down")]
    Closed,
}

impl BrokerError {
    /// True when retrying later may succeed (ingress answers 503 + Retry-After).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Full { .. } | Self::Closed)
    }
}
