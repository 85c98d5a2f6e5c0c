//! The control store: subscriptions (with a version per change and a store-wide revision counter
//! that every node polls), the event index, the attempt log, jobs and ingress rejections. The
//! domain logic lives here once, over the small [`Db`] trait that SQLite and PostgreSQL implement.
mod db;
mod events;
mod observations;
mod postgres;
mod series;
mod sessions;
mod sqlite;
mod statuses;

use std::collections::BTreeMap;
use std::sync::Arc;

use hookbus_core::config::SubscriptionConfig;
use hookbus_core::live::{Rejection, StartFrom};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use db::{Cell, Db, Param, Row, Stmt, StoreError};
pub use events::{AttemptRow, DeliveryRow, EventQuery, EventRow, IndexedEvent, SubscriptionCounts};
pub use postgres::PostgresDb;
pub use series::MinuteCount;
pub use sqlite::SqliteDb;

/// A subscription created through the API, as stored. Secrets are sealed (see crypto.rs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSubscription {
    pub name: String,
    pub generation: String,
    pub version: u64,
    pub paused: bool,
    pub start: StartFrom,
    /// `signing_secret` is always `None` here; the sealed secret is below.
    pub config: SubscriptionConfig,
    pub signing_secret: Option<String>,
    pub secret_headers: BTreeMap<String, String>,
    /// The other settings' secrets, sealed, by the path that names them (`auth.client_secret`,
    /// `secret_maps.MAP.KEY`); their references in `config` are empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding a row: {e}")))
}

fn parse<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("decoding a row: {e}")))
}

const BUMP: &str = "UPDATE meta SET v = v + 1 WHERE k = 'revision'";

/// Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<dyn Db>,
}

impl Store {
    pub fn new(db: Arc<dyn Db>) -> Self {
        Self { db }
    }

    pub fn sqlite(path: &std::path::Path) -> Result<Self, StoreError> {
        Ok(Self::new(Arc::new(SqliteDb::open(path)?)))
    }

    pub fn postgres(url: &str) -> Result<Self, StoreError> {
        Ok(Self::new(Arc::new(PostgresDb::connect(url)?)))
    }

    pub fn backend(&self) -> &'static str {
        self.db.name()
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.db.migrate().await
    }

    /// The change counter: grows with every subscription change made through any node.
    pub async fn revision(&self) -> Result<u64, StoreError> {
        let rows = self.db.query("SELECT v FROM meta WHERE k = 'revision'", vec![]).await?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0) as u64)
    }

    pub async fn subscriptions(&self) -> Result<Vec<StoredSubscription>, StoreError> {
        let rows = self.db.query("SELECT body FROM subscriptions ORDER BY name", vec![]).await?;
        rows.iter().map(|r| parse(&r.text(0))).collect()
    }

    pub async fn subscription(&self, name: &str) -> Result<Option<StoredSubscription>, StoreError> {
        let rows = self.db.query("SELECT body FROM subscriptions WHERE name = ?", vec![name.into()]).await?;
        rows.first().map(|r| parse(&r.text(0))).transpose()
    }

    /// Inserts a new subscription; [`StoreError::Conflict`] when the name exists.
    pub async fn create_subscription(&self, s: &StoredSubscription) -> Result<(), StoreError> {
        let insert = Stmt::new(
            "INSERT INTO subscriptions (name, version, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            vec![s.name.clone().into(), (s.version as i64).into(), json(s)?.into()],
        )
        .must_affect();
        self.db.batch(vec![insert, Stmt::new(BUMP, vec![])]).await.map(|_| ())
    }

    /// Replaces a subscription if its stored version is still `expected_version`, else
    /// [`StoreError::Conflict`] (another node or request changed it meanwhile).
    pub async fn update_subscription(&self, s: &StoredSubscription, expected_version: u64) -> Result<(), StoreError> {
        let update = Stmt::new(
            "UPDATE subscriptions SET version = ?, body = ? WHERE name = ? AND version = ?",
            vec![(s.version as i64).into(), json(s)?.into(), s.name.clone().into(), (expected_version as i64).into()],
        )
        .must_affect();
        self.db.batch(vec![update, Stmt::new(BUMP, vec![])]).await.map(|_| ())
    }

    /// Removes a subscription; false when there was none.
    pub async fn delete_subscription(&self, name: &str) -> Result<bool, StoreError> {
        let delete = Stmt::new("DELETE FROM subscriptions WHERE name = ?", vec![name.into()]).must_affect();
        match self.db.batch(vec![delete, Stmt::new(BUMP, vec![])]).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates or replaces a job's record (its JSON body).
    pub async fn save_job(&self, id: &str, body: &serde_json::Value) -> Result<(), StoreError> {
        let stmt = Stmt::new(
            "INSERT INTO jobs (id, body, updated_ms) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
            vec![id.into(), json(body)?.into(), ms(OffsetDateTime::now_utc()).into()],
        );
        self.db.batch(vec![stmt]).await.map(|_| ())
    }

    pub async fn job(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let rows = self.db.query("SELECT body FROM jobs WHERE id = ?", vec![id.into()]).await?;
        rows.first().map(|r| parse(&r.text(0))).transpose()
    }

    pub async fn record_rejections(&self, rejections: &[Rejection]) -> Result<(), StoreError> {
        let stmts = rejections
            .iter()
            .map(|r| {
                Stmt::new(
                    "INSERT INTO rejections (source, at_ms, code, message) VALUES (?, ?, ?, ?)",
                    vec![r.source.clone().into(), ms(r.at).into(), r.code.clone().into(), r.message.clone().into()],
                )
            })
            .collect();
        self.db.batch(stmts).await.map(|_| ())
    }

    /// The newest `limit` rejections of `source`, newest first.
    pub async fn rejections(&self, source: &str, limit: usize) -> Result<Vec<Rejection>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT source, at_ms, code, message FROM rejections WHERE source = ? ORDER BY seq DESC LIMIT ?",
                vec![source.into(), (limit as i64).into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Rejection { source: r.text(0), at: from_ms(r.int(1)), code: r.text(2), message: r.text(3) })
            .collect())
    }

    /// Removes indexed events, delivery states, attempts, rejections and jobs older than `cutoff`.
    /// Returns the rows removed.
    pub async fn purge_older_than(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let c = ms(cutoff);
        let stmts = [
            "DELETE FROM events WHERE received_ms < ?",
            "DELETE FROM deliveries WHERE updated_ms < ?",
            "DELETE FROM attempts WHERE at_ms < ?",
            "DELETE FROM rejections WHERE at_ms < ?",
            "DELETE FROM jobs WHERE updated_ms < ?",
        ]
        .into_iter()
        .map(|sql| Stmt::new(sql, vec![c.into()]))
        .collect();
        Ok(self.db.batch(stmts).await?.iter().sum())
    }
}
