//! A subscription's batch setting through the API: set on create with the wait defaulted, given to
//! the worker, changed and removed by PATCH, and refused with the reason when one request could not
//! carry the batch; on both stores.
mod support;

use axum::http::{Method, StatusCode};
use hookbus_control::store::Store;
use serde_json::json;
use support::{Harness, WRITE, sub_body};

async fn batch_is_set_patched_removed_and_checked(store: Store) {
    let h = Harness::new(store).await;
    let mut body = sub_body("crm");
    // The shared body is an ordered subscription, which batches cannot be.
    body["ordered"] = json!(false);
    body["batch"] = json!({"max_events": 50});
    let (s, v) = h.post("/api/v1/subscriptions", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["batch"], json!({"max_events": 50, "max_wait": "200ms"}), "the default wait is shown");
    let spec = h.plane.subscriptions().borrow().get("crm").cloned().unwrap();
    let batch = spec.config.batch.clone().expect("the worker gets the batch setting");
    assert_eq!((batch.max_events, batch.max_wait.as_str()), (50, "200ms"));

    let patch = json!({"batch": {"max_wait": "1s"}});
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["batch"], json!({"max_events": 50, "max_wait": "1s"}), "merged into the current setting");
    let (s, v) = h.call(Method::PATCH, "/api/v1/subscriptions/crm", Some(WRITE), Some(json!({"batch": null}))).await;
    assert_eq!((s, &v["batch"]), (StatusCode::OK, &json!(null)), "null turns batching off: {v}");
    assert!(h.plane.subscriptions().borrow().get("crm").unwrap().config.batch.is_none());

    for (extra, named) in [
        (json!({"batch": {"max_events": 1}}), "between 2 and 1000"),
        (json!({"batch": {"max_events": 5, "max_wait": "5m"}}), "between 1ms and 60s"),
        (json!({"batch": {"max_events": 5, "size": 3}}), "size"),
        (json!({"batch": {"max_events": 5}, "ordered": true}), "`ordered`"),
        (json!({"batch": {"max_events": 5}, "content_mode": "binary"}), "combined with content_mode"),
        (json!({"batch": {"max_events": 5}, "target": "http://127.0.0.1:9/{{ .data.repo }}"}), "templated target"),
    ] {
        let mut body = sub_body("bad");
        body["ordered"] = json!(false);
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (s, v) = h.post("/api/v1/subscriptions", body).await;
        assert!(s.is_client_error(), "{extra}: {s} {v}");
        assert!(v.to_string().contains(named), "{extra}: names {named}: {v}");
    }
}
on_both!(batch_sqlite, batch_postgres, batch_is_set_patched_removed_and_checked);
