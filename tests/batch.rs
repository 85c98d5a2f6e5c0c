//! Batch delivery through the real worker path: up to `max_events` deliveries per request as a JSON
//! array with one idempotency key for the batch; a partial batch goes out after `max_wait`; a
//! failing batch is retried and dead-lettered as a whole, and a redrive sends it again as one
//! request; a shutdown sends what is gathered and commits it; settings one request cannot honour
//! are refused when the config is loaded.
#[macro_use]
mod support;

use std::time::{Duration, Instant};

use hookbus_core::GiveUpReason;
use hookbus_core::signing::{standard_webhooks_key, standard_webhooks_matches};
use support::bus::{self, Backend, Bus, OUT_SECRET, Options};
use support::receiver::{Receiver, Req};

const WAIT: Duration = Duration::from_secs(30);
/// Each item names its event, so a test can tell which events a batch holds.
const ITEM: &str = "{id: .id, repo: .data.repository.full_name}";

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The event ids of a batch request, in the order of its items.
fn ids(r: &Req) -> Vec<String> {
    r.json()
        .as_array()
        .expect("a batch body is an array")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn items(reqs: &[Req]) -> usize {
    reqs.iter().filter(|r| r.status == 200).map(|r| ids(r).len()).sum()
}

async fn post_pushes(app_url: &str, n: usize) -> Vec<String> {
    let mut sent = Vec::new();
    for _ in 0..n {
        let e = id();
        assert_eq!(bus::post_github(app_url, &bus::github_push("acme/api", "a@b.c"), &e).await.0, 202);
        sent.push(e);
    }
    sent
}

async fn dead_letters(bus: &Bus) -> Vec<hookbus_worker::dlq::DlqEntry> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let dead =
            hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap();
        if !dead.is_empty() {
            return dead;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events_go_out_in_batches_of_at_most_max_events(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options {
        transform: ITEM,
        crm_settings: "batch = { max_events = 3, max_wait = \"2s\" }",
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let sent = post_pushes(&app.url, 7).await;
    let reqs = rx.wait_until("all seven events delivered", WAIT, |r| items(r) == 7).await;
    assert_eq!(reqs.len(), 3, "ceil(7 / 3) requests: {:?}", reqs.iter().map(ids).collect::<Vec<_>>());
    let mut delivered: Vec<String> = reqs.iter().flat_map(ids).collect();
    let mut sizes: Vec<usize> = reqs.iter().map(|r| ids(r).len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 3, 3]);
    delivered.sort();
    let mut expected = sent.clone();
    expected.sort();
    assert_eq!(delivered, expected, "every event exactly once");
    let key = standard_webhooks_key(OUT_SECRET).unwrap();
    for r in &reqs {
        let batch_ids = ids(r);
        let webhook_id = hookbus_core::batch::key(batch_ids.iter().map(String::as_str));
        assert_eq!(r.header("webhook-id"), webhook_id, "the key follows the items' own keys");
        assert_eq!(r.header("idempotency-key"), webhook_id);
        assert!(webhook_id.starts_with("batch_"));
        assert_eq!(r.header("hookbus-batch-size"), batch_ids.len().to_string());
        assert_eq!(r.header("content-type"), "application/json", "raw items: a plain JSON array");
        assert_eq!(r.header("hookbus-attempt"), "1");
        let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert!(
            standard_webhooks_matches(&key, &webhook_id, ts, &r.body, r.header("webhook-signature")),
            "signed over the array body"
        );
        assert!(
            r.json().as_array().unwrap().iter().all(|i| i["repo"] == "acme/api"),
            "items are the transform's output"
        );
    }
    app.stop().await;
}

async fn a_partial_batch_goes_out_after_max_wait(backend: Backend) {
    let rx = Receiver::start().await;
    // Without a transform: structured items, each the envelope a single delivery would send.
    let opts = Options {
        transform: "",
        crm_settings: "batch = { max_events = 50, max_wait = \"400ms\" }",
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let started = Instant::now();
    let sent = post_pushes(&app.url, 2).await;
    let reqs = rx.wait_until("the partial batch", WAIT, |r| !r.is_empty()).await;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert!(r.at - started >= Duration::from_millis(400), "held for max_wait: {:?}", r.at - started);
    let (mut got, mut want) = (ids(r), sent.clone());
    got.sort();
    want.sort();
    assert_eq!(got, want, "both events in the one request");
    assert_eq!(r.header("content-type"), "application/cloudevents-batch+json; charset=utf-8");
    let first = &r.json()[0];
    assert_eq!((first["specversion"].as_str(), first["type"].as_str()), (Some("1.0"), Some("github.push")));
    assert_eq!(r.header("hookbus-batch-size"), "2");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.requests().len(), 1, "nothing more was sent");
    app.stop().await;
}

async fn a_failing_batch_retries_and_dead_letters_whole_and_redrives_as_one(backend: Backend) {
    let rx = Receiver::start().await;
    rx.script(&[500, 500]);
    let opts = Options {
        transform: ITEM,
        schedule: vec!["0s", "50ms"],
        circuit_breaker: false,
        crm_settings: "batch = { max_events = 2, max_wait = \"5s\" }",
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let sent = post_pushes(&app.url, 2).await;
    let reqs = rx.wait_until("two attempts of the batch", WAIT, |r| r.len() == 2).await;
    assert_eq!(reqs.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 500]);
    assert_eq!(reqs[0].body, reqs[1].body, "the retry resends the same array");
    assert_eq!(reqs[0].header("webhook-id"), reqs[1].header("webhook-id"));
    assert_eq!((reqs[0].header("hookbus-attempt"), reqs[1].header("hookbus-attempt")), ("1", "2"));

    let dead = dead_letters(&bus).await;
    assert_eq!(dead.len(), 1, "one dead letter for the whole batch");
    let dl = &dead[0].record;
    assert_eq!((dl.reason, dl.attempts.len(), dl.items()), (GiveUpReason::RetriesExhausted, 2, 2));
    let batch = dl.batch.as_ref().expect("the dead letter carries the batch");
    assert_eq!(batch.items.iter().map(|i| i.event_id.clone()).collect::<Vec<_>>(), ids(&reqs[0]));
    assert_eq!(dl.event.id, batch.items[0].event_id, "the record's event is the first item's");
    let mut held: Vec<&str> = batch.items.iter().map(|i| i.event_id.as_str()).collect();
    held.sort_unstable();
    let mut expected: Vec<&str> = sent.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(held, expected);

    let table = bus.cli(&["dlq", "list", "--subscription", "crm"]);
    let header = table.lines().next().unwrap();
    assert!(header.contains("ITEMS"), "{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(row.contains(&dl.event.id) && row.split_whitespace().any(|w| w == "2"), "{table}");
    // Either event of the batch finds it.
    let second = bus.cli(&["dlq", "list", "--subscription", "crm", "--json", "--id", &batch.items[1].event_id]);
    assert_eq!(second.lines().count(), 1, "{second}");

    let redriven =
        hookbus_worker::dlq::redrive(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default(), |_, _| {})
            .await
            .unwrap();
    assert_eq!(redriven, 1);
    let reqs = rx.wait_until("the redriven batch", WAIT, |r| r.len() == 3).await;
    let last = &reqs[2];
    assert_eq!(last.status, 200);
    assert_eq!(last.body, reqs[0].body, "redrive sends the same array as one request");
    assert_eq!(last.header("webhook-id"), reqs[0].header("webhook-id"));
    assert_eq!(last.header("hookbus-attempt"), "1", "with a fresh attempt count");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.requests().len(), 3, "the items are not sent one by one as well");
    app.stop().await;
}

async fn shutdown_sends_what_is_gathered_and_commits_it(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options {
        transform: ITEM,
        crm_settings: "batch = { max_events = 3, max_wait = \"30s\" }",
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let before = post_pushes(&app.url, 2).await;
    // Consumed and gathered, far from max_wait.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(rx.requests().is_empty(), "a partial batch waits for max_wait");
    app.stop().await;
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "the partial batch went out at shutdown");
    let (mut got, mut want) = (ids(&reqs[0]), before.clone());
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // Their records were committed: after a restart, a new batch holds only new events.
    let app = bus.start().await;
    let after = post_pushes(&app.url, 3).await;
    let reqs = rx.wait_until("the next full batch", WAIT, |r| r.len() == 2).await;
    let (mut got, mut want) = (ids(&reqs[1]), after);
    got.sort();
    want.sort();
    assert_eq!(got, want, "nothing delivered before the restart is gathered again");
    app.stop().await;
}

on_every_backend!(
    events_go_out_in_batches_of_at_most_max_events,
    a_partial_batch_goes_out_after_max_wait,
    a_failing_batch_retries_and_dead_letters_whole_and_redrives_as_one,
    shutdown_sends_what_is_gathered_and_commits_it,
);

/// Config load refuses batches that one request cannot carry, each with a message naming why.
#[test]
fn settings_one_request_cannot_carry_are_refused() {
    let cases: [(Options, &str); 6] = [
        (Options { crm_settings: "batch = { max_events = 1 }", ..Options::default() }, "between 2 and 1000"),
        (
            Options { crm_settings: "batch = { max_events = 5, max_wait = \"2m\" }", ..Options::default() },
            "between 1ms and 60s",
        ),
        (Options { ordered: true, crm_settings: "batch = { max_events = 5 }", ..Options::default() }, "`ordered`"),
        (
            Options { crm_settings: "batch = { max_events = 5 }\ncontent_mode = \"binary\"", ..Options::default() },
            "content_mode \"binary\"",
        ),
        (
            Options {
                transform: "",
                crm_settings: "batch = { max_events = 5 }\ncontent_mode = \"raw\"",
                ..Options::default()
            },
            "needs a transform",
        ),
        (
            Options {
                crm_path: "/crm/{{ .data.repository.name }}",
                crm_settings: "batch = { max_events = 5 }",
                ..Options::default()
            },
            "templated target URL",
        ),
    ];
    for (opts, expected) in cases {
        let settings = opts.crm_settings;
        let bus = Bus::new(Backend::Embedded, "http://127.0.0.1:9", opts);
        let err = hookbus_core::config::Config::load(&bus.config_path).expect_err(settings).to_string();
        assert!(err.contains("subscriptions.crm.batch") && err.contains(expected), "{settings}: {err}");
    }
}
