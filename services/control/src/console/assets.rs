//! The console's files, embedded at compile time (`cargo build` alone makes a working console),
//! served with a strict Content-Security-Policy: scripts and styles only from this origin, no
//! inline scripts, no framing, connections only back to the admin API.
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

macro_rules! asset {
    ($name:literal) => {
        ($name, include_str!(concat!("../../console/", $name)))
    };
}

/// Every file under services/control/console/ the page loads.
const FILES: &[(&str, &str)] = &[
    asset!("app.js"),
    asset!("api.js"),
    asset!("dom.js"),
    asset!("events.js"),
    asset!("subscriptions.js"),
    asset!("delivery.js"),
    asset!("deadletters.js"),
    asset!("sources.js"),
    asset!("overview.js"),
    asset!("style.css"),
];

const INDEX: &str = include_str!("../../console/index.html");

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn secured(mut resp: Response, cache: &'static str) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

pub async fn index() -> Response {
    secured(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response(), "no-store")
}

pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _)| *n == name) {
        // The files change with the binary: revalidate rather than cache for long.
        Some((n, body)) => secured(([(header::CONTENT_TYPE, content_type(n))], *body).into_response(), "no-cache"),
        None => secured((StatusCode::NOT_FOUND, "not found").into_response(), "no-store"),
    }
}
