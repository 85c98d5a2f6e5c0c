//! The embedded backend: a durable append-only log in one SQLite file (WAL mode, `synchronous=FULL`).
//! One writer thread batches concurrent appends into a single transaction (group commit), so many
//! webhooks share one fsync. Other processes (the `hookbus dlq` CLI) may open the same file at once:
//! SQLite serializes writers across processes, and consumers poll for appends made elsewhere.
//! Records are stored compressed under one integer key, and retention trims each topic by age and
//! size. See docs/decisions/0001-embedded-log-on-sqlite.md and 0008-compact-embedded-log.md.
mod codec;
mod consumer;
mod metrics;
mod retention;
mod schema;
mod store;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use hookbus_core::config::EmbeddedConfig;
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{Broker, BrokerError, Consumer, Publisher, Record};
pub use consumer::EmbeddedConsumer;
pub use metrics::LogMetrics;
pub use retention::Dropped;
use writer::Append;

/// Handle to an open log; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBroker {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    config: EmbeddedConfig,
    appends: mpsc::UnboundedSender<Append>,
    /// Bumped after every committed batch so local consumers wake without polling.
    appended: watch::Receiver<u64>,
    metrics: LogMetrics,
    /// Retention's own connection; its thread stops when this handle's last clone is dropped.
    retention: Arc<Mutex<rusqlite::Connection>>,
    _retention_stop: std::sync::mpsc::Sender<()>,
}

impl EmbeddedBroker {
    /// Opens (creating if needed) the log at `path` with the default retention.
    pub fn open(path: &Path) -> Result<Self, BrokerError> {
        Self::open_with(&EmbeddedConfig { path: path.to_owned(), ..EmbeddedConfig::default() })
    }

    /// Opens (creating or migrating if needed) the log `config` names; retention runs every minute.
    pub fn open_with(config: &EmbeddedConfig) -> Result<Self, BrokerError> {
        let path = config.path.as_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| store::err(path, e))?;
        }
        let mut conn = store::open(path)?;
        schema::migrate(&mut conn, path)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (notify, appended) = watch::channel(0);
        writer::spawn(conn, path.to_owned(), rx, notify)?;
        let retention = Arc::new(Mutex::new(store::open(path)?));
        let (stop, stopped) = std::sync::mpsc::channel();
        let metrics = LogMetrics::default();
        spawn_retention(retention.clone(), config.clone(), metrics.clone(), stopped)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                config: config.clone(),
                appends: tx,
                appended,
                metrics,
                retention,
                _retention_stop: stop,
            }),
        })
    }

    /// Runs one retention pass now, as if the time were `now`; returns what it dropped per topic.
    pub fn enforce_retention(&self, now: SystemTime) -> Result<Vec<Dropped>, BrokerError> {
        let mut conn = self.inner.retention.lock().unwrap_or_else(|p| p.into_inner());
        retention::enforce(&mut conn, &self.inner.config, &self.inner.metrics, now)
            .map_err(|e| store::sql_err(&self.inner.path, &e))
    }

    pub fn metrics(&self) -> &LogMetrics {
        &self.inner.metrics
    }
}

fn spawn_retention(
    conn: Arc<Mutex<rusqlite::Connection>>,
    config: EmbeddedConfig,
    metrics: LogMetrics,
    stopped: std::sync::mpsc::Receiver<()>,
) -> Result<(), BrokerError> {
    std::thread::Builder::new()
        .name("hookbus-log-retention".into())
        .spawn(move || {
            // A disconnect (the broker dropped) ends the thread; a timeout is the next pass.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(retention::EVERY) {
                let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = retention::enforce(&mut conn, &config, &metrics, SystemTime::now()) {
                    tracing::warn!(error = %e, path = %config.path.display(), "embedded log retention pass failed");
                }
            }
        })
        .map(|_| ())
        .map_err(|e| BrokerError::Storage { path: "(retention thread)".into(), message: e.to_string() })
}

#[async_trait]
impl Publisher for EmbeddedBroker {
    async fn publish(&self, topic: &str, record: Record) -> Result<(i32, i64), BrokerError> {
        let (reply, done) = oneshot::channel();
        self.inner.appends.send(Append { topic: topic.to_owned(), record, reply }).map_err(|_| BrokerError::Closed)?;
        let offset = done.await.map_err(|_| BrokerError::Closed)??;
        Ok((0, offset))
    }

    async fn ensure_topics(&self, _topics: &[String]) -> Result<(), BrokerError> {
        // Topics come into being with their first record.
        Ok(())
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        if self.inner.appends.is_closed() {
            return Err(BrokerError::Closed);
        }
        Ok(())
    }
}

impl Broker for EmbeddedBroker {
    fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.clone())
    }

    fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError> {
        let conn = store::open(&self.inner.path)?;
        let c = EmbeddedConsumer::new(
            conn,
            self.inner.path.clone(),
            group,
            topics,
            self.inner.appended.clone(),
            self.inner.metrics.clone(),
        )?;
        Ok(Box::new(c))
    }

    fn reader(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError> {
        // No group has committed under the empty name, so this reads from offset 0.
        self.consumer("", topics)
    }

    fn name(&self) -> &'static str {
        "embedded"
    }

    fn register_metrics(&self, registry: &mut Registry) {
        self.inner.metrics.register(registry);
    }
}
