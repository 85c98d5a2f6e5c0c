//! Shared by the control tests: a store on each backend. PostgreSQL comes from
//! HOOKBUS_TEST_POSTGRES_URL; each store gets its own schema so tests run in parallel.
#![allow(dead_code)]
use hookbus_control::store::Store;

/// A fresh SQLite store in a temporary directory (kept alive by the returned guard).
pub fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::sqlite(&dir.path().join("control.db")).unwrap(), dir)
}

/// The PostgreSQL URL, or None (printing why) when it is not set; with CI=true a missing server fails.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HOOKBUS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "HOOKBUS_TEST_POSTGRES_URL must be set in CI (e.g. postgres://postgres@127.0.0.1:55432/hookbus_test)"
            )
        }
        _ => {
            eprintln!("skipping the PostgreSQL half: set HOOKBUS_TEST_POSTGRES_URL to run it");
            None
        }
    }
}

/// A fresh PostgreSQL store in a new schema of the test database.
pub async fn postgres() -> Option<Store> {
    let url = postgres_url()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect to test postgres");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(Store::postgres(&format!("{url}{sep}options=-csearch_path%3D{schema}")).unwrap())
}

/// Runs `$body` (an async fn taking a migrated `Store`) on SQLite, and on PostgreSQL when available.
#[macro_export]
macro_rules! on_both {
    // Each backend gets its own test; PostgreSQL skips (printing why) without a server.
    ($sqlite:ident, $pg:ident, $f:path) => {
        #[tokio::test]
        async fn $sqlite() {
            let (store, _dir) = support::sqlite();
            store.migrate().await.unwrap();
            $f(store).await;
        }
        #[tokio::test]
        async fn $pg() {
            let Some(store) = support::postgres().await else { return };
            store.migrate().await.unwrap();
            $f(store).await;
        }
    };
}

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hookbus_broker::embedded::EmbeddedBroker;
use hookbus_control::ControlPlane;
use hookbus_core::config::Config;
use tower::ServiceExt as _;

pub const WRITE: &str = "test-write-token";
pub const READ: &str = "test-read-token";

/// A config with two sources, one config-file subscription, tokens and an encryption key.
pub fn config(dir: &std::path::Path) -> Config {
    let text = format!(
        r#"
[admin]
tokens = [{{ token = {{ value = "{WRITE}" }}, scope = "write", name = "rw" }},
          {{ token = {{ value = "{READ}" }}, scope = "read" }}]
encryption_key = {{ value = "test-encryption-key" }}

[broker.embedded]
path = "{}/hookbus.db"

[worker]
allow_targets = ["127.0.0.1"]

[sources.github]
scheme = "github"
secrets = [{{ value = "gh" }}]

[sources.stripe]
scheme = "stripe"
secrets = [{{ value = "whsec_x" }}]
public_url = "https://hooks.example.com/webhooks/stripe"

[subscriptions.from-config]
topic = "github"
target = "http://127.0.0.1:9/config"
"#,
        dir.display()
    );
    Config::from_toml(&text, "test.toml").unwrap()
}

pub struct Harness {
    pub plane: ControlPlane,
    pub router: axum::Router,
    pub broker: EmbeddedBroker,
    pub config: Config,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new(store: Store) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let broker = EmbeddedBroker::open(&config.broker.embedded.path).unwrap();
        let mut registry = prometheus_client::registry::Registry::default();
        let plane = ControlPlane::with_store(&config, Arc::new(broker.clone()), store, &mut registry).await.unwrap();
        Self { router: plane.router(), plane, broker, config, dir }
    }

    /// Sends a request; returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        let resp = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
        let json = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        self.call(Method::GET, path, Some(READ), None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
        self.call(Method::POST, path, Some(WRITE), Some(body)).await
    }
}

/// A valid creation body.
pub fn sub_body(name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "topic": "github",
        "event_types": ["github.push"],
        "target": "http://127.0.0.1:9/hooks",
        "filter": ".data.ref == \"refs/heads/main\"",
        "transform": "{repo: .data.repository}",
        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "secret_headers": {"x-api-key": "key-1234567890"},
        "headers": {"x-team": "crm"},
        "retry": {"schedule": ["0s", "5s"]},
        "concurrency": 4,
        "ordered": true,
    })
}

/// Polls `cond` every 20 ms for up to `secs`.
pub async fn wait_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    cond()
}

/// Publishes a webhook the way ingress does: a CloudEvent in binary mode, the exact body bytes.
pub async fn ingest(
    broker: &EmbeddedBroker,
    source: &str,
    id: &str,
    ty: &str,
    body: &[u8],
) -> hookbus_core::CloudEvent {
    use hookbus_broker::Publisher as _;
    let mut ev = hookbus_core::CloudEvent::from_body(id.into(), source, ty.into(), Some("application/json"), body);
    ev.partitionkey = format!("key-{id}");
    let bin = ev.to_binary(body);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let record =
        hookbus_broker::Record { key: Some(bin.key), headers: bin.headers, payload: bin.value, timestamp_ms: now };
    broker.publish(source, record).await.unwrap();
    ev
}

/// Runs the control plane's background tasks until the guard is dropped.
pub struct Running {
    shutdown: tokio_util::sync::CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Harness {
    pub fn start(&self) -> Running {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let plane = self.plane.clone();
        let s = shutdown.clone();
        tokio::spawn(async move { plane.run(s).await });
        Running { shutdown }
    }

    /// GETs `path` until `cond` holds for the body (5 s at most); returns the last body.
    pub async fn get_until(&self, path: &str, cond: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (_, body) = self.get(path).await;
            if cond(&body) || tokio::time::Instant::now() > deadline {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
