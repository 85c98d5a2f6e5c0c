//! A source's quarantine through the API: listed with the violations it arrived with, released
//! against the contracts the node loaded (those that pass go to the source's topic unchanged, minus
//! the violations header; the others stay, with what is wrong now). On both stores.
mod support;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use hookbus_broker::{Broker as _, Publisher as _, Record};
use hookbus_control::ControlPlane;
use hookbus_control::store::Store;
use hookbus_core::CloudEvent;
use hookbus_core::config::Config;
use serde_json::json;
use support::{Harness, READ, WRITE};

fn harness_config(dir: &std::path::Path) -> Config {
    let text = format!(
        r#"
[admin]
tokens = [{{ token = {{ value = "{WRITE}" }}, scope = "write" }}, {{ token = {{ value = "{READ}" }}, scope = "read" }}]
encryption_key = {{ value = "test-encryption-key" }}

[broker]
topic_prefix = "hb"
embedded = {{ path = "{}/hookbus.db" }}

[sources.github]
scheme = "github"
secrets = [{{ value = "gh" }}]
on_violation = "quarantine"
contracts = {{ "github.push" = {{ required = ["ref"] }} }}
"#,
        dir.display()
    );
    Config::from_toml(&text, "test.toml").unwrap()
}

/// Writes `body` to the quarantine topic as ingress does: the source record plus the header.
async fn quarantine(h: &Harness, id: &str, body: serde_json::Value) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let event = CloudEvent::from_body(id.into(), "github", "github.push".into(), None, &bytes);
    let mut record = Record::from_event(&event, &bytes, 1_700_000_000_000);
    record
        .headers
        .push(("ce_schemaviolations".into(), br#"[{"path":"","message":"\"ref\" is a required property"}]"#.to_vec()));
    h.broker.publish("hb.github.quarantine", record).await.unwrap();
}

async fn quarantine_is_listed_and_released(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let config = harness_config(dir.path());
    let broker = hookbus_broker::embedded::EmbeddedBroker::open(&config.broker.embedded.path).unwrap();
    let mut registry = prometheus_client::registry::Registry::default();
    let plane = ControlPlane::with_store(&config, Arc::new(broker.clone()), store, &mut registry).await.unwrap();
    let h = Harness { router: plane.router(), plane, broker, config, dir };

    // One arrived before the contract was relaxed to what it is now; one still breaks it.
    quarantine(&h, "fixed", json!({"ref": "refs/heads/main"})).await;
    quarantine(&h, "broken", json!({"after": "abc"})).await;
    let (s, v) = h.get("/api/v1/sources/github/quarantine").await;
    assert_eq!((s, &v["total"]), (StatusCode::OK, &json!(2)), "{v}");
    assert_eq!(v["events"][0]["violations"], json!([{"path": "", "message": "\"ref\" is a required property"}]));
    let (s, v) = h.get("/api/v1/sources/github/quarantine?limit=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = h.get("/api/v1/sources/nope/quarantine").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _) = h.call(Method::POST, "/api/v1/sources/github/quarantine/release", Some(READ), Some(json!({}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "releasing needs a write token");
    let (s, v) = h.post("/api/v1/sources/github/quarantine/release", json!({"event_ids": []})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = h.post("/api/v1/sources/github/quarantine/release", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["released"], json!(["fixed"]));
    assert_eq!(v["kept"][0]["event_id"], "broken");
    assert!(v["kept"][0]["violations"][0]["message"].as_str().unwrap().contains("ref"), "{v}");

    let mut reader = h.broker.reader(&["github".to_owned()]).unwrap();
    let released = reader.poll(std::time::Duration::from_secs(2)).await.unwrap().expect("released to the topic");
    assert_eq!(released.record.header_str("ce_id"), Some("fixed"));
    assert!(released.record.header("ce_schemaviolations").is_none(), "{:?}", released.record.headers);
    assert_eq!(released.record.payload, serde_json::to_vec(&json!({"ref": "refs/heads/main"})).unwrap());
    let (_, v) = h.get("/api/v1/sources/github/quarantine").await;
    assert_eq!(v["total"], 1, "the released one is no longer listed: {v}");
}
on_both!(quarantine_sqlite, quarantine_postgres, quarantine_is_listed_and_released);
