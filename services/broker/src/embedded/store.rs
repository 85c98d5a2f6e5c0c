//! SQLite schema and statements of the embedded log.
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::{BrokerError, Received, Record};

pub(super) fn err(path: &Path, e: impl std::fmt::Display) -> BrokerError {
    BrokerError::Storage { path: path.display().to_string(), message: e.to_string() }
}

pub(super) fn open(path: &Path) -> Result<Connection, BrokerError> {
    let conn = Connection::open(path).map_err(|e| err(path, e))?;
    // WAL lets readers run beside the writer; FULL fsyncs the WAL at every commit, which is what
    // makes "202 Accepted" mean "survives kill -9 and power loss".
    conn.busy_timeout(Duration::from_secs(10)).map_err(|e| err(path, e))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| err(path, e))?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(|e| err(path, e))?;
    Ok(conn)
}

pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<(), BrokerError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS records (
            topic TEXT NOT NULL, offset INTEGER NOT NULL, key BLOB, headers BLOB NOT NULL,
            payload BLOB NOT NULL, timestamp_ms INTEGER NOT NULL, PRIMARY KEY (topic, offset)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, next_offset INTEGER NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS commits (
            grp TEXT NOT NULL, topic TEXT NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY (grp, topic)
         ) WITHOUT ROWID;",
    )
    .map_err(|e| err(path, e))
}

/// Appends inside the caller's transaction; returns the record's offset.
pub(super) fn append(tx: &rusqlite::Transaction<'_>, topic: &str, r: &Record) -> rusqlite::Result<i64> {
    // Cached statements: this runs once per record inside the group-commit transaction.
    let next = next_offset(tx, topic)?;
    let headers =
        postcard::to_allocvec(&r.headers).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached(
        "INSERT INTO records (topic, offset, key, headers, payload, timestamp_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![topic, next, r.key, headers, r.payload, r.timestamp_ms])?;
    tx.prepare_cached(
        "INSERT INTO topics (topic, next_offset) VALUES (?1, ?2)
         ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset",
    )?
    .execute(params![topic, next + 1])?;
    Ok(next)
}

/// Up to `limit` records of `topic` from `from` on.
pub(super) fn read(conn: &Connection, topic: &str, from: i64, limit: usize) -> Result<Vec<Received>, BrokerError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT offset, key, headers, payload, timestamp_ms FROM records
             WHERE topic = ?1 AND offset >= ?2 ORDER BY offset LIMIT ?3",
        )
        .map_err(|e| BrokerError::Storage { path: "(embedded)".into(), message: e.to_string() })?;
    let rows = stmt
        .query_map(params![topic, from, limit as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get::<_, Vec<u8>>(2)?, row.get(3)?, row.get(4)?))
        })
        .map_err(|e| BrokerError::Storage { path: "(embedded)".into(), message: e.to_string() })?;
    let mut out = Vec::new();
    for row in rows {
        let (offset, key, headers, payload, timestamp_ms) =
            row.map_err(|e| BrokerError::Storage { path: "(embedded)".into(), message: e.to_string() })?;
        let headers = postcard::from_bytes(&headers).map_err(|e| BrokerError::Corrupt {
            topic: topic.to_owned(),
            offset,
            message: e.to_string(),
        })?;
        out.push(Received {
            topic: topic.to_owned(),
            partition: 0,
            offset,
            record: Record { key, headers, payload, timestamp_ms },
        });
    }
    Ok(out)
}

/// The offset the next record appended to `topic` gets (0 for a topic never written).
pub(super) fn next_offset(conn: &Connection, topic: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT next_offset FROM topics WHERE topic = ?1")?
        .query_row([topic], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

pub(super) fn committed(conn: &Connection, group: &str, topic: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row("SELECT offset FROM commits WHERE grp = ?1 AND topic = ?2", [group, topic], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Stores `(topic, offset)` positions of `group` in one transaction (one fsync for all of them).
pub(super) fn commit(conn: &mut Connection, group: &str, positions: &[(String, i64)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (topic, offset) in positions {
        tx.prepare_cached(
            "INSERT INTO commits (grp, topic, offset) VALUES (?1, ?2, ?3)
             ON CONFLICT (grp, topic) DO UPDATE SET offset = max(offset, excluded.offset)",
        )?
        .execute(params![group, topic, offset])?;
    }
    tx.commit()
}
