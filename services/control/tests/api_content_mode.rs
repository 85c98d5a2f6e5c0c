//! Subscription settings of the mapping work through the API (content mode; templated target and
//! headers): defaults, create, PATCH, validation; on both stores.
mod support;

use axum::http::{Method, StatusCode};
use hookbus_control::store::Store;
use hookbus_core::config::ContentMode;
use serde_json::json;
use support::{Harness, WRITE, sub_body};

async fn content_mode_is_set_patched_and_validated(store: Store) {
    let h = Harness::new(store).await;
    // sub_body has a transform: raw by default.
    let (s, v) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    assert_eq!(
        (s, v["content_mode"].as_str(), v["content_mode_set"].as_bool()),
        (StatusCode::CREATED, Some("raw"), Some(false)),
        "{v}"
    );

    let mut body = sub_body("plain");
    body["transform"] = serde_json::Value::Null;
    let (_, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!(v["content_mode"], "structured", "{v}");

    let mut body = sub_body("bin");
    body["content_mode"] = json!("binary");
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!(
        (s, v["content_mode"].as_str(), v["content_mode_set"].as_bool()),
        (StatusCode::CREATED, Some("binary"), Some(true))
    );
    let spec = h.plane.subscriptions().borrow().get("bin").cloned().unwrap();
    assert_eq!(spec.config.content_mode, Some(ContentMode::Binary), "the worker sees the mode");

    let patch = |mode: serde_json::Value| json!({ "content_mode": mode });
    let (s, v) =
        h.call(Method::PATCH, "/api/v1/subscriptions/bin", Some(WRITE), Some(patch(json!("structured")))).await;
    assert_eq!((s, v["content_mode"].as_str()), (StatusCode::OK, Some("structured")), "{v}");
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/bin", Some(WRITE), Some(patch(json!(null)))).await;
    assert_eq!(
        (s, v["content_mode"].as_str(), v["content_mode_set"].as_bool()),
        (StatusCode::OK, Some("raw"), Some(false)),
        "{v}"
    );

    let mut body = sub_body("bad");
    body["content_mode"] = json!("batch");
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert!(s.is_client_error(), "{s} {v}");
    assert!(v.to_string().contains("content_mode") || v.to_string().contains("batch"), "names the field: {v}");
    let (s, _) = h.call(Method::PATCH, "/api/v1/subscriptions/bin", Some(WRITE), Some(patch(json!("Binary")))).await;
    assert!(s.is_client_error(), "{s}");
}
on_both!(content_mode_sqlite, content_mode_postgres, content_mode_is_set_patched_and_validated);

async fn templated_targets_and_headers_are_compiled_on_create(store: Store) {
    let h = Harness::new(store).await;
    let mut body = sub_body("tmpl");
    body["target"] = json!("http://127.0.0.1:9/tenants/{{ .data.tenant }}/hooks");
    body["headers"] = json!({"x-account": "{{ .data.account }}"});
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut bad = sub_body("bad-tmpl");
    bad["target"] = json!("http://127.0.0.1:9/tenants/{{ .data.tenant | }}/hooks");
    bad["headers"] = json!({"x-account": "{{ .data.account"});
    let (s, v) = h.post("/api/v1/subscriptions", bad).await;
    assert!(s.is_client_error(), "{s} {v}");
    let text = v.to_string();
    assert!(text.contains("target") && text.contains("headers.x-account"), "both fields are named: {text}");
}
on_both!(templates_sqlite, templates_postgres, templated_targets_and_headers_are_compiled_on_create);
