//! Router tests for what reaches the ingress besides well-behaved deliveries: rate limits (429 with
//! Retry-After), media types (415), wrong methods (405), handshakes (answered, never published) and
//! the per-source dedup window. Driven with `oneshot`, no sockets; the broker is a recording double.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use hookbus_broker::{BrokerError, Publisher, Record};
use hookbus_core::config::Config;
use hookbus_ingress::dedup::MemoryDedup;
use hookbus_ingress::{IngressMetrics, IngressState, ops, router, source};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "hostile-router-test-secret";

fn base_config() -> String {
    format!(
        r#"
[sources.limited]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
rate_limit = {{ per_second = 1, burst = 2 }}

[sources.jsononly]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
content_types = ["application/json", "application/*+json"]

[sources.hooks]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}, {{ value = "meta-verify-token" }}]
handshakes = ["meta", "msgraph", "websub"]
content_types = ["application/json"]

[sources.plain]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]

[sources.shortdedup]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
dedup_window_secs = 1
"#
    )
}

/// The providers whose handshakes are signed and implied by the scheme.
fn signed_handshake_config() -> String {
    format!(
        r#"
[sources.slack]
scheme = "slack"
secrets = [{{ value = "{SECRET}" }}]

[sources.zoom]
scheme = "zoom"
secrets = [{{ value = "zoom-old-secret", expires = "2000-01-01T00:00:00Z" }}, {{ value = "zoom-other" }}, {{ value = "{SECRET}" }}]

[sources.twitch]
scheme = "twitch"
secrets = [{{ value = "{SECRET}" }}]

[sources.woo]
scheme = "woocommerce"
secrets = [{{ value = "{SECRET}" }}]
"#
    )
}

#[derive(Default)]
struct RecordingPublisher {
    published: Mutex<Vec<(String, Record)>>,
}

impl RecordingPublisher {
    fn count(&self) -> usize {
        self.published.lock().unwrap().len()
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, record: Record) -> Result<(i32, i64), BrokerError> {
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

struct Harness {
    state: Arc<IngressState>,
    publisher: Arc<RecordingPublisher>,
    registry: Arc<Registry>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
    }

    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert!(self.header(header::CONTENT_TYPE).starts_with("application/json"));
        assert_eq!(self.json()["error"]["code"], json!(code), "body: {}", self.text());
        assert!(self.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    /// A handshake answer: 200, the echoed text as text/plain, not sniffable.
    fn assert_echo(&self, expected: &str) {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        assert!(self.header(header::CONTENT_TYPE).starts_with("text/plain"), "{:?}", self.headers);
        assert_eq!(self.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(self.text(), expected);
    }
}

impl Harness {
    fn new(toml: &str) -> Self {
        let config = Config::from_toml(toml, "test.toml").expect("test config parses");
        let sources = source::load(&config).expect("test sources load");
        let publisher = Arc::new(RecordingPublisher::default());
        let mut registry = Registry::default();
        let state = IngressState {
            sources,
            publisher: publisher.clone(),
            dedup: Arc::new(MemoryDedup::new(Duration::from_secs(config.dedup.window_secs))),
            metrics: IngressMetrics::register(&mut registry),
            max_body_bytes: config.server.max_body_bytes,
        };
        Self { state: Arc::new(state), publisher, registry: Arc::new(registry) }
    }

    fn base() -> Self {
        Self::new(&base_config())
    }

    /// A POST to `uri` signed for `source` at `now`, with `extra` headers replacing signed ones.
    fn signed(&self, source: &str, uri: &str, body: &[u8], id: &str, extra: &[(&str, &str)]) -> Request<Body> {
        let signed = self.state.sources[source].scheme.sign(SECRET, body, now(), id).expect("signing works");
        let mut builder = Request::post(uri);
        for (k, v) in &signed {
            if !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        for (k, v) in extra {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::from(body.to_vec())).unwrap()
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        Reply { status, headers, body }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    async fn metrics(&self) -> String {
        let app = ops::router(self.registry.clone(), self.publisher.clone());
        let resp = app.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        String::from_utf8(axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap()
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

const BODY: &[u8] = br#"{"zen":"Keep it logically awesome.","repository":{"full_name":"o/r"}}"#;

// -------------------------------------------------------------------------------------------------
// Rate limit.

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after_and_nothing_is_published() {
    let h = Harness::base();
    // burst = 2: two go through at once, the third waits for the 1/s refill.
    for i in 0..2 {
        let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, &format!("d-rl-{i}"), &[])).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    }
    let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, "d-rl-2", &[])).await;
    reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let secs: u64 = reply.header(header::RETRY_AFTER).parse().expect("Retry-After is delay-seconds");
    assert_eq!(secs, 1, "1 request/s refills within a second");
    assert_eq!(h.publisher.count(), 2, "the limited request was not published");

    // Other sources have their own budget.
    let reply = h.send(h.signed("plain", "/webhooks/plain", BODY, "d-rl-other", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);

    // After the Retry-After the provider's retry is accepted.
    let started = Instant::now();
    loop {
        let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, "d-rl-2", &[])).await;
        if reply.status == StatusCode::ACCEPTED {
            break;
        }
        reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(started.elapsed() < Duration::from_secs(3), "still limited after Retry-After");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.publisher.count(), 4);
    assert!(h.metrics().await.contains(r#"hookbus_ingress_rejected_total{source="limited",reason="rate_limited"}"#));
}

// -------------------------------------------------------------------------------------------------
// Media types.

#[tokio::test]
async fn a_media_type_the_source_does_not_accept_is_415_and_nothing_is_published() {
    let h = Harness::base();
    let xml = [("Content-Type", "application/xml")];
    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", b"<a/>", "d-xml", &xml)).await;
    reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("application/xml"));

    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", BODY, "d-none", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "`sign` labels the body application/json: {}", reply.text());
    let mut no_type = h.signed("jsononly", "/webhooks/jsononly", BODY, "d-no-type", &[]);
    no_type.headers_mut().remove(header::CONTENT_TYPE);
    h.send(no_type).await.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(h.publisher.count(), 1);

    // Parameters and case do not matter; a listed `+json` suffix type matches literally.
    let ct = [("Content-Type", "Application/JSON; charset=UTF-8")];
    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", BODY, "d-params", &ct)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    // A source without a list takes anything (the body goes out as data_base64 when not JSON).
    let reply = h.send(h.signed("plain", "/webhooks/plain", b"<a/>", "d-any", &xml)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 3);
}

#[tokio::test]
async fn a_method_other_than_post_is_405_json_with_allow() {
    let h = Harness::base();
    let put = Request::builder().method(Method::PUT).uri("/webhooks/plain").body(Body::from("{}")).unwrap();
    let reply = h.send(put).await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(reply.header(header::ALLOW), "POST");
    let reply = h.get("/webhooks/plain?hub.mode=subscribe&hub.challenge=x").await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let delete = Request::builder().method(Method::DELETE).uri("/webhooks/hooks").body(Body::empty()).unwrap();
    assert_eq!(h.send(delete).await.header(header::ALLOW), "GET, POST");
    // Unknown sources stay 404 whatever the method.
    h.get("/webhooks/nope").await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    assert_eq!(h.publisher.count(), 0);
}

// -------------------------------------------------------------------------------------------------
// Query handshakes (unsigned).

#[tokio::test]
async fn meta_verification_echoes_the_challenge_only_for_the_right_verify_token() {
    let h = Harness::base();
    let ok = "/webhooks/hooks?hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=1158201444";
    h.get(ok).await.assert_echo("1158201444");
    let wrong = "/webhooks/hooks?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444";
    h.get(wrong).await.assert_error(StatusCode::FORBIDDEN, "handshake_rejected");
    assert_eq!(h.publisher.count(), 0);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="meta"} 1"#), "{text}");
}

#[tokio::test]
async fn websub_and_msgraph_validations_are_answered_without_publishing() {
    let h = Harness::base();
    let websub = "/webhooks/hooks?hub.mode=subscribe&hub.topic=https%3A%2F%2Fexample.com%2Ffeed&hub.challenge=ch%2F1&hub.lease_seconds=86400";
    h.get(websub).await.assert_echo("ch/1");

    // Graph posts an empty text/plain body with the token in the query; the source only accepts
    // JSON, and the request is unsigned: the validation is answered before either check.
    let token = "Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+8e2b";
    let req = Request::post(format!("/webhooks/hooks?validationToken={token}"))
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Body::empty())
        .unwrap();
    h.send(req)
        .await
        .assert_echo("Validation: Testing client application reachability for subscription Request-Id: 8e2b");

    // A source that does not list msgraph treats the parameter as part of an ordinary delivery.
    let reply = h.send(h.signed("plain", "/webhooks/plain?validationToken=x", BODY, "d-graph", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="websub"} 1"#), "{text}");
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="msgraph"} 1"#), "{text}");
}

// -------------------------------------------------------------------------------------------------
// Replay protection: the source's own dedup window.

#[tokio::test]
async fn a_sources_dedup_window_overrides_the_default() {
    let h = Harness::base();
    for source in ["plain", "shortdedup"] {
        let uri = format!("/webhooks/{source}");
        let reply = h.send(h.signed(source, &uri, BODY, "d-window", &[])).await;
        assert_eq!(reply.json(), json!({ "id": "d-window", "duplicate": false }));
        let reply = h.send(h.signed(source, &uri, BODY, "d-window", &[])).await;
        assert_eq!(
            reply.json(),
            json!({ "id": "d-window", "duplicate": true }),
            "{source}: a replay within the window"
        );
    }
    // `shortdedup` remembers ids for 1 s, `plain` for the default day.
    let started = Instant::now();
    loop {
        let reply = h.send(h.signed("shortdedup", "/webhooks/shortdedup", BODY, "d-window", &[])).await;
        if reply.json()["duplicate"] == json!(false) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "still a duplicate 3 s after a 1 s window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(500), "forgotten before its window");
    let reply = h.send(h.signed("plain", "/webhooks/plain", BODY, "d-window", &[])).await;
    assert_eq!(reply.json()["duplicate"], json!(true));
    assert_eq!(h.publisher.count(), 3);
}

// -------------------------------------------------------------------------------------------------
// Signed handshakes, implied by the scheme: verified first, then answered.

#[tokio::test]
async fn slack_url_verification_is_answered_after_the_signature_verified() {
    let h = Harness::new(&signed_handshake_config());
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    h.send(h.signed("slack", "/webhooks/slack", body, "unused", &[]))
        .await
        .assert_echo("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    // Unsigned, it is an ordinary forged request.
    let req = Request::post("/webhooks/slack")
        .header("Content-Type", "application/json")
        .body(Body::from(&body[..]))
        .unwrap();
    let reply = h.send(req).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 0);
}

#[tokio::test]
async fn zoom_url_validation_is_answered_with_the_hmac_under_the_secret_that_verified() {
    let h = Harness::new(&signed_handshake_config());
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let reply = h.send(h.signed("zoom", "/webhooks/zoom", body, "unused", &[])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let expected = hookbus_ingress::handshake::zoom_encrypted_token(SECRET, "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(reply.json(), json!({ "plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected }));
    assert_eq!(h.publisher.count(), 0);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="zoom",kind="zoom"} 1"#), "{text}");
}

#[tokio::test]
async fn twitch_callback_verification_is_answered_and_notifications_are_published() {
    let h = Harness::new(&signed_handshake_config());
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
    let verification = [("Twitch-Eventsub-Message-Type", "webhook_callback_verification")];
    h.send(h.signed("twitch", "/webhooks/twitch", body, "e-verify", &verification))
        .await
        .assert_echo("pogchamp-kappa-360noscope-vohiyo");
    assert_eq!(h.publisher.count(), 0);

    let notification = [("Twitch-Eventsub-Message-Type", "notification")];
    let event = br#"{"subscription":{"type":"channel.follow"},"event":{"user_id":"1337"}}"#;
    let reply = h.send(h.signed("twitch", "/webhooks/twitch", event, "e-notify", &notification)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
}

#[tokio::test]
async fn woocommerce_creation_ping_gets_200_and_its_deliveries_are_verified() {
    let h = Harness::new(&signed_handshake_config());
    let ping = Request::post("/webhooks/woo")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Body::from("webhook_id=17"))
        .unwrap();
    let reply = h.send(ping).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(h.publisher.count(), 0);

    // Anything else unsigned is rejected, and signed deliveries are published.
    let req = Request::post("/webhooks/woo").body(Body::from(r#"{"id":17}"#)).unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
    let reply = h.send(h.signed("woo", "/webhooks/woo", br#"{"id":17,"status":"processing"}"#, "wc-1", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
}
