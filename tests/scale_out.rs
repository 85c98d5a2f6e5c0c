//! Scale-out on Kafka: three `hookbus worker` processes in one consumer group (static membership,
//! short session), a source topic with 12 partitions, two `hookbus ingress` processes, ordered
//! delivery. One worker is SIGKILLed mid-run and never comes back; another is stopped with SIGTERM
//! and started again under its old identity. Nothing accepted is lost, every worker delivers a
//! share, and per key the first delivery of each event comes after the first delivery of every
//! earlier event of that key (a redelivery after the kill may repeat an event, never reorder).
//! Part of the Kafka matrix (`HOOKBUS_TEST_KAFKA_BROKERS`, required in CI).
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use support::bus::{self, Backend, Bus, Options};
use support::process::Child;
use support::receiver::{Receiver, Req};

/// About a minute on a shared two-core machine (debug build, about 750 events/s end to end);
/// `HOOKBUS_SCALE_EVENTS` changes it.
const EVENTS: usize = 50_000;
const KEYS: usize = 200;
const POSTERS: usize = 32;
const SESSION_MS: u64 = 6000;
const DEADLINE: Duration = Duration::from_secs(600);

fn events() -> usize {
    std::env::var("HOOKBUS_SCALE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(EVENTS)
}

/// Event `i` belongs to key `i % KEYS`; its place in that key's sequence is `i / KEYS`.
fn id(i: usize) -> String {
    format!("scale-{i}")
}

fn index(id: &str) -> usize {
    id.strip_prefix("scale-").and_then(|n| n.parse().ok()).expect("a scale-out event id")
}

/// Events this worker process reports as delivered (its /metrics counter), if it answers.
async fn delivered_by(client: &reqwest::Client, url: &str) -> Option<u64> {
    let text = client.get(format!("{url}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines()
        .filter(|l| l.starts_with("hookbus_worker_events_total{") && l.contains("outcome=\"delivered\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .reduce(|a, b| a + b)
}

/// First deliveries in arrival order; checks each key's are in its posting order.
fn first_deliveries_in_order(reqs: &[Req]) -> Result<usize, String> {
    let mut seen = HashSet::new();
    let mut last: HashMap<usize, usize> = HashMap::new();
    for r in reqs.iter().filter(|r| r.status == 200) {
        let i = index(r.header("webhook-id"));
        if !seen.insert(i) {
            continue;
        }
        if let Some(prev) = last.insert(i % KEYS, i)
            && prev > i
        {
            return Err(format!("key {}: event {i} first delivered after event {prev}", i % KEYS));
        }
    }
    Ok(seen.len())
}

/// The longest time any key waited between two consecutive first deliveries that span `at`.
fn longest_key_stall(reqs: &[Req], at: Instant) -> Duration {
    let mut seen = HashSet::new();
    let mut last: HashMap<usize, Instant> = HashMap::new();
    let mut stall = Duration::ZERO;
    for r in reqs.iter().filter(|r| r.status == 200) {
        let i = index(r.header("webhook-id"));
        if seen.insert(i)
            && let Some(prev) = last.insert(i % KEYS, r.at)
            && prev <= at
            && r.at >= at
        {
            stall = stall.max(r.at - prev);
        }
    }
    stall
}

fn spawn_worker(bus: &Bus, name: &str) -> Child {
    bus.spawn_role("worker", None, &[("HOOKBUS_BROKER__KAFKA__GROUP_INSTANCE_ID", name)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_two_ingresses_survive_a_kill_and_a_restart() {
    let Some(backend) = Backend::kafka() else { return };
    let started = Instant::now();
    let rx = Receiver::start().await;
    let opts = Options {
        ordered: true,
        partitions: 12,
        session_timeout_ms: SESSION_MS,
        timeout_ms: 2000,
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let ingress: Vec<Child> = (0..2).map(|_| bus.spawn_role("ingress", None, &[])).collect();
    let mut workers: Vec<Child> = ["w1", "w2", "w3"].iter().map(|n| spawn_worker(&bus, n)).collect();
    for c in ingress.iter().chain(&workers) {
        bus::wait_ready(&c.url).await;
    }

    // Each key's events are posted in order, one at a time, alternating between the two ingresses.
    let accepted = Arc::new(AtomicUsize::new(0));
    let poster = {
        let urls: Vec<String> = ingress.iter().map(|c| c.url.clone()).collect();
        let accepted = accepted.clone();
        tokio::spawn(async move {
            futures::stream::iter(0..KEYS)
                .for_each_concurrent(POSTERS, |key| {
                    let (urls, accepted) = (urls.clone(), accepted.clone());
                    async move {
                        let body = bus::github_push(&format!("acme/repo-{key}"), "a@b.c");
                        for i in (key..events()).step_by(KEYS) {
                            let url = &urls[i % urls.len()];
                            while bus::post_github(url, &body, &id(i)).await.0 != 202 {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
                .await
        })
    };

    // Per-process delivered counts, sampled until the end (a killed process's last sample stands).
    let client = reqwest::Client::new();
    let mut shares: HashMap<String, u64> = HashMap::new();
    let sample = async |workers: &[Child], names: &[&str], shares: &mut HashMap<String, u64>| {
        for (w, name) in workers.iter().zip(names) {
            if let Some(n) = delivered_by(&client, &w.url).await {
                let slot = shares.entry((*name).to_owned()).or_default();
                *slot = (*slot).max(n);
            }
        }
    };
    let delivered = |rx: &Receiver| rx.requests().iter().filter(|r| r.status == 200).count();
    let deadline = Instant::now() + DEADLINE;
    let mut names = vec!["w1", "w2", "w3"];
    while delivered(&rx) < events() / 3 {
        assert!(Instant::now() < deadline, "no progress\n{}", bus.child_logs());
        sample(&workers, &names, &mut shares).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sample(&workers, &names, &mut shares).await;
    let killed_at = Instant::now();
    workers[0].kill();

    while delivered(&rx) < events() * 2 / 3 {
        assert!(Instant::now() < deadline, "no progress after the kill\n{}", bus.child_logs());
        sample(&workers, &names, &mut shares).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sample(&workers, &names, &mut shares).await;
    let restarted_at = Instant::now();
    let status = workers[1].terminate();
    assert!(status.success(), "SIGTERM: the worker drains and exits 0, got {status}");
    let drained = restarted_at.elapsed();
    workers[1] = spawn_worker(&bus, "w2");
    names[1] = "w2 (restarted)";
    bus::wait_ready(&workers[1].url).await;
    let back = restarted_at.elapsed();

    tokio::time::timeout(DEADLINE, poster).await.expect("posting finished in time").unwrap();
    let reqs = loop {
        sample(&workers, &names, &mut shares).await;
        let reqs = rx.requests();
        let ids: HashSet<&str> = reqs.iter().filter(|r| r.status == 200).map(|r| r.header("webhook-id")).collect();
        if ids.len() >= events() {
            break reqs;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} accepted events delivered\n{}",
            ids.len(),
            events(),
            bus.child_logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let first = first_deliveries_in_order(&reqs).unwrap_or_else(|e| panic!("ordered mode broken: {e}"));
    let duplicates = reqs.iter().filter(|r| r.status == 200).count() - first;
    let elapsed = started.elapsed().as_secs_f64();
    let mut share: Vec<(String, u64)> = shares.into_iter().collect();
    share.sort();
    support::summary(format!(
        "scale-out: events={} accepted={} delivered={first} lost=0 duplicates={duplicates} time={elapsed:.1}s \
         ({:.0} events/s end to end)",
        events(),
        accepted.load(Ordering::Relaxed),
        events() as f64 / elapsed
    ));
    support::summary(format!("scale-out: delivered per worker process: {share:?}"));
    support::summary(format!(
        "scale-out: longest wait of a key across the SIGKILL {:.1}s (session timeout {:.0}s); across the SIGTERM \
         and restart {:.1}s (drained and exited after {:.1}s, ready again after {:.1}s)",
        longest_key_stall(&reqs, killed_at).as_secs_f64(),
        SESSION_MS as f64 / 1000.0,
        longest_key_stall(&reqs, restarted_at).as_secs_f64(),
        drained.as_secs_f64(),
        back.as_secs_f64()
    ));
    assert_eq!(accepted.load(Ordering::Relaxed), events());
    for name in ["w1", "w2", "w3"] {
        let n = share.iter().find(|(k, _)| k == name).map_or(0, |(_, n)| *n);
        assert!(n > 0, "worker {name} delivered nothing: {share:?}");
    }
}
