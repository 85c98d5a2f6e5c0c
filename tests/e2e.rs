//! End to end: signed webhooks in, mapped and signed deliveries out, on every backend.
//! The same cases run on the embedded log and on a Kafka-protocol broker (HOOKBUS_TEST_KAFKA_BROKERS),
//! with Redis dedup when HOOKBUS_TEST_REDIS_URL is set (both required under CI=true).
#[macro_use]
mod support;

use std::time::Duration;

use hookbus_core::signing::{standard_webhooks_key, standard_webhooks_matches};
use hookbus_ingress::verify::Scheme;
use support::bus::{self, Backend, Bus, Options};
use support::receiver::{Receiver, Req};

const WAIT: Duration = Duration::from_secs(30);

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The outbound request carries a valid Standard Webhooks signature and the idempotency key.
fn assert_signed(r: &Req, event_id: &str) {
    let key = standard_webhooks_key(bus::OUT_SECRET).unwrap();
    let ts: i64 = r.header("webhook-timestamp").parse().expect("webhook-timestamp");
    assert_eq!(r.header("webhook-id"), event_id);
    assert_eq!(r.header("idempotency-key"), event_id);
    assert!(
        standard_webhooks_matches(&key, event_id, ts, &r.body, r.header("webhook-signature")),
        "bad signature on {r:?}"
    );
}

async fn push_and_standard_webhooks_are_verified_mapped_and_signed(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;

    let gh = id();
    let push = bus::github_push("acme/api", "mona@example.com");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut headers =
        Scheme::of(hookbus_core::config::SchemeKind::Github).sign(bus::GITHUB_SECRET, &push, now, &gh).unwrap();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    headers.push(("traceparent".into(), format!("00-{trace_id}-00f067aa0ba902b7-01")));
    let (status, body) = bus::post(&app.url, "github", &headers, &push).await;
    assert_eq!((status, body["id"].as_str()), (202, Some(gh.as_str())), "{body}");

    let sw = format!("msg_{}", id());
    let invoice = serde_json::json!({"type": "invoice.paid", "data": {"id": "in_123", "amount": 4200}});
    let payload = serde_json::to_vec(&invoice).unwrap();
    let (status, _) = bus::post_signed(
        &app.url,
        "acme",
        Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks),
        bus::SW_SECRET,
        &payload,
        &sw,
    )
    .await;
    assert_eq!(status, 202);

    let reqs = rx.wait_until("both deliveries", WAIT, |r| r.len() >= 2).await;
    let crm = reqs.iter().find(|r| r.path == "/crm").expect("crm delivery");
    assert_signed(crm, &gh);
    assert_eq!(
        crm.json(),
        serde_json::json!({"email": "mona@example.com", "repo": "acme/api", "commits": ["59b20b8"]})
    );
    assert_eq!(crm.header("ce-type"), "github.push");
    assert_eq!(crm.header("hookbus-attempt"), "1");
    // The provider's trace continues through the broker into the outbound request.
    let tp = crm.header("traceparent");
    assert!(tp.starts_with(&format!("00-{trace_id}-")), "trace not propagated: {tp:?}");
    assert!(billing_has_own_trace(&billing_req(&reqs)), "a webhook without traceparent starts a trace");
    let billing = billing_req(&reqs);
    assert_signed(&billing, &sw);
    assert_eq!(billing.json(), serde_json::json!({"invoice": "in_123", "amount_cents": 4200}));
    app.stop().await;
}

fn billing_req(reqs: &[Req]) -> Req {
    reqs.iter().find(|r| r.path == "/billing").expect("billing delivery").clone()
}

fn billing_has_own_trace(r: &Req) -> bool {
    let tp = r.header("traceparent");
    tp.len() == 55 && tp.starts_with("00-") && !tp.contains("4bf92f3577b34da6a3ce929d0e0e4736")
}

async fn retries_until_success_and_delivers_once(backend: Backend) {
    let rx = Receiver::start().await;
    rx.script(&[500, 500]);
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let gh = id();
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &gh).await.0, 202);
    let reqs = rx.wait_until("a 200 for the event", WAIT, |r| r.iter().any(|q| q.status == 200)).await;
    let attempts: Vec<(u16, &str)> = reqs.iter().map(|r| (r.status, r.header("hookbus-attempt"))).collect();
    assert_eq!(attempts, vec![(500, "1"), (500, "2"), (200, "3")]);
    assert!(reqs.iter().all(|r| r.header("webhook-id") == gh), "one event, one idempotency key");
    let metrics = reqwest::get(format!("{}/metrics", app.url)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"hookbus_worker_events_total{subscription="crm",outcome="delivered"} 1"#), "{metrics}");
    assert!(
        metrics.contains(r#"hookbus_delivery_attempts_total{subscription="crm",outcome="http_error"} 2"#),
        "{metrics}"
    );
    app.stop().await;
    assert_eq!(rx.for_event(&gh).iter().filter(|r| r.status == 200).count(), 1, "delivered exactly once");
}

async fn permanent_failure_dead_letters_and_redrive_delivers(backend: Backend) {
    let rx = Receiver::start().await;
    rx.script(&[400]);
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let gh = id();
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &gh).await.0, 202);
    rx.wait_until("the 400", WAIT, |r| !r.is_empty()).await;

    // The dead letter appears (written after the attempt), with its attempt history.
    let deadline = tokio::time::Instant::now() + WAIT;
    let listed = loop {
        let out = bus.cli(&["dlq", "list", "--subscription", "crm", "--json"]);
        if !out.trim().is_empty() {
            break out;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter appeared");
    };
    let records: Vec<serde_json::Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 1, "{listed}");
    let dl = &records[0];
    assert_eq!(dl["reason"], "permanent_failure");
    assert_eq!(dl["event"]["id"], gh.as_str());
    assert_eq!(dl["attempts"].as_array().unwrap().len(), 1, "4xx is not retried");
    assert_eq!(dl["attempts"][0]["status"], 400);
    assert_eq!(dl["attempts"][0]["decision"], "give_up");
    assert_eq!(rx.requests().len(), 1, "a permanent failure is not retried");

    let out = bus.cli(&["dlq", "redrive", "--subscription", "crm"]);
    assert!(out.contains("redrove 1 dead letter"), "{out}");
    let reqs = rx.wait_until("the redriven delivery", WAIT, |r| r.iter().any(|q| q.status == 200)).await;
    let ok = reqs.iter().find(|r| r.status == 200).unwrap();
    assert_signed(ok, &gh);
    assert_eq!(ok.header("hookbus-attempt"), "1", "redrive starts a fresh attempt count");
    let table = bus.cli(&["dlq", "list", "--subscription", "crm"]);
    assert!(table.contains("0 pending dead letter(s)"), "{table}");
    app.stop().await;
}

async fn loopback_target_is_refused_unless_allow_listed(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options { allow_loopback: false, ..Options::default() });
    let app = bus.start().await;
    let gh = id();
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &gh).await.0, 202);
    let deadline = tokio::time::Instant::now() + WAIT;
    let entries = loop {
        let e =
            hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap();
        if !e.is_empty() {
            break e;
        }
        assert!(tokio::time::Instant::now() < deadline, "the refused event was not dead-lettered");
    };
    let dl = &entries[0].record;
    assert_eq!(dl.reason, hookbus_core::GiveUpReason::PermanentFailure);
    assert_eq!(dl.attempts.len(), 1, "a refused target is not retried");
    assert!(dl.message.contains("loopback") && dl.message.contains("allow_targets"), "{}", dl.message);
    app.stop().await;
    assert!(rx.requests().is_empty(), "nothing reached the loopback target");
}

/// Reads the source topic with a fresh group; returns the event ids found until it goes quiet.
async fn ids_on_topic(bus: &Bus, topic: &str, expect_at_least: usize) -> Vec<String> {
    let broker = bus.broker();
    let mut c = broker.consumer(&format!("probe-{}", id()), &[topic.to_owned()]).unwrap();
    let mut ids = Vec::new();
    let mut wait = WAIT;
    while let Some(r) = c.poll(wait).await.unwrap() {
        ids.push(r.record.header_str("ce_id").unwrap_or_default().to_owned());
        if ids.len() >= expect_at_least {
            wait = Duration::from_secs(1);
        }
    }
    ids
}

async fn bad_signature_is_rejected_and_nothing_is_published(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let body = bus::github_push("acme/api", "a@b.c");
    let (bad, good) = (id(), id());
    let (status, json) = bus::post_signed(
        &app.url,
        "github",
        Scheme::of(hookbus_core::config::SchemeKind::Github),
        "wrong-secret",
        &body,
        &bad,
    )
    .await;
    assert_eq!((status, json["error"]["code"].as_str()), (401, Some("signature_mismatch")), "{json}");
    let mut tampered = body.clone();
    tampered[5] ^= 1;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let headers =
        Scheme::of(hookbus_core::config::SchemeKind::Github).sign(bus::GITHUB_SECRET, &body, now, &bad).unwrap();
    assert_eq!(bus::post(&app.url, "github", &headers, &tampered).await.0, 401);
    assert_eq!(bus::post_github(&app.url, &body, &good).await.0, 202);
    let ids = ids_on_topic(&bus, &format!("{}-github", bus.prefix), 1).await;
    assert_eq!(ids, vec![good.clone()], "only the valid webhook may be published");
    rx.wait_until("the valid event", WAIT, |r| r.len() == 1).await;
    app.stop().await;
    assert!(rx.for_event(&bad).is_empty());
}

async fn duplicate_delivery_id_is_delivered_once(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let body = bus::github_push("acme/api", "a@b.c");
    let (dup, other) = (id(), id());
    let (s1, j1) = bus::post_github(&app.url, &body, &dup).await;
    let (s2, j2) = bus::post_github(&app.url, &body, &dup).await;
    assert_eq!((s1, j1["duplicate"].as_bool()), (202, Some(false)));
    assert_eq!((s2, j2["duplicate"].as_bool()), (202, Some(true)), "second post is recognised");
    assert_eq!(bus::post_github(&app.url, &body, &other).await.0, 202);
    // Same partition key, so once the later event arrived the earlier ones did too.
    rx.wait_until("the later event", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == other)).await;
    app.stop().await;
    assert_eq!(rx.for_event(&dup).len(), 1, "duplicate delivery id delivered once");
    let ids = ids_on_topic(&bus, &format!("{}-github", bus.prefix), 2).await;
    assert_eq!(ids, vec![dup, other], "the duplicate was not published");
}

async fn survives_sigkill_after_accept(backend: Backend) {
    let rx = Receiver::start().await;
    // The first process's delivery hangs, so it is in flight (uncommitted) when the process dies.
    rx.set_default(200, Duration::from_secs(60));
    let bus = Bus::new(backend, &rx.url, Options { timeout_ms: 9000, ..Options::default() });
    let mut first = bus.spawn(None);
    bus::wait_ready(&first.url).await;
    let gh = id();
    assert_eq!(bus::post_github(&first.url, &bus::github_push("acme/api", "a@b.c"), &gh).await.0, 202);
    let deadline = tokio::time::Instant::now() + WAIT;
    while rx.arrived() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "delivery never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();

    rx.set_default(200, Duration::ZERO);
    let mut second = bus.spawn(None);
    rx.wait_until("redelivery after SIGKILL", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == gh)).await;
    second.kill();
}

async fn sigterm_drains_in_flight_deliveries_and_exits_zero(backend: Backend) {
    let rx = Receiver::start().await;
    rx.set_default(200, Duration::from_millis(1500));
    let bus = Bus::new(backend, &rx.url, Options::default());
    let mut child = bus.spawn(None);
    bus::wait_ready(&child.url).await;
    let first = id();
    assert_eq!(bus::post_github(&child.url, &bus::github_push("acme/api", "a@b.c"), &first).await.0, 202);
    let deadline = tokio::time::Instant::now() + WAIT;
    while rx.arrived() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "delivery never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = child.terminate();
    assert!(status.success(), "SIGTERM exits 0, got {status:?}");
    assert_eq!(rx.for_event(&first).len(), 1, "the in-flight delivery finished before exit");

    // Its offset was committed on the way out: a new process does not deliver it again.
    rx.set_default(200, Duration::ZERO);
    let child = bus.spawn(None);
    let second = id();
    assert_eq!(bus::post_github(&child.url, &bus::github_push("acme/api", "a@b.c"), &second).await.0, 202);
    rx.wait_until("the next event", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == second)).await;
    assert_eq!(rx.for_event(&first).len(), 1, "delivered once across the restart");
}

on_every_backend!(
    sigterm_drains_in_flight_deliveries_and_exits_zero,
    push_and_standard_webhooks_are_verified_mapped_and_signed,
    retries_until_success_and_delivers_once,
    permanent_failure_dead_letters_and_redrive_delivers,
    bad_signature_is_rejected_and_nothing_is_published,
    duplicate_delivery_id_is_delivered_once,
    survives_sigkill_after_accept,
    loopback_target_is_refused_unless_allow_listed,
);
