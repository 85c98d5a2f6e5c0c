//! Thousands of deliveries in flight to a slow target: memory stays bounded, the Kafka consumer keeps
//! its place in the group (no rebalance while every request is held), and ordered mode keeps each
//! key's order. Runs `hookbus serve` as a child process on every backend (Kafka when configured;
//! required in CI), so its peak RSS is its own.
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

/// Peak resident memory allowed for a debug build with 3,000 requests in flight (about 270 MiB on
/// mimalloc, which keeps freed pages for reuse; 195 MiB on glibc malloc). It bounds growth, such as
/// a copy of every body per retry tier; the release figure at 10,000 is in BENCHMARKS.md.
const MAX_RSS_MIB: u64 = 384;

struct Run {
    events: usize,
    keys: usize,
    hold: Duration,
    ordered: bool,
}

async fn slow_target(backend: Backend, run: Run) {
    let started = Instant::now();
    let name = format!("{backend:?} ordered={}", run.ordered);
    let rx = Receiver::start().await;
    rx.set_default(200, run.hold);
    let settings = format!("concurrency = {}", run.events);
    let opts = Options {
        ordered: run.ordered,
        partitions: 4,
        timeout_ms: 30_000,
        session_timeout_ms: 45_000,
        crm_settings: Box::leak(settings.into_boxed_str()),
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let child = bus.spawn(None);
    bus::wait_ready(&child.url).await;

    // Each key's events are posted one after another (seq in the pusher's email), keys at once.
    futures::stream::iter(0..run.keys)
        .for_each_concurrent(64, |k| {
            let url = child.url.clone();
            async move {
                for seq in 0..run.events / run.keys {
                    let body = bus::github_push(&format!("acme/key-{k}"), &format!("{seq}@seq"));
                    let (status, json) = bus::post_github(&url, &body, &format!("hc-{k}-{seq}")).await;
                    assert_eq!(status, 202, "key {k} seq {seq}: {json}");
                }
            }
        })
        .await;

    let mut peak_in_flight = 0;
    let deadline = Instant::now() + Duration::from_secs(180);
    while rx.requests().len() < run.events {
        peak_in_flight = peak_in_flight.max(rx.arrived() - rx.requests().len());
        assert!(Instant::now() < deadline, "[{name}] only {} of {} delivered", rx.requests().len(), run.events);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_mib = child.peak_rss_kib() / 1024;
    let revoked = bus.child_logs().matches("Kafka partitions revoked").count();

    // First delivery of each (key, seq), in arrival order per key.
    let mut firsts: HashMap<String, Vec<usize>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in rx.requests() {
        let body = r.json();
        let seq: usize = body["email"].as_str().unwrap().split('@').next().unwrap().parse().unwrap();
        let key = body["repo"].as_str().unwrap().to_owned();
        if seen.insert((key.clone(), seq)) {
            firsts.entry(key).or_default().push(seq);
        }
    }
    support::summary(format!(
        "high concurrency [{name}]: events={} keys={} hold={:?} delivered={} peak_in_flight={peak_in_flight} \
         peak_rss={rss_mib} MiB revocations={revoked} time={:.1}s",
        run.events,
        run.keys,
        run.hold,
        seen.len(),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(seen.len(), run.events, "[{name}] every event delivered");
    assert!(rss_mib < MAX_RSS_MIB, "[{name}] peak RSS {rss_mib} MiB");
    assert_eq!(revoked, 0, "[{name}] the consumer lost its partitions while requests were held");
    if run.ordered {
        for (key, seqs) in &firsts {
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "[{name}] {key} out of order: {seqs:?}");
        }
        // One request per key at a time: the keys bound what is in flight.
        assert!(peak_in_flight <= run.keys, "[{name}] {peak_in_flight} in flight over {} keys", run.keys);
    }
    // Most of the events were held at once: this is the load the test is about.
    assert!(peak_in_flight * 2 >= run.keys.min(run.events), "[{name}] only {peak_in_flight} in flight at most");
}

/// One test, the runs one after another: two of them side by side on a small machine would hold
/// twice the connections and measure each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_in_flight_to_a_slow_target() {
    let mut backends = vec![Backend::Embedded];
    backends.extend(Backend::kafka());
    for backend in backends {
        let unordered = Run { events: 3000, keys: 3000, hold: Duration::from_secs(8), ordered: false };
        slow_target(backend.clone(), unordered).await;
        let ordered = Run { events: 3000, keys: 1000, hold: Duration::from_millis(1500), ordered: true };
        slow_target(backend, ordered).await;
    }
}
