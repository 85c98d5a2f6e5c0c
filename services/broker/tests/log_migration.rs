//! A log file in the first layout (0001) is migrated on open: every record, offset and committed
//! position is kept, the file gets smaller, and appends go on at the old end. A file from a newer
//! layout is refused with a clear message.
#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/first_layout.rs"]
mod first_layout;

use std::time::Duration;

use hookbus_broker::embedded::EmbeddedBroker;
use hookbus_broker::{Broker, Publisher, Record};

fn checkpointed_bytes(path: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[tokio::test]
async fn a_first_layout_file_is_migrated_with_every_record_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let mut corpus = corpus::Corpus::new(3);
    let written: Vec<(&str, Record)> = (0..900).map(|_| corpus.next()).collect();
    let mut conn = first_layout::create(&path);
    for batch in written.chunks(100) {
        first_layout::append(&mut conn, batch);
    }
    first_layout::commit(&conn, "hookbus.crm", "github", 120);
    drop(conn);
    let old_bytes = checkpointed_bytes(&path);

    let broker = EmbeddedBroker::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    let auto_vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).unwrap();
    assert_eq!((version, auto_vacuum), (2, 2), "compact layout with incremental vacuum");
    drop(conn);
    let new_bytes = checkpointed_bytes(&path);
    assert!(new_bytes * 2 < old_bytes, "migrated file not smaller: {old_bytes} -> {new_bytes}");

    for source in ["github", "stripe", "shopify"] {
        let want: Vec<&Record> = written.iter().filter(|(s, _)| *s == source).map(|(_, r)| r).collect();
        let mut reader = broker.reader(&[source.to_owned()]).unwrap();
        for (offset, r) in want.iter().enumerate() {
            let got = reader.poll(Duration::from_secs(5)).await.unwrap().expect("record");
            assert_eq!((got.offset, &got.record), (offset as i64, *r), "{source} offset {offset}");
        }
        assert!(reader.poll(Duration::from_millis(300)).await.unwrap().is_none(), "{source}: nothing extra");
    }
    let mut sub = broker.consumer("hookbus.crm", &["github".to_owned()]).unwrap();
    assert_eq!(sub.poll(Duration::from_secs(5)).await.unwrap().unwrap().offset, 120, "committed position kept");
    let (_, offset) = broker.publish("github", written[0].1.clone()).await.unwrap();
    assert_eq!(offset, 300, "appends continue at the old end");

    // Opening again (another process, a restart) finds it migrated.
    drop(sub);
    drop(broker);
    let again = EmbeddedBroker::open(&path).unwrap();
    let mut reader = again.reader(&["github".to_owned()]).unwrap();
    assert_eq!(reader.poll(Duration::from_secs(5)).await.unwrap().unwrap().offset, 0);
}

#[test]
fn a_file_from_a_newer_layout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE log (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let err = EmbeddedBroker::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer hookbus") && err.contains("99"), "{err}");
}
