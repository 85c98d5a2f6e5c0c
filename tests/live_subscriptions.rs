//! Subscriptions changed through the admin API while `serve` runs, with no restart: a created
//! subscription delivers within a second or so, a PATCH changes the next delivery's body (and the
//! attempt log records the version that mapped it), pause holds events and resume delivers each
//! exactly once, retry-now re-delivers one event, and delete stops delivery. The config file's own
//! subscription (`crm`, path /crm) keeps running throughout and shows when an event was processed.
#[macro_use]
mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use support::admin::{Node, start, with_admin};
use support::bus::{self, Backend, Bus, Options};
use support::receiver::{Receiver, Req};

const WAIT: Duration = Duration::from_secs(15);
/// Changes reach the worker within a second.
const APPLIED: Duration = Duration::from_secs(1);

async fn post(node: &Node, id: &str) {
    let (status, body) = bus::post_github(&node.url, &bus::github_push("acme/live", "l@example.com"), id).await;
    assert_eq!(status, 202, "{body}");
}

fn to_live<'a>(reqs: &'a [Req], id: &str) -> Vec<&'a Req> {
    reqs.iter().filter(|r| r.path == "/live" && r.header("webhook-id") == id).collect()
}

/// Waits until the config subscription has `id` (so the event has been through the worker),
/// then a little longer, and returns the requests of `id` to /live.
async fn settled(rx: &Receiver, id: &str) -> usize {
    rx.wait_until("the config subscription's delivery", WAIT, |r| {
        r.iter().any(|q| q.path == "/crm" && q.header("webhook-id") == id)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    to_live(&rx.requests(), id).len()
}

async fn live_delivery(rx: &Receiver, id: &str) -> serde_json::Value {
    let reqs = rx.wait_until("a delivery to /live", WAIT, |r| !to_live(r, id).is_empty()).await;
    to_live(&reqs, id)[0].json()
}

async fn subscriptions_follow_the_api(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    with_admin(&bus);
    let node = start(&bus).await;

    let sub = json!({
        "name": "live", "topic": format!("{}-github", bus.prefix), "target": format!("{}/live", rx.url),
        "transform": "{v: 1, id}", "signing_secret": bus::OUT_SECRET, "retry": {"schedule": ["0s", "200ms"]}, "timeout_ms": 5000,
    });
    let (status, created) = node.call(Method::POST, "/subscriptions", Some(sub)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);

    // Created: delivers events accepted from now on, without a restart.
    let started = Instant::now();
    let e1 = uuid::Uuid::new_v4().to_string();
    post(&node, &e1).await;
    assert_eq!(live_delivery(&rx, &e1).await, json!({"v": 1, "id": e1}));
    println!("created subscription delivered its first event {:?} after the POST", started.elapsed());

    // PATCH: within a second or so, deliveries are mapped by version 2 (events the worker took
    // before it saw the change may still carry version 1).
    let (status, patched) =
        node.call(Method::PATCH, "/subscriptions/live", Some(json!({"transform": "{v: 2, id}"}))).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["version"], 2);
    let patched_at = Instant::now();
    let e2 = loop {
        let id = uuid::Uuid::new_v4().to_string();
        post(&node, &id).await;
        let body = live_delivery(&rx, &id).await;
        if body == json!({"v": 2, "id": id}) {
            break id;
        }
        assert_eq!(body, json!({"v": 1, "id": id}), "mapped by neither version");
        assert!(
            patched_at.elapsed() < Duration::from_secs(3),
            "version 2 not applied after {:?}",
            patched_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("the PATCH applied within {:?}", patched_at.elapsed());
    let e2b = uuid::Uuid::new_v4().to_string();
    post(&node, &e2b).await;
    assert_eq!(live_delivery(&rx, &e2b).await, json!({"v": 2, "id": e2b}), "and stays applied");
    let detail = node
        .get_until(&format!("/events/{e2}"), |b| {
            b["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["subscription"] == "live" && d["status"] == "delivered"))
        })
        .await;
    let live = detail["deliveries"].as_array().unwrap().iter().find(|d| d["subscription"] == "live").unwrap().clone();
    assert_eq!(live["status"], "delivered", "{detail}");
    assert_eq!(live["attempts"][0]["status"], 200, "{detail}");
    assert_eq!(live["attempts"][0]["version"], 2, "the attempt names the version that mapped it: {detail}");

    // Pause holds events; resume delivers each exactly once.
    let (status, _) = node.call(Method::POST, "/subscriptions/live/pause", None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(APPLIED).await;
    let held: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for id in &held {
        post(&node, id).await;
    }
    for id in &held {
        assert_eq!(settled(&rx, id).await, 0, "paused, yet {id} was delivered");
    }
    let (status, _) = node.call(Method::POST, "/subscriptions/live/resume", None).await;
    assert_eq!(status, 200);
    for id in &held {
        assert_eq!(live_delivery(&rx, id).await, json!({"v": 2, "id": id}));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    for id in &held {
        assert_eq!(to_live(&rx.requests(), id).len(), 1, "{id} is delivered exactly once after resume");
    }

    // Retry now: one event delivered again.
    let (status, queued) = node.call(Method::POST, &format!("/subscriptions/live/events/{e1}/retry"), None).await;
    assert_eq!(status, 202, "{queued}");
    rx.wait_until("the retried delivery", WAIT, |r| to_live(r, &e1).len() == 2).await;

    // Stats: counts from the attempt log; lag and circuit from the worker, reported every 5 s.
    let stats = node
        .get_until("/subscriptions/live/stats", |b| b["delivered"].as_u64() >= Some(7) && b["lag_records"] == 0)
        .await;
    assert!(stats["delivered"].as_u64() >= Some(7), "{stats}");
    assert_eq!(stats["lag_records"], 0, "caught up: {stats}");
    assert_eq!(stats["lag_seconds"], 0.0, "{stats}");
    assert_eq!(stats["circuit"], "closed", "{stats}");
    let metrics = reqwest::get(format!("{}/metrics", node.admin)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"hookbus_consumer_lag_records{subscription="live"} 0"#), "{metrics}");

    // Delete: no more deliveries.
    let (status, _) = node.call(Method::DELETE, "/subscriptions/live", None).await;
    assert!(status == 200 || status == 204, "delete answered {status}");
    tokio::time::sleep(APPLIED).await;
    let e3 = uuid::Uuid::new_v4().to_string();
    post(&node, &e3).await;
    assert_eq!(settled(&rx, &e3).await, 0, "a deleted subscription delivered");
    node.stop().await;
}

on_every_backend!(subscriptions_follow_the_api);
