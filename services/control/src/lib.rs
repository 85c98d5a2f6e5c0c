//! hookbus control plane: the admin API (`/api/v1`, OpenAPI 3.1), live subscriptions for the
//! worker, the event index (derived from the broker), the attempt log (from the worker's
//! observations), jobs, and ingress rejections, on a SQLite or PostgreSQL store.
//!
//! The worker and ingress only see hookbus-core's `live` types: a watch of
//! [`SubscriptionSet`](hookbus_core::live::SubscriptionSet) and the non-blocking sinks.
mod api;
mod console;
pub mod crypto;
mod error;
pub mod indexer;
mod jobs;
mod live;
mod observe;
mod plane;
mod rotate;
pub mod store;
mod validate;

use std::sync::Arc;

use hookbus_broker::Broker;
use hookbus_core::config::Config;
use hookbus_core::live::{ObservationSink, RejectionSink, SubscriptionSet};
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use error::{ControlError, Problem};
pub use jobs::{Job, JobState};
pub use live::{POLL, config_specs};
pub use plane::sqlite_path;

/// Cheap to clone; every clone is the same control plane.
#[derive(Clone)]
pub struct ControlPlane {
    inner: Arc<plane::Inner>,
}

impl ControlPlane {
    /// Opens the store `[admin]` names (SQLite beside the embedded log, or PostgreSQL), migrates
    /// it, re-encrypts secrets sealed with an older key, and reads the subscriptions.
    pub async fn open(config: &Config, broker: Arc<dyn Broker>, registry: &mut Registry) -> Result<Self, ControlError> {
        Ok(Self { inner: plane::open(config, broker, None, registry).await? })
    }

    /// As [`open`](Self::open), on a given store (tests).
    pub async fn with_store(
        config: &Config,
        broker: Arc<dyn Broker>,
        store: store::Store,
        registry: &mut Registry,
    ) -> Result<Self, ControlError> {
        Ok(Self { inner: plane::open(config, broker, Some(store), registry).await? })
    }

    /// The live subscriptions: config-file ones (`managed: config`) and the API's, updated within
    /// a second of any change, including changes made through another node on a shared store.
    pub fn subscriptions(&self) -> watch::Receiver<Arc<SubscriptionSet>> {
        self.inner.set.subscribe()
    }

    /// Where the worker reports what it did; never blocks.
    pub fn observer(&self) -> Arc<dyn ObservationSink> {
        plane::observer(&self.inner)
    }

    /// Where ingress reports the webhooks it refused; never blocks.
    pub fn rejections(&self) -> Arc<dyn RejectionSink> {
        plane::rejection_sink(&self.inner)
    }

    /// The admin API (`/api/v1/...` and `/api/v1/openapi.json`); merge the ops routes beside it.
    pub fn router(&self) -> axum::Router {
        api::router(self.inner.clone())
    }

    /// Runs the background tasks (revision poll, observation and rejection writers, event indexer,
    /// retention) until `shutdown`; returns after queued observations are written.
    pub async fn run(&self, shutdown: CancellationToken) {
        plane::run(self.inner.clone(), shutdown).await
    }

    pub fn store(&self) -> &store::Store {
        &self.inner.store
    }
}

/// The OpenAPI document exactly as committed in schemas/openapi.json.
pub fn openapi_json() -> String {
    api::document()
}
