//! The process's operational routes (`/healthz`, `/readyz`, `/metrics`), served by every role,
//! driven with `tower::ServiceExt::oneshot` (no sockets).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hookbus_broker::{BrokerError, Publisher, Record};
use http_body_util::BodyExt as _;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use tower::ServiceExt as _;

/// A publisher whose readiness the test switches.
#[derive(Default)]
struct Switch {
    down: AtomicBool,
}

#[async_trait]
impl Publisher for Switch {
    async fn publish(&self, _topic: &str, _record: Record) -> Result<(i32, i64), BrokerError> {
        Ok((0, 0))
    }

    async fn ensure_topics(&self, _topics: &[String]) -> Result<(), BrokerError> {
        Ok(())
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BrokerError::Unavailable("test publisher is switched to unready".into()));
        }
        Ok(())
    }
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, Option<String>, String) {
    let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

fn app() -> (axum::Router, Arc<Switch>, Counter) {
    let mut registry = Registry::default();
    let counter = Counter::default();
    registry.register("hookbus_test_events", "A counter the test increments", counter.clone());
    let publisher = Arc::new(Switch::default());
    (hookbus::ops::router(Arc::new(registry), publisher.clone()), publisher, counter)
}

#[tokio::test]
async fn healthz_is_200() {
    let (app, _, _) = app();
    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn readyz_follows_the_publisher() {
    let (app, publisher, _) = app();
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
    publisher.down.store(true, Ordering::SeqCst);
    let (status, _, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "body: {body}");
    assert!(body.contains("switched to unready"), "{body}");
    publisher.down.store(false, Ordering::SeqCst);
    assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_serve_the_process_registry_as_openmetrics() {
    let (app, _, counter) = app();
    counter.inc_by(3);
    let (status, content_type, text) = get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let content_type = content_type.expect("a content type");
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    assert!(text.lines().any(|l| l == "hookbus_test_events_total 3"), "{text}");
}
