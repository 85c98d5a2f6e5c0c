//! `run(config, role, listener, shutdown)`: one process serving ingress, worker, or both.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hookbus_core::config::{Config, DedupBackend};
use hookbus_ingress::dedup::{Dedup, MemoryDedup, RedisDedup};
use hookbus_ingress::{IngressMetrics, IngressState};
use hookbus_worker::{Subscription, WorkerMetrics};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Ingress and worker in one process.
    Serve,
    Ingress,
    Worker,
}

impl Role {
    fn ingress(self) -> bool {
        matches!(self, Role::Serve | Role::Ingress)
    }

    fn worker(self) -> bool {
        matches!(self, Role::Serve | Role::Worker)
    }
}

/// Runs until `shutdown` is cancelled, then drains within `server.shutdown_grace_secs`.
/// The HTTP server (webhooks for ingress roles; /healthz, /readyz, /metrics always) uses `listener`.
pub async fn run(config: Config, role: Role, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let broker = hookbus_broker::connect(&config.broker).context("opening the broker")?;
    let publisher = broker.publisher();
    let mut registry = Registry::default();
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);

    let mut app = axum::Router::new();
    if role.ingress() {
        let sources = hookbus_ingress::source::load(&config)?;
        let topics: Vec<String> = sources.values().map(|s| s.topic.clone()).collect();
        publisher.ensure_topics(&topics).await.context("creating source topics")?;
        let dedup: Arc<dyn Dedup> = match config.dedup.backend {
            DedupBackend::Memory => Arc::new(MemoryDedup::new(Duration::from_secs(config.dedup.window_secs))),
            DedupBackend::Redis => Arc::new(
                RedisDedup::connect(
                    &config.dedup.redis_url,
                    &config.dedup.key_prefix,
                    Duration::from_secs(config.dedup.window_secs),
                )
                .await?,
            ),
        };
        let state = IngressState {
            sources,
            publisher: publisher.clone(),
            dedup,
            metrics: IngressMetrics::register(&mut registry),
            max_body_bytes: config.server.max_body_bytes,
        };
        app = app.merge(hookbus_ingress::router(Arc::new(state)));
    }
    let worker = if role.worker() {
        let subs = Subscription::all(&config)?;
        let metrics = WorkerMetrics::register(&mut registry);
        let (b, s) = (broker.clone(), shutdown.clone());
        let guard = Arc::new(hookbus_worker::ssrf::Guard::new(&config.worker.allow_targets));
        Some(tokio::spawn(async move { hookbus_worker::run(subs, b, metrics, s, grace, guard).await }))
    } else {
        None
    };
    app = app.merge(hookbus_ingress::ops::router(Arc::new(registry), publisher));

    let addr = listener.local_addr()?;
    tracing::info!(%addr, role = ?role, backend = broker.name(), "hookbus started");
    let limits = hookbus_ingress::listener::Limits {
        header_timeout: Duration::from_secs(config.server.header_timeout_secs),
        body_timeout: Duration::from_secs(config.server.body_timeout_secs),
        max_connections: config.server.max_connections,
    };
    let served = tokio::spawn(hookbus_ingress::listener::serve(listener, app, limits, shutdown.clone()));
    // A worker that fails (e.g. its broker vanished for good) takes the process down with it.
    if let Some(w) = worker {
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                shutdown.cancel();
                return Err(e).context("worker stopped");
            }
            Err(e) => return Err(e).context("worker task panicked"),
        }
    }
    served.await?;
    Ok(())
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutdown requested; draining");
        token.cancel();
    });
}
