//! Key rotation: secrets sealed with an old key still open when it is listed as a previous key, and
//! are re-encrypted with the current key when the control plane starts.
mod support;

use std::sync::Arc;

use hookbus_broker::embedded::EmbeddedBroker;
use hookbus_control::ControlPlane;
use hookbus_core::config::SecretRef;
use support::{Harness, sub_body};

#[tokio::test]
async fn starting_with_a_new_key_reseals_stored_secrets() {
    let (store, _dir) = support::sqlite();
    store.migrate().await.unwrap();
    let h = Harness::new(store.clone()).await;
    let (s, _) = h.post("/api/v1/subscriptions", sub_body("crm")).await;
    assert_eq!(s.as_u16(), 201);
    let before = store.subscription("crm").await.unwrap().unwrap();

    let mut config = h.config.clone();
    let admin = config.admin.as_mut().unwrap();
    admin.previous_encryption_keys = vec![admin.encryption_key.clone().unwrap()];
    admin.encryption_key = Some(SecretRef::literal("a-brand-new-key"));
    let broker = Arc::new(EmbeddedBroker::open(&config.broker.embedded.path).unwrap());
    let mut registry = prometheus_client::registry::Registry::default();
    let plane = ControlPlane::with_store(&config, broker.clone(), store.clone(), &mut registry).await.unwrap();

    let after = store.subscription("crm").await.unwrap().unwrap();
    assert_eq!(after.version, before.version, "re-encrypting is not a change of the subscription");
    assert_ne!(after.signing_secret, before.signing_secret);
    let key_id = |v: &Option<String>| v.as_deref().unwrap().split('.').nth(1).unwrap().to_owned();
    assert_ne!(key_id(&after.signing_secret), key_id(&before.signing_secret));
    let spec = plane.subscriptions().borrow().get("crm").unwrap().clone();
    assert_eq!(spec.signing_secret.as_deref(), Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(spec.secret_headers["x-api-key"], "key-1234567890");

    // The old key is no longer needed.
    config.admin.as_mut().unwrap().previous_encryption_keys.clear();
    let mut registry = prometheus_client::registry::Registry::default();
    let plane = ControlPlane::with_store(&config, broker, store, &mut registry).await.unwrap();
    assert!(plane.subscriptions().borrow().get("crm").is_some());
}
