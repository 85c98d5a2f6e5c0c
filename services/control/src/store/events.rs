//! The event index and the attempt log: what the indexer read from the source topics and what
//! the worker reported about each delivery.
use hookbus_core::live::DeliveryObservation;
use hookbus_core::{Attempt, AttemptOutcome, Decision};
use time::OffsetDateTime;

use super::observations::observation_stmts;
use super::{Param, Row, Stmt, Store, StoreError, from_ms, ms, parse};

/// One accepted event as the indexer found it in its topic.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedEvent {
    pub id: String,
    /// The source name (from `hookbus://sources/{name}`).
    pub source: String,
    pub ty: String,
    pub subject: Option<String>,
    pub time: OffsetDateTime,
    /// When ingress published it (the record timestamp).
    pub received_at: OffsetDateTime,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The CloudEvent as JSON, `data` included: what the worker maps.
    pub envelope: String,
    /// The exact bytes the provider sent.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Position in the index; newer events have larger values. Cursors are built from it.
    pub seq: i64,
    pub event: IndexedEvent,
}

/// Filters of `GET /events`; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub source: Option<String>,
    pub topic: Option<String>,
    /// Exact type, or a prefix ending in `*`.
    pub ty: Option<String>,
    /// With `subscription`: that subscription's status; alone: any subscription's.
    /// `pending`: no subscription has reported on it (yet).
    pub status: Option<String>,
    pub subscription: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Text the envelope (id, type, subject, payload) must contain.
    pub text: Option<String>,
    /// Dead-letter reason of a delivery (with `subscription`: that subscription's).
    pub reason: Option<String>,
    /// Only events older than this `seq` (the previous page's cursor).
    pub before: Option<i64>,
    pub limit: usize,
}

/// Where one event stands for one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub subscription: String,
    pub generation: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending` (attempted, no verdict yet), `delivered`, `retrying`, `dead_lettered`, `filtered`.
    pub status: String,
    pub version: u64,
    pub reason: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub attempts: u64,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub subscription: String,
    pub generation: String,
    pub event_id: String,
    pub version: u64,
    pub attempt: Attempt,
    pub request_headers: Vec<(String, String)>,
}

/// Counters behind `GET /subscriptions/{name}/stats`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriptionCounts {
    pub delivered: u64,
    pub dead_lettered: u64,
    pub filtered: u64,
    pub retrying: u64,
    /// Attempts that did not deliver.
    pub failed_attempts: u64,
    /// Latencies (ms) of the attempts since the window start.
    pub recent_latencies_ms: Vec<u64>,
}

const EVENT_COLS: &str = "seq, id, source, type, subject, time_ms, received_ms, topic, part, ofs, envelope, payload";

fn event_row(r: &Row) -> EventRow {
    EventRow {
        seq: r.int(0),
        event: IndexedEvent {
            id: r.text(1),
            source: r.text(2),
            ty: r.text(3),
            subject: r.opt_text(4),
            time: from_ms(r.int(5)),
            received_at: from_ms(r.int(6)),
            topic: r.text(7),
            partition: r.int(8) as i32,
            offset: r.int(9),
            envelope: r.text(10),
            payload: r.bytes(11),
        },
    }
}

/// `%text%` for LIKE, with the wildcards in `text` itself escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn from_text<T: for<'de> serde::Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl Store {
    /// Adds events; ones already indexed (same topic, partition, offset) are skipped, so the
    /// indexer may re-read after a crash.
    pub async fn insert_events(&self, events: &[IndexedEvent]) -> Result<(), StoreError> {
        let stmts = events
            .iter()
            .map(|e| {
                Stmt::new(
                    "INSERT INTO events (id, source, type, subject, time_ms, received_ms, topic, part, ofs, \
                     envelope, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    vec![
                        e.id.clone().into(),
                        e.source.clone().into(),
                        e.ty.clone().into(),
                        e.subject.clone().into(),
                        ms(e.time).into(),
                        ms(e.received_at).into(),
                        e.topic.clone().into(),
                        i64::from(e.partition).into(),
                        e.offset.into(),
                        e.envelope.clone().into(),
                        e.payload.clone().into(),
                    ],
                )
            })
            .collect();
        self.db.batch(stmts).await.map(|_| ())
    }

    /// Newest first; at most `q.limit` rows.
    pub async fn events(&self, q: &EventQuery) -> Result<Vec<EventRow>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLS} FROM events e WHERE 1 = 1");
        let mut params: Vec<Param> = Vec::new();
        let mut add = |clause: &str, p: Vec<Param>| {
            sql.push_str(" AND ");
            sql.push_str(clause);
            params.extend(p);
        };
        if let Some(s) = &q.source {
            add("e.source = ?", vec![s.clone().into()]);
        }
        if let Some(t) = &q.topic {
            add("e.topic = ?", vec![t.clone().into()]);
        }
        match q.ty.as_deref().map(|t| (t, t.strip_suffix('*'))) {
            Some((_, Some(prefix))) => add(
                // length(?) keeps the parameter textual: PostgreSQL's substr wants int4, not int8.
                "substr(e.type, 1, length(?)) = ?",
                vec![prefix.to_owned().into(), prefix.to_owned().into()],
            ),
            Some((t, None)) => add("e.type = ?", vec![t.to_owned().into()]),
            None => {}
        }
        if let Some(t) = q.since {
            add("e.time_ms >= ?", vec![ms(t).into()]);
        }
        if let Some(t) = q.until {
            add("e.time_ms < ?", vec![ms(t).into()]);
        }
        if let Some(b) = q.before {
            add("e.seq < ?", vec![b.into()]);
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
            // lower() on both sides: case-insensitive on both backends (SQLite's LIKE already is, ASCII only).
            add("lower(e.envelope) LIKE lower(?) ESCAPE '\\'", vec![like_pattern(t).into()]);
        }
        match (&q.reason, &q.subscription) {
            (Some(r), Some(sub)) => add(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.subscription = ? AND d.reason = ?)",
                vec![sub.clone().into(), r.clone().into()],
            ),
            (Some(r), None) => add(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.reason = ?)",
                vec![r.clone().into()],
            ),
            (None, _) => {}
        }
        match (q.status.as_deref(), &q.subscription) {
            (Some("pending"), Some(sub)) => add(
                "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.subscription = ? \
                 AND d.status <> 'pending')",
                vec![sub.clone().into()],
            ),
            (Some("pending"), None) => {
                add("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> 'pending')", vec![])
            }
            (Some(st), Some(sub)) => add(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.subscription = ? AND d.status = ?)",
                vec![sub.clone().into(), st.to_owned().into()],
            ),
            (Some(st), None) => add(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = ?)",
                vec![st.to_owned().into()],
            ),
            (None, Some(sub)) => add(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.subscription = ?)",
                vec![sub.clone().into()],
            ),
            (None, None) => {}
        }
        sql.push_str(" ORDER BY e.seq DESC LIMIT ?");
        params.push((q.limit as i64).into());
        Ok(self.db.query(&sql, params).await?.iter().map(event_row).collect())
    }

    /// The newest indexed event with this id.
    pub async fn event(&self, id: &str) -> Result<Option<EventRow>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE id = ? ORDER BY seq DESC LIMIT 1");
        Ok(self.db.query(&sql, vec![id.into()]).await?.first().map(event_row))
    }

    /// When `source`'s newest indexed webhook was received.
    pub async fn last_received(&self, source: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        let rows = self.db.query("SELECT MAX(received_ms) FROM events WHERE source = ?", vec![source.into()]).await?;
        Ok(rows.first().and_then(|r| r.opt_int(0)).map(from_ms))
    }

    /// Applies a batch of observations in order, in one transaction.
    pub async fn record_observations(&self, obs: &[DeliveryObservation]) -> Result<(), StoreError> {
        let stmts = obs.iter().flat_map(observation_stmts).collect();
        self.db.batch(stmts).await.map(|_| ())
    }

    pub async fn deliveries(&self, event_id: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT subscription, generation, event_id, event_type, status, version, reason, next_attempt_ms, \
                 attempts, updated_ms FROM deliveries WHERE event_id = ? ORDER BY subscription, updated_ms",
                vec![event_id.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeliveryRow {
                subscription: r.text(0),
                generation: r.text(1),
                event_id: r.text(2),
                event_type: r.text(3),
                status: r.text(4),
                version: r.int(5) as u64,
                reason: r.opt_text(6),
                next_attempt_at: r.opt_int(7).map(from_ms),
                attempts: r.int(8) as u64,
                updated_at: from_ms(r.int(9)),
            })
            .collect())
    }

    /// Every attempt made for `event_id`, oldest first.
    pub async fn attempts(&self, event_id: &str) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT subscription, generation, event_id, version, attempt, at_ms, status, latency_ms, outcome, \
                 decision, error, response, request_headers FROM attempts WHERE event_id = ? ORDER BY seq",
                vec![event_id.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AttemptRow {
                subscription: r.text(0),
                generation: r.text(1),
                event_id: r.text(2),
                version: r.int(3) as u64,
                attempt: Attempt {
                    attempt: r.int(4) as u32,
                    at: from_ms(r.int(5)),
                    status: r.opt_int(6).map(|s| s as u16),
                    latency_ms: r.int(7) as u64,
                    outcome: from_text(&r.text(8)).unwrap_or(AttemptOutcome::OtherError),
                    decision: from_text(&r.text(9)).unwrap_or(Decision::Retry),
                    error: r.opt_text(10),
                    response_snippet: r.opt_text(11),
                    retry_after_ms: None,
                },
                request_headers: parse(&r.text(12)).unwrap_or_default(),
            })
            .collect())
    }

    /// Counts for one generation of a subscription; latencies of attempts at or after `since`.
    pub async fn counts(
        &self,
        subscription: &str,
        generation: &str,
        since: OffsetDateTime,
    ) -> Result<SubscriptionCounts, StoreError> {
        let key = || -> Vec<Param> { vec![subscription.into(), generation.into()] };
        let mut c = SubscriptionCounts::default();
        for r in self
            .db
            .query(
                "SELECT status, COUNT(*) FROM deliveries WHERE subscription = ? AND generation = ? GROUP BY status",
                key(),
            )
            .await?
        {
            let n = r.int(1) as u64;
            match r.text(0).as_str() {
                "delivered" => c.delivered = n,
                "dead_lettered" => c.dead_lettered = n,
                "filtered" => c.filtered = n,
                "retrying" => c.retrying = n,
                _ => {}
            }
        }
        let failed = self
            .db
            .query(
                "SELECT COUNT(*) FROM attempts WHERE subscription = ? AND generation = ? AND outcome <> 'delivered'",
                key(),
            )
            .await?;
        c.failed_attempts = failed.first().map(|r| r.int(0)).unwrap_or(0) as u64;
        let mut p = key();
        p.push(ms(since).into());
        c.recent_latencies_ms = self
            .db
            .query(
                "SELECT latency_ms FROM attempts WHERE subscription = ? AND generation = ? AND at_ms >= ? \
                 ORDER BY seq DESC LIMIT 100000",
                p,
            )
            .await?
            .iter()
            .map(|r| r.int(0) as u64)
            .collect();
        Ok(c)
    }
}
