//! The embedded backend: a durable append-only log in one SQLite file (WAL mode, `synchronous=FULL`).
//! One writer thread batches concurrent appends into a single transaction (group commit), so many
//! webhooks share one fsync. Other processes (the `hookbus dlq` CLI) may open the same file at once:
//! SQLite serializes writers across processes, and consumers poll for appends made elsewhere.
//! See docs/decisions/0001-embedded-log-on-sqlite.md.
mod consumer;
mod store;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{Broker, BrokerError, Consumer, Publisher, Record};
pub use consumer::EmbeddedConsumer;
use writer::Append;

/// Handle to an open log; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBroker {
    inner: Arc<Inner>,
}

struct Inner {
    path: std::path::PathBuf,
    appends: mpsc::UnboundedSender<Append>,
    /// Bumped after every committed batch so local consumers wake without polling.
    appended: watch::Receiver<u64>,
}

impl EmbeddedBroker {
    /// Opens (creating if needed) the log at `path`.
    pub fn open(path: &Path) -> Result<Self, BrokerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| store::err(path, e))?;
        }
        let conn = store::open(path)?;
        store::migrate(&conn, path)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (notify, appended) = watch::channel(0);
        writer::spawn(conn, path.to_owned(), rx, notify)?;
        Ok(Self { inner: Arc::new(Inner { path: path.to_owned(), appends: tx, appended }) })
    }
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
        let c = EmbeddedConsumer::new(conn, self.inner.path.clone(), group, topics, self.inner.appended.clone())?;
        Ok(Box::new(c))
    }

    fn reader(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError> {
        // No group has committed under the empty name, so this reads from offset 0.
        self.consumer("", topics)
    }

    fn name(&self) -> &'static str {
        "embedded"
    }
}
