//! The event index (from the broker), event detail with observations, stats and sources, on both
//! store backends, with the embedded broker.
mod support;

use hookbus_control::store::Store;
use hookbus_core::live::{DeliveryObservation, ObservationKind, Rejection};
use hookbus_core::{Attempt, AttemptOutcome, Decision};
use support::{Harness, ingest};
use time::OffsetDateTime;

fn observation(sub: &str, id: &str, kind: ObservationKind) -> DeliveryObservation {
    DeliveryObservation {
        subscription: sub.into(),
        generation: String::new(),
        version: 1,
        event_id: id.into(),
        event_type: "github.push".into(),
        at: OffsetDateTime::now_utc(),
        kind,
    }
}

fn attempt(
    n: u32,
    status: u16,
    outcome: AttemptOutcome,
    decision: Decision,
    latency_ms: u64,
    response: String,
) -> Attempt {
    Attempt {
        attempt: n,
        at: OffsetDateTime::now_utc(),
        latency_ms,
        outcome,
        decision,
        status: Some(status),
        error: (status >= 500).then(|| format!("target answered {status}")),
        response_snippet: Some(response),
        retry_after_ms: None,
    }
}

async fn indexed_events_are_listed_newest_first(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    ingest(&h.broker, "github", "gh-1", "github.push", br#"{"ref": "refs/heads/main",  "n": 1}"#).await;
    ingest(&h.broker, "github", "gh-2", "github.issues", br#"{"n": 2}"#).await;
    ingest(&h.broker, "stripe", "st-1", "stripe.invoice.paid", br#"{"n": 3}"#).await;
    let page = h.get_until("/api/v1/events", |b| b["events"].as_array().is_some_and(|e| e.len() == 3)).await;
    let ids: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{page}");
    assert!(ids.contains(&"gh-1") && ids.contains(&"st-1"));

    let (_, github) = h.get("/api/v1/events?source=github&limit=1").await;
    assert_eq!(github["events"][0]["id"], "gh-2");
    let cursor = github["next_cursor"].as_str().expect("a second page").to_owned();
    let (_, next) = h.get(&format!("/api/v1/events?source=github&limit=1&cursor={cursor}")).await;
    assert_eq!((next["events"][0]["id"].as_str(), next["next_cursor"].is_null()), (Some("gh-1"), true));
    let (_, typed) = h.get("/api/v1/events?type=stripe.*").await;
    assert_eq!(typed["events"].as_array().unwrap().len(), 1);
    let (_, later) = h.get("/api/v1/events?since=2999-01-01T00:00:00Z").await;
    assert!(later["events"].as_array().unwrap().is_empty());
    for bad in ["?since=yesterday", "?cursor=abc", "?status=lost", "?limit=0"] {
        let (s, e) = h.get(&format!("/api/v1/events{bad}")).await;
        assert_eq!((s.as_u16(), e["error"]["code"].as_str()), (400, Some("bad_request")), "{bad}");
    }

    // Detail: the exact payload, the envelope, and the config subscription (all types of github) pending.
    let (s, d) = h.get("/api/v1/events/gh-1").await;
    assert_eq!(s.as_u16(), 200, "{d}");
    assert_eq!(d["payload"]["ref"], "refs/heads/main");
    assert_eq!(
        (d["envelope"]["type"].as_str(), d["envelope"]["source"].as_str()),
        (Some("github.push"), Some("hookbus://sources/github"))
    );
    assert_eq!((d["topic"].as_str(), d["type"].as_str()), (Some("github"), Some("github.push")));
    assert_eq!(d["deliveries"][0]["subscription"], "from-config");
    assert_eq!(d["deliveries"][0]["status"], "pending");
    let (s, e) = h.get("/api/v1/events/none").await;
    assert_eq!((s.as_u16(), e["error"]["code"].as_str()), (404, Some("event_not_found")));
}
on_both!(index_sqlite, index_postgres, indexed_events_are_listed_newest_first);

async fn observations_show_up_in_detail_and_stats(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    ingest(&h.broker, "github", "gh-1", "github.push", br#"{"a": 1}"#).await;
    let sink = h.plane.observer();
    let headers = vec![("webhook-signature".to_owned(), "<redacted>".to_owned())];
    let long = "x".repeat(5000);
    let next = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    sink.observe(observation(
        "from-config",
        "gh-1",
        ObservationKind::Attempted {
            attempt: attempt(1, 503, AttemptOutcome::HttpError, Decision::Retry, 30, long),
            request_headers: headers.clone(),
        },
    ));
    sink.observe(observation("from-config", "gh-1", ObservationKind::RetryScheduled { next_attempt_at: next }));
    let d = h.get_until("/api/v1/events/gh-1", |d| d["deliveries"][0]["status"] == "retrying").await;
    assert_eq!(d["deliveries"][0]["status"], "retrying", "{d}");
    assert!(d["deliveries"][0]["next_attempt_at"].is_string());
    sink.observe(observation(
        "from-config",
        "gh-1",
        ObservationKind::Attempted {
            attempt: attempt(2, 200, AttemptOutcome::Delivered, Decision::Delivered, 10, "ok".into()),
            request_headers: headers,
        },
    ));
    sink.observe(observation("from-config", "gh-1", ObservationKind::Delivered));
    let d = h.get_until("/api/v1/events/gh-1", |d| d["deliveries"][0]["status"] == "delivered").await;
    let del = &d["deliveries"][0];
    assert_eq!(del["status"], "delivered", "{d}");
    let attempts = del["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!((attempts[0]["status"].as_u64(), attempts[0]["outcome"].as_str()), (Some(503), Some("http_error")));
    assert_eq!(attempts[0]["response"].as_str().unwrap().len(), 4096, "the first 4 KiB of the response");
    assert_eq!(attempts[0]["request_headers"][0]["value"], "<redacted>");
    assert_eq!((attempts[1]["decision"].as_str(), attempts[1]["version"].as_u64()), (Some("delivered"), Some(1)));

    let (_, by_status) = h.get("/api/v1/events?subscription=from-config&status=delivered").await;
    assert_eq!(by_status["events"][0]["id"], "gh-1");
    let (s, stats) = h.get("/api/v1/subscriptions/from-config/stats").await;
    assert_eq!(s.as_u16(), 200, "{stats}");
    assert_eq!(
        (stats["delivered"].as_u64(), stats["failed"].as_u64(), stats["dead_lettered"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!((stats["latency_p50_ms"].as_u64(), stats["latency_p99_ms"].as_u64()), (Some(10), Some(30)));
    let (s, _) = h.get("/api/v1/subscriptions/nope/stats").await;
    assert_eq!(s.as_u16(), 404);
}
on_both!(observations_sqlite, observations_postgres, observations_show_up_in_detail_and_stats);

async fn sources_show_url_last_webhook_and_rejections(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    let (_, before) = h.get("/api/v1/sources").await;
    let github = &before["sources"][0];
    assert_eq!((github["name"].as_str(), github["scheme"].as_str()), (Some("github"), Some("github")));
    assert_eq!(
        (github["url"].as_str(), github["url_is_public"].as_bool()),
        (Some("http://127.0.0.1:8080/webhooks/github"), Some(false))
    );
    assert!(github["last_received_at"].is_null());
    assert_eq!(before["sources"][1]["url"], "https://hooks.example.com/webhooks/stripe");

    ingest(&h.broker, "github", "gh-1", "github.push", b"{}").await;
    h.plane.rejections().rejected(Rejection {
        source: "github".into(),
        at: OffsetDateTime::now_utc(),
        code: "signature_mismatch".into(),
        message: "no secret verifies X-Hub-Signature-256".into(),
    });
    let after = h
        .get_until("/api/v1/sources", |b| {
            b["sources"][0]["last_received_at"].is_string() && b["sources"][0]["rejections"][0].is_object()
        })
        .await;
    assert!(after["sources"][0]["last_received_at"].is_string(), "{after}");
    assert_eq!(after["sources"][0]["rejections"][0]["code"], "signature_mismatch");
}
on_both!(sources_sqlite, sources_postgres, sources_show_url_last_webhook_and_rejections);
