//! Several nodes on Kafka sharing one PostgreSQL control store: a subscription created through one
//! node's admin API is run by the workers of both (one consumer group, partitions split between
//! them), and `hookbus dlq list --api` / `redrive --api` work against either node.
//!
//! Needs HOOKBUS_TEST_KAFKA_BROKERS and HOOKBUS_TEST_POSTGRES_URL (required under CI=true).
#[macro_use]
mod support;

use std::time::{Duration, Instant};

use support::admin::{TOKEN, cli, with_admin_store};
use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

fn postgres_url() -> Option<String> {
    match std::env::var("HOOKBUS_TEST_POSTGRES_URL") {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but HOOKBUS_TEST_POSTGRES_URL is unset");
            eprintln!("skipping: set HOOKBUS_TEST_POSTGRES_URL to run the multi-node control-plane test");
            None
        }
    }
}

/// A store URL on a schema of its own, so the run sees only its own subscriptions.
async fn fresh_schema(url: &str) -> String {
    let schema = format!("c_{}", uuid::Uuid::new_v4().simple());
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect to test postgres");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

async fn api(
    admin: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().request(method, format!("{admin}/api/v1{path}")).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or_default())
}

/// `hookbus_worker_events_total` for `subscription` and `outcome` on a node's /metrics.
async fn events(admin: &str, subscription: &str, outcome: &str) -> u64 {
    let text = reqwest::get(format!("{admin}/metrics")).await.unwrap().text().await.unwrap();
    let prefix = format!(r#"hookbus_worker_events_total{{subscription="{subscription}",outcome="{outcome}"}} "#);
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_api_subscriptions_and_dead_letters() {
    let Some(backend) = Backend::kafka() else { return };
    let Some(pg) = postgres_url() else { return };
    let store = fresh_schema(&pg).await;
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options { partitions: 4, ..Options::default() });
    with_admin_store(&bus, &store);
    let (admin_a, admin_b) = (free_addr(), free_addr());
    let a = bus.spawn_role("serve", None, &[("HOOKBUS_ADMIN__LISTEN", admin_a.as_str())]);
    let b = bus.spawn_role("worker", None, &[("HOOKBUS_ADMIN__LISTEN", admin_b.as_str())]);
    let (admin_a, admin_b) = (format!("http://{admin_a}"), format!("http://{admin_b}"));
    for admin in [&admin_a, &admin_b] {
        let ready = async {
            while !reqwest::get(format!("{admin}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(60), ready).await.is_err() {
            panic!("{admin} did not become ready:\n{}", bus.child_logs());
        }
    }

    let sub = serde_json::json!({
        "name": "shared", "topic": format!("{}-github", bus.prefix), "target": format!("{}/shared", rx.url),
        "transform": "{id}", "timeout_ms": 5000, "start": "earliest", "retry": {"schedule": ["0s", "100ms"]},
    });
    let (status, created) = api(&admin_a, reqwest::Method::POST, "/subscriptions", Some(sub)).await;
    assert_eq!(status, 201, "{created}");
    let (status, seen) = api(&admin_b, reqwest::Method::GET, "/subscriptions/shared", None).await;
    assert_eq!((status, seen["version"].as_u64()), (200, Some(1)), "the other node reads the same store: {seen}");

    // Events over 16 repositories (partition keys) until both workers have delivered some: the
    // group spreads the 4 partitions once the second member has joined. Bounded.
    let started = Instant::now();
    let mut sent = Vec::new();
    while events(&admin_a, "shared", "delivered").await == 0 || events(&admin_b, "shared", "delivered").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "both nodes should deliver; node a {}, node b {}\n{}",
            events(&admin_a, "shared", "delivered").await,
            events(&admin_b, "shared", "delivered").await,
            bus.child_logs()
        );
        for i in 0..16 {
            let id = uuid::Uuid::new_v4().to_string();
            let body = bus::github_push(&format!("acme/repo-{i}"), "c@example.com");
            assert_eq!(bus::post_github(&a.url, &body, &id).await.0, 202);
            sent.push(id);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let got = rx
        .wait_until("every event delivered", Duration::from_secs(60), |r| {
            sent.iter().all(|id| r.iter().any(|q| q.path == "/shared" && q.header("webhook-id") == id))
        })
        .await;
    let (da, db) = (events(&admin_a, "shared", "delivered").await, events(&admin_b, "shared", "delivered").await);
    println!("{} events; delivered by node a {da}, node b {db}", sent.len());
    assert!(got.iter().filter(|q| q.path == "/shared").count() >= sent.len());

    // A dead letter, listed and redriven through either node's API.
    rx.fail_path("/shared", 400);
    let dead = uuid::Uuid::new_v4().to_string();
    assert_eq!(bus::post_github(&a.url, &bus::github_push("acme/repo-1", "d@example.com"), &dead).await.0, 202);
    let listed = loop {
        let out = cli(&["dlq", "list", "--api", &admin_b, "--subscription", "shared"]).await;
        if out.contains(&dead) {
            break out;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "the dead letter never showed: {out}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(listed.contains("1 pending dead letter(s) for shared"), "{listed}");
    rx.fail_path("/shared", 200);
    let redriven = cli(&["dlq", "redrive", "--api", &admin_a, "--subscription", "shared"]).await;
    assert!(redriven.contains("redrove 1 dead letter(s) of shared"), "{redriven}");
    rx.wait_until("the redriven delivery", Duration::from_secs(60), |r| {
        r.iter().any(|q| q.path == "/shared" && q.status == 200 && q.header("webhook-id") == dead)
    })
    .await;
    drop((a, b));
}
