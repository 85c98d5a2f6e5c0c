//! Operational endpoints of every role: `/healthz` (the process runs), `/readyz` (the broker
//! answers), `/metrics` (the process registry, which each role registers its metrics into).
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use hookbus_broker::Publisher;
use prometheus_client::registry::Registry;

#[derive(Clone)]
struct Ops {
    registry: Arc<Registry>,
    publisher: Arc<dyn Publisher>,
}

pub fn router(registry: Arc<Registry>, publisher: Arc<dyn Publisher>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(Ops { registry, publisher })
}

async fn ready(State(ops): State<Ops>) -> impl IntoResponse {
    match ops.publisher.ready().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")),
    }
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let mut out = String::new();
    match prometheus_client::encoding::text::encode(&mut out, &ops.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            out,
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], e.to_string()),
    }
}
