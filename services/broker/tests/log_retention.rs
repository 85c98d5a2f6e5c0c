//! Retention of the embedded log: by age it keeps what a consumer group has not committed past
//! and every dead letter, and the file shrinks; the size cap wins, counts and reports what it
//! took unfinished, and a consumer left behind resumes at the retained start.
#[path = "support/corpus.rs"]
mod corpus;

use std::path::Path;
use std::time::{Duration, SystemTime};

use hookbus_broker::embedded::{Dropped, EmbeddedBroker};
use hookbus_broker::{Broker, Position, Publisher};
use hookbus_core::config::EmbeddedConfig;
use prometheus_client::registry::Registry;

const WAIT: Duration = Duration::from_secs(10);

/// The main file and its WAL, after a checkpoint that moves the WAL into the file.
fn file_bytes(path: &Path) -> u64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).unwrap().len() + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

async fn fill(broker: &EmbeddedBroker, topic: &str, n: usize) {
    let mut c = corpus::Corpus::new(n as u64);
    let tasks = (0..n).map(|_| {
        let record = c.next().1;
        let b = broker.clone();
        let t = topic.to_owned();
        async move { b.publish(&t, record).await.unwrap() }
    });
    futures::future::join_all(tasks).await;
}

fn metrics_text(broker: &EmbeddedBroker) -> String {
    let mut registry = Registry::default();
    broker.register_metrics(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
    out
}

#[tokio::test]
async fn age_keeps_unfinished_records_and_dead_letters_and_the_file_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let config = EmbeddedConfig { path: path.clone(), retention: "1h".into(), ..EmbeddedConfig::default() };
    let broker = EmbeddedBroker::open_with(&config).unwrap();
    fill(&broker, "github", 3000).await;
    fill(&broker, "hookbus.crm.dlq", 200).await;
    let mut sub = broker.consumer("hookbus.crm", &["github".to_owned()]).unwrap();
    let first = sub.poll(WAIT).await.unwrap().expect("a record");
    assert_eq!(first.offset, 0);
    sub.commit(&[Position { topic: "github".into(), partition: 0, offset: 2000 }], true).await.unwrap();
    // A reader (no group) and a group that committed everything hold nothing back.
    let _reader = broker.reader(&["github".to_owned()]).unwrap();

    let now = SystemTime::now();
    assert_eq!(broker.enforce_retention(now).unwrap(), vec![], "nothing is an hour old yet");
    let before = file_bytes(&path);
    let dropped = broker.enforce_retention(now + Duration::from_secs(2 * 3600)).unwrap();
    assert_eq!(
        dropped,
        vec![Dropped { topic: "github".into(), age: 2000, size: 0, size_unfinished: 0 }],
        "only what the group committed past; dead letters stay"
    );
    let after = file_bytes(&path);
    assert!(after * 10 < before * 7, "the file did not shrink: {before} -> {after} bytes");

    // The group resumes where it committed, nothing lost; the dead letters are all there.
    drop(sub);
    let mut again = broker.consumer("hookbus.crm", &["github".to_owned()]).unwrap();
    assert_eq!(again.poll(WAIT).await.unwrap().expect("a record").offset, 2000);
    let mut dlq = broker.reader(&["hookbus.crm.dlq".to_owned()]).unwrap();
    let mut n = 0;
    while dlq.poll(Duration::from_millis(300)).await.unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 200);
    assert!(metrics_text(&broker).contains(r#"hookbus_log_retention_dropped_total{topic="github",reason="age"} 2000"#));
}

#[tokio::test]
async fn the_size_cap_drops_unfinished_records_counts_them_and_moves_the_consumer_to_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let config = EmbeddedConfig { path: path.clone(), retention_bytes: Some(60_000), ..EmbeddedConfig::default() };
    let broker = EmbeddedBroker::open_with(&config).unwrap();
    // The group exists before the records: it has finished none of them.
    let mut sub = broker.consumer("hookbus.crm", &["github".to_owned()]).unwrap();
    fill(&broker, "github", 1000).await;
    let dropped = broker.enforce_retention(SystemTime::now()).unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    let lost = dropped[0].size_unfinished;
    assert!(lost > 500 && lost < 1000 && dropped[0].age == 0 && dropped[0].size == 0, "{dropped:?}");

    // The consumer's buffer is empty: its next read finds the retained start, not offset 0.
    let next = sub.poll(WAIT).await.unwrap().expect("a record");
    assert_eq!(next.offset, lost, "resumed at the first retained record");
    let text = metrics_text(&broker);
    assert!(
        text.contains(&format!(
            r#"hookbus_log_retention_dropped_total{{topic="github",reason="size_unfinished"}} {lost}"#
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(r#"hookbus_log_consumer_skipped_total{{topic="github",group="hookbus.crm"}} {lost}"#)),
        "{text}"
    );
    // What is kept fits the cap, and later passes keep it there.
    fill(&broker, "github", 500).await;
    broker.enforce_retention(SystemTime::now()).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kept: i64 = conn.query_row("SELECT sum(length(data)) FROM log", [], |r| r.get(0)).unwrap();
    assert!(kept <= 60_000, "{kept} bytes kept");
    let count: i64 = conn.query_row("SELECT count(*) FROM log", [], |r| r.get(0)).unwrap();
    assert!(count > 50, "the cap keeps the newest records: {count}");
}
