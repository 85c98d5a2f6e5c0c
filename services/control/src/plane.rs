//! The control plane's shared state and its background tasks.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookbus_broker::Broker;
use hookbus_core::config::{AdminConfig, Config};
use hookbus_core::live::{
    DeliveryObservation, ObservationSink, Rejection, RejectionSink, SubscriptionSet, SubscriptionSpec,
};
use hookbus_worker::ssrf::Guard;
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::api::Tokens;
use crate::crypto::Sealer;
use crate::indexer::IndexMetrics;
use crate::observe::{ChannelSink, OBSERVATION_QUEUE, REJECTION_QUEUE, SinkMetrics, WorkerSink};
use crate::store::Store;
use crate::{ControlError, live};

/// How often old rows are removed.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

pub(crate) struct Inner {
    pub config: Config,
    pub store: Store,
    pub sealer: Arc<Sealer>,
    pub broker: Arc<dyn Broker>,
    pub guard: Guard,
    pub tokens: Tokens,
    /// Refuses addresses that keep presenting wrong tokens.
    pub auth_throttle: crate::api::throttle::AuthThrottle,
    /// Signs console session cookies.
    pub sessions: crate::console::session::SessionKey,
    pub cookie_secure: bool,
    pub seeds: Arc<Vec<SubscriptionSpec>>,
    pub set: Arc<watch::Sender<Arc<SubscriptionSet>>>,
    pub observations: Arc<WorkerSink>,
    pub rejections: Arc<ChannelSink<Rejection>>,
    pub queues: Mutex<Option<(mpsc::Receiver<DeliveryObservation>, mpsc::Receiver<Rejection>)>>,
    pub observation_metrics: SinkMetrics,
    pub rejection_metrics: SinkMetrics,
    pub index_metrics: IndexMetrics,
    pub retention: Duration,
    /// Cancelled with the process's shutdown: stops running jobs.
    pub shutdown: CancellationToken,
}

impl Inner {
    pub fn prefix(&self) -> &str {
        &self.config.broker.topic_prefix
    }

    /// The current set; with `force` (after a write here) rebuilt from the store at once.
    pub async fn refresh(&self, force: bool) -> Result<Arc<SubscriptionSet>, ControlError> {
        live::refresh(&self.store, &self.sealer, &self.seeds, &self.set, force).await
    }
}

/// `[admin] sqlite_path`, or `control.db` beside the embedded log.
pub fn sqlite_path(config: &Config, admin: &AdminConfig) -> PathBuf {
    admin.sqlite_path.clone().unwrap_or_else(|| {
        config.broker.embedded.path.parent().map(|d| d.join("control.db")).unwrap_or_else(|| "control.db".into())
    })
}

fn resolve(r: &hookbus_core::config::SecretRef, what: &str) -> Result<String, ControlError> {
    r.resolve(what).map(|s| s.value).map_err(|e| ControlError::Internal(e.to_string()))
}

/// Opens the store `[admin]` names (migrating it) and builds the shared state.
pub(crate) async fn open(
    config: &Config,
    broker: Arc<dyn Broker>,
    store: Option<Store>,
    registry: &mut Registry,
) -> Result<Arc<Inner>, ControlError> {
    let admin = config.admin.clone().unwrap_or_default();
    let store = match store {
        Some(s) => s,
        None if admin.is_postgres() => Store::postgres(&admin.store).map_err(|e| ControlError::Store(e.to_string()))?,
        None => Store::sqlite(&sqlite_path(config, &admin)).map_err(|e| ControlError::Store(e.to_string()))?,
    };
    store.migrate().await.map_err(|e| ControlError::Store(e.to_string()))?;

    let current = admin.encryption_key.as_ref().map(|r| resolve(r, "admin.encryption_key")).transpose()?;
    let previous = admin
        .previous_encryption_keys
        .iter()
        .enumerate()
        .map(|(i, r)| resolve(r, &format!("admin.previous_encryption_keys[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let sealer = Arc::new(Sealer::new(current.as_deref(), &previous));
    crate::rotate::reseal(&store, &sealer).await?;

    let tokens = Tokens::new(
        admin
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let name = t.name.clone().unwrap_or_else(|| format!("tokens[{i}]"));
                Ok((name, resolve(&t.token, &format!("admin.tokens[{i}].token"))?, t.scope))
            })
            .collect::<Result<Vec<_>, ControlError>>()?,
    );
    let seeds = Arc::new(live::config_specs(config));
    let initial = live::build(&store, &sealer, &seeds).await?;
    let (set, _) = watch::channel(Arc::new(initial));

    let observation_metrics = SinkMetrics::default();
    let rejection_metrics = SinkMetrics::default();
    let index_metrics = IndexMetrics::default();
    let sub = registry.sub_registry_with_prefix("hookbus_control");
    sub.register(
        "observations_written",
        "Delivery observations written to the store",
        observation_metrics.written.clone(),
    );
    sub.register(
        "observations_dropped",
        "Delivery observations dropped because the queue was full or the store refused them",
        observation_metrics.dropped.clone(),
    );
    sub.register(
        "store_write_errors",
        "Failed batch writes to the control store",
        observation_metrics.write_errors.clone(),
    );
    sub.register("rejections_dropped", "Ingress rejections not recorded", rejection_metrics.dropped.clone());
    sub.register("events_indexed", "Events written to the event index", index_metrics.indexed.clone());
    sub.register("index_undecodable", "Source records that are not CloudEvents", index_metrics.undecodable.clone());
    sub.register("index_errors", "Event indexer poll, store and commit errors", index_metrics.errors.clone());

    let (observations, obs_rx) = ChannelSink::new(OBSERVATION_QUEUE, observation_metrics.clone());
    let (rejections, rej_rx) = ChannelSink::new(REJECTION_QUEUE, rejection_metrics.clone());
    let retention = admin.retention().map_err(|m| ControlError::Internal(format!("admin.retention: {m}")))?;
    let sessions = crate::console::session_key(&admin, |r| resolve(r, "admin.session_key"))?;
    Ok(Arc::new(Inner {
        sessions,
        cookie_secure: admin.cookie_secure,
        guard: Guard::new(&config.worker.allow_targets),
        config: config.clone(),
        store,
        sealer,
        broker,
        tokens,
        auth_throttle: crate::api::throttle::AuthThrottle::new(admin.auth_failures_per_minute),
        seeds,
        set: Arc::new(set),
        observations: Arc::new(WorkerSink::new(observations)),
        rejections: Arc::new(rejections),
        queues: Mutex::new(Some((obs_rx, rej_rx))),
        observation_metrics,
        rejection_metrics,
        index_metrics,
        retention,
        shutdown: CancellationToken::new(),
    }))
}

/// Removes rows older than the retention period, now and every hour.
async fn retain(inner: Arc<Inner>, shutdown: CancellationToken) {
    loop {
        let cutoff = time::OffsetDateTime::now_utc() - inner.retention;
        match inner.store.purge_older_than(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "removed control rows past their retention"),
            Err(e) => tracing::warn!(error = %e, "retention: cannot purge old rows"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}

/// Runs every background task until `shutdown`; returns once they have stopped (queued
/// observations written).
pub(crate) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let Some((obs_rx, rej_rx)) = inner.queues.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        tracing::warn!("control plane tasks already running");
        return;
    };
    let topics: Vec<String> = {
        let mut t: Vec<String> = inner.config.sources.keys().map(|n| inner.config.source_topic(n).to_owned()).collect();
        t.sort();
        t.dedup();
        t
    };
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(live::poll(
        inner.store.clone(),
        inner.sealer.clone(),
        inner.seeds.clone(),
        inner.set.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::observe::write_batches(
        inner.store.clone(),
        obs_rx,
        inner.observation_metrics.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::observe::write_batches(
        inner.store.clone(),
        rej_rx,
        inner.rejection_metrics.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::indexer::run(
        inner.broker.clone(),
        inner.store.clone(),
        crate::indexer::group(inner.prefix()),
        topics,
        inner.index_metrics.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(retain(inner.clone(), shutdown.clone()));
    shutdown.cancelled().await;
    inner.shutdown.cancel();
    while tasks.join_next().await.is_some() {}
}

pub(crate) fn observer(inner: &Inner) -> Arc<dyn ObservationSink> {
    inner.observations.clone()
}

pub(crate) fn rejection_sink(inner: &Inner) -> Arc<dyn RejectionSink> {
    inner.rejections.clone()
}
