//! Bytes on disk per event and append throughput of the embedded log, on a varied corpus
//! (tests/support/corpus.rs), in the previous layout and the compact one:
//!
//!     cargo run --release -p hookbus-broker --example log_footprint -- [events] [concurrency]
//!
//! "before": the first layout (docs/decisions/0001) written as its group commit did, batches of
//! `concurrency` records. "after": the real `EmbeddedBroker`, `concurrency` publishers at once; then
//! steady state under a size cap: retention keeps about half the events while as many more are written.
//! It also times the migration of the first-layout file.
#[path = "../../tests/support/corpus.rs"]
mod corpus;
#[path = "../../tests/support/first_layout.rs"]
#[allow(dead_code)]
mod first_layout;

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use hookbus_broker::embedded::EmbeddedBroker;
use hookbus_broker::{Broker, Publisher, Record};
use hookbus_core::config::EmbeddedConfig;

fn on_disk(path: &Path) -> u64 {
    // The WAL is checkpointed and cut first, so the main file holds everything.
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).unwrap().len() + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

fn report(label: &str, bytes: u64, events: usize, body: u64, secs: Option<f64>) {
    let per = bytes as f64 / events as f64;
    let rate = secs.map(|s| format!(", {:.0} events/s", events as f64 / s)).unwrap_or_default();
    println!(
        "{label}: {events} events, {bytes} bytes on disk, {per:.0} B/event, {:.2}x the body bytes{rate}",
        bytes as f64 / body as f64
    );
}

async fn publish_all(broker: &EmbeddedBroker, records: &[(&'static str, Record)], concurrency: usize) {
    let broker = Arc::new(broker.clone());
    let chunks: Vec<Vec<(&'static str, Record)>> =
        records.chunks(records.len().div_ceil(concurrency)).map(<[_]>::to_vec).collect();
    let tasks = chunks.into_iter().map(|chunk| {
        let b = broker.clone();
        tokio::spawn(async move {
            for (topic, r) in chunk {
                b.publish(topic, r).await.unwrap();
            }
        })
    });
    for t in futures::future::join_all(tasks).await {
        t.unwrap();
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("numbers: [events] [concurrency]"));
    let events = args.next().unwrap_or(50_000);
    let concurrency = args.next().unwrap_or(64);
    let mut corpus = corpus::Corpus::new(7);
    let records: Vec<(&'static str, Record)> = (0..events).map(|_| corpus.next()).collect();
    let body: u64 = records.iter().map(|(_, r)| r.payload.len() as u64).sum();
    let extra: u64 = records
        .iter()
        .map(|(_, r)| {
            r.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() as u64
                + r.key.as_ref().map_or(0, |k| k.len() as u64)
        })
        .sum();
    println!(
        "corpus: {events} events over 3 sources, body {:.0} B/event, headers+key {:.0} B/event",
        body as f64 / events as f64,
        extra as f64 / events as f64
    );
    let dir = tempfile::tempdir_in(std::env::var("FOOTPRINT_DIR").unwrap_or_else(|_| ".".into())).unwrap();

    let old = dir.path().join("first-layout.db");
    let mut conn = first_layout::create(&old);
    let started = Instant::now();
    for batch in records.chunks(concurrency) {
        first_layout::append(&mut conn, batch);
    }
    let secs = started.elapsed().as_secs_f64();
    drop(conn);
    report("before (first layout)", on_disk(&old), events, body, Some(secs));
    let started = Instant::now();
    drop(EmbeddedBroker::open(&old).unwrap());
    let secs = started.elapsed().as_secs_f64();
    println!("migrating that file on open: {secs:.1} s, then {} bytes on disk", on_disk(&old));

    let new = dir.path().join("compact.db");
    let broker = EmbeddedBroker::open(&new).unwrap();
    let started = Instant::now();
    publish_all(&broker, &records, concurrency).await;
    let secs = started.elapsed().as_secs_f64();
    report("after (compact)", on_disk(&new), events, body, Some(secs));
    let mut reader = broker.reader(&["github".into(), "stripe".into(), "shopify".into()]).unwrap();
    let started = Instant::now();
    let mut read = 0;
    while reader.poll(std::time::Duration::from_millis(200)).await.unwrap().is_some() {
        read += 1;
    }
    // The last empty poll waited 200 ms for nothing; it is not reading time.
    let secs = (started.elapsed().as_secs_f64() - 0.2).max(1e-3);
    println!("reading them back (compact): {read} records, {:.0} records/s", read as f64 / secs);
    drop(broker);

    // Steady state: a size cap keeping about half of what was written, then as much again written
    // in rounds with a retention pass after each, so freed pages are reused.
    let per_topic = on_disk(&new) / 3 / 2;
    let config = EmbeddedConfig { path: new.clone(), retention_bytes: Some(per_topic), ..EmbeddedConfig::default() };
    let broker = EmbeddedBroker::open_with(&config).unwrap();
    broker.enforce_retention(SystemTime::now()).unwrap();
    let mut more = corpus::Corpus::new(8);
    let round = (events / 10).max(1);
    for _ in 0..10 {
        let batch: Vec<_> = (0..round).map(|_| more.next()).collect();
        publish_all(&broker, &batch, concurrency).await;
        broker.enforce_retention(SystemTime::now()).unwrap();
    }
    drop(broker);
    let conn = rusqlite::Connection::open(&new).unwrap();
    let kept: i64 = conn.query_row("SELECT count(*) FROM log", [], |r| r.get(0)).unwrap();
    drop(conn);
    // Body bytes of what is kept: the corpus's mean body size times the records kept.
    let kept_body = body as f64 / events as f64 * kept as f64;
    report("steady state (compact, size cap)", on_disk(&new), kept as usize, kept_body as u64, None);
}
