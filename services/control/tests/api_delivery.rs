//! A subscription's delivery settings through the API — `max_outputs`, `method`, `auth`,
//! `secret_maps` and a topic `destination`: set on create, secrets stored sealed and shown as
//! hints, opened for the worker, merged by PATCH (a partial `auth` keeps its secret, a `null` key
//! leaves a map), bad values refused with the field named; on both stores.
mod support;

use axum::http::{Method, StatusCode};
use hookbus_control::store::Store;
use hookbus_core::config::{HttpMethod, OutboundAuth};
use serde_json::json;
use support::{Harness, WRITE, sub_body};

async fn delivery_settings_are_set_sealed_and_patched(store: Store) {
    let h = Harness::new(store).await;
    let mut body = sub_body("crm");
    body["max_outputs"] = json!(20);
    body["method"] = json!("PUT");
    body["auth"] = json!({"kind": "oauth2_client_credentials", "token_url": "https://auth.example.com/token",
        "client_id": "hookbus", "client_secret": "client-secret-0001", "scope": "contacts"});
    body["secret_maps"] = json!({"api_keys": {"acct_1": "acct-one-key-0001", "acct_2": "acct-two-key-0002"}});
    body["headers"] = json!({"x-api-key": "{{ secret(\"api_keys\"; .data.account) }}"});
    body["secret_headers"] = json!({});
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["max_outputs"].as_u64(), v["method"].as_str()), (Some(20), Some("PUT")));
    assert_eq!(v["auth"]["kind"], "oauth2_client_credentials");
    assert_eq!((v["auth"]["client_id"].as_str(), v["auth"]["secret"].as_str()), (Some("hookbus"), Some("****0001")));
    assert_eq!(v["secret_maps"], json!({"api_keys": {"acct_1": "****0001", "acct_2": "****0002"}}));
    let text = v.to_string();
    assert!(!text.contains("client-secret") && !text.contains("key-000"), "secrets never come back: {text}");

    let stored = h.plane.store().subscription("crm").await.unwrap().unwrap();
    let raw = serde_json::to_string(&stored).unwrap();
    assert!(!raw.contains("client-secret") && !raw.contains("key-000"), "stored encrypted: {raw}");
    assert_eq!(stored.sealed.len(), 3, "{raw}");
    let spec = h.plane.subscriptions().borrow().get("crm").cloned().unwrap();
    assert_eq!(spec.config.method, HttpMethod::Put);
    assert_eq!(spec.config.max_outputs, 20);
    assert!(matches!(spec.config.auth, Some(OutboundAuth::Oauth2ClientCredentials { .. })));
    assert_eq!(spec.secrets["auth.client_secret"], "client-secret-0001", "the worker gets the secret");
    assert_eq!(spec.secrets["secret_maps.api_keys.acct_2"], "acct-two-key-0002");

    // A partial auth keeps the secret; a null key leaves the map; a new key is added.
    let patch = json!({"auth": {"scope": "contacts.write"}, "method": null,
        "secret_maps": {"api_keys": {"acct_1": null, "acct_3": "acct-three-key-3"}}});
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["auth"]["scope"].as_str(), v["auth"]["secret"].as_str()), (Some("contacts.write"), Some("****0001")));
    assert_eq!(v["method"], "POST", "null resets the method");
    assert_eq!(v["secret_maps"], json!({"api_keys": {"acct_2": "****0002", "acct_3": "****ey-3"}}));
    let spec = h.plane.subscriptions().borrow().get("crm").cloned().unwrap();
    assert_eq!(spec.secrets["auth.client_secret"], "client-secret-0001");
    assert!(!spec.secrets.contains_key("secret_maps.api_keys.acct_1"));

    // Switching kinds replaces the auth; removing it removes its sealed secret.
    let basic = json!({"auth": null});
    let (s, _) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(basic)).await;
    assert_eq!(s, StatusCode::OK);
    let patch = json!({"auth": {"kind": "basic", "username": "api", "password": "basic-password-9"}});
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(patch)).await;
    assert_eq!(
        (s, v["auth"]["kind"].as_str(), v["auth"]["secret"].as_str()),
        (StatusCode::OK, Some("basic"), Some("****rd-9"))
    );
    let stored = h.plane.store().subscription("crm").await.unwrap().unwrap();
    assert!(stored.sealed.contains_key("auth.password") && !stored.sealed.contains_key("auth.client_secret"));

    // A topic destination instead of a target URL.
    let mut body = sub_body("to-topic");
    body.as_object_mut().unwrap().remove("target");
    body["destination"] = json!({"kind": "topic", "topic": "crm-mapped"});
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!((s, &v["destination"]), (StatusCode::CREATED, &json!({"kind": "topic", "topic": "crm-mapped"})), "{v}");
    let spec = h.plane.subscriptions().borrow().get("to-topic").cloned().unwrap();
    assert_eq!(spec.config.destination.as_ref().map(|d| d.topic()), Some("crm-mapped"));

    // Bad values are refused with the field named.
    for (field, value, named) in [
        ("max_outputs", json!(0), "max_outputs"),
        ("method", json!("DELETE"), "DELETE"),
        (
            "auth",
            json!({"kind": "oauth2_client_credentials", "token_url": "not a url", "client_id": "c", "client_secret": "s"}),
            "auth.token_url",
        ),
        ("auth", json!({"kind": "digest", "username": "u"}), "digest"),
        ("auth", json!({"kind": "bearer", "token": ""}), "auth.token"),
        ("secret_maps", json!({"api_keys": {"acct_1": ""}}), "secret_maps.api_keys.acct_1"),
        ("headers", json!({"x-key": "{{ secret(\"missing\"; .a) }}"}), "missing"),
        ("destination", json!({"kind": "topic", "topic": "github"}), "source topic"),
    ] {
        let mut body = sub_body("bad");
        body[field] = value;
        let (s, v) = h.post("/api/v1/subscriptions", body).await;
        assert!(s.is_client_error(), "{field}: {s} {v}");
        assert!(v.to_string().contains(named), "{field}: names {named}: {v}");
    }
}
on_both!(delivery_sqlite, delivery_postgres, delivery_settings_are_set_sealed_and_patched);
