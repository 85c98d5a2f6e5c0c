//! The worker assembled (config -> build -> run) and kept in step with the live subscription set.
//! `Worker::build` makes what every subscription shares (the HTTP client); `run` starts one consume
//! loop per subscription and, whenever the set changes, stops and restarts the loops whose version
//! changed, stops deleted and paused ones, and starts new ones. A restarted loop resumes from its
//! consumer group's committed position, so a change loses no place and skips no event.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::Broker;
use hookbus_core::live::{ObservationSink, SubscriptionSet, SubscriptionSpec};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::consume::Pipeline;
use crate::deliver::WebhookClient;
use crate::endpoint::Endpoint;
use crate::process::Ctx;
use crate::ssrf::Guard;
use crate::{Subscription, WorkerError, WorkerMetrics};

/// What every subscription of one process shares.
pub struct Worker {
    broker: Arc<dyn Broker>,
    metrics: WorkerMetrics,
    http: WebhookClient,
    observer: Arc<dyn ObservationSink>,
    prefix: String,
}

/// A running consume loop and what it was built from.
struct Running {
    version: u64,
    generation: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Worker {
    pub fn build(
        broker: Arc<dyn Broker>,
        metrics: WorkerMetrics,
        guard: Arc<Guard>,
        observer: Arc<dyn ObservationSink>,
        prefix: &str,
    ) -> Result<Self, WorkerError> {
        Ok(Self { broker, metrics, http: WebhookClient::new(guard)?, observer, prefix: prefix.to_owned() })
    }

    /// Builds the subscriptions of `set` as it is now, so a bad one fails before anything runs.
    pub fn check(&self, set: &SubscriptionSet) -> Result<(), WorkerError> {
        set.specs.iter().try_for_each(|spec| Subscription::from_spec(spec, &self.prefix).map(drop))
    }

    /// Runs the subscriptions of `set`, following its changes, until `shutdown`; then every loop
    /// lets its in-flight deliveries finish within `grace`, commits what finished, and returns.
    /// A loop that fails (its broker gone for good) ends the run with its error.
    pub async fn run(
        self,
        mut set: watch::Receiver<Arc<SubscriptionSet>>,
        shutdown: CancellationToken,
        grace: Duration,
    ) -> Result<(), WorkerError> {
        let (failed_tx, mut failed_rx) = mpsc::unbounded_channel::<WorkerError>();
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut following = true;
        let result = loop {
            if following {
                let current = set.borrow_and_update().clone();
                self.apply(&current, &mut running, &shutdown, &failed_tx, grace).await;
            }
            tokio::select! {
                changed = set.changed(), if following => following = changed.is_ok(),
                failed = failed_rx.recv() => if let Some(e) = failed { break Err(e) },
                _ = shutdown.cancelled() => break Ok(()),
            }
        };
        // Every loop drains at once: shutdown takes one grace period, not one per subscription.
        for r in running.values() {
            r.stop.cancel();
        }
        for (_, r) in running.drain() {
            let _ = r.task.await;
        }
        result
    }

    async fn apply(
        &self,
        set: &SubscriptionSet,
        running: &mut HashMap<String, Running>,
        shutdown: &CancellationToken,
        failed: &mpsc::UnboundedSender<WorkerError>,
        grace: Duration,
    ) {
        let wanted: HashMap<&str, &SubscriptionSpec> =
            set.specs.iter().filter(|s| !s.paused).map(|s| (s.name.as_str(), s)).collect();
        // Stop what is gone, paused or changed; each stop waits for the loop's final commit so
        // its successor starts from there.
        let stale: Vec<String> = running
            .iter()
            .filter(|(name, r)| {
                wanted.get(name.as_str()).is_none_or(|s| s.version != r.version || s.generation != r.generation)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(r) = running.remove(&name) {
                tracing::info!(subscription = %name, version = r.version, "stopping subscription for a change");
                r.stop.cancel();
                let _ = r.task.await;
            }
        }
        for (name, spec) in wanted {
            if running.contains_key(name) {
                continue;
            }
            match self.start(spec, shutdown, failed.clone(), grace).await {
                Ok(r) => {
                    running.insert(name.to_owned(), r);
                }
                // The API validates before it stores, so this is a secret that cannot be read or a
                // broker that refuses topics; the next change of the set tries again.
                Err(e) => tracing::error!(subscription = %name, error = %e, "cannot start subscription"),
            }
        }
    }

    async fn start(
        &self,
        spec: &SubscriptionSpec,
        shutdown: &CancellationToken,
        failed: mpsc::UnboundedSender<WorkerError>,
        grace: Duration,
    ) -> Result<Running, WorkerError> {
        let sub = Arc::new(Subscription::from_spec(spec, &self.prefix)?);
        let publisher = self.broker.publisher();
        publisher.ensure_topics(&sub.owned_topics()).await?;
        let consumer = self.broker.consumer(&sub.group(), &sub.consumed_topics())?;
        let stop = shutdown.child_token();
        let (batch, gathered) = match sub.config.batch {
            Some(_) => {
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let ctx = Ctx {
            endpoint: Endpoint::new(&sub, self.metrics.clone()),
            http: self.http.clone(),
            publisher,
            metrics: self.metrics.clone(),
            shutdown: stop.clone(),
            observer: self.observer.clone(),
            operator_retries: Default::default(),
            batch,
            sub,
        };
        let ctx = Arc::new(ctx);
        if let Some(rx) = gathered {
            tokio::spawn(crate::batch::gather(ctx.clone(), rx));
        }
        let pipeline = Pipeline::new(ctx, consumer);
        let task = tokio::spawn(async move {
            if let Err(e) = pipeline.drive(grace).await {
                let _ = failed.send(e);
            }
        });
        Ok(Running { version: spec.version, generation: spec.generation.clone(), stop, task })
    }
}
