//! Router tests: the ingress router driven with `tower::ServiceExt::oneshot`, no sockets.
//!
//! The state is built from a TOML config exactly as the binary builds it (`Config::from_toml` then
//! `source::load`); requests are signed with `Scheme::sign`, the code path of `hookbus sign`. The broker is a
//! recording test double of `Publisher` that can be switched to fail: the real backends are covered by the
//! broker contract tests, here only the router's behaviour around publishing matters. The harness (state,
//! test double, replies) is shared with `router_hostile.rs` in `harness/mod.rs`.
mod harness;

use axum::body::Body;
use axum::http::{StatusCode, header};
use hookbus_core::CloudEvent;
use serde_json::{Value, json};

use harness::*;

const GITHUB_SECRET: &str = "gh-router-test-secret";
const STRIPE_SECRET: &str = "whsec_router_test_stripe";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HMAC_SECRET: &str = "legacy-router-test-secret";

/// The production default; the limit itself is tested in `body_limit.rs`.
const DEFAULT_MAX_BODY: usize = 1024 * 1024;

fn config_toml(max_body_bytes: usize) -> String {
    format!(
        r#"
[server]
max_body_bytes = {max_body_bytes}

[sources.github]
scheme = "github"
secrets = [{{ value = "{GITHUB_SECRET}" }}]
partition_key = "/repository/full_name"

[sources.stripe]
scheme = "stripe"
secrets = [{{ value = "{STRIPE_SECRET}" }}]

[sources.acme]
scheme = "standard_webhooks"
secrets = [{{ value = "{STANDARD_SECRET}" }}]

[sources.legacy]
scheme = "hmac"
secrets = [{{ value = "{HMAC_SECRET}" }}]

[sources.legacy.hmac]
header = "X-Signature"
"#
    )
}

impl Harness {
    fn new() -> Self {
        let h = Self::from_toml(&config_toml(DEFAULT_MAX_BODY));
        assert_eq!(h.state.max_body_bytes, DEFAULT_MAX_BODY, "config value reaches the state");
        h
    }
}

/// A GitHub push body in GitHub's own field order (not sorted), compact as GitHub sends it.
fn github_push_body() -> Vec<u8> {
    br#"{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","repository":{"id":1296269,"name":"hello-world","full_name":"octo-org/hello-world"},"pusher":{"name":"octocat","email":"octocat@example.com"},"commits":[]}"#.to_vec()
}

// ---------------------------------------------------------------------------------------------------------
// GitHub: the happy path, duplicates, signatures.

#[tokio::test]
async fn github_push_is_published_once_as_a_binary_mode_cloudevent() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-push-1");
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-push-1", false);

    let record = h.publisher.single("github");
    assert_eq!(header_str(&record, "ce_id"), "d-push-1");
    assert_eq!(header_str(&record, "ce_type"), "github.push");
    assert_eq!(header_str(&record, "ce_source"), "hookbus://sources/github");
    assert_eq!(header_str(&record, "ce_specversion"), "1.0");
    assert_eq!(header_str(&record, "content-type"), "application/json");
    assert_eq!(header_str(&record, "ce_partitionkey"), "octo-org/hello-world");
    assert_eq!(record.key.as_deref(), Some(&b"octo-org/hello-world"[..]), "key = the configured partition_key");
    assert!(record.timestamp_ms > 0, "the producer sets a timestamp");
    let event = CloudEvent::from_binary(&record.headers, &record.payload).expect("the record decodes");
    assert_eq!(event.data, Some(serde_json::from_slice::<Value>(&body).unwrap()));
    // Last, so that a failure here does not hide the attributes above: raw bytes are sacred.
    assert_eq!(
        String::from_utf8_lossy(&record.payload),
        String::from_utf8_lossy(&body),
        "the record payload must be the exact bytes received"
    );
}

#[tokio::test]
async fn payload_keeps_the_exact_bytes_of_a_pretty_printed_body_with_a_big_number() {
    let h = Harness::new();
    // Whitespace, unsorted keys and an integer beyond f64 precision: re-serializing changes all three.
    let body =
        b"{\n  \"zeta\": 1,\n  \"amount\": 12345678901234567890123,\n  \"repository\": {\"full_name\": \"o/r\"}\n}\n";
    let headers = h.sign("github", GITHUB_SECRET, body, now(), "d-pretty");
    h.send(h.request("github", &headers, &body[..])).await.assert_accepted("d-pretty", false);
    let record = h.publisher.single("github");
    assert_eq!(String::from_utf8_lossy(&record.payload), String::from_utf8_lossy(body));
}

#[tokio::test]
async fn an_empty_partition_key_value_falls_back_to_the_event_id() {
    // schemas/cloudevent.json requires a non-empty `partitionkey`; an empty `/repository/full_name` must not
    // produce an envelope that breaks it (nor an empty Kafka key).
    let h = Harness::new();
    let body = br#"{"repository":{"full_name":""}}"#;
    let headers = h.sign("github", GITHUB_SECRET, body, now(), "d-empty-key");
    h.send(h.request("github", &headers, &body[..])).await.assert_accepted("d-empty-key", false);
    let record = h.publisher.single("github");
    let key = header_str(&record, "ce_partitionkey");
    assert!(!key.is_empty(), "empty partition key in {:?}", record.headers);
    assert_eq!(record.key.as_deref(), Some(key.as_bytes()));
}

#[tokio::test]
async fn the_same_delivery_id_twice_is_a_duplicate_and_published_once() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-dup");
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-dup", false);
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-dup", true);
    h.publisher.single("github");

    // Another delivery id is a new event.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-other");
    h.send(h.request("github", &headers, body)).await.assert_accepted("d-other", false);
    assert_eq!(h.publisher.records().len(), 2);
}

#[tokio::test]
async fn bad_signature_is_401_and_nothing_is_published() {
    let h = Harness::new();
    let body = github_push_body();

    // Signed with another secret.
    let headers = h.sign("github", "not-the-configured-secret", &body, now(), "d-forged");
    h.send(h.request("github", &headers, body.clone()))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    // Signed correctly, then the body was changed on the way.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-tampered");
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    h.send(h.request("github", &headers, tampered)).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    assert!(h.publisher.records().is_empty());

    // A rejected id was not claimed: the genuine delivery with that id still goes through.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-forged");
    h.send(h.request("github", &headers, body)).await.assert_accepted("d-forged", false);
}

#[tokio::test]
async fn missing_signature_header_is_401() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = without_header(h.sign("github", GITHUB_SECRET, &body, now(), "d-1"), "X-Hub-Signature-256");
    h.send(h.request("github", &headers, body))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "missing_signature_header");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn unknown_source_is_404() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-1");
    h.send(h.request("gitlab", &headers, body)).await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    assert!(h.publisher.records().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// Broker outage.

#[tokio::test]
async fn broker_unavailable_is_503_with_retry_after_and_does_not_poison_dedup() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-outage");

    h.publisher.fail(true);
    let reply = h.send(h.request("github", &headers, body.clone())).await;
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable");
    let retry_after = reply.headers.get(header::RETRY_AFTER).expect("a 503 carries Retry-After");
    let secs: u64 = retry_after.to_str().unwrap().parse().expect("Retry-After is delay-seconds");
    assert!(secs > 0);
    assert!(h.publisher.records().is_empty());

    // The provider retries the same delivery once the broker is back: accepted and published, not a duplicate.
    h.publisher.fail(false);
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-outage", false);
    h.publisher.single("github");
    h.send(h.request("github", &headers, body)).await.assert_accepted("d-outage", true);
    h.publisher.single("github");
}

// ---------------------------------------------------------------------------------------------------------
// Other schemes.

#[tokio::test]
async fn standard_webhooks_event_takes_its_type_from_the_body_and_its_id_from_webhook_id() {
    let h = Harness::new();
    let body = br#"{"type":"invoice.created","timestamp":"2024-05-01T12:00:00Z","data":{"invoice":"in_1"}}"#;
    let headers =
        with_header(h.sign("acme", STANDARD_SECRET, body, now(), "msg_2Xk9router"), "Content-Type", "application/json");
    h.send(h.request("acme", &headers, &body[..])).await.assert_accepted("msg_2Xk9router", false);
    let record = h.publisher.single("acme");
    assert_eq!(header_str(&record, "ce_id"), "msg_2Xk9router");
    assert_eq!(header_str(&record, "ce_type"), "acme.invoice.created");
    assert_eq!(header_str(&record, "ce_source"), "hookbus://sources/acme");
    assert_eq!(record.key.as_deref(), Some(&b"msg_2Xk9router"[..]), "no partition_key: the id is the key");
}

#[tokio::test]
async fn standard_webhooks_stale_timestamp_is_401() {
    let h = Harness::new();
    let body = br#"{"type":"invoice.created"}"#;
    let headers = h.sign("acme", STANDARD_SECRET, body, now() - 600, "msg_stale");
    h.send(h.request("acme", &headers, &body[..]))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "timestamp_out_of_tolerance");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn stripe_event_takes_type_and_id_from_the_body() {
    let h = Harness::new();
    let body = br#"{"id":"evt_1PqRouter","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#;
    let headers = h.sign("stripe", STRIPE_SECRET, body, now(), "ignored-by-stripe");
    h.send(h.request("stripe", &headers, &body[..])).await.assert_accepted("evt_1PqRouter", false);
    let record = h.publisher.single("stripe");
    assert_eq!(header_str(&record, "ce_id"), "evt_1PqRouter");
    assert_eq!(header_str(&record, "ce_type"), "stripe.invoice.paid");
    assert_eq!(header_str(&record, "ce_source"), "hookbus://sources/stripe");
}

#[tokio::test]
async fn non_json_body_on_an_hmac_source_is_carried_as_raw_bytes() {
    let h = Harness::new();
    let body = b"From=%2B15551234567&Body=hello+there";
    let signed = h.sign("legacy", HMAC_SECRET, body, now(), "unused");
    let headers = with_header(signed, "Content-Type", "application/x-www-form-urlencoded");
    let reply = h.send(h.request("legacy", &headers, &body[..])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "body: {}", reply.text());
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(reply.json(), json!({ "id": id, "duplicate": false }));

    let record = h.publisher.single("legacy");
    let content_type = header_str(&record, "content-type");
    assert!(!content_type.starts_with("application/json"), "content-type is {content_type:?}");
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert_eq!(record.payload, body, "binary mode carries the raw bytes");
    assert_eq!(header_str(&record, "ce_id"), id, "no id header configured: a generated id");
    assert_eq!(header_str(&record, "ce_type"), "legacy.webhook");
    let event = CloudEvent::from_binary(&record.headers, &record.payload).expect("the record decodes");
    assert_eq!(event.data, None);
    assert!(event.data_base64.is_some());
}

#[tokio::test]
async fn non_json_body_labelled_as_json_is_still_a_decodable_record() {
    // `Scheme::sign` (and so `hookbus sign`) labels every body `application/json`; a provider may do the
    // same. Ingress answers 202, so the record it stores must be one a worker can decode, or the event is lost.
    let h = Harness::new();
    let body = b"not json at all";
    let headers = h.sign("legacy", HMAC_SECRET, body, now(), "unused");
    assert!(headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json"));
    let reply = h.send(h.request("legacy", &headers, &body[..])).await;
    if reply.status.is_success() {
        let record = h.publisher.single("legacy");
        let decoded = CloudEvent::from_binary(&record.headers, &record.payload);
        assert!(decoded.is_ok(), "accepted with 202 but the stored record does not decode: {decoded:?}");
    } else {
        // Rejecting the request is fine too, as long as it is a clear client error and nothing was stored.
        assert!(reply.status.is_client_error(), "status {}", reply.status);
        assert!(h.publisher.records().is_empty());
    }
}

// ---------------------------------------------------------------------------------------------------------
// Trace context.

#[tokio::test]
async fn a_valid_inbound_traceparent_is_carried_and_an_invalid_one_is_not() {
    let h = Harness::new();
    let body = github_push_body();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let tp = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let headers = with_header(h.sign("github", GITHUB_SECRET, &body, now(), "d-tp"), "traceparent", &tp);
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-tp", false);
    let record = h.publisher.single("github");
    let carried = header_str(&record, "ce_traceparent");
    assert!(carried.starts_with(&format!("00-{trace_id}-")), "trace id kept: {carried}");

    let h = Harness::new();
    let headers = with_header(h.sign("github", GITHUB_SECRET, &body, now(), "d-bad-tp"), "traceparent", "garbage");
    h.send(h.request("github", &headers, body)).await.assert_accepted("d-bad-tp", false);
    let record = h.publisher.single("github");
    if let Some(carried) = record.header_str("ce_traceparent") {
        let valid = carried.len() == 55
            && carried.split('-').map(str::len).eq([2, 32, 16, 2])
            && carried.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c));
        assert!(valid, "an invalid inbound traceparent was copied into the record: {carried:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Metrics (the /healthz, /readyz and /metrics routes are the process's: tests/ops.rs at the root).

#[tokio::test]
async fn metrics_count_accepted_duplicate_and_rejected_webhooks() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-metrics");
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-metrics", false);
    h.send(h.request("github", &headers, body.clone())).await.assert_accepted("d-metrics", true);
    let forged = h.sign("github", "wrong", &body, now(), "d-forged");
    h.send(h.request("github", &forged, body)).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    let text = h.metrics().await;
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(has(r#"hookbus_ingress_accepted_total{source="github"} 1"#), "{text}");
    assert!(has(r#"hookbus_ingress_duplicates_total{source="github"} 1"#), "{text}");
    assert!(has(r#"hookbus_ingress_rejected_total{source="github",reason="signature_mismatch"} 1"#), "{text}");
    assert!(text.contains("hookbus_ingress_produce_seconds_count 1"), "{text}");
}

#[tokio::test]
async fn unknown_source_names_do_not_become_metric_labels() {
    // The path segment is attacker-chosen: as a label value it would grow one series per request.
    let h = Harness::new();
    for i in 0..3 {
        let req = post(&format!("probe-{i}"), &[], Body::from("{}"));
        h.send(req).await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    }
    let text = h.metrics().await;
    assert!(!text.contains("probe-"), "request paths leaked into metric labels:\n{text}");
}
