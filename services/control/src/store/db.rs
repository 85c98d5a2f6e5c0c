//! The one small trait with two backends: run parameterized SQL, one query or one atomic batch.
//! The statements are shared by both backends (written with `?` placeholders; the PostgreSQL
//! backend numbers them), so the domain code in `store/mod.rs` exists once and the contract suite
//! tests the same logic on both.
use async_trait::async_trait;

/// A typed parameter; typed even when null, because PostgreSQL checks parameter types.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_owned()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}
impl From<Vec<u8>> for Param {
    fn from(v: Vec<u8>) -> Self {
        Param::Bytes(v)
    }
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A result row with typed accessors; a wrong type reads as the type's zero value, which the
/// schema rules out (every column has one type on both backends).
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Some(*v),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Cell::Text(v)) => Some(v.clone()),
            _ => None,
        }
    }
    pub fn bytes(&self, i: usize) -> Vec<u8> {
        match self.0.get(i) {
            Some(Cell::Bytes(v)) => v.clone(),
            Some(Cell::Text(v)) => v.clone().into_bytes(),
            _ => Vec::new(),
        }
    }
}

/// A statement of a batch. With `must_affect`, affecting no row aborts the whole batch with
/// [`StoreError::Conflict`] (optimistic concurrency: "update where version = expected").
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Param>,
    pub must_affect: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Param>) -> Self {
        Self { sql: sql.into(), params, must_affect: false }
    }
    pub fn must_affect(mut self) -> Self {
        self.must_affect = true;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A `must_affect` statement affected nothing; the batch was rolled back.
    #[error("conflict: the row is missing, exists already, or changed meanwhile")]
    Conflict,
    #[error("{0}")]
    Backend(String),
}

#[async_trait]
pub trait Db: Send + Sync {
    async fn query(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError>;
    /// Runs every statement in one transaction; returns the rows each affected.
    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError>;
    /// Creates missing tables and indexes; safe to run from several nodes at once.
    async fn migrate(&self) -> Result<(), StoreError>;
    fn name(&self) -> &'static str;
}

/// The schema, in SQLite's dialect; the PostgreSQL backend rewrites the few differing words.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BIGINT NOT NULL);
INSERT INTO meta (k, v) VALUES ('revision', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS subscriptions (name TEXT PRIMARY KEY, version BIGINT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL,
  subject TEXT, time_ms BIGINT NOT NULL, received_ms BIGINT NOT NULL, topic TEXT NOT NULL,
  part BIGINT NOT NULL, ofs BIGINT NOT NULL, envelope TEXT NOT NULL, payload BLOB NOT NULL,
  UNIQUE (topic, part, ofs));
CREATE INDEX IF NOT EXISTS events_id ON events (id);
CREATE INDEX IF NOT EXISTS events_source ON events (source, seq);
CREATE INDEX IF NOT EXISTS events_topic ON events (topic, seq);
CREATE INDEX IF NOT EXISTS events_received ON events (received_ms);
CREATE TABLE IF NOT EXISTS deliveries (
  subscription TEXT NOT NULL, generation TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
  status TEXT NOT NULL, version BIGINT NOT NULL, reason TEXT, next_attempt_ms BIGINT,
  attempts BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
  PRIMARY KEY (subscription, generation, event_id));
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_id);
CREATE INDEX IF NOT EXISTS deliveries_updated ON deliveries (updated_ms);
CREATE TABLE IF NOT EXISTS attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL, generation TEXT NOT NULL,
  event_id TEXT NOT NULL, version BIGINT NOT NULL, attempt BIGINT NOT NULL, at_ms BIGINT NOT NULL,
  status BIGINT, latency_ms BIGINT NOT NULL, outcome TEXT NOT NULL, decision TEXT NOT NULL,
  error TEXT, response TEXT, request_headers TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id);
CREATE INDEX IF NOT EXISTS attempts_sub_at ON attempts (subscription, at_ms);
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS rejections (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, at_ms BIGINT NOT NULL,
  code TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rejections_source ON rejections (source, seq);
CREATE INDEX IF NOT EXISTS rejections_at ON rejections (at_ms);
CREATE TABLE IF NOT EXISTS ended_sessions (sid TEXT PRIMARY KEY, until_ms BIGINT NOT NULL);
";
