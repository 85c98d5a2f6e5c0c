//! How fast the attempt log absorbs delivery observations, and what `observe()` costs the caller.
//! `cargo run --release -p hookbus-control --example observe_throughput -- [sqlite|postgres://...] [EVENTS]`
//! Each event is reported as the worker would: one attempt, then its verdict (two observations).
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookbus_broker::embedded::EmbeddedBroker;
use hookbus_control::ControlPlane;
use hookbus_control::store::Store;
use hookbus_core::config::Config;
use hookbus_core::live::{DeliveryObservation, ObservationKind};
use hookbus_core::{Attempt, AttemptOutcome, Decision};
use time::OffsetDateTime;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).cloned().unwrap_or_else(|| "sqlite".into());
    // Below the queue size (65,536 observations), so nothing is dropped and the writer is measured.
    let events: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(30_000);
    let dir = tempfile::tempdir().unwrap();
    let store = if backend == "sqlite" {
        Store::sqlite(&dir.path().join("control.db")).unwrap()
    } else {
        Store::postgres(&backend).unwrap()
    };
    let toml = format!(
        "[admin]\ntokens = [{{ token = {{ value = \"t\" }} }}]\n[broker.embedded]\npath = \"{}/log.db\"\n",
        dir.path().display()
    );
    let config = Config::from_toml(&toml, "bench.toml").unwrap();
    let broker = Arc::new(EmbeddedBroker::open(&config.broker.embedded.path).unwrap());
    let mut registry = prometheus_client::registry::Registry::default();
    let plane = ControlPlane::with_store(&config, broker, store.clone(), &mut registry).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let p = plane.clone();
    let s = shutdown.clone();
    let tasks = tokio::spawn(async move { p.run(s).await });
    let sink = plane.observer();
    let generation = uuid::Uuid::now_v7().to_string();

    let started = Instant::now();
    for i in 0..events {
        let at = OffsetDateTime::now_utc();
        let base = |kind| DeliveryObservation {
            subscription: "bench".into(),
            generation: generation.clone(),
            version: 1,
            event_id: format!("e{i}"),
            event_type: "github.push".into(),
            at,
            kind,
        };
        let attempt = Attempt {
            attempt: 1,
            at,
            latency_ms: 3,
            outcome: AttemptOutcome::Delivered,
            decision: Decision::Delivered,
            status: Some(200),
            error: None,
            response_snippet: Some("{\"ok\":true}".into()),
            retry_after_ms: None,
        };
        let headers = vec![("webhook-signature".to_owned(), "<redacted>".to_owned())];
        sink.observe(base(ObservationKind::Attempted { attempt, request_headers: headers }));
        sink.observe(base(ObservationKind::Delivered));
    }
    let pushed = started.elapsed();
    let since = OffsetDateTime::now_utc() - time::Duration::hours(1);
    loop {
        let c = store.counts("bench", &generation, since).await.unwrap();
        if c.delivered as usize >= events {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "writer too slow: {} of {events}", c.delivered);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let written = started.elapsed();
    println!(
        "{backend}: {events} events ({} observations): observe() {:.0} ns per call; all stored after {:.2} s = {:.0} observations/s",
        events * 2,
        pushed.as_nanos() as f64 / (events * 2) as f64,
        written.as_secs_f64(),
        (events * 2) as f64 / written.as_secs_f64()
    );
    shutdown.cancel();
    tasks.await.unwrap();
}
