//! The committed OpenAPI document (schemas/openapi.json) must match the one the code generates.
//! Regenerate with: HOOKBUS_BLESS=1 cargo test -p hookbus-control --test openapi
use std::path::PathBuf;

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json");
    let generated = hookbus_control::openapi_json();
    if std::env::var("HOOKBUS_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/openapi.json differs from the API the code serves; regenerate it with\n  \
         HOOKBUS_BLESS=1 cargo test -p hookbus-control --test openapi\nand commit the result"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_every_route_secured() {
    let doc: serde_json::Value = serde_json::from_str(&hookbus_control::openapi_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in
        ["/api/v1/subscriptions", "/api/v1/events/{id}", "/api/v1/jobs/{id}", "/api/v1/mapping/test", "/api/v1/sources"]
    {
        assert!(paths.contains_key(p), "{p} documented");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["security"].is_array(), "{method} {path} names its security");
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
        }
    }
}
