//! Fan-out through the real worker path: a transform with several outputs makes one delivery per
//! output, each with its own idempotency key (`<event id>:<index>`), retries and dead letter; a
//! retry or redrive resends the output as first computed (the transform reads `now`, so mapping
//! again would change the body); no output is "filtered"; more than `max_outputs` dead-letters the
//! event with nothing sent.
#[macro_use]
mod support;

use std::time::Duration;

use hookbus_core::GiveUpReason;
use support::bus::{self, Backend, Bus, Options};
use support::receiver::{Receiver, Req};

const WAIT: Duration = Duration::from_secs(30);
/// One delivery per commit; `at` differs on every run of the transform.
const PER_COMMIT: &str = "{sha: .data.commits[].id, at: now}";

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A push to main of `acme/a` with `n` commits `c0`, `c1`, ...
fn push(n: usize) -> Vec<u8> {
    let commits: Vec<_> = (0..n).map(|i| serde_json::json!({"id": format!("c{i}"), "message": "m"})).collect();
    serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "repository": {"full_name": "acme/a"},
        "pusher": {"name": "mona", "email": "m@x.io"},
        "commits": commits,
    }))
    .unwrap()
}

fn ok(reqs: &[Req], key: &str) -> usize {
    reqs.iter().filter(|r| r.header("webhook-id") == key && r.status == 200).count()
}

async fn dead_letters(bus: &Bus) -> Vec<hookbus_worker::dlq::DlqEntry> {
    hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap()
}

async fn each_output_is_delivered_and_retried_on_its_own(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options { transform: PER_COMMIT, ..Options::default() });
    let app = bus.start().await;
    let e = id();
    let keys: Vec<String> = (0..3).map(|i| format!("{e}:{i}")).collect();
    rx.fail_event(&keys[1], 2);
    assert_eq!(bus::post_github(&app.url, &push(3), &e).await.0, 202);
    let reqs = rx.wait_until("every output delivered", WAIT, |r| keys.iter().all(|k| ok(r, k) == 1)).await;
    for (i, key) in keys.iter().enumerate() {
        let sent: Vec<&Req> = reqs.iter().filter(|r| r.header("webhook-id") == key).collect();
        assert_eq!(sent[0].json()["sha"], format!("c{i}"), "output {i} in order of the transform");
        assert!(sent.iter().all(|r| r.header("idempotency-key") == key));
        let expected = if i == 1 { 3 } else { 1 };
        assert_eq!(sent.len(), expected, "{key}: only output 1 is retried");
    }
    let tries: Vec<&Req> = reqs.iter().filter(|r| r.header("webhook-id") == keys[1]).collect();
    assert_eq!(tries.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(tries[2].at - tries[0].at >= Duration::from_millis(250), "retried after the schedule's delays");
    for t in &tries[1..] {
        assert_eq!(t.body, tries[0].body, "a retry resends the output as first computed, not mapped again");
    }
    // Mapping again at the last retry would have given a later `at`: the body's is from the first pass.
    let mapped_at = tries[2].json()["at"].as_f64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(now - mapped_at >= 0.25, "the output was computed {}s ago", now - mapped_at);
    assert!(rx.for_event(&e).is_empty(), "no delivery carries the bare event id");
    assert!(dead_letters(&bus).await.is_empty());
    app.stop().await;
}

async fn a_failing_output_is_dead_lettered_alone_and_redriven_as_it_was(backend: Backend) {
    let rx = Receiver::start().await;
    let opts =
        Options { transform: PER_COMMIT, schedule: vec!["0s", "50ms"], circuit_breaker: false, ..Options::default() };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let e = id();
    let (good, bad) = (format!("{e}:0"), format!("{e}:1"));
    rx.fail_event(&bad, 2);
    assert_eq!(bus::post_github(&app.url, &push(2), &e).await.0, 202);
    rx.wait_until("output 0 delivered, output 1 tried twice", WAIT, |r| {
        ok(r, &good) == 1 && r.iter().filter(|q| q.header("webhook-id") == bad).count() == 2
    })
    .await;
    let dead = loop {
        let dead = dead_letters(&bus).await;
        if !dead.is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead.len(), 1, "one dead letter, for the failed output only");
    let dl = &dead[0].record;
    assert_eq!(dl.reason, GiveUpReason::RetriesExhausted);
    let output = dl.output.as_ref().expect("the dead letter carries its output");
    assert_eq!((output.index, output.count, &output.body["sha"]), (1, 2, &serde_json::json!("c1")));
    let first = rx.for_event(&bad)[0].json();
    assert_eq!(output.body, first, "the stored output is what was sent");

    let redriven =
        hookbus_worker::dlq::redrive(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default(), |_, _| {})
            .await
            .unwrap();
    assert_eq!(redriven, 1);
    let reqs = rx.wait_until("the redriven output delivered", WAIT, |r| ok(r, &bad) == 1).await;
    let last = reqs.iter().rfind(|r| r.header("webhook-id") == bad).unwrap();
    assert_eq!(last.json(), first, "redrive resends the stored output");
    assert_eq!(last.header("hookbus-attempt"), "1", "with a fresh attempt count");
    assert_eq!(ok(&reqs, &good), 1, "the delivered output is not sent again");
    app.stop().await;
}

async fn no_output_is_filtered_and_too_many_dead_letter_the_event(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options { transform: PER_COMMIT, crm_settings: "max_outputs = 3", ..Options::default() };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let (none, many, after) = (id(), id(), id());
    assert_eq!(bus::post_github(&app.url, &push(0), &none).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &push(4), &many).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &push(1), &after).await.0, 202);
    let reqs = rx.wait_until("the event after them", WAIT, |r| ok(r, &after) == 1).await;
    assert_eq!(reqs.len(), 1, "nothing of the empty or the oversized event was sent: {reqs:?}");
    let dead = loop {
        let dead = dead_letters(&bus).await;
        if !dead.is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead.len(), 1, "the empty event is filtered, not dead-lettered");
    let dl = &dead[0].record;
    assert_eq!((dl.event.id.as_str(), dl.reason), (many.as_str(), GiveUpReason::TransformError));
    assert!(dl.message.contains("more than 3 outputs") && dl.message.contains("max_outputs"), "{}", dl.message);
    assert!(dl.output.is_none() && dl.attempts.is_empty());
    app.stop().await;
}

async fn ordered_fan_out_keeps_the_outputs_in_order_through_retries(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options { transform: PER_COMMIT, ordered: true, ..Options::default() };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let (e, next) = (id(), id());
    let keys: Vec<String> = (0..3).map(|i| format!("{e}:{i}")).collect();
    rx.fail_event(&keys[1], 2);
    assert_eq!(bus::post_github(&app.url, &push(3), &e).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &push(1), &next).await.0, 202);
    let reqs = rx.wait_until("both events delivered", WAIT, |r| ok(r, &keys[2]) == 1 && ok(r, &next) == 1).await;
    let order: Vec<(&str, u16)> = reqs.iter().map(|r| (r.header("webhook-id"), r.status)).collect();
    let expected: Vec<(&str, u16)> =
        vec![(&keys[0], 200), (&keys[1], 500), (&keys[1], 500), (&keys[1], 200), (&keys[2], 200), (&next, 200)];
    assert_eq!(order, expected, "later outputs and the key's next event wait for the retried output");
    let tries: Vec<&Req> = reqs.iter().filter(|r| r.header("webhook-id") == keys[1]).collect();
    assert!(tries.iter().all(|t| t.body == tries[0].body), "retried in place with the stored output");
    app.stop().await;
}

on_every_backend!(
    each_output_is_delivered_and_retried_on_its_own,
    a_failing_output_is_dead_lettered_alone_and_redriven_as_it_was,
    no_output_is_filtered_and_too_many_dead_letter_the_event,
    ordered_fan_out_keeps_the_outputs_in_order_through_retries,
);
