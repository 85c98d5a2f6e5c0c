//! The broker boundary: small `Publisher` / `Consumer` traits and two backends behind them,
//! `kafka` (rdkafka, the scale-out engine) and `embedded` (a durable SQLite log for one machine).
//! rdkafka appears nowhere else in hookbus.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookbus_core::config::{BrokerBackend, BrokerConfig};

pub mod embedded;
mod error;
pub mod kafka;
mod record;
mod tracker;

pub use error::BrokerError;
pub use record::{Position, Received, Record};
pub use tracker::OffsetTracker;

/// Produces records durably.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Returns `(partition, offset)` only once the broker holds the record durably
    /// (Kafka: acks=all from an idempotent producer; embedded: the commit is fsynced).
    async fn publish(&self, topic: &str, record: Record) -> Result<(i32, i64), BrokerError>;
    /// Creates missing topics; existing ones are left alone.
    async fn ensure_topics(&self, topics: &[String]) -> Result<(), BrokerError>;
    /// Ok when the broker answers.
    async fn ready(&self) -> Result<(), BrokerError>;
}

/// Reads topics as a member of a consumer group; offsets are committed only when asked.
#[async_trait]
pub trait Consumer: Send {
    /// The next record, or `None` when nothing arrived within `timeout`.
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Received>, BrokerError>;
    /// Commits, per partition, the offset of the next record to read. With `wait`, returns once the
    /// commit is stored (use at shutdown); without, it may still be in flight when this returns, so
    /// the consume loop never stalls on the group coordinator (a later commit supersedes it).
    async fn commit(&mut self, positions: &[Position], wait: bool) -> Result<(), BrokerError>;
    /// Stops returning records of a partition (the position is kept) until `resume`.
    fn pause(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError>;
    fn resume(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError>;
    /// Where each partition of `topic` that this consumer reads ends: the offset the next record
    /// written will get. With the committed positions it gives the consumer lag.
    async fn ends(&mut self, topic: &str) -> Result<Vec<Position>, BrokerError>;
}

/// A connected backend: hands out the shared publisher and new group consumers.
pub trait Broker: Send + Sync {
    fn publisher(&self) -> Arc<dyn Publisher>;
    fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError>;
    /// Reads every partition of `topics` from the start without joining a consumer group (no
    /// rebalance wait), for tools that scan a topic; it never commits.
    fn reader(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError>;
    fn name(&self) -> &'static str;
    /// Adds the backend's own metrics to the process registry (the embedded log's retention).
    fn register_metrics(&self, _registry: &mut prometheus_client::registry::Registry) {}
}

/// Opens the backend the configuration selects.
pub fn connect(config: &BrokerConfig) -> Result<Arc<dyn Broker>, BrokerError> {
    Ok(match config.backend {
        BrokerBackend::Embedded => Arc::new(embedded::EmbeddedBroker::open_with(&config.embedded)?),
        BrokerBackend::Kafka => Arc::new(kafka::KafkaBroker::new(&config.kafka)?),
    })
}
