//! The subscriber worker: consume a topic in a consumer group, filter and map each event with jq,
//! deliver it over HTTP signed with Standard Webhooks, retry through durable retry tiers, and
//! dead-letter what cannot be delivered. Offsets are committed only past finished events.
mod consume;
mod deliver;
pub mod dlq;
mod error;
mod health;
mod metrics;
mod ordering;
mod process;
pub mod ssrf;
mod subscription;

pub use consume::run;
pub use error::WorkerError;
pub use metrics::WorkerMetrics;
pub use subscription::Subscription;
