//! Delivery guarantees under failure: ordering per key, isolation between subscriptions.
#[macro_use]
mod support;

use std::time::Duration;

use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Index of the 200 answered to `event` in arrival order.
fn delivered_at(reqs: &[support::receiver::Req], event: &str) -> usize {
    reqs.iter()
        .position(|r| r.header("webhook-id") == event && r.status == 200)
        .unwrap_or_else(|| panic!("{event} not delivered"))
}

async fn ordered_mode_holds_only_the_failing_key(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options { ordered: true, schedule: vec!["0s", "300ms", "300ms", "300ms"], ..Options::default() };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let (a1, a2, b1) = (id(), id(), id());
    rx.fail_event(&a1, 2);
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "a@x.io"), &a1).await.0, 202);
    rx.wait_until("a1's first failure", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == a1)).await;
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "a@x.io"), &a2).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/b", "b@x.io"), &b1).await.0, 202);
    let reqs = rx
        .wait_until("a2 delivered", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == a2 && q.status == 200))
        .await;
    let statuses: Vec<u16> = reqs.iter().filter(|r| r.header("webhook-id") == a1).map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 500, 200], "a1 retried in place");
    assert!(delivered_at(&reqs, &b1) < delivered_at(&reqs, &a1), "another key does not wait for a1's retries");
    assert!(delivered_at(&reqs, &a1) < delivered_at(&reqs, &a2), "a2 waits for a1: same key, strict order");
    assert_eq!(reqs.iter().filter(|r| r.header("webhook-id") == a2).count(), 1, "a2 was not attempted early");
    app.stop().await;
}

async fn ordered_backlog_pauses_reading_until_the_stuck_key_drains(backend: Backend) {
    // Backlog 3: a1 retries in place, a2..a4 wait behind it, a5 overflows; reading stops (b1 is not
    // read, though its key is free) until a1 is delivered and the queue has drained.
    let rx = Receiver::start().await;
    let schedule = vec!["0s", "400ms", "400ms", "400ms"];
    let bus = Bus::new(backend, &rx.url, Options { ordered: true, ordered_backlog: 3, schedule, ..Options::default() });
    let app = bus.start().await;
    let a: Vec<String> = (0..6).map(|_| id()).collect();
    let b1 = id();
    rx.fail_event(&a[0], 2);
    let push_a = bus::github_push("acme/a", "a@x.io");
    assert_eq!(bus::post_github(&app.url, &push_a, &a[0]).await.0, 202);
    rx.wait_until("a1's first failure", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == a[0])).await;
    for e in &a[1..] {
        assert_eq!(bus::post_github(&app.url, &push_a, e).await.0, 202);
    }
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/b", "b@x.io"), &b1).await.0, 202);
    let reqs =
        rx.wait_until("every event delivered", WAIT, |r| r.iter().filter(|q| q.status == 200).count() == 7).await;
    let order: Vec<usize> = a.iter().map(|e| delivered_at(&reqs, e)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "key a delivered in order: {order:?}");
    assert!(delivered_at(&reqs, &b1) > order[0], "b1 was read before the backlog drained");
    for e in a.iter().chain([&b1]) {
        let ok = reqs.iter().filter(|r| r.header("webhook-id") == e && r.status == 200).count();
        assert_eq!(ok, 1, "{e} delivered once");
    }
    app.stop().await;
}

async fn a_failing_endpoint_does_not_slow_another_subscription(backend: Backend) {
    let rx = Receiver::start().await;
    rx.fail_path("/crm", 503);
    let opts = Options { schedule: vec!["0s", "200ms", "200ms", "200ms", "200ms", "200ms"], ..Options::default() };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    for _ in 0..20 {
        assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "a@x.io"), &id()).await.0, 202);
    }
    rx.wait_until("crm failing", WAIT, |r| r.iter().filter(|q| q.path == "/crm").count() >= 20).await;
    let started = tokio::time::Instant::now();
    let sw = format!("msg_{}", id());
    let body =
        serde_json::to_vec(&serde_json::json!({"type": "invoice.paid", "data": {"id": "in_1", "amount": 1}})).unwrap();
    let scheme = hookbus_ingress::verify::Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks);
    assert_eq!(bus::post_signed(&app.url, "acme", scheme, bus::SW_SECRET, &body, &sw).await.0, 202);
    let reqs = rx.wait_until("billing delivered", WAIT, |r| r.iter().any(|q| q.path == "/billing")).await;
    let elapsed = started.elapsed();
    let crm_retrying = reqs.iter().filter(|q| q.path == "/crm").count();
    println!("billing delivered in {elapsed:?} while crm had {crm_retrying} failed attempts");
    assert!(elapsed < Duration::from_secs(3), "billing waited {elapsed:?} behind crm's failures");
    assert!(crm_retrying < 20 * 6, "crm was still retrying when billing was delivered");
    app.stop().await;
}

async fn a_poison_event_is_dead_lettered_and_blocks_nothing(backend: Backend) {
    let rx = Receiver::start().await;
    let transform = r#"if .data.pusher.email == "poison@x.io" then error("cannot map this contact") else {email: .data.pusher.email} end"#;
    let bus = Bus::new(backend, &rx.url, Options { transform, ordered: true, ..Options::default() });
    let app = bus.start().await;
    let (poison, after) = (id(), id());
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "poison@x.io"), &poison).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "ok@x.io"), &after).await.0, 202);
    rx.wait_until("the event after the poison one", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == after)).await;
    let dead = hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap();
    assert_eq!(dead.len(), 1);
    let dl = &dead[0].record;
    assert_eq!((dl.event.id.as_str(), dl.reason), (poison.as_str(), hookbus_core::GiveUpReason::TransformError));
    assert!(dl.message.contains("cannot map this contact"), "{}", dl.message);
    assert!(dl.attempts.is_empty(), "a transform error makes no HTTP attempt");
    assert!(rx.for_event(&poison).is_empty());
    app.stop().await;
}

async fn every_retry_tier_is_used_until_retries_are_exhausted(backend: Backend) {
    // Twenty events fail every attempt, so each retry tier holds several records at once (a paused
    // tier must not skip the ones queued behind its head).
    let rx = Receiver::start().await;
    rx.fail_path("/crm", 503);
    let schedule = vec!["0s", "50ms", "50ms", "50ms", "300ms", "300ms", "50ms", "50ms", "50ms", "50ms"];
    let bus = Bus::new(backend, &rx.url, Options { schedule, circuit_breaker: false, ..Options::default() });
    let app = bus.start().await;
    let events: Vec<String> = (0..20).map(|_| id()).collect();
    for ev in &events {
        assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/a", "a@x.io"), ev).await.0, 202);
    }
    rx.wait_until("ten attempts of every event", WAIT, |r| r.len() >= 200).await;
    for ev in &events {
        let attempts: Vec<String> = rx.for_event(ev).iter().map(|r| r.header("hookbus-attempt").to_owned()).collect();
        assert_eq!(attempts, (1..=10).map(|n| n.to_string()).collect::<Vec<_>>(), "{ev}");
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let dead =
            hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap();
        if dead.len() == events.len() {
            assert!(dead.iter().all(|e| e.record.reason == hookbus_core::GiveUpReason::RetriesExhausted));
            assert!(dead.iter().all(|e| e.record.attempts.len() == 10));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} of {} dead-lettered", dead.len(), events.len());
    }
    app.stop().await;
}

on_every_backend!(
    every_retry_tier_is_used_until_retries_are_exhausted,
    a_poison_event_is_dead_lettered_and_blocks_nothing,
    ordered_mode_holds_only_the_failing_key,
    ordered_backlog_pauses_reading_until_the_stuck_key_drains,
    a_failing_endpoint_does_not_slow_another_subscription
);
