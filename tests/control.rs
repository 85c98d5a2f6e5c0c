//! The control plane inside a running hookbus: the admin listener serves the API and the ops routes,
//! the event index follows the broker, ingress reports rejections, and API subscriptions reach the
//! worker, also after a restart; `hookbus dlq` and `hookbus replay` work through the API. Changes
//! applied while the worker runs are tested in tests/live_subscriptions.rs.
#[macro_use]
mod support;

use std::time::Duration;

use support::admin::{cli, start, with_admin};
use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

/// A test bus on the embedded log with an `[admin]` section.
fn admin_bus(receiver_url: &str) -> Bus {
    let bus = Bus::new(Backend::Embedded, receiver_url, Options::default());
    with_admin(&bus);
    bus
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_runs_beside_ingress_and_worker() {
    let rx = Receiver::start().await;
    let bus = admin_bus(&rx.url);
    let node = start(&bus).await;

    let client = reqwest::Client::new();
    let metrics = client.get(format!("{}/metrics", node.admin)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hookbus_control_observations_dropped"), "control metrics on the admin listener");
    let unauth = client.get(format!("{}/api/v1/subscriptions", node.admin)).send().await.unwrap();
    assert_eq!(unauth.status(), 401);

    let sub = serde_json::json!({
        "name": "api-crm", "topic": format!("{}-github", bus.prefix), "target": format!("{}/api", rx.url),
        "transform": "{id, kind: .type}", "signing_secret": bus::OUT_SECRET, "retry": {"schedule": ["0s", "100ms"]}, "timeout_ms": 5000,
    });
    let created = node.api(reqwest::Method::POST, "/subscriptions").json(&sub).send().await.unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    let first = uuid::Uuid::new_v4().to_string();
    let (status, _) = bus::post_github(&node.url, &bus::github_push("acme/api", "a@example.com"), &first).await;
    assert_eq!(status, 202);
    let page = node.get_until("/events?source=github", |b| b["events"][0]["id"] == first.as_str()).await;
    assert_eq!(page["events"][0]["id"], first.as_str(), "the indexer found the accepted event: {page}");
    rx.wait_until("config subscription delivery", Duration::from_secs(30), |r| r.iter().any(|q| q.path == "/crm"))
        .await;

    let bad = bus::post(&node.url, "github", &[("x-hub-signature-256".into(), "sha256=00".into())], b"{}").await;
    assert_eq!(bad.0, 401);
    let sources = node.get_until("/sources", |b| b["sources"][0]["rejections"][0].is_object()).await;
    let github = sources["sources"].as_array().unwrap().iter().find(|s| s["name"] == "github").unwrap().clone();
    assert!(github["rejections"][0]["code"].is_string(), "{sources}");
    assert!(github["last_received_at"].is_string());
    node.stop().await;

    // Started again, the worker delivers to the API subscription (signed, mapped).
    let node = start(&bus).await;
    let second = uuid::Uuid::new_v4().to_string();
    bus::post_github(&node.url, &bus::github_push("acme/api", "b@example.com"), &second).await;
    let got = rx
        .wait_until("API subscription delivery", Duration::from_secs(30), |r| {
            r.iter().any(|q| q.path == "/api" && q.header("webhook-id") == second)
        })
        .await;
    let req = got.iter().find(|q| q.path == "/api" && q.header("webhook-id") == second).unwrap();
    assert_eq!(req.json(), serde_json::json!({"id": second, "kind": "github.push"}));
    assert!(!req.header("webhook-signature").is_empty());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_and_replay_commands_work_through_the_api() {
    let rx = Receiver::start().await;
    rx.fail_path("/crm", 400);
    let bus = admin_bus(&rx.url);
    let node = start(&bus).await;
    let id = uuid::Uuid::new_v4().to_string();
    bus::post_github(&node.url, &bus::github_push("acme/api", "a@example.com"), &id).await;
    let dl = node.get_until("/subscriptions/crm/dead-letters", |b| b["total"] == 1).await;
    assert_eq!(dl["dead_letters"][0]["event_id"], id.as_str(), "{dl}");

    let listed = cli(&["dlq", "list", "--api", &node.admin, "--subscription", "crm"]).await;
    assert!(listed.contains(&id) && listed.contains("1 pending dead letter(s) for crm"), "{listed}");
    rx.fail_path("/crm", 200);
    let redriven =
        cli(&["dlq", "redrive", "--api", &node.admin, "--subscription", "crm", "--reason", "permanent_failure"]).await;
    assert!(redriven.contains("redrove 1 dead letter(s) of crm"), "{redriven}");
    rx.wait_until("redriven delivery", Duration::from_secs(30), |r| {
        r.iter().any(|q| q.path == "/crm" && q.status == 200 && q.header("webhook-id") == id)
    })
    .await;
    let listed = cli(&["dlq", "list", "--api", &node.admin, "--subscription", "crm"]).await;
    assert!(listed.contains("0 pending dead letter(s)"), "{listed}");

    let replayed = cli(&["replay", "--api", &node.admin, "--subscription", "crm", "--from", "1h"]).await;
    assert!(replayed.contains("replayed 1 event(s) to crm"), "{replayed}");
    node.stop().await;
}
