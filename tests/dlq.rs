//! Dead-letter operations and replay through the CLI, on every backend.
#[macro_use]
mod support;

use std::time::Duration;

use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Polls `dlq list --json` until it shows `n` records.
async fn wait_dead_letters(bus: &Bus, n: usize) -> Vec<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let out = bus.cli(&["dlq", "list", "--subscription", "crm", "--json"]);
        let records: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if records.len() >= n {
            return records;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} of {n} dead letters appeared", records.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn filter_show_purge_and_redrive_a_subset(backend: Backend) {
    let rx = Receiver::start().await;
    rx.script(&[422, 422]);
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let (keep, drop) = (id(), id());
    for e in [&keep, &drop] {
        assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), e).await.0, 202);
    }
    let all = wait_dead_letters(&bus, 2).await;
    assert!(all.iter().all(|d| d["reason"] == "permanent_failure" && d["attempts"][0]["status"] == 422));

    let one = bus.cli(&["dlq", "list", "--subscription", "crm", "--json", "--id", &keep]);
    assert_eq!(one.lines().count(), 1, "{one}");
    let none = bus.cli(&["dlq", "list", "--subscription", "crm", "--json", "--reason", "retries_exhausted"]);
    assert!(none.trim().is_empty(), "reason filter: {none}");
    let typed = bus.cli(&["dlq", "list", "--subscription", "crm", "--json", "--type", "github.*", "--since", "1h"]);
    assert_eq!(typed.lines().count(), 2, "{typed}");

    let shown: serde_json::Value =
        serde_json::from_str(&bus.cli(&["dlq", "show", "--subscription", "crm", &keep])).unwrap();
    assert_eq!(shown["event"]["id"], keep.as_str());
    assert_eq!(shown["attempts"][0]["decision"], "give_up");

    assert!(bus.cli(&["dlq", "purge", "--subscription", "crm", "--id", &drop]).contains("purged 1"));
    assert!(bus.cli(&["dlq", "redrive", "--subscription", "crm"]).contains("redrove 1"));
    rx.wait_until("the redriven event", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == keep && q.status == 200))
        .await;
    let left = bus.cli(&["dlq", "list", "--subscription", "crm"]);
    assert!(left.contains("0 pending dead letter(s)"), "{left}");
    app.stop().await;
    assert!(rx.for_event(&drop).iter().all(|r| r.status == 422), "the purged event was not redelivered");
}

async fn replay_redelivers_a_time_range(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    let app = bus.start().await;
    let ev = id();
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &ev).await.0, 202);
    rx.wait_until("first delivery", WAIT, |r| r.len() == 1).await;
    let out = bus.cli(&["replay", "--subscription", "crm", "--from", "1h"]);
    assert!(out.contains("replayed 1 of 1"), "{out}");
    let reqs = rx.wait_until("the replayed delivery", WAIT, |r| r.len() == 2).await;
    assert!(reqs.iter().all(|r| r.header("webhook-id") == ev), "same idempotency key on replay");
    assert_eq!(reqs[1].header("hookbus-attempt"), "1", "replay starts a fresh attempt count");
    let out =
        bus.cli(&["replay", "--subscription", "crm", "--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z"]);
    assert!(out.contains("replayed 0 of 1"), "outside the range: {out}");
    app.stop().await;
}

on_every_backend!(filter_show_purge_and_redrive_a_subset, replay_redelivers_a_time_range);
