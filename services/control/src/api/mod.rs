//! The admin API under `/api/v1`: bearer-token auth, JSON bodies and errors, the OpenAPI document.
mod auth;
mod check;
mod dead_letters;
mod delivery;
mod events;
mod extract;
mod jobs;
mod mapping;
mod merge_patch;
pub mod model;
mod openapi;
mod quarantine;
mod series;
mod settings;
mod sources;
mod stats;
mod subscriptions;
pub(crate) mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub use auth::Tokens;
pub(crate) use auth::needs_write;
pub use openapi::document;

use crate::ControlError;
use crate::plane::Inner;

pub(crate) type St = axum::extract::State<Arc<Inner>>;

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    let api = Router::new()
        .route("/api/v1/subscriptions", get(subscriptions::list).post(subscriptions::create))
        .route(
            "/api/v1/subscriptions/{name}",
            get(subscriptions::show).patch(subscriptions::patch).delete(subscriptions::delete),
        )
        .route("/api/v1/subscriptions/{name}/pause", post(subscriptions::pause))
        .route("/api/v1/subscriptions/{name}/resume", post(subscriptions::resume))
        .route("/api/v1/subscriptions/{name}/stats", get(stats::stats))
        .route("/api/v1/subscriptions/{name}/events/{id}/retry", post(jobs::retry))
        .route("/api/v1/subscriptions/{name}/dead-letters", get(dead_letters::list))
        .route("/api/v1/subscriptions/{name}/redrive", post(jobs::redrive))
        .route("/api/v1/subscriptions/{name}/replay", post(jobs::replay))
        .route("/api/v1/jobs/{id}", get(jobs::show))
        .route("/api/v1/events", get(events::list))
        .route("/api/v1/events/{id}", get(events::show))
        .route("/api/v1/sources", get(sources::list))
        .route("/api/v1/sources/{name}/quarantine", get(quarantine::list))
        .route("/api/v1/sources/{name}/quarantine/release", post(quarantine::release))
        .route("/api/v1/mapping/test", post(mapping::test))
        .route("/api/v1/mapping/check", post(check::check))
        .route("/api/v1/series", get(series::series))
        .route_layer(axum::middleware::from_fn_with_state(inner.clone(), auth::require));
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::serve))
        .merge(api)
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(inner)
}

async fn not_found() -> impl IntoResponse {
    ControlError::not_found("route", "this path").into_response()
}

async fn method_not_allowed() -> impl IntoResponse {
    let body = serde_json::json!({"error": {"code": "method_not_allowed", "message": "this method is not allowed on this path"}});
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body))
}
