//! A subscription's output schema through the API: inline schemas are compiled on create, stored and
//! shown as given, replaced whole by PATCH; file paths and schemas that do not compile are refused
//! with the field named. On both stores.
mod support;

use axum::http::{Method, StatusCode};
use hookbus_control::store::Store;
use hookbus_core::config::SchemaRef;
use serde_json::json;
use support::{Harness, WRITE, sub_body};

async fn output_schema_is_compiled_stored_and_replaced_whole(store: Store) {
    let h = Harness::new(store).await;
    let schema = json!({"type": "object", "required": ["repo"], "properties": {"repo": {"type": "object"}}});
    let mut body = sub_body("typed");
    body["output_schema"] = schema.clone();
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!((s, &v["output_schema"]), (StatusCode::CREATED, &schema), "{v}");
    let spec = h.plane.subscriptions().borrow().get("typed").cloned().unwrap();
    assert_eq!(spec.config.output_schema, Some(SchemaRef::Inline(schema.clone())), "the worker sees it");

    // Read back from the store (a fresh set), and replaced whole by a PATCH.
    let (_, v) = h.get("/api/v1/subscriptions/typed").await;
    assert_eq!(v["output_schema"], schema);
    let replacement = json!({"type": "object", "properties": {"email": {"type": "string"}}});
    let (s, v) = h
        .call(Method::PATCH, "/api/v1/subscriptions/typed", Some(WRITE), Some(json!({"output_schema": replacement})))
        .await;
    assert_eq!((s, &v["output_schema"]), (StatusCode::OK, &replacement), "not merged key by key: {v}");
    let (s, v) =
        h.call(Method::PATCH, "/api/v1/subscriptions/typed", Some(WRITE), Some(json!({"output_schema": null}))).await;
    assert_eq!((s, &v["output_schema"]), (StatusCode::OK, &serde_json::Value::Null), "{v}");

    for (bad, says) in [(json!("schemas/out.json"), "inline"), (json!({"type": "strnig"}), "not a valid JSON Schema")] {
        let mut body = sub_body("bad");
        body["output_schema"] = bad.clone();
        let (s, v) = h.post("/api/v1/subscriptions", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        let problem = &v["error"]["details"][0];
        assert_eq!(problem["field"], "output_schema", "{v}");
        assert!(problem["message"].as_str().unwrap().contains(says), "{v}");
    }
}
on_both!(output_schema_sqlite, output_schema_postgres, output_schema_is_compiled_stored_and_replaced_whole);
