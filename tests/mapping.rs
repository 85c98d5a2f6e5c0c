//! Mapping through the real worker path: what the target receives byte for byte.
#[macro_use]
mod support;

use std::time::Duration;

use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

/// The keys of a JSON object as they appear in the raw body, in order.
fn key_order(body: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value.as_object().expect("an object").keys().cloned().collect()
}

async fn transform_output_keeps_the_order_jq_built(backend: Backend) {
    let rx = Receiver::start().await;
    let transform = "{title: .data.commits[0].message, owner: .data.pusher.name, labels: [.data.repository.full_name]}";
    let bus = Bus::new(backend, &rx.url, Options { transform, ..Options::default() });
    let app = bus.start().await;
    let push = bus::github_push("acme/api", "mona@example.com");
    let (status, _) = bus::post_github(&app.url, &push, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 202);
    let reqs = rx.wait_until("the crm delivery", WAIT, |r| !r.is_empty()).await;
    assert_eq!(
        std::str::from_utf8(&reqs[0].body).unwrap(),
        r#"{"title":"Update README.md","owner":"mona","labels":["acme/api"]}"#
    );
    app.stop().await;
}

async fn envelope_keeps_attribute_and_payload_order(backend: Backend) {
    let rx = Receiver::start().await;
    let bus = Bus::new(backend, &rx.url, Options { transform: "", ..Options::default() });
    let app = bus.start().await;
    // Keys deliberately not in alphabetical order.
    let push = br#"{"ref":"refs/heads/main","zen":"Keep it simple","repository":{"full_name":"acme/api","id":1},"pusher":{"name":"mona","email":"m@example.com"},"commits":[]}"#;
    let (status, _) = bus::post_github(&app.url, push, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 202);
    let reqs = rx.wait_until("the crm delivery", WAIT, |r| !r.is_empty()).await;
    let envelope: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    let keys = key_order(&reqs[0].body);
    assert_eq!(&keys[..4], ["specversion", "id", "source", "type"], "{keys:?}");
    let data: Vec<&String> = envelope["data"].as_object().unwrap().keys().collect();
    assert_eq!(data, ["ref", "zen", "repository", "pusher", "commits"]);
    app.stop().await;
}

async fn helpers_are_available_to_the_worker(backend: Backend) {
    let rx = Receiver::start().await;
    let transform = "{member: (.data.pusher.email | ascii_downcase | md5), repo: (.data.repository.full_name | split(\"/\")[1] | title_case), sig: (.id | hmac_sha256(\"k\"))}";
    let bus = Bus::new(backend, &rx.url, Options { transform, ..Options::default() });
    let app = bus.start().await;
    let push = bus::github_push("acme/web-api", "Mona@Example.com");
    let id = uuid::Uuid::new_v4().to_string();
    let (status, _) = bus::post_github(&app.url, &push, &id).await;
    assert_eq!(status, 202);
    let reqs = rx.wait_until("the crm delivery", WAIT, |r| !r.is_empty()).await;
    let body = reqs[0].json();
    // md5("mona@example.com"), computed with md5sum.
    assert_eq!(body["member"], "342479077ad49f4441c2827ac718a24b");
    assert_eq!(body["repo"], "Web Api");
    assert_eq!(body["sig"].as_str().map(str::len), Some(64));
    app.stop().await;
}

async fn targets_and_headers_take_values_from_the_event(backend: Backend) {
    let rx = Receiver::start().await;
    let opts = Options {
        crm_path: "/crm/{{ .data.repository.full_name }}/activities",
        crm_settings: "headers = { x-pusher = '{{ .data.pusher.name | ascii_upcase }}' }",
        ..Options::default()
    };
    let bus = Bus::new(backend, &rx.url, opts);
    let app = bus.start().await;
    let (status, _) =
        bus::post_github(&app.url, &bus::github_push("acme/api", "m@example.com"), &uuid::Uuid::new_v4().to_string())
            .await;
    assert_eq!(status, 202);
    // A push without the pusher's name: the template has no value, so the event is dead-lettered.
    let nameless = br#"{"ref":"refs/heads/main","repository":{"full_name":"acme/api"},"pusher":{"email":"x@example.com"},"commits":[]}"#;
    let (status, _) = bus::post_github(&app.url, nameless, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 202);
    let reqs = rx.wait_until("the crm delivery", WAIT, |r| !r.is_empty()).await;
    // The value is one path segment: its slash is encoded, it cannot add segments or change the host.
    assert_eq!(reqs[0].path, "/crm/acme%2Fapi/activities");
    assert_eq!(reqs[0].header("x-pusher"), "MONA");
    let deadline = tokio::time::Instant::now() + WAIT;
    let dead = loop {
        let out = bus.cli(&["dlq", "list", "--subscription", "crm", "--json"]);
        if let Some(line) = out.lines().next() {
            break serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "the nameless push was not dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(dead.to_string().contains(".data.pusher.name"), "the dead letter names the template: {dead}");
    assert_eq!(rx.requests().len(), 1);
    app.stop().await;
}

on_every_backend!(
    targets_and_headers_take_values_from_the_event,
    transform_output_keeps_the_order_jq_built,
    envelope_keeps_attribute_and_payload_order,
    helpers_are_available_to_the_worker
);
