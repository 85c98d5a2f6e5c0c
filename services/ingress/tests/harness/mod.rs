//! Shared harness of the router tests (`router.rs`, `body_limit.rs`, `router_hostile.rs`): the ingress router driven
//! with `tower::ServiceExt::oneshot`, no sockets.
//!
//! The state is built from a TOML config exactly as the binary builds it (`Config::from_toml` then
//! `source::load`); each test file brings its own config. The broker is a recording test double of
//! `Publisher` that can be switched to fail: the real backends are covered by the broker contract tests,
//! here only the router's behaviour around publishing matters.
//!
//! A directory module, so Cargo does not build it as a test target of its own.

// Each test binary compiles this module and uses only part of it; the rest would warn as dead code there.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use hookbus_broker::{BrokerError, Publisher, Record};
use hookbus_core::config::Config;
use hookbus_ingress::dedup::MemoryDedup;
use hookbus_ingress::{IngressMetrics, IngressState, router, source};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------------------
// Test double of the broker.

/// Records every published `(topic, record)`; `fail` switches it to answer `Unavailable`.
#[derive(Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<(String, Record)>>,
    failing: AtomicBool,
}

impl RecordingPublisher {
    pub fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    pub fn records(&self) -> Vec<(String, Record)> {
        self.published.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.published.lock().unwrap().len()
    }

    /// The only published record, after asserting there is exactly one, on `topic`.
    pub fn single(&self, topic: &str) -> Record {
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
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Harness.

/// The ingress state built from one config, its publisher and its metrics registry. The test files add
/// their own constructors and request builders in `impl Harness` blocks of their own.
pub struct Harness {
    pub state: Arc<IngressState>,
    pub publisher: Arc<RecordingPublisher>,
    pub registry: Arc<Registry>,
}

impl Harness {
    pub fn from_toml(toml: &str) -> Self {
        let config = Config::from_toml(toml, "test.toml").expect("test config parses");
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
            rejections: Arc::new(hookbus_core::live::Discard),
        };
        Self { state: Arc::new(state), publisher, registry: Arc::new(registry) }
    }

    pub fn ingress(&self) -> Router {
        router(self.state.clone())
    }

    /// Headers a provider would send for `body` on `source` (via `Scheme::sign`, the code path of
    /// `hookbus sign`), signed at `ts`.
    pub fn sign(&self, source: &str, secret: &str, body: &[u8], ts: i64, delivery_id: &str) -> Vec<(String, String)> {
        self.state.sources[source].scheme.sign(secret, body, ts, delivery_id).expect("signing works")
    }

    /// A POST to `/webhooks/{source}` with `headers` and `body`, with a Content-Length like a client sends.
    pub fn request(&self, source: &str, headers: &[(String, String)], body: impl Into<Bytes>) -> Request<Body> {
        let body: Bytes = body.into();
        let mut req = post(source, headers, Body::from(body.clone()));
        req.headers_mut().insert(header::CONTENT_LENGTH, body.len().into());
        req
    }

    /// Sends `req`, whatever its method, to the ingress router.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        send(self.ingress(), req).await
    }

    /// A GET of `uri` on the ingress router.
    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// The ingress metrics as `/metrics` serves them (the route itself is the process's, tested in
    /// the root crate's tests/ops.rs).
    pub async fn metrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("metrics encode");
        out
    }
}

/// A POST to `/webhooks/{source}` with `headers` and `body` as given, no Content-Length added.
pub fn post(source: &str, headers: &[(String, String)], body: Body) -> Request<Body> {
    let mut builder = Request::post(format!("/webhooks/{source}"));
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(body).unwrap()
}

pub async fn send(app: Router, req: Request<Body>) -> Reply {
    let resp = app.oneshot(req).await.expect("the router is infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("response body reads");
    Reply { status, headers, body }
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------------------------------------------------
// Replies, records and header lists.

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of header `name`, which must be present and visible ASCII.
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
    }

    /// Asserts a 202 `{"id": id, "duplicate": duplicate}`.
    pub fn assert_accepted(&self, id: &str, duplicate: bool) {
        assert_eq!(self.status, StatusCode::ACCEPTED, "body: {}", self.text());
        assert_eq!(self.json(), json!({ "id": id, "duplicate": duplicate }));
    }

    /// Asserts the status and the one error shape of the API: `{"error":{"code":..,"message":..}}`, JSON,
    /// with a non-empty message and nothing else.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
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

    /// A handshake answer: 200, the echoed text as text/plain, not sniffable.
    pub fn assert_echo(&self, expected: &str) {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        assert!(self.header(header::CONTENT_TYPE).starts_with("text/plain"), "{:?}", self.headers);
        assert_eq!(self.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(self.text(), expected);
    }
}

/// The value of header `name` on a published record, which must have it.
pub fn header_str<'a>(record: &'a Record, name: &str) -> &'a str {
    record.header_str(name).unwrap_or_else(|| panic!("record has no `{name}` header: {:?}", record.headers))
}

/// Replaces the value of `name` (case-insensitively) in a signed header list, or adds it.
pub fn with_header(mut headers: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
    headers
}

/// Removes `name` (case-insensitively) from a signed header list.
pub fn without_header(mut headers: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers
}
