//! Schema contracts at the router: the event's data is checked after the signature and before
//! anything is stored; `reject` answers 422 with every failing JSON path and publishes nothing,
//! `quarantine` publishes the event as received to the source's quarantine topic with its
//! violations in a header. Types without a contract pass.
mod harness;

use axum::http::StatusCode;
use serde_json::{Value, json};

use harness::*;

const SECRET: &str = "gh-contract-test-secret";

fn harness(on_violation: &str) -> Harness {
    Harness::from_toml(&format!(
        r#"
[broker]
topic_prefix = "hb"

[sources.github]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
on_violation = "{on_violation}"

[sources.github.contracts]
"github.push" = {{ type = "object", required = ["ref"], properties = {{ ref = {{ type = "string" }}, size = {{ type = "integer", minimum = 0 }} }} }}
"github.issue*" = {{ required = ["action"] }}
"#
    ))
}

async fn post(h: &Harness, event: &str, body: &Value, delivery: &str) -> Reply {
    let body = serde_json::to_vec(body).unwrap();
    let headers = with_header(h.sign("github", SECRET, &body, now(), delivery), "X-GitHub-Event", event);
    h.send(h.request("github", &headers, body)).await
}

#[tokio::test]
async fn reject_lists_every_violation_with_its_path_and_stores_nothing() {
    let h = harness("reject");
    let reply = post(&h, "push", &json!({"size": -1}), "d-1").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["error"]["code"], "schema_violation");
    assert!(body["error"]["message"].as_str().unwrap().contains("github.push"), "{body}");
    let mut paths: Vec<&str> =
        body["error"]["violations"].as_array().unwrap().iter().map(|v| v["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["", "/size"], "{body}");
    assert_eq!(h.publisher.count(), 0, "nothing stored");

    // The corrected retry under the same delivery id is new, not a duplicate.
    post(&h, "push", &json!({"ref": "refs/heads/main"}), "d-1").await.assert_accepted("d-1", false);
    // A prefix contract covers `issues`; a type without a contract is not checked.
    assert_eq!(post(&h, "issues", &json!({}), "d-2").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    post(&h, "star", &json!({"anything": true}), "d-3").await.assert_accepted("d-3", false);
    let topics: Vec<String> = h.publisher.records().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["github", "github"]);

    let metrics = h.metrics().await;
    for ty in ["github.push", "github.issues"] {
        let line =
            format!("hookbus_ingress_schema_violations_total{{source=\"github\",type=\"{ty}\",mode=\"reject\"}} 1");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    assert!(
        metrics.contains("hookbus_ingress_rejected_total{source=\"github\",reason=\"schema_violation\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_breaks_any_contract() {
    let h = harness("reject");
    let body = b"ref=main".to_vec();
    let headers = with_header(h.sign("github", SECRET, &body, now(), "d-4"), "X-GitHub-Event", "push");
    let reply = h.send(h.request("github", &headers, body)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.json()["error"]["violations"][0]["message"].as_str().unwrap().contains("not JSON"));
}

#[tokio::test]
async fn quarantine_stores_the_event_as_received_with_its_violations() {
    let h = harness("quarantine");
    let reply = post(&h, "push", &json!({"size": "big"}), "d-5").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(reply.json(), json!({"id": "d-5", "duplicate": false, "quarantined": true}));
    let record = h.publisher.single("hb.github.quarantine");
    assert_eq!(record.payload, serde_json::to_vec(&json!({"size": "big"})).unwrap(), "the bytes received");
    assert_eq!(header_str(&record, "ce_id"), "d-5");
    let violations: Value = serde_json::from_str(header_str(&record, "ce_schemaviolations")).unwrap();
    let paths: Vec<&str> = violations.as_array().unwrap().iter().map(|v| v["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"/size") && paths.contains(&""), "{violations}");

    // A conforming event goes to the source topic as usual, without the header.
    post(&h, "push", &json!({"ref": "refs/heads/main"}), "d-6").await.assert_accepted("d-6", false);
    let (topic, record) = h.publisher.records().pop().unwrap();
    assert_eq!(topic, "github");
    assert!(record.header("ce_schemaviolations").is_none());
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(
            "hookbus_ingress_schema_violations_total{source=\"github\",type=\"github.push\",mode=\"quarantine\"} 1"
        ),
        "{metrics}"
    );
}
