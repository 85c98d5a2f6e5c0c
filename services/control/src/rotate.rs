//! Key rotation: at start, every stored secret sealed with an older key is sealed again with the
//! current one; afterwards the old key can be removed from `[admin] previous_encryption_keys`.
use crate::ControlError;
use crate::crypto::Sealer;
use crate::live::aad;
use crate::store::{Store, StoreError};

pub async fn reseal(store: &Store, sealer: &Sealer) -> Result<usize, ControlError> {
    let store_err = |e: StoreError| ControlError::Store(e.to_string());
    let mut resealed = 0;
    for mut s in store.subscriptions().await.map_err(store_err)? {
        let stale = s
            .signing_secret
            .iter()
            .chain(s.secret_headers.values())
            .chain(s.sealed.values())
            .any(|v| sealer.needs_reseal(v));
        if !stale {
            continue;
        }
        let again = |field: &str, v: &str| -> Result<String, ControlError> {
            let ad = aad(&s.name, &s.generation, field);
            let plain =
                sealer.open(v, &ad).map_err(|e| ControlError::Internal(format!("subscription `{}`: {e}", s.name)))?;
            sealer.seal(&plain, &ad).map_err(|e| ControlError::Internal(e.to_string()))
        };
        if let Some(v) = &s.signing_secret {
            s.signing_secret = Some(again("signing_secret", v)?);
        }
        let mut headers = s.secret_headers.clone();
        for (k, v) in headers.iter_mut() {
            *v = again(&format!("secret_headers.{k}"), v)?;
        }
        s.secret_headers = headers;
        let mut sealed = s.sealed.clone();
        for (path, v) in sealed.iter_mut() {
            *v = again(path, v)?;
        }
        s.sealed = sealed;
        // Same version: the subscription did not change, only how its secrets are stored.
        match store.update_subscription(&s, s.version).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(store_err(e)),
        }
        resealed += 1;
    }
    if resealed > 0 {
        tracing::info!(subscriptions = resealed, "secrets re-encrypted with the current key");
    }
    Ok(resealed)
}
