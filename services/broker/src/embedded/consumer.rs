//! A consumer of the embedded log. One member per group: the embedded backend serves one machine.
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::watch;

use super::metrics::{LogMetrics, SkipLabels};
use super::{codec, store};
use crate::{BrokerError, Consumer, Position, Received};

const FETCH: usize = 256;
/// Appends by other processes (e.g. `hookbus dlq redrive`) do not wake us; poll this often for them.
const FOREIGN_POLL: Duration = Duration::from_millis(200);

pub struct EmbeddedConsumer {
    /// The connection, and the decoder used with it (both only inside blocking tasks).
    conn: Arc<Mutex<(Connection, codec::Decoder)>>,
    path: PathBuf,
    group: String,
    topics: Vec<String>,
    /// Next offset to fetch per topic.
    fetch_from: HashMap<String, i64>,
    paused: HashSet<String>,
    buffer: VecDeque<Received>,
    cursor: usize,
    appended: watch::Receiver<u64>,
    metrics: LogMetrics,
}

impl EmbeddedConsumer {
    pub(super) fn new(
        conn: Connection,
        path: PathBuf,
        group: &str,
        topics: &[String],
        appended: watch::Receiver<u64>,
        metrics: LogMetrics,
    ) -> Result<Self, BrokerError> {
        let mut fetch_from = HashMap::new();
        for t in topics {
            store::register(&conn, group, t).map_err(|e| store::sql_err(&path, &e))?;
            fetch_from.insert(t.clone(), store::committed(&conn, group, t).map_err(|e| store::err(&path, e))?);
        }
        let decoder = codec::Decoder::new().map_err(|e| store::err(&path, e))?;
        Ok(Self {
            conn: Arc::new(Mutex::new((conn, decoder))),
            path,
            group: group.to_owned(),
            topics: topics.to_vec(),
            fetch_from,
            paused: HashSet::new(),
            buffer: VecDeque::new(),
            cursor: 0,
            appended,
            metrics,
        })
    }

    /// Fills the buffer from the next unpaused topic that has records, round-robin for fairness.
    async fn refill(&mut self) -> Result<(), BrokerError> {
        for i in 0..self.topics.len() {
            let topic = self.topics[(self.cursor + i) % self.topics.len()].clone();
            if self.paused.contains(&topic) {
                continue;
            }
            let from = self.fetch_from[&topic];
            let conn = self.conn.clone();
            let t = topic.clone();
            let batch = tokio::task::spawn_blocking(move || {
                let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                let (conn, decoder) = &mut *guard;
                store::read(conn, decoder, &t, from, FETCH)
            })
            .await
            .map_err(|e| store::err(&self.path, e))??;
            if let Some(first) = batch.first().filter(|r| r.offset > from) {
                // Offsets are dense from a topic's retained start: a gap means retention removed
                // records this group had not read (only the size cap does that to a group).
                tracing::warn!(
                    topic = %topic, group = %self.group, from, start = first.offset,
                    "consumer was behind the retained start of the log; resuming at the start"
                );
                let labels = SkipLabels { topic: topic.clone(), group: self.group.clone() };
                self.metrics.skipped.get_or_create(&labels).inc_by((first.offset - from) as u64);
            }
            if let Some(last) = batch.last() {
                self.fetch_from.insert(topic, last.offset + 1);
                self.buffer.extend(batch);
                self.cursor = (self.cursor + i + 1) % self.topics.len();
                return Ok(());
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Received>, BrokerError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(r) = self.buffer.pop_front() {
                return Ok(Some(r));
            }
            self.appended.borrow_and_update();
            self.refill().await?;
            if !self.buffer.is_empty() {
                continue;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wait = (deadline - now).min(FOREIGN_POLL);
            tokio::select! {
                _ = self.appended.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn commit(&mut self, positions: &[Position], _wait: bool) -> Result<(), BrokerError> {
        // Always durable on return: a local SQLite commit does not stall on anything remote.
        let conn = self.conn.clone();
        let group = self.group.clone();
        let positions: Vec<(String, i64)> = positions.iter().map(|p| (p.topic.clone(), p.offset)).collect();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            store::commit(&mut guard.0, &group, &positions)
        })
        .await
        .map_err(|e| store::err(&self.path, e))?
        .map_err(|e| store::err(&self.path, e))
    }

    fn pause(&mut self, topic: &str, _partition: i32) -> Result<(), BrokerError> {
        self.paused.insert(topic.to_owned());
        // Hand back buffered records of the topic so they are fetched again on resume.
        if let Some(first) = self.buffer.iter().find(|r| r.topic == topic).map(|r| r.offset) {
            self.buffer.retain(|r| r.topic != topic);
            self.fetch_from.insert(topic.to_owned(), first);
        }
        Ok(())
    }

    fn resume(&mut self, topic: &str, _partition: i32) -> Result<(), BrokerError> {
        self.paused.remove(topic);
        Ok(())
    }

    async fn ends(&mut self, topic: &str) -> Result<Vec<Position>, BrokerError> {
        let conn = self.conn.clone();
        let t = topic.to_owned();
        let next = tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            store::next_offset(&guard.0, &t)
        })
        .await
        .map_err(|e| store::err(&self.path, e))?
        .map_err(|e| store::err(&self.path, e))?;
        Ok(vec![Position { topic: topic.to_owned(), partition: 0, offset: next }])
    }
}
