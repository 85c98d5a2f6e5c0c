//! Router tests: the ingress and ops routers driven with `tower::ServiceExt::oneshot`, no sockets.
//!
//! The state is built from a TOML config exactly as the binary builds it (`Config::from_toml` then
//! `source::load`); requests are signed with `Scheme::sign`, the code path of `hookbus sign`. The broker is a
//! recording test double of `Publisher` that can be switched to fail: the real backends are covered by the
//! broker contract tests, here only the router's behaviour around publishing matters.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use hookbus_broker::{BrokerError, Publisher, Record};
use hookbus_core::CloudEvent;
use hookbus_core::config::Config;
use hookbus_ingress::dedup::MemoryDedup;
use hookbus_ingress::{IngressMetrics, IngressState, ops, router, source};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tower::ServiceExt;

const GITHUB_SECRET: &str = "gh-router-test-secret";
const STRIPE_SECRET: &str = "whsec_router_test_stripe";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HMAC_SECRET: &str = "legacy-router-test-secret";

/// The production default; tests of the limit pass a small one.
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

// ---------------------------------------------------------------------------------------------------------
// Test double of the broker.

/// Records every published `(topic, record)`; `fail`/`unready` switch it to answer `Unavailable`.
#[derive(Default)]
struct RecordingPublisher {
    published: Mutex<Vec<(String, Record)>>,
    failing: AtomicBool,
    unready: AtomicBool,
}

impl RecordingPublisher {
    fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    fn unready(&self, on: bool) {
        self.unready.store(on, Ordering::SeqCst);
    }

    fn records(&self) -> Vec<(String, Record)> {
        self.published.lock().unwrap().clone()
    }

    /// The only published record, after asserting there is exactly one, on `topic`.
    fn single(&self, topic: &str) -> Record {
        let records = self.records();
        assert_eq!(records.len(), 1, "expected exactly one published record, got {records:#?}");
        let (t, record) = records.into_iter().next().unwrap();
        assert_eq!(t, topic, "published to the wrong topic");
        record
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, record: Record) -> Result<(i32, i64), BrokerError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(BrokerError::Unavailable("test publisher is switched to fail".into()));
        }
        let mut published = self.published.lock().unwrap();
        published.push((topic.to_owned(), record));
        Ok((0, published.len() as i64 - 1))
    }

    async fn ensure_topics(&self, _topics: &[String]) -> Result<(), BrokerError> {
        Ok(())
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        if self.unready.load(Ordering::SeqCst) {
            return Err(BrokerError::Unavailable("test publisher is switched to unready".into()));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Harness.

struct Harness {
    state: Arc<IngressState>,
    publisher: Arc<RecordingPublisher>,
    registry: Arc<Registry>,
}

impl Harness {
    fn new() -> Self {
        Self::with_max_body(DEFAULT_MAX_BODY)
    }

    fn with_max_body(max_body_bytes: usize) -> Self {
        let config = Config::from_toml(&config_toml(max_body_bytes), "test.toml").expect("test config parses");
        let sources = source::load(&config).expect("test sources load");
        let publisher = Arc::new(RecordingPublisher::default());
        let mut registry = Registry::default();
        let metrics = IngressMetrics::register(&mut registry);
        let state = IngressState {
            sources,
            publisher: publisher.clone(),
            dedup: Arc::new(MemoryDedup::new(Duration::from_secs(config.dedup.window_secs))),
            metrics,
            max_body_bytes: config.server.max_body_bytes,
        };
        assert_eq!(state.max_body_bytes, max_body_bytes, "config value reaches the state");
        Self { state: Arc::new(state), publisher, registry: Arc::new(registry) }
    }

    fn ingress(&self) -> Router {
        router(self.state.clone())
    }

    fn ops(&self) -> Router {
        ops::router(self.registry.clone(), self.publisher.clone())
    }

    /// Headers a provider would send for `body` on `source` (via `Scheme::sign`), signed at `ts`.
    fn sign(&self, source: &str, secret: &str, body: &[u8], ts: i64, delivery_id: &str) -> Vec<(String, String)> {
        self.state.sources[source].scheme.sign(secret, body, ts, delivery_id).expect("signing works")
    }

    /// A POST to `/webhooks/{source}` with `headers` and `body`, with a Content-Length like a client sends.
    fn request(&self, source: &str, headers: &[(String, String)], body: impl Into<Bytes>) -> Request<Body> {
        let body: Bytes = body.into();
        let mut req = post(source, headers, Body::from(body.clone()));
        req.headers_mut().insert(header::CONTENT_LENGTH, body.len().into());
        req
    }

    async fn post(&self, req: Request<Body>) -> Reply {
        send(self.ingress(), req).await
    }

    async fn get_ops(&self, path: &str) -> Reply {
        send(self.ops(), Request::get(path).body(Body::empty()).unwrap()).await
    }
}

fn post(source: &str, headers: &[(String, String)], body: Body) -> Request<Body> {
    let mut builder = Request::post(format!("/webhooks/{source}"));
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(body).unwrap()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a 202 `{"id": id, "duplicate": duplicate}`.
    fn assert_accepted(&self, id: &str, duplicate: bool) {
        assert_eq!(self.status, StatusCode::ACCEPTED, "body: {}", self.text());
        assert_eq!(self.json(), json!({ "id": id, "duplicate": duplicate }));
    }

    /// Asserts the status and the one error shape of the API: `{"error":{"code":..,"message":..}}`, JSON,
    /// with a non-empty message and nothing else.
    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let content_type = self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("application/json"), "error content-type is {content_type:?}");
        let body = self.json();
        let top = body.as_object().expect("error body is an object");
        assert_eq!(top.keys().collect::<Vec<_>>(), ["error"], "error body: {body}");
        let error = body["error"].as_object().expect("`error` is an object");
        let mut keys: Vec<&String> = error.keys().collect();
        keys.sort();
        assert_eq!(keys, ["code", "message"], "error body: {body}");
        assert_eq!(error["code"], json!(code), "error body: {body}");
        let message = error["message"].as_str().expect("`message` is a string");
        assert!(!message.trim().is_empty(), "error message is empty: {body}");
    }
}

async fn send(app: Router, req: Request<Body>) -> Reply {
    let resp = app.oneshot(req).await.expect("the router is infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("response body reads");
    Reply { status, headers, body }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn header_str<'a>(record: &'a Record, name: &str) -> &'a str {
    record.header_str(name).unwrap_or_else(|| panic!("record has no `{name}` header: {:?}", record.headers))
}

/// Replaces the value of `name` (case-insensitively) in a signed header list, or adds it.
fn with_header(mut headers: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
    headers
}

fn without_header(mut headers: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers
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
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-push-1", false);

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
    h.post(h.request("github", &headers, &body[..])).await.assert_accepted("d-pretty", false);
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
    h.post(h.request("github", &headers, &body[..])).await.assert_accepted("d-empty-key", false);
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
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-dup", false);
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-dup", true);
    h.publisher.single("github");

    // Another delivery id is a new event.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-other");
    h.post(h.request("github", &headers, body)).await.assert_accepted("d-other", false);
    assert_eq!(h.publisher.records().len(), 2);
}

#[tokio::test]
async fn bad_signature_is_401_and_nothing_is_published() {
    let h = Harness::new();
    let body = github_push_body();

    // Signed with another secret.
    let headers = h.sign("github", "not-the-configured-secret", &body, now(), "d-forged");
    h.post(h.request("github", &headers, body.clone()))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    // Signed correctly, then the body was changed on the way.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-tampered");
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    h.post(h.request("github", &headers, tampered)).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    assert!(h.publisher.records().is_empty());

    // A rejected id was not claimed: the genuine delivery with that id still goes through.
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-forged");
    h.post(h.request("github", &headers, body)).await.assert_accepted("d-forged", false);
}

#[tokio::test]
async fn missing_signature_header_is_401() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = without_header(h.sign("github", GITHUB_SECRET, &body, now(), "d-1"), "X-Hub-Signature-256");
    h.post(h.request("github", &headers, body))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "missing_signature_header");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn unknown_source_is_404() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-1");
    h.post(h.request("gitlab", &headers, body)).await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    assert!(h.publisher.records().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// Body size limit.

const SMALL_LIMIT: usize = 64;

/// A correctly signed GitHub body of exactly `len` bytes, so that only its size can be the problem.
fn github_body_of_len(len: usize) -> Vec<u8> {
    let prefix = br#"{"repository":{"full_name":"o/r"},"pad":""#;
    let suffix = br#""}"#;
    let pad = len - prefix.len() - suffix.len();
    [&prefix[..], &vec![b'x'; pad], &suffix[..]].concat()
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let h = Harness::with_max_body(SMALL_LIMIT);
    let body = github_body_of_len(SMALL_LIMIT);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-at-limit");
    h.post(h.request("github", &headers, body)).await.assert_accepted("d-at-limit", false);
    h.publisher.single("github");
}

#[tokio::test]
async fn body_over_the_limit_with_content_length_is_413() {
    let h = Harness::with_max_body(SMALL_LIMIT);
    let body = github_body_of_len(SMALL_LIMIT + 1);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-big");
    h.post(h.request("github", &headers, body)).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn streamed_body_over_the_limit_without_content_length_is_413() {
    let h = Harness::with_max_body(SMALL_LIMIT);
    let body = github_body_of_len(4 * 30);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-stream");
    // Four chunks, each under the limit, together over it; no Content-Length, as with chunked encoding.
    let chunks: Vec<Result<Bytes, std::io::Error>> = body.chunks(30).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let req = post("github", &headers, Body::from_stream(futures::stream::iter(chunks)));
    assert!(req.headers().get(header::CONTENT_LENGTH).is_none());
    h.post(req).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(h.publisher.records().is_empty());

    // A streamed body under the limit is read whole and accepted.
    let body = github_body_of_len(SMALL_LIMIT);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-stream-ok");
    let chunks: Vec<Result<Bytes, std::io::Error>> = body.chunks(20).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    h.post(post("github", &headers, Body::from_stream(futures::stream::iter(chunks))))
        .await
        .assert_accepted("d-stream-ok", false);
    // (Compared as JSON: byte identity has its own test above.)
    let payload: Value = serde_json::from_slice(&h.publisher.single("github").payload).unwrap();
    assert_eq!(payload, serde_json::from_slice::<Value>(&body).unwrap());
}

// ---------------------------------------------------------------------------------------------------------
// Broker outage.

#[tokio::test]
async fn broker_unavailable_is_503_with_retry_after_and_does_not_poison_dedup() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-outage");

    h.publisher.fail(true);
    let reply = h.post(h.request("github", &headers, body.clone())).await;
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable");
    let retry_after = reply.headers.get(header::RETRY_AFTER).expect("a 503 carries Retry-After");
    let secs: u64 = retry_after.to_str().unwrap().parse().expect("Retry-After is delay-seconds");
    assert!(secs > 0);
    assert!(h.publisher.records().is_empty());

    // The provider retries the same delivery once the broker is back: accepted and published, not a duplicate.
    h.publisher.fail(false);
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-outage", false);
    h.publisher.single("github");
    h.post(h.request("github", &headers, body)).await.assert_accepted("d-outage", true);
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
    h.post(h.request("acme", &headers, &body[..])).await.assert_accepted("msg_2Xk9router", false);
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
    h.post(h.request("acme", &headers, &body[..]))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "timestamp_out_of_tolerance");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn stripe_event_takes_type_and_id_from_the_body() {
    let h = Harness::new();
    let body = br#"{"id":"evt_1PqRouter","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#;
    let headers = h.sign("stripe", STRIPE_SECRET, body, now(), "ignored-by-stripe");
    h.post(h.request("stripe", &headers, &body[..])).await.assert_accepted("evt_1PqRouter", false);
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
    let reply = h.post(h.request("legacy", &headers, &body[..])).await;
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
    let reply = h.post(h.request("legacy", &headers, &body[..])).await;
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
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-tp", false);
    let record = h.publisher.single("github");
    let carried = header_str(&record, "ce_traceparent");
    assert!(carried.starts_with(&format!("00-{trace_id}-")), "trace id kept: {carried}");

    let h = Harness::new();
    let headers = with_header(h.sign("github", GITHUB_SECRET, &body, now(), "d-bad-tp"), "traceparent", "garbage");
    h.post(h.request("github", &headers, body)).await.assert_accepted("d-bad-tp", false);
    let record = h.publisher.single("github");
    if let Some(carried) = record.header_str("ce_traceparent") {
        let valid = carried.len() == 55
            && carried.split('-').map(str::len).eq([2, 32, 16, 2])
            && carried.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c));
        assert!(valid, "an invalid inbound traceparent was copied into the record: {carried:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Ops router.

#[tokio::test]
async fn healthz_is_200() {
    let h = Harness::new();
    let reply = h.get_ops("/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_follows_the_publisher() {
    let h = Harness::new();
    assert_eq!(h.get_ops("/readyz").await.status, StatusCode::OK);
    h.publisher.unready(true);
    let reply = h.get_ops("/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "body: {}", reply.text());
    h.publisher.unready(false);
    assert_eq!(h.get_ops("/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_accepted_duplicate_and_rejected_webhooks() {
    let h = Harness::new();
    let body = github_push_body();
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-metrics");
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-metrics", false);
    h.post(h.request("github", &headers, body.clone())).await.assert_accepted("d-metrics", true);
    let forged = h.sign("github", "wrong", &body, now(), "d-forged");
    h.post(h.request("github", &forged, body)).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");

    let reply = h.get_ops("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    let content_type = reply.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = reply.text();
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
        h.post(req).await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    }
    let text = h.get_ops("/metrics").await.text();
    assert!(!text.contains("probe-"), "request paths leaked into metric labels:\n{text}");
}
