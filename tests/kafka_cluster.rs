//! Three Apache Kafka brokers (KRaft, every topic replicated 3 times, `min.insync.replicas=2`), one
//! `hookbus serve` process, webhooks posted throughout; the leader of a busy partition is SIGKILLed
//! mid-run. Every webhook that got a 202 must be delivered (0 lost), every other answer is a 503 with
//! Retry-After, and the worker carries on without a restart. Then a second broker is killed: with one
//! replica left no write can be replicated, and ingress must answer 503, never 202. Part of the
//! Kafka matrix (runs when `HOOKBUS_TEST_KAFKA_BROKERS` is set, required in CI); it starts its own
//! cluster through `scripts/kafka`.
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use support::bus::{self, Backend, Bus, Options};
use support::kafka::Kafka;
use support::receiver::Receiver;

const EVENTS: usize = 3000;
const CLIENTS: usize = 16;
const DEADLINE: Duration = Duration::from_secs(240);

fn events() -> usize {
    std::env::var("HOOKBUS_CLUSTER_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(EVENTS)
}

/// What the posters saw.
#[derive(Default)]
struct Posted {
    /// Event id and when its 202 arrived.
    accepted: Vec<(String, Instant)>,
    unavailable: usize,
    /// Answers other than 202 and 503-with-Retry-After (must stay empty).
    unexpected: Vec<String>,
}

async fn post_once(client: &reqwest::Client, url: &str, body: &[u8], id: &str) -> Result<(u16, bool), reqwest::Error> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let headers = hookbus_ingress::verify::Scheme::of(hookbus_core::config::SchemeKind::Github)
        .sign(bus::GITHUB_SECRET, body, now, id)
        .unwrap();
    let mut req = client.post(format!("{url}/webhooks/github")).body(body.to_vec()).timeout(Duration::from_secs(30));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await?;
    Ok((resp.status().as_u16(), resp.headers().contains_key("retry-after")))
}

/// Posts `id` until it is accepted, counting 503s; a sender retries after a 503 as providers do.
async fn post_until_accepted(client: &reqwest::Client, url: &str, i: usize, posted: &Mutex<Posted>) {
    let (id, body) = (format!("cluster-{i}"), bus::github_push(&format!("acme/repo-{}", i % 48), "a@b.c"));
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        match post_once(client, url, &body, &id).await {
            Ok((202, _)) => {
                posted.lock().unwrap().accepted.push((id, Instant::now()));
                return;
            }
            Ok((503, true)) => posted.lock().unwrap().unavailable += 1,
            Ok((status, retry_after)) => {
                posted.lock().unwrap().unexpected.push(format!("{id}: {status} (Retry-After: {retry_after})"))
            }
            Err(e) => posted.lock().unwrap().unexpected.push(format!("{id}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The longest gap between consecutive instants at or after `from` (and from `from` to the first).
fn longest_gap(mut times: Vec<Instant>, from: Instant) -> Duration {
    times.retain(|t| *t >= from);
    times.sort();
    let mut last = from;
    let mut gap = Duration::ZERO;
    for t in times {
        gap = gap.max(t - last);
        last = t;
    }
    gap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_kill_on_three_brokers_loses_nothing_that_got_202() {
    if Backend::kafka().is_none() {
        return;
    }
    let started = Instant::now();
    let kafka = tokio::task::spawn_blocking(|| Kafka::cluster(3)).await.unwrap();
    let rx = Receiver::start().await;
    let opts = Options {
        partitions: 3,
        replication_factor: 3,
        produce_timeout_ms: 5000,
        timeout_ms: 2000,
        group_instance_id: Some("cluster-worker"),
        ..Options::default()
    };
    let bus = Bus::new(Backend::Kafka(kafka.bootstrap.clone()), &rx.url, opts);
    let mut serve = bus.spawn(None);
    bus::wait_ready(&serve.url).await;
    let topic = format!("{}-github", bus.prefix);
    let partitions = kafka.partitions(&topic);
    assert_eq!(partitions.len(), 3, "source topic partitions: {partitions:?}");
    assert!(partitions.iter().all(|p| p.isr.len() == 3), "every partition on all three brokers: {partitions:?}");

    let posted = Arc::new(Mutex::new(Posted::default()));
    let poster = {
        let (posted, url) = (posted.clone(), serve.url.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            futures::stream::iter(0..events())
                .for_each_concurrent(CLIENTS, |i| post_until_accepted(&client, &url, i, &posted))
                .await
        })
    };

    // Mid-run, the node that coordinates the worker's consumer group: it leads the group's busy
    // offsets partition (commits every 50 ms) and, with three partitions over three nodes, usually
    // a source partition too. The worker must find the new coordinator and rejoin under its static
    // identity while ingress finds the new partition leaders.
    let deadline = Instant::now() + DEADLINE;
    while posted.lock().unwrap().accepted.len() < events() / 3 {
        assert!(Instant::now() < deadline, "posting made no progress\n{}", bus.child_logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let leader = kafka.coordinator(&format!("{}.crm", bus.prefix));
    let led: Vec<i32> = kafka.partitions(&topic).iter().filter(|p| p.leader == leader).map(|p| p.partition).collect();
    let killed_at = Instant::now();
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.kill(leader as usize);
        kafka
    })
    .await
    .unwrap();
    tokio::time::timeout(DEADLINE, poster).await.expect("posting finished in time").unwrap();
    let after_kill = kafka.partitions(&topic);

    // Every accepted event reaches the target.
    let accepted: HashSet<String> = posted.lock().unwrap().accepted.iter().map(|(id, _)| id.clone()).collect();
    let deadline = Instant::now() + DEADLINE;
    let counts = loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for r in rx.requests().iter().filter(|r| r.status == 200) {
            *counts.entry(r.header("webhook-id").to_owned()).or_default() += 1;
        }
        let lost: Vec<&String> = accepted.iter().filter(|id| !counts.contains_key(*id)).collect();
        if lost.is_empty() {
            break counts;
        }
        assert!(
            Instant::now() < deadline,
            "{} accepted events never delivered, e.g. {:?}\n{}{}",
            lost.len(),
            &lost[..lost.len().min(5)],
            bus.child_logs(),
            kafka.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(serve.is_running(), "hookbus serve must carry on through the broker's death\n{}", bus.child_logs());
    let posted = std::mem::take(&mut *posted.lock().unwrap());
    assert!(posted.unexpected.is_empty(), "answers other than 202 or 503 with Retry-After: {:?}", posted.unexpected);
    assert_eq!(accepted.len(), events(), "every event is accepted in the end");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    let ingress_stall = longest_gap(posted.accepted.iter().map(|(_, t)| *t).collect(), killed_at);
    let delivered_at = rx.requests().iter().filter(|r| r.status == 200).map(|r| r.at).collect();
    let delivery_stall = longest_gap(delivered_at, killed_at);
    support::summary(format!(
        "kafka cluster: events={} accepted={} unavailable_503={} delivered={} lost=0 duplicates={duplicates} \
         killed=node{leader} (group coordinator, leader of source partitions {led:?}) ingress_stall={:.1}s delivery_stall={:.1}s time={:.1}s",
        events(),
        accepted.len(),
        posted.unavailable,
        counts.len(),
        ingress_stall.as_secs_f64(),
        delivery_stall.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
    support::summary(format!("kafka cluster: partitions after the kill: {after_kill:?}"));

    // One replica left: below min.insync.replicas nothing can be acknowledged, so nothing is 202.
    let second = (1..=3).find(|id| *id != leader as usize).unwrap();
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.kill(second);
        kafka
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let answers = futures::future::join_all((0..3).map(|i| {
        let (client, url, body) = (&client, &serve.url, bus::github_push(&format!("acme/solo-{i}"), "a@b.c"));
        async move { post_once(client, url, &body, &format!("one-replica-{i}")).await.unwrap() }
    }))
    .await;
    assert!(answers.iter().all(|a| *a == (503, true)), "one replica left: 503 with Retry-After, got {answers:?}");
    serve.kill();
    drop(kafka);
}
