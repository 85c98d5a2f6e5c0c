//! The log file's schema, and the migration of a file in the first layout (a WITHOUT ROWID
//! `records` table keyed by topic name and offset, uncompressed) to the compact one. See
//! docs/decisions/0008-compact-embedded-log.md.
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{codec, store};
use crate::{BrokerError, Record};

/// `PRAGMA user_version` of the compact layout. The first layout left it at 0.
const VERSION: i64 = 2;

const CREATE: &str = "
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
        next_offset INTEGER NOT NULL, bytes INTEGER NOT NULL
    );
    CREATE TABLE log (id INTEGER PRIMARY KEY, timestamp_ms INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS commits (
        grp TEXT NOT NULL, topic TEXT NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY (grp, topic)
    ) WITHOUT ROWID;";

/// Brings the file to the current layout: creates it, migrates a first-layout file, or refuses a
/// file written by a newer hookbus. Safe when several processes open the file at once: the check
/// and the work share one write transaction.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), BrokerError> {
    // auto_vacuum can only change before the first table exists (or by a VACUUM): set it first so
    // a new file gets it for free. Space freed by retention is then given back to the filesystem.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").map_err(|e| store::err(path, e))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| store::err(path, e))?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| store::err(path, e))?;
    let has_records: bool = tx
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'", [], |r| r.get(0))
        .map_err(|e| store::err(path, e))?;
    match version {
        VERSION => {
            drop(tx);
            enable_incremental_vacuum(conn, path);
            return Ok(());
        }
        0 if has_records => {
            tracing::info!(path = %path.display(), "migrating the embedded log to the compact layout");
            let copied = from_first_layout(&tx).map_err(|e| refused(path, e))?;
            tracing::info!(path = %path.display(), records = copied, "embedded log migrated");
        }
        0 => tx.execute_batch(CREATE).map_err(|e| store::err(path, e))?,
        newer => {
            return Err(store::err(
                path,
                format!("layout version {newer} was written by a newer hookbus (this one reads {VERSION})"),
            ));
        }
    }
    tx.pragma_update(None, "user_version", VERSION).map_err(|e| store::err(path, e))?;
    tx.commit().map_err(|e| refused(path, e))?;
    enable_incremental_vacuum(conn, path);
    Ok(())
}

fn refused(path: &Path, e: impl std::fmt::Display) -> BrokerError {
    store::err(
        path,
        format!(
            "cannot migrate to the compact layout ({e}); nothing was changed. It needs free disk about the \
             size of the file: free space and start again, or drain the log first — stop ingress, let \
             `hookbus worker` with the previous version deliver until every subscription's lag is 0 and \
             `hookbus dlq list` shows nothing you need, then move {} away and start this version",
            path.display()
        ),
    )
}

/// Copies every record of the first layout into the compact tables, then drops the old ones.
fn from_first_layout(tx: &rusqlite::Transaction<'_>) -> Result<u64, String> {
    let e = |e: rusqlite::Error| e.to_string();
    tx.execute_batch("ALTER TABLE records RENAME TO records_v1; ALTER TABLE topics RENAME TO topics_v1;").map_err(e)?;
    tx.execute_batch(CREATE).map_err(e)?;
    tx.execute(
        "INSERT INTO topics (name, next_offset, bytes) SELECT topic, next_offset, 0 FROM topics_v1 ORDER BY topic",
        [],
    )
    .map_err(e)?;
    let mut copied = 0u64;
    let mut encoder = codec::Encoder::new()?;
    {
        let mut rows = tx
            .prepare(
                "SELECT t.id, r.offset, r.key, r.headers, r.payload, r.timestamp_ms
                 FROM records_v1 r JOIN topics t ON t.name = r.topic ORDER BY t.id, r.offset",
            )
            .map_err(e)?;
        let mut insert = tx.prepare("INSERT INTO log (id, timestamp_ms, data) VALUES (?1, ?2, ?3)").map_err(e)?;
        let mut grow = tx.prepare("UPDATE topics SET bytes = bytes + ?2 WHERE id = ?1").map_err(e)?;
        let mut q = rows.query([]).map_err(e)?;
        while let Some(row) = q.next().map_err(e)? {
            let (topic_id, offset): (i64, i64) = (row.get(0).map_err(e)?, row.get(1).map_err(e)?);
            let headers: Vec<u8> = row.get(3).map_err(e)?;
            let record = Record {
                key: row.get(2).map_err(e)?,
                headers: postcard::from_bytes(&headers).map_err(|x| format!("headers at offset {offset}: {x}"))?,
                payload: row.get(4).map_err(e)?,
                timestamp_ms: row.get(5).map_err(e)?,
            };
            let data = encoder.encode(&record)?;
            insert
                .execute(rusqlite::params![store::id_range(topic_id).0 + offset, record.timestamp_ms, data])
                .map_err(e)?;
            grow.execute(rusqlite::params![topic_id, data.len() as i64]).map_err(e)?;
            copied += 1;
        }
    }
    tx.execute_batch("DROP TABLE records_v1; DROP TABLE topics_v1;").map_err(e)?;
    Ok(copied)
}

/// A file created before `auto_vacuum` was set (a migrated one) needs one VACUUM to switch it on.
/// Best effort: without it the log still works, it only keeps freed pages for reuse.
fn enable_incremental_vacuum(conn: &Connection, path: &Path) {
    let mode: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).unwrap_or(2);
    if mode == 2 {
        return;
    }
    if let Err(e) = conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;") {
        tracing::warn!(path = %path.display(), error = %e, "could not switch on incremental vacuum; freed space is reused but not returned");
    }
}
