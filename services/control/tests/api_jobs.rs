//! Retry one event, redrive and replay as jobs, and mapping dry runs, on both store backends.
mod support;

use std::time::Duration;

use hookbus_broker::{Broker, Publisher, Record};
use hookbus_control::store::Store;
use hookbus_core::{DeadLetter, GiveUpReason, RetryEnvelope};
use serde_json::json;
use support::{Harness, ingest};

/// Every retry envelope in `from-config`'s tier 0.
async fn tier0(h: &Harness) -> Vec<RetryEnvelope> {
    let mut reader = h.broker.reader(&["hookbus.from-config.retry.0".to_owned()]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = reader.poll(Duration::from_millis(300)).await.unwrap() {
        out.push(serde_json::from_slice(&r.record.payload).unwrap());
    }
    out
}

async fn job_until_done(h: &Harness, id: &str) -> serde_json::Value {
    h.get_until(&format!("/api/v1/jobs/{id}"), |j| j["state"] != "running").await
}

async fn retry_redrive_and_replay(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    let ev = ingest(&h.broker, "github", "gh-1", "github.push", br#"{"a": 1}"#).await;
    ingest(&h.broker, "github", "gh-2", "github.issues", br#"{"a": 2}"#).await;
    h.get_until("/api/v1/events", |b| b["events"].as_array().is_some_and(|e| e.len() == 2)).await;

    let (s, q) = h.post("/api/v1/subscriptions/from-config/events/gh-1/retry", json!({})).await;
    assert_eq!(s.as_u16(), 202, "{q}");
    assert_eq!(q["topic"], "hookbus.from-config.retry.0");
    let queued = tier0(&h).await;
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].event.id.as_str(), queued[0].attempts.len()), ("gh-1", 0));
    assert_eq!(queued[0].event.data, ev.data);
    let (s, _) = h.post("/api/v1/subscriptions/from-config/events/nope/retry", json!({})).await;
    assert_eq!(s.as_u16(), 404);
    let (s, _) = h.post("/api/v1/subscriptions/nope/events/gh-1/retry", json!({})).await;
    assert_eq!(s.as_u16(), 404);

    // Two dead letters, one of each reason; redrive only one reason.
    for (id, reason) in [("gh-1", GiveUpReason::RetriesExhausted), ("gh-2", GiveUpReason::PermanentFailure)] {
        let mut event = ev.clone();
        event.id = id.into();
        let mut dl = DeadLetter::new("from-config", event, vec![], reason, "gave up".into());
        if id == "gh-2" {
            // A batch subscription's dead letter stands for all its items.
            let item = |n: &str| hookbus_core::BatchItem {
                id: n.into(),
                event_id: n.into(),
                event_type: "github.issues".into(),
                body: json!({}),
            };
            dl.batch = Some(hookbus_core::Batch { items: vec![item("gh-2"), item("gh-3"), item("gh-4")] });
        }
        let record = Record {
            key: Some(id.as_bytes().to_vec()),
            headers: vec![],
            payload: serde_json::to_vec(&dl).unwrap(),
            timestamp_ms: 0,
        };
        h.broker.publish("hookbus.from-config.dlq", record).await.unwrap();
    }
    let (s, listed) = h.get("/api/v1/subscriptions/from-config/dead-letters").await;
    assert_eq!((s.as_u16(), listed["total"].as_u64()), (200, Some(2)), "{listed}");
    let (_, one) = h.get("/api/v1/subscriptions/from-config/dead-letters?reason=permanent_failure").await;
    assert_eq!(one["dead_letters"][0]["event_id"], "gh-2");
    assert_eq!(one["dead_letters"][0]["items"], 3, "{one}");
    assert_eq!(listed["dead_letters"][0]["items"], 1, "a plain dead letter is one delivery: {listed}");
    let (s, _) = h.get("/api/v1/subscriptions/from-config/dead-letters?reason=sad").await;
    assert_eq!(s.as_u16(), 400);

    let (s, job) = h.post("/api/v1/subscriptions/from-config/redrive", json!({"reason": "retries_exhausted"})).await;
    assert_eq!(
        (s.as_u16(), job["state"].as_str(), job["kind"].as_str()),
        (202, Some("running"), Some("redrive")),
        "{job}"
    );
    let done = job_until_done(&h, job["id"].as_str().unwrap()).await;
    assert_eq!((done["state"].as_str(), done["processed"].as_u64()), (Some("succeeded"), Some(1)), "{done}");
    assert!(done["finished_at"].is_string());
    assert_eq!(tier0(&h).await.len(), 2, "the retried event and the redriven dead letter");
    let (_, left) = h.get("/api/v1/subscriptions/from-config/dead-letters").await;
    assert_eq!(left["dead_letters"][0]["event_id"], "gh-2", "only the other reason is still pending: {left}");
    assert_eq!(left["total"], 1);

    let (s, job) = h.post("/api/v1/subscriptions/from-config/replay", json!({"since": "2000-01-01T00:00:00Z"})).await;
    assert_eq!(s.as_u16(), 202, "{job}");
    let done = job_until_done(&h, job["id"].as_str().unwrap()).await;
    assert_eq!((done["state"].as_str(), done["processed"].as_u64()), (Some("succeeded"), Some(2)), "{done}");
    assert_eq!(tier0(&h).await.len(), 4);

    let (s, e) = h.post("/api/v1/subscriptions/from-config/redrive", json!({"reason": "bored", "since": "x"})).await;
    assert_eq!(s.as_u16(), 422);
    assert_eq!(e["error"]["details"].as_array().unwrap().len(), 2, "{e}");
    let (s, _) = h.post("/api/v1/subscriptions/from-config/replay", json!({"since": "last week"})).await;
    assert_eq!(s.as_u16(), 422);
    let (s, e) = h.get("/api/v1/jobs/nope").await;
    assert_eq!((s.as_u16(), e["error"]["code"].as_str()), (404, Some("job_not_found")));
}
on_both!(jobs_sqlite, jobs_postgres, retry_redrive_and_replay);

async fn mapping_dry_runs(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    let event = json!({
        "specversion": "1.0", "id": "e1", "source": "hookbus://sources/github", "type": "github.push",
        "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json", "partitionkey": "k",
        "data": {"ref": "refs/heads/main", "n": 3}
    });
    let body =
        json!({"filter": ".data.n > 2", "transform": "{n: .data.n, id}", "events": [event, {"specversion": "1.0"}]});
    let (s, e) = h.post("/api/v1/mapping/test", body).await;
    assert_eq!((s.as_u16(), e["error"]["details"][0]["field"].as_str()), (422, Some("events[1]")), "{e}");

    let (s, r) = h
        .post("/api/v1/mapping/test", json!({"filter": ".data.n > 2", "transform": "{n: .data.n, id}", "event": event}))
        .await;
    assert_eq!(s.as_u16(), 200, "{r}");
    assert_eq!(r["results"][0]["passed"], true);
    assert_eq!(r["results"][0]["output"], json!({"n": 3, "id": "e1"}));

    let (_, r) = h.post("/api/v1/mapping/test", json!({"filter": ".data.n > 5", "event": event})).await;
    assert_eq!((r["results"][0]["passed"].as_bool(), r["results"][0]["output"].is_null()), (Some(false), true));
    let (_, r) = h.post("/api/v1/mapping/test", json!({"transform": "error(\"boom\")", "event": event})).await;
    assert_eq!(r["results"][0]["error"]["code"], "mapping_runtime_error");
    // A transform that fans out: every output, one delivery each.
    let (_, r) = h.post("/api/v1/mapping/test", json!({"transform": "range(.data.n) | {i: .}", "event": event})).await;
    assert_eq!(r["results"][0]["outputs"], json!([{"i": 0}, {"i": 1}, {"i": 2}]), "{r}");
    assert_eq!((r["results"][0]["passed"].as_bool(), &r["results"][0]["output"]), (Some(true), &json!({"i": 0})));
    let (_, r) = h.post("/api/v1/mapping/test", json!({"transform": "range(101)", "event": event})).await;
    assert_eq!(r["results"][0]["error"]["code"], "mapping_too_many_outputs", "{r}");

    let (s, e) = h.post("/api/v1/mapping/test", json!({"filter": ".a |", "transform": "{", "event": event})).await;
    assert_eq!(s.as_u16(), 422);
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["filter", "transform"]);
    assert!(e["error"]["details"][0]["line"].is_u64() && e["error"]["details"][1]["column"].is_u64());

    // A subscription's programs over the last events of its topic; a read token may run it.
    ingest(&h.broker, "github", "gh-1", "github.push", br#"{"x": 1}"#).await;
    ingest(&h.broker, "github", "gh-2", "github.push", br#"{"x": 2}"#).await;
    h.get_until("/api/v1/events", |b| b["events"].as_array().is_some_and(|e| e.len() == 2)).await;
    let (s, r) = h
        .call(
            axum::http::Method::POST,
            "/api/v1/mapping/test",
            Some(support::READ),
            Some(json!({"subscription": "from-config", "last": {"count": 5}})),
        )
        .await;
    assert_eq!(s.as_u16(), 200, "{r}");
    let ids: Vec<&str> = r["results"].as_array().unwrap().iter().map(|x| x["event_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["gh-2", "gh-1"]);
    assert_eq!(r["results"][0]["output"]["data"], json!({"x": 2}), "no transform: the envelope is delivered");
    let (s, _) = h.post("/api/v1/mapping/test", json!({"filter": "."})).await;
    assert_eq!(s.as_u16(), 422, "no events given");
}
on_both!(mapping_sqlite, mapping_postgres, mapping_dry_runs);
