//! Deliveries parse as CloudEvents with the official JavaScript SDK (npm `cloudevents`, see
//! tests/cloudevents/): structured mode (the default without a transform) and binary mode, with
//! and without a transform. Needs node; skips with a reason when it is absent, unless CI=true.
#[macro_use]
mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use support::bus::{self, Backend, Bus, Options};
use support::receiver::{Receiver, Req};
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_secs(30);
const NODE_LIMIT: Duration = Duration::from_secs(60);

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cloudevents")
}

fn skip_or_fail(reason: &str) -> Option<()> {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {reason}");
    eprintln!("skipping: {reason}");
    None
}

/// node with the SDK installed (installing it once into tests/cloudevents/node_modules if needed).
async fn sdk_ready() -> Option<()> {
    let node = tokio::process::Command::new("node").arg("--version").output().await;
    if !node.is_ok_and(|o| o.status.success()) {
        return skip_or_fail("node is not installed (the CloudEvents SDK check needs it)");
    }
    if sdk_dir().join("node_modules/cloudevents").is_dir() {
        return Some(());
    }
    let install = tokio::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(sdk_dir())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(180), install).await {
        Ok(Ok(out)) if out.status.success() => Some(()),
        _ => skip_or_fail("`npm install` in tests/cloudevents failed (is the npm registry reachable?)"),
    }
}

/// What the SDK makes of a captured request: `Ok(event JSON)` or `Err(the SDK's message)`.
async fn parse_with_sdk(r: &Req) -> Result<serde_json::Value, String> {
    let headers: serde_json::Map<String, serde_json::Value> =
        r.headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().into())).collect();
    let input = serde_json::json!({"headers": headers, "body": String::from_utf8_lossy(&r.body)});
    let mut child = tokio::process::Command::new("node")
        .arg("parse.mjs")
        .current_dir(sdk_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).await.unwrap();
    let out = tokio::time::timeout(NODE_LIMIT, child.wait_with_output()).await.expect("node answers in time").unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["event"].clone())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Delivers one push through a `crm` subscription with these settings; returns the request.
async fn deliver(backend: &Backend, transform: &'static str, crm_settings: &'static str, id: &str) -> Req {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend.clone(), &rx.url, Options { transform, crm_settings, ..Options::default() });
    let app = bus.start().await;
    let (status, _) = bus::post_github(&app.url, &bus::github_push("acme/api", "mona@example.com"), id).await;
    assert_eq!(status, 202);
    let req = rx.wait_until("the crm delivery", WAIT, |r| !r.is_empty()).await.remove(0);
    app.stop().await;
    req
}

async fn deliveries_parse_with_the_cloudevents_sdk(backend: Backend) {
    if sdk_ready().await.is_none() {
        return;
    }
    let mapped = r#"{email: .data.pusher.email}"#;
    let cases: [(&str, &'static str, &'static str); 4] = [
        ("structured by default", "", ""),
        ("binary", "", "content_mode = \"binary\""),
        ("structured, mapped", mapped, "content_mode = \"structured\""),
        ("binary, mapped", mapped, "content_mode = \"binary\""),
    ];
    for (what, transform, settings) in cases {
        let id = uuid::Uuid::new_v4().to_string();
        let req = deliver(&backend, transform, settings, &id).await;
        let event =
            parse_with_sdk(&req).await.unwrap_or_else(|e| panic!("{what}: the SDK refused the delivery: {e}\n{req:?}"));
        assert_eq!(event["id"], id.as_str(), "{what}");
        assert_eq!(event["type"], "github.push", "{what}");
        assert_eq!(event["source"], "hookbus://sources/github", "{what}");
        assert_eq!(event["specversion"], "1.0", "{what}");
        let data = &event["data"];
        if transform.is_empty() {
            assert_eq!(data["repository"]["full_name"], "acme/api", "{what}: {event}");
        } else {
            assert_eq!(data, &serde_json::json!({"email": "mona@example.com"}), "{what}: {event}");
        }
        let content_type = req.header("content-type");
        if settings.contains("binary") {
            assert_eq!((content_type, req.header("ce-id")), ("application/json", id.as_str()), "{what}");
        } else {
            assert!(content_type.starts_with("application/cloudevents+json"), "{what}: {content_type}");
        }
    }
    // Raw (the default with a transform) is plain JSON: the SDK finds no event in it, by design.
    let req = deliver(&backend, mapped, "", &uuid::Uuid::new_v4().to_string()).await;
    assert!(parse_with_sdk(&req).await.is_err());
    assert_eq!(req.json(), serde_json::json!({"email": "mona@example.com"}));
}

on_every_backend!(deliveries_parse_with_the_cloudevents_sdk);
