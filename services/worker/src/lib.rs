//! The subscriber worker: consume a topic in a consumer group, filter and map each event with jq,
//! deliver it over HTTP signed with Standard Webhooks, retry through durable retry tiers, and
//! dead-letter what cannot be delivered. Offsets are committed only past finished events.
//!
//! Imports run one way: `worker` (assembly, live set) -> `consume` (the loop) -> `process` (one
//! event) -> `decide` (pure), `deliver` (outbound HTTP, with `request` for headers and signing),
//! `endpoint` (breaker, limit) and `codec` (records); batch subscriptions hand their mapped outputs
//! from `process` to `batch`, which gathers them and sends one request per batch.
mod auth;
mod batch;
mod codec;
mod consume;
mod content;
mod contract;
mod decide;
mod deliver;
mod destination;
pub mod dlq;
mod endpoint;
mod error;
mod health;
mod ledger;
mod metrics;
mod ordering;
mod process;
pub mod quarantine;
mod request;
pub mod ssrf;
mod subscription;
mod superseded;
mod topic;
mod work;
mod worker;

pub use decide::EventOutcome;
pub use error::WorkerError;
pub use metrics::WorkerMetrics;
pub use subscription::Subscription;
pub use worker::Worker;
