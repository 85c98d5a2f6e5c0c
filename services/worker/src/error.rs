//! The worker crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Broker(#[from] hookbus_broker::BrokerError),
    #[error(transparent)]
    Core(#[from] hookbus_core::CoreError),
    #[error("subscription `{subscription}`: {message}")]
    Subscription { subscription: String, message: String },
    #[error("record at {topic}/{partition}@{offset} is not a hookbus record: {message}")]
    BadRecord { topic: String, partition: i32, offset: i64, message: String },
    #[error("http client: {0}")]
    Http(String),
    #[error("a subscription's task failed: {0}")]
    Task(String),
}
