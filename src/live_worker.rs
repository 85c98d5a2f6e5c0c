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

/// Runs the worker on the live set until `shutdown`: whenever the set changes, the running worker
/// is stopped (in-flight deliveries drain within `grace`, positions are committed) and started again
/// on the new set, so API changes apply without restarting the process. Each restart re-joins the
/// consumer groups; the worker that reacts per subscription replaces this.
pub async fn supervise(
    mut live: Live,
    prefix: String,
    broker: Arc<dyn hookbus_broker::Broker>,
    metrics: hookbus_worker::WorkerMetrics,
    shutdown: tokio_util::sync::CancellationToken,
    grace: std::time::Duration,
    guard: Arc<hookbus_worker::ssrf::Guard>,
) -> Result<(), WorkerError> {
    loop {
        live.subscriptions.borrow_and_update();
        let subs = snapshot(&live, &prefix)?;
        let names: Vec<String> = subs.iter().map(|s| s.name.clone()).collect();
        tracing::info!(subscriptions = ?names, "worker running the live subscription set");
        let child = shutdown.child_token();
        let run = hookbus_worker::run(subs, broker.clone(), metrics.clone(), child.clone(), grace, guard.clone());
        tokio::pin!(run);
        let changed = tokio::select! {
            r = &mut run => {
                // Finished on its own: shutdown, an error, or nothing to run. Wait for a change then.
                if shutdown.is_cancelled() || r.is_err() {
                    return r;
                }
                tokio::select! {
                    c = live.subscriptions.changed() => c,
                    _ = shutdown.cancelled() => return Ok(()),
                }
            }
            c = live.subscriptions.changed() => {
                child.cancel();
                run.await?;
                c
            }
        };
        if changed.is_err() || shutdown.is_cancelled() {
            return Ok(());
        }
    }
}
