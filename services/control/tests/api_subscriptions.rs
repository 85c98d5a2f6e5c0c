//! Subscription routes, auth and live updates, on both store backends.
mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use hookbus_control::store::Store;
use hookbus_core::live::Managed;
use serde_json::json;
use support::{Harness, READ, WRITE, sub_body};

async fn auth_is_required_and_scoped(store: Store) {
    let h = Harness::new(store).await;
    let (s, body) = h.call(Method::GET, "/api/v1/subscriptions", None, None).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (s, _) = h.call(Method::GET, "/api/v1/subscriptions", Some("not-a-token"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = h.call(Method::POST, "/api/v1/subscriptions", Some(READ), Some(sub_body("a"))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("insufficient_scope")));
    let (s, _) = h.call(Method::DELETE, "/api/v1/subscriptions/a", Some(READ), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = h.call(Method::GET, "/api/v1/subscriptions", Some(READ), None).await;
    assert_eq!(s, StatusCode::OK);
    // The OpenAPI document is public: it holds no data.
    let (s, doc) = h.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!((s, doc["openapi"].as_str()), (StatusCode::OK, Some("3.1.0")));
    let (s, body) = h.call(Method::GET, "/api/v1/nothing-here", Some(READ), None).await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}
on_both!(auth_sqlite, auth_postgres, auth_is_required_and_scoped);

async fn create_list_show_hide_secrets(store: Store) {
    let h = Harness::new(store).await;
    let (s, created) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["managed"], "api");
    assert_eq!(created["version"], 1);
    // "latest" (the default) means from the moment it was created, and is shown as that moment.
    let start = created["start"].as_str().unwrap();
    let start = time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(start <= time::OffsetDateTime::now_utc(), "{created}");
    assert_eq!(created["signing_secret"], "****LaSw");
    assert_eq!(created["secret_headers"]["x-api-key"], "****7890");
    assert_eq!(created["headers"]["x-team"], "crm");
    assert_eq!(created["retry"]["schedule"], json!(["0s", "5s"]));
    assert_eq!(created["ordered"], true);
    let text = created.to_string();
    assert!(!text.contains("MfKQ9r8") && !text.contains("key-1234567890"), "secrets never come back: {text}");

    let (s, again) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    assert_eq!((s, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("subscription_exists")));

    let (s, list) = h.get("/api/v1/subscriptions").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<(&str, &str)> = list["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["managed"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("crm", "api"), ("from-config", "config")]);
    let (s, one) = h.get("/api/v1/subscriptions/crm").await;
    assert_eq!((s, &one["generation"]), (StatusCode::OK, &created["generation"]));
    let (s, missing) = h.get("/api/v1/subscriptions/nope").await;
    assert_eq!((s, missing["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("subscription_not_found")));

    // The worker's view has the secrets in plaintext, and the store only sealed ones.
    let set = h.plane.subscriptions().borrow().clone();
    let spec = set.get("crm").unwrap();
    assert_eq!(spec.managed, Managed::Api);
    assert_eq!(spec.signing_secret.as_deref(), Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(spec.secret_headers["x-api-key"], "key-1234567890");
    let stored = h.plane.store().subscription("crm").await.unwrap().unwrap();
    let raw = serde_json::to_string(&stored).unwrap();
    assert!(!raw.contains("MfKQ9r8") && !raw.contains("key-1234567890"), "stored encrypted: {raw}");
}
on_both!(create_sqlite, create_postgres, create_list_show_hide_secrets);

async fn invalid_input_names_every_problem(store: Store) {
    let h = Harness::new(store).await;
    let body = json!({
        "name": "bad",
        "topic": "nowhere",
        "target": "http://10.1.2.3/hook",
        "filter": ".data |",
        "transform": "{a: .b,\n b: }",
        "retry": {"schedule": ["0s", "soon"]},
        "start": "yesterday",
        "signing_secret": "not base64 !!",
    });
    let (s, err) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!((s, err["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")));
    let details = err["error"]["details"].as_array().unwrap();
    let field = |f: &str| details.iter().find(|d| d["field"] == f).unwrap_or_else(|| panic!("no `{f}` in {err}"));
    assert!(field("topic")["message"].as_str().unwrap().contains("github"), "names the topics there are");
    assert!(field("retry")["message"].as_str().unwrap().contains("`soon`"));
    let t = field("transform");
    assert_eq!((t["line"].as_u64(), t["column"].is_u64()), (Some(2), true), "{t}");
    assert!(field("filter")["line"].is_u64());
    let target = field("target")["message"].as_str().unwrap();
    assert!(target.contains("private") && target.contains("allow_targets"), "{target}");
    assert!(field("start")["message"].as_str().unwrap().contains("yesterday"));
    field("signing_secret");

    // Malformed JSON is a 400; a wrong type a 422 naming the field.
    let (s, _) = h.call(Method::POST, "/api/v1/subscriptions", Some(WRITE), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, err) = h.post("/api/v1/subscriptions", json!({"name": "x", "topic": 5, "target": "t"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["message"].as_str().unwrap().contains("topic") || err.to_string().contains("invalid type"));
}
on_both!(invalid_sqlite, invalid_postgres, invalid_input_names_every_problem);

async fn config_subscriptions_are_read_only(store: Store) {
    let h = Harness::new(store).await;
    let (s, one) = h.get("/api/v1/subscriptions/from-config").await;
    assert_eq!((s, one["managed"].as_str()), (StatusCode::OK, Some("config")));
    for (m, path) in [
        (Method::PATCH, "/api/v1/subscriptions/from-config"),
        (Method::DELETE, "/api/v1/subscriptions/from-config"),
        (Method::POST, "/api/v1/subscriptions/from-config/pause"),
    ] {
        let (s, err) = h.call(m, path, Some(WRITE), Some(json!({"concurrency": 2}))).await;
        assert_eq!((s, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("managed_by_config")), "{path}");
    }
    let (s, err) = h.post("/api/v1/subscriptions", sub_body("from-config")).await;
    assert_eq!((s, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("managed_by_config")));
}
on_both!(read_only_sqlite, read_only_postgres, config_subscriptions_are_read_only);

async fn patch_bumps_the_version_and_the_watch_sees_it(store: Store) {
    let h = Harness::new(store).await;
    h.post("/api/v1/subscriptions", sub_body("crm")).await;
    let mut rx = h.plane.subscriptions();
    rx.borrow_and_update();
    let patch = json!({"transform": "{v: 2}", "filter": null, "topic": "stripe", "ordered": false,
                       "secret_headers": {"x-api-key": null, "x-other": "other-secret-value"}});
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["version"].as_u64(), v["transform"].as_str(), v["topic"].as_str()),
        (Some(2), Some("{v: 2}"), Some("stripe"))
    );
    assert_eq!((v["filter"].is_null(), v["ordered"].as_bool()), (true, Some(false)));
    assert_eq!(v["signing_secret"], "****LaSw", "an absent secret is kept");
    assert_eq!(v["secret_headers"], json!({"x-other": "****alue"}));
    tokio::time::timeout(Duration::from_secs(1), rx.changed())
        .await
        .expect("the watch sees the change within a second")
        .unwrap();
    let spec = rx.borrow().get("crm").unwrap().clone();
    assert_eq!((spec.version, spec.config.transform.as_deref()), (2, Some("{v: 2}")));
    assert_eq!(spec.secret_headers.keys().collect::<Vec<_>>(), ["x-other"]);

    let (s, err) =
        h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(json!({"transform": "{"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["details"][0]["field"], "transform");
    let (s, _) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(json!({"name": "other"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) =
        h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(json!({"concurrency": "x"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = h.call(Method::PATCH, "/api/v1/subscriptions/nope", Some(WRITE), Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/api/v1/subscriptions/crm").await.1["version"], 2, "failed patches change nothing");
}
on_both!(patch_sqlite, patch_postgres, patch_bumps_the_version_and_the_watch_sees_it);

async fn pause_resume_delete_and_recreate(store: Store) {
    let h = Harness::new(store).await;
    let (_, created) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    let rx = h.plane.subscriptions();
    let (s, v) = h.post("/api/v1/subscriptions/crm/pause", json!({})).await;
    assert_eq!((s, v["paused"].as_bool(), v["version"].as_u64()), (StatusCode::OK, Some(true), Some(2)));
    assert!(rx.borrow().get("crm").unwrap().paused);
    let (_, v) = h.post("/api/v1/subscriptions/crm/pause", json!({})).await;
    assert_eq!(v["version"], 2, "pausing a paused subscription changes nothing");
    let (_, v) = h.post("/api/v1/subscriptions/crm/resume", json!({})).await;
    assert_eq!((v["paused"].as_bool(), v["version"].as_u64()), (Some(false), Some(3)));
    assert!(!rx.borrow().get("crm").unwrap().paused);

    let (s, _) = h.call(Method::DELETE, "/api/v1/subscriptions/crm", Some(WRITE), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(rx.borrow().get("crm").is_none());
    let (s, _) = h.call(Method::DELETE, "/api/v1/subscriptions/crm", Some(WRITE), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, again) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    assert_eq!(again["version"], 1);
    assert_ne!(again["generation"], created["generation"], "a re-created subscription starts fresh");
}
on_both!(pause_sqlite, pause_postgres, pause_resume_delete_and_recreate);

/// Two nodes on one store: a change made through one reaches the other's watch within a second.
async fn another_node_sees_changes(store: Store) {
    let a = Harness::new(store.clone()).await;
    let b = Harness::new(store).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let plane = b.plane.clone();
    let s = shutdown.clone();
    let task = tokio::spawn(async move { plane.run(s).await });
    let mut rx = b.plane.subscriptions();
    rx.borrow_and_update();
    a.post("/api/v1/subscriptions", sub_body("crm")).await;
    tokio::time::timeout(Duration::from_secs(1), rx.wait_for(|set| set.get("crm").is_some()))
        .await
        .expect("node b sees node a's subscription within a second")
        .unwrap();
    a.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(json!({"concurrency": 9}))).await;
    tokio::time::timeout(Duration::from_secs(1), rx.wait_for(|set| set.get("crm").is_some_and(|s| s.version == 2)))
        .await
        .expect("and its change")
        .unwrap();
    shutdown.cancel();
    task.await.unwrap();
}
on_both!(two_nodes_sqlite, two_nodes_postgres, another_node_sees_changes);
