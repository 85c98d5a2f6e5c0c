//! The worker assembled (config -> build -> run): `Worker::build` does all the construction —
//! the HTTP client, topics, consumers, breakers and limiters — so that a bad setting fails before
//! anything is consumed, and `run` only drives the consume loops.
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::Broker;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::consume::Pipeline;
use crate::deliver::WebhookClient;
use crate::endpoint::Endpoint;
use crate::process::Ctx;
use crate::ssrf::Guard;
use crate::{Subscription, WorkerError, WorkerMetrics};

/// Every subscription of one process, ready to run.
pub struct Worker {
    pipelines: Vec<Pipeline>,
}

impl Worker {
    /// Creates the subscriptions' topics and consumers. `shutdown` stops the loops and the
    /// back-off of durable writes; nothing runs until [`run`](Self::run).
    pub async fn build(
        subs: Vec<Arc<Subscription>>,
        broker: Arc<dyn Broker>,
        metrics: WorkerMetrics,
        guard: Arc<Guard>,
        shutdown: CancellationToken,
    ) -> Result<Self, WorkerError> {
        let publisher = broker.publisher();
        let http = WebhookClient::new(guard)?;
        let mut pipelines = Vec::with_capacity(subs.len());
        for sub in subs {
            publisher.ensure_topics(&sub.owned_topics()).await?;
            let consumer = broker.consumer(&sub.group(), &sub.consumed_topics())?;
            let ctx = Ctx {
                endpoint: Endpoint::new(&sub, metrics.clone()),
                http: http.clone(),
                publisher: publisher.clone(),
                metrics: metrics.clone(),
                shutdown: shutdown.clone(),
                sub,
            };
            pipelines.push(Pipeline::new(Arc::new(ctx), consumer));
        }
        Ok(Self { pipelines })
    }

    /// Runs every subscription until shutdown; then each lets its in-flight deliveries finish
    /// within `grace`, commits what finished, and returns.
    pub async fn run(self, grace: Duration) -> Result<(), WorkerError> {
        let mut tasks = JoinSet::new();
        for p in self.pipelines {
            tasks.spawn(p.drive(grace));
        }
        while let Some(joined) = tasks.join_next().await {
            joined.map_err(|e| WorkerError::Task(e.to_string()))??;
        }
        Ok(())
    }
}
