//! `run(config, role, listener, shutdown)`: one process serving ingress, worker, or both, and,
//! with `[admin]` set, the control plane on its own listener.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hookbus_control::ControlPlane;
use hookbus_core::config::{Config, DedupBackend};
use hookbus_core::live::{Discard, ObservationSink, RejectionSink, SubscriptionSet};
use hookbus_ingress::dedup::{Dedup, MemoryDedup, RedisDedup};
use hookbus_ingress::{IngressMetrics, IngressState};
use hookbus_worker::{Worker, WorkerMetrics};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
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

/// Binds `[admin] listen` when the config has an `[admin]` section.
pub async fn bind_admin(config: &Config) -> anyhow::Result<Option<TcpListener>> {
    let Some(admin) = &config.admin else { return Ok(None) };
    let l = TcpListener::bind(&admin.listen)
        .await
        .with_context(|| format!("cannot listen on {} (admin.listen); is another process using it?", admin.listen))?;
    Ok(Some(l))
}

/// Runs until `shutdown` is cancelled, then drains within `server.shutdown_grace_secs`.
/// The HTTP server (webhooks for ingress roles; /healthz, /readyz, /metrics always) uses `listener`;
/// with `[admin]` set, the admin API is served on `[admin] listen`.
pub async fn run(config: Config, role: Role, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let admin = bind_admin(&config).await?;
    run_with(config, role, listener, admin, shutdown).await
}

/// As [`run`], with the admin listener bound by the caller (port 0 in tests). `admin_listener` is
/// used only when the config has `[admin]`.
pub async fn run_with(
    config: Config,
    role: Role,
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let broker = hookbus_broker::connect(&config.broker).context("opening the broker")?;
    let publisher = broker.publisher();
    let mut registry = Registry::default();
    broker.register_metrics(&mut registry);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let control = match (&config.admin, admin_listener) {
        (Some(_), Some(l)) => {
            let plane = ControlPlane::open(&config, broker.clone(), &mut registry)
                .await
                .context("starting the control plane ([admin])")?;
            Some((plane, l))
        }
        _ => None,
    };
    let rejections: Arc<dyn RejectionSink> = match &control {
        Some((plane, _)) => plane.rejections(),
        None => Arc::new(Discard),
    };

    let mut app = axum::Router::new();
    if role.ingress() {
        let sources = hookbus_ingress::source::load(&config)?;
        let topics: Vec<String> = sources.values().flat_map(|s| s.topics()).collect();
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
            rejections,
        };
        app = app.merge(hookbus_ingress::router(Arc::new(state)));
    }
    let worker = if role.worker() {
        // The worker follows the live subscription set: the control plane's (config-file and API
        // subscriptions, changes applied within a second) or, without [admin], the config file's.
        let (set, observer): (_, Arc<dyn ObservationSink>) = match &control {
            Some((plane, _)) => (plane.subscriptions(), plane.observer()),
            None => {
                let specs = hookbus_control::config_specs(&config);
                (watch::channel(Arc::new(SubscriptionSet { specs, revision: 0 })).1, Arc::new(Discard))
            }
        };
        let metrics = WorkerMetrics::register(&mut registry);
        let guard = Arc::new(hookbus_worker::ssrf::Guard::new(&config.worker.allow_targets));
        let worker = Worker::build(broker.clone(), metrics, guard, observer, &config.broker.topic_prefix)?;
        worker.check(&set.borrow())?;
        Some(tokio::spawn(worker.run(set, shutdown.clone(), grace)))
    } else {
        None
    };
    let registry = Arc::new(registry);
    app = app.merge(crate::ops::router(registry.clone(), publisher.clone()));

    // The control plane: its API with the ops routes on the admin listener, and its background
    // tasks (revision poll, attempt-log writer, event indexer, retention), which stop on shutdown
    // after writing what is queued.
    let control_tasks = control.map(|(plane, l)| {
        let admin_app = plane.router().merge(crate::ops::router(registry.clone(), publisher.clone()));
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, store = plane.store().backend(), "admin API listening");
        }
        // With the client's address: the admin API refuses addresses that keep presenting wrong tokens.
        let admin_app = admin_app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = axum::serve(l, admin_app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let s = shutdown.clone();
        (tokio::spawn(async move { plane.run(s).await }), tokio::spawn(async move { server.await }))
    });

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
    if let Some((tasks, admin_server)) = control_tasks {
        admin_server.await??;
        tasks.await?;
    }
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
