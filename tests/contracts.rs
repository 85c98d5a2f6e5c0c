//! Schema contracts end to end: a source's contract rejects (422, nothing stored) or quarantines
//! (stored aside, never delivered, released once the schema is fixed, on every backend); a
//! subscription's output schema dead-letters a mapped output that breaks it, without calling the
//! target. The admin API lists and releases the quarantine (output schemas through the API:
//! services/control/tests/api_output_schema.rs).
#[macro_use]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The push contract: a `ref` and 40-hex commit ids.
fn push_schema(id_pattern: &str) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["ref", "repository"],
        "properties": {
            "ref": {"type": "string"},
            "commits": {"type": "array", "items": {"properties": {"id": {"type": "string", "pattern": id_pattern}}}}
        }
    })
}

/// Writes the push contract to `schemas/push.json` beside the bus's config.
fn write_schema(bus: &Bus, schema: &Value) {
    let dir = bus.dir.path().join("schemas");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("push.json"), serde_json::to_vec_pretty(schema).unwrap()).unwrap();
}

/// Gives the `github` source the push contract from `schemas/push.json` and `on_violation`.
fn with_contract(bus: &Bus, on_violation: &str) {
    write_schema(bus, &push_schema("^[0-9a-f]{40}$"));
    let toml = std::fs::read_to_string(&bus.config_path).unwrap();
    let anchor = "partition_key = \"/repository/full_name\"\n";
    assert!(toml.contains(anchor), "the test config changed shape");
    let toml = toml.replacen(anchor, &format!("{anchor}on_violation = \"{on_violation}\"\n"), 1)
        + "\n[sources.github.contracts]\n\"github.push\" = \"schemas/push.json\"\n";
    std::fs::write(&bus.config_path, toml).unwrap();
}

/// A push whose commit id breaks the contract (`/commits/0/id`).
fn bad_push(repo: &str) -> Vec<u8> {
    let mut push: Value = serde_json::from_slice(&bus::github_push(repo, "a@b.c")).unwrap();
    push["commits"][0]["id"] = json!("NOT-A-SHA");
    serde_json::to_vec(&push).unwrap()
}

/// Every record of `topic`, read from the start.
async fn records(bus: &Bus, topic: &str) -> Vec<hookbus_broker::Received> {
    let broker = bus.broker();
    broker.publisher().ensure_topics(&[topic.to_owned()]).await.unwrap();
    let mut reader = broker.reader(&[topic.to_owned()]).unwrap();
    let mut wait = if matches!(bus.backend, Backend::Kafka(_)) { Duration::from_secs(3) } else { WAIT / 60 };
    let mut out = Vec::new();
    while let Some(r) = reader.poll(wait).await.unwrap() {
        out.push(r);
        wait = Duration::from_millis(500);
    }
    out
}

/// `quarantine list --json` until it shows `n` events.
async fn wait_quarantined(bus: &Bus, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let out = bus.cli(&["quarantine", "list", "--source", "github", "--json"]);
        let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if rows.len() >= n {
            return rows;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} of {n} quarantined events appeared", rows.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_answers_422_with_every_path_and_stores_nothing() {
    let rx = Receiver::start().await;
    let bus = Bus::new(Backend::Embedded, &rx.url, Options::default());
    with_contract(&bus, "reject");
    let app = bus.start().await;
    let delivery = id();

    let (status, body) = bus::post_github(&app.url, &bad_push("acme/api"), &delivery).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "schema_violation", "{body}");
    let violations = body["error"]["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{body}");
    assert_eq!(violations[0]["path"], "/commits/0/id");
    assert!(violations[0]["message"].as_str().unwrap().contains("NOT-A-SHA"), "{body}");

    // The provider fixes the payload and retries the same delivery: not a duplicate, since the
    // rejected attempt stored nothing.
    let (status, body) = bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &delivery).await;
    assert_eq!((status, &body["duplicate"]), (202, &json!(false)), "{body}");
    rx.wait_until("the corrected push", WAIT, |r| r.len() == 1).await;
    let stored = records(&bus, &format!("{}-github", bus.prefix)).await;
    assert_eq!(stored.len(), 1, "only the corrected push is in the topic");
    let quarantine = records(&bus, &format!("{}.github.quarantine", bus.prefix)).await;
    assert!(quarantine.is_empty(), "reject mode quarantines nothing");

    let metrics = reqwest::get(format!("{}/metrics", app.url)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("hookbus_ingress_schema_violations_total{")
            && l.contains("source=\"github\"")
            && l.contains("type=\"github.push\"")
            && l.contains("mode=\"reject\"")
            && l.ends_with(" 1")),
        "{metrics}"
    );
    app.stop().await;
    assert_eq!(rx.requests().len(), 1);
}

async fn quarantined_events_wait_until_released_after_a_schema_fix(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options::default());
    with_contract(&bus, "quarantine");
    let app = bus.start().await;
    let (fixable, broken, good) = (id(), id(), id());

    let (status, body) = bus::post_github(&app.url, &bad_push("acme/api"), &fixable).await;
    assert_eq!((status, &body["quarantined"]), (202, &json!(true)), "{body}");
    let mut no_ref: Value = serde_json::from_slice(&bus::github_push("acme/api", "a@b.c")).unwrap();
    no_ref.as_object_mut().unwrap().remove("ref");
    let (status, _) = bus::post_github(&app.url, &serde_json::to_vec(&no_ref).unwrap(), &broken).await;
    assert_eq!(status, 202);
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &good).await.0, 202);

    // The valid push behind them is delivered; the quarantined ones are not.
    rx.wait_until("the valid push", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == good)).await;
    let held = wait_quarantined(&bus, 2).await;
    let fixable_row = held.iter().find(|r| r["event"]["id"] == fixable.as_str()).expect("quarantined");
    assert_eq!(fixable_row["violations"][0]["path"], "/commits/0/id", "{fixable_row}");
    assert_eq!(fixable_row["event"]["data"]["commits"][0]["id"], "NOT-A-SHA", "the event as received");
    let quarantine = records(&bus, &format!("{}.github.quarantine", bus.prefix)).await;
    let header = quarantine[0].record.header_str("ce_schemaviolations").expect("violations header");
    assert!(header.contains("/commits/0/id"), "{header}");

    // Releasing before the fix releases nothing and says why.
    let out = bus.cli(&["quarantine", "release", "--source", "github"]);
    assert!(out.contains("released 0 event(s)") && out.contains("2 still break"), "{out}");
    assert!(out.contains(&format!("kept {fixable}")) && out.contains("/commits/0/id"), "{out}");

    // The schema was too strict about commit ids: fix it, release, and the event is delivered
    // under its original id; the one without a `ref` stays.
    write_schema(&bus, &push_schema("^[0-9A-Za-z-]+$"));
    let out = bus.cli(&["quarantine", "release", "--source", "github"]);
    assert!(out.contains("released 1 event(s)") && out.contains("1 still break"), "{out}");
    assert!(out.contains(&format!("kept {broken}")) && out.contains("\"ref\""), "{out}");
    rx.wait_until("the released push", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == fixable)).await;
    let left = wait_quarantined(&bus, 1).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["event"]["id"], broken.as_str());
    // The hopeless one is purged: no longer listed, never delivered.
    let out = bus.cli(&["quarantine", "purge", "--source", "github", "--id", &broken]);
    assert!(out.contains("purged 1"), "{out}");
    let out = bus.cli(&["quarantine", "list", "--source", "github"]);
    assert!(out.contains("0 quarantined event(s)"), "{out}");
    app.stop().await;
    assert!(rx.for_event(&broken).is_empty(), "an event that still breaks its contract is never delivered");
    assert_eq!(rx.for_event(&fixable).len(), 1, "released once");
}

on_every_backend!(quarantined_events_wait_until_released_after_a_schema_fix);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_breaking_the_output_schema_is_dead_lettered_and_never_sent() {
    let rx = Receiver::start().await;
    let opts = Options {
        crm_settings: r#"output_schema = { type = "object", required = ["email", "repo"], properties = { email = { type = "string", format = "email" } } }"#,
        ..Options::default()
    };
    let bus = Bus::new(Backend::Embedded, &rx.url, opts);
    let app = bus.start().await;
    let (bad, good) = (id(), id());
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "not-an-email"), &bad).await.0, 202);
    assert_eq!(bus::post_github(&app.url, &bus::github_push("acme/api", "a@b.c"), &good).await.0, 202);
    rx.wait_until("the valid output", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == good)).await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let dead = loop {
        let out = bus.cli(&["dlq", "list", "--subscription", "crm", "--json", "--reason", "output_schema"]);
        if let Some(line) = out.lines().next() {
            break serde_json::from_str::<Value>(line).unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "no output_schema dead letter appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(dead["event"]["id"], bad.as_str());
    assert_eq!(dead["reason"], "output_schema");
    assert_eq!(dead["attempts"], json!([]), "never sent");
    assert_eq!(dead["violations"][0]["path"], "/email", "{dead}");
    assert!(dead["violations"][0]["message"].as_str().unwrap().contains("email"), "{dead}");
    assert!(dead["message"].as_str().unwrap().contains("/email"), "{dead}");
    support::schema::assert_valid("dead-letter", &dead, "an output_schema dead letter");
    app.stop().await;
    assert!(rx.for_event(&bad).is_empty(), "the target was never called for the refused output");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_that_does_not_compile_is_a_config_error_naming_the_file() {
    let rx = Receiver::start().await;
    let bus = Bus::new(Backend::Embedded, &rx.url, Options::default());
    with_contract(&bus, "reject");
    write_schema(&bus, &json!({"type": "strnig"}));
    let err = hookbus_core::config::Config::load(&bus.config_path).unwrap_err().to_string();
    assert!(err.contains("sources.github.contracts.\"github.push\"") && err.contains("schemas/push.json"), "{err}");
    std::fs::remove_file(bus.dir.path().join("schemas/push.json")).unwrap();
    let err = hookbus_core::config::Config::load(&bus.config_path).unwrap_err().to_string();
    assert!(err.contains("push.json"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_shows_contracts_and_lists_and_releases_the_quarantine() {
    use reqwest::Method;
    let rx = Receiver::start().await;
    let bus = Bus::new(Backend::Embedded, &rx.url, Options::default());
    with_contract(&bus, "quarantine");
    support::admin::with_admin(&bus);
    write_schema(&bus, &push_schema("^[0-9a-f]{40}$"));
    let node = support::admin::start(&bus).await;
    let held = id();
    assert_eq!(bus::post_github(&node.url, &bad_push("acme/api"), &held).await.0, 202);

    let (status, sources) = node.call(Method::GET, "/sources", None).await;
    assert_eq!(status, 200);
    let github = sources["sources"].as_array().unwrap().iter().find(|s| s["name"] == "github").unwrap().clone();
    assert_eq!(github["on_violation"], "quarantine");
    assert_eq!(github["contracts"], json!([{"event_type": "github.push", "schema": "schemas/push.json"}]));
    let list = node.get_until("/sources/github/quarantine", |b| b["total"] == 1).await;
    assert_eq!(list["events"][0]["event_id"], held.as_str(), "{list}");
    assert_eq!(list["events"][0]["violations"][0]["path"], "/commits/0/id", "{list}");
    let (status, _) = node.call(Method::GET, "/sources/nope/quarantine", None).await;
    assert_eq!(status, 404);

    // The node still has the strict schema it was started with: the event stays, with its error.
    let (status, report) = node.call(Method::POST, "/sources/github/quarantine/release", Some(json!({}))).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["released"], json!([]));
    assert_eq!(report["kept"][0]["event_id"], held.as_str());
    assert_eq!(report["kept"][0]["violations"][0]["path"], "/commits/0/id");
    // The CLI does the same through the API.
    let out = support::admin::cli(&["quarantine", "list", "--api", &node.admin, "--source", "github"]).await;
    assert!(out.contains(&held) && out.contains("/commits/0/id") && out.contains("1 quarantined event(s)"), "{out}");
    let out = support::admin::cli(&["quarantine", "release", "--api", &node.admin, "--source", "github"]).await;
    assert!(out.contains("released 0 event(s)") && out.contains(&format!("kept {held}")), "{out}");
    node.stop().await;

    // Restarted with the fixed schema, the node releases it and the worker delivers it.
    write_schema(&bus, &push_schema("^[0-9A-Za-z-]+$"));
    let node = support::admin::start(&bus).await;
    let body = json!({"type": "github.*", "event_ids": [held]});
    let (status, report) = node.call(Method::POST, "/sources/github/quarantine/release", Some(body)).await;
    assert_eq!((status, &report["released"], &report["kept"]), (200, &json!([held]), &json!([])), "{report}");
    rx.wait_until("the released push", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == held)).await;
    let list = node.get_until("/sources/github/quarantine", |b| b["total"] == 0).await;
    assert_eq!(list["total"], 0, "{list}");
    node.stop().await;
}

/// `hookbus mapping test --source` says what ingress would do with a payload that breaks its
/// contract, and what the worker would do with an output that breaks the output schema.
#[test]
fn mapping_test_reports_contract_and_output_schema_violations() {
    let opts = Options { crm_settings: r#"output_schema = { required = ["ticket"] }"#, ..Options::default() };
    let bus = Bus::new(Backend::Embedded, "http://127.0.0.1:9", opts);
    with_contract(&bus, "quarantine");
    let event = bus.dir.path().join("push.json");
    let run = |body: &[u8]| {
        std::fs::write(&event, body).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookbus"))
            .args(["mapping", "test", "--subscription", "crm", "--source", "github", "-H", "X-GitHub-Event: push"])
            .arg("--event")
            .arg(&event)
            .arg("--config")
            .arg(&bus.config_path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (stdout, stderr) = run(&bad_push("acme/api"));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("ingress would quarantine it") && stderr.contains("/commits/0/id"), "{stderr}");
    let (stdout, stderr) = run(&bus::github_push("acme/api", "a@b.c"));
    assert!(stdout.contains("\"repo\": \"acme/api\""), "the mapped body is shown: {stdout}");
    assert!(stderr.contains("output_schema") && stderr.contains("\"ticket\""), "{stderr}");
}
