//! Statements of the embedded log (schema in `schema.rs`). A record's row id is its topic's integer
//! id in the high bits and its offset in the low [`OFFSET_BITS`]: one integer B-tree holds every
//! topic in offset order, with no index beside it and no topic name repeated per row.
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::codec;
use crate::{BrokerError, Received, Record};

/// 2^40 offsets per topic (a trillion records) and 2^23 topics.
pub(super) const OFFSET_BITS: u32 = 40;

/// The row-id range `[lo, hi)` of a topic's records.
pub(super) fn id_range(topic_id: i64) -> (i64, i64) {
    (topic_id << OFFSET_BITS, (topic_id + 1) << OFFSET_BITS)
}

pub(super) fn err(path: &Path, e: impl std::fmt::Display) -> BrokerError {
    BrokerError::Storage { path: path.display().to_string(), message: e.to_string() }
}

/// A SQLite failure as the broker reports it: a full disk is transient (ingress answers 503 and
/// the provider retries once space is freed), anything else is a storage error.
pub(super) fn sql_err(path: &Path, e: &rusqlite::Error) -> BrokerError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        BrokerError::Full { path: path.display().to_string(), message: e.to_string() }
    } else {
        err(path, e)
    }
}

pub(super) fn open(path: &Path) -> Result<Connection, BrokerError> {
    let conn = Connection::open(path).map_err(|e| err(path, e))?;
    // WAL lets readers run beside the writer; FULL fsyncs the WAL at every commit, which is what
    // makes "202 Accepted" mean "survives kill -9 and power loss".
    conn.busy_timeout(Duration::from_secs(10)).map_err(|e| err(path, e))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| err(path, e))?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(|e| err(path, e))?;
    // After a checkpoint the WAL is cut back to this size instead of keeping its high-water mark.
    conn.pragma_update(None, "journal_size_limit", 16 * 1024 * 1024).map_err(|e| err(path, e))?;
    Ok(conn)
}

/// The integer id of `topic`, created when `create` and missing.
pub(super) fn topic_id(conn: &Connection, topic: &str, create: bool) -> rusqlite::Result<Option<i64>> {
    let found =
        conn.prepare_cached("SELECT id FROM topics WHERE name = ?1")?.query_row([topic], |r| r.get(0)).optional()?;
    if found.is_some() || !create {
        return Ok(found);
    }
    conn.prepare_cached("INSERT INTO topics (name, next_offset, bytes) VALUES (?1, 0, 0)")?.execute([topic])?;
    Ok(Some(conn.last_insert_rowid()))
}

/// Appends inside the caller's transaction; returns the record's offset.
pub(super) fn append(
    tx: &rusqlite::Transaction<'_>,
    encoder: &mut codec::Encoder,
    topic: &str,
    r: &Record,
) -> rusqlite::Result<i64> {
    // Cached statements: this runs once per record inside the group-commit transaction.
    let found = tx
        .prepare_cached("SELECT id, next_offset FROM topics WHERE name = ?1")?
        .query_row([topic], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, next): (i64, i64) = match found {
        Some(row) => row,
        None => (topic_id(tx, topic, true)?.unwrap_or_default(), 0),
    };
    let data = encoder.encode(r).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    tx.prepare_cached("INSERT INTO log (id, timestamp_ms, data) VALUES (?1, ?2, ?3)")?.execute(params![
        id_range(id).0 + next,
        r.timestamp_ms,
        data
    ])?;
    tx.prepare_cached("UPDATE topics SET next_offset = ?2, bytes = bytes + ?3 WHERE id = ?1")?.execute(params![
        id,
        next + 1,
        data.len() as i64
    ])?;
    Ok(next)
}

/// Up to `limit` records of `topic` from `from` on.
pub(super) fn read(
    conn: &Connection,
    decoder: &mut codec::Decoder,
    topic: &str,
    from: i64,
    limit: usize,
) -> Result<Vec<Received>, BrokerError> {
    let storage = |e: rusqlite::Error| BrokerError::Storage { path: "(embedded)".into(), message: e.to_string() };
    let Some(id) = topic_id(conn, topic, false).map_err(storage)? else { return Ok(Vec::new()) };
    let (lo, hi) = id_range(id);
    let mut stmt = conn
        .prepare_cached("SELECT id, timestamp_ms, data FROM log WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3")
        .map_err(storage)?;
    let rows = stmt
        .query_map(params![lo + from.max(0), hi, limit as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, Vec<u8>>(2)?))
        })
        .map_err(storage)?;
    let mut out = Vec::new();
    for row in rows {
        let (rowid, timestamp_ms, data) = row.map_err(storage)?;
        let offset = rowid - lo;
        let record = decoder.decode(&data, timestamp_ms).map_err(|message| BrokerError::Corrupt {
            topic: topic.to_owned(),
            offset,
            message,
        })?;
        out.push(Received { topic: topic.to_owned(), partition: 0, offset, record });
    }
    Ok(out)
}

/// The offset the next record appended to `topic` gets (0 for a topic never written).
pub(super) fn next_offset(conn: &Connection, topic: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT next_offset FROM topics WHERE name = ?1")?
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

/// Records that `group` reads `topic`, so age retention keeps what it has not committed past.
/// The empty group (a reader that never commits) holds nothing.
pub(super) fn register(conn: &Connection, group: &str, topic: &str) -> rusqlite::Result<()> {
    if !group.is_empty() {
        conn.execute("INSERT OR IGNORE INTO commits (grp, topic, offset) VALUES (?1, ?2, 0)", [group, topic])?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_transient_and_other_failures_are_not() {
        let path = Path::new("/var/lib/hookbus/log.db");
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let e = sql_err(path, &full);
        assert!(matches!(e, BrokerError::Full { .. }) && e.is_transient(), "{e:?}");
        assert!(e.to_string().contains("disk full") && e.to_string().contains("log.db"), "{e}");
        let corrupt = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), None);
        assert!(!sql_err(path, &corrupt).is_transient());
    }

    #[test]
    fn topics_get_disjoint_row_id_ranges() {
        let (lo, hi) = id_range(3);
        assert_eq!((lo, hi), (3 << OFFSET_BITS, 4 << OFFSET_BITS));
        assert_eq!(id_range(4).0, hi);
    }
}
