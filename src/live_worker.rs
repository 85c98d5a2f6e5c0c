//! What the control plane hands the worker, and the adapter for a worker that takes a fixed list
//! of subscriptions: it builds them from the live set as it is at start-up.
use std::sync::Arc;

use hookbus_core::config::SecretRef;
use hookbus_core::live::{ObservationSink, SubscriptionSet};
use hookbus_worker::{Subscription, WorkerError};
use tokio::sync::watch;

/// The worker's side of the control plane.
pub struct Live {
    /// The live set; `changed()` fires within a second of any change on any node.
    pub subscriptions: watch::Receiver<Arc<SubscriptionSet>>,
    /// Where each delivery's attempts and verdict are reported; never blocks.
    pub observer: Arc<dyn ObservationSink>,
}

/// The unpaused subscriptions of the current set, built the way config-file ones are: an API
/// subscription's resolved signing secret becomes a literal reference and its secret headers join
/// the plain ones. Changes after start-up apply on restart with this adapter.
pub fn snapshot(live: &Live, prefix: &str) -> Result<Vec<Arc<Subscription>>, WorkerError> {
    let set = live.subscriptions.borrow().clone();
    set.specs
        .iter()
        .filter(|s| !s.paused)
        .map(|spec| {
            let mut config = spec.config.clone();
            if let Some(secret) = &spec.signing_secret {
                config.signing_secret = Some(SecretRef::literal(secret.clone()));
            }
            config.headers.extend(spec.secret_headers.clone());
            Subscription::build(&spec.name, &config, prefix).map(Arc::new)
        })
        .collect()
}
