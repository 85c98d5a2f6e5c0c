//! Writes a log file in the first layout of the embedded log (0001: a WITHOUT ROWID `records`
//! table keyed by topic name and offset, postcard headers, uncompressed), exactly as that version
//! stored it: for the migration test and the before/after size measurement.
use std::path::Path;

use hookbus_broker::Record;
use rusqlite::{Connection, params};

pub fn create(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
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
    .unwrap();
    conn
}

/// Appends `(topic, record)`s in one transaction, as one group commit of that version did.
pub fn append(conn: &mut Connection, records: &[(&str, Record)]) {
    let tx = conn.transaction().unwrap();
    for (topic, r) in records {
        let next: i64 = tx
            .query_row("SELECT coalesce((SELECT next_offset FROM topics WHERE topic = ?1), 0)", [topic], |row| {
                row.get(0)
            })
            .unwrap();
        let headers = postcard::to_allocvec(&r.headers).unwrap();
        tx.prepare_cached(
            "INSERT INTO records (topic, offset, key, headers, payload, timestamp_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .unwrap()
        .execute(params![topic, next, r.key, headers, r.payload, r.timestamp_ms])
        .unwrap();
        tx.prepare_cached(
            "INSERT INTO topics (topic, next_offset) VALUES (?1, ?2)
             ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset",
        )
        .unwrap()
        .execute(params![topic, next + 1])
        .unwrap();
    }
    tx.commit().unwrap();
}

pub fn commit(conn: &Connection, group: &str, topic: &str, offset: i64) {
    conn.execute("INSERT INTO commits (grp, topic, offset) VALUES (?1, ?2, ?3)", params![group, topic, offset])
        .unwrap();
}
