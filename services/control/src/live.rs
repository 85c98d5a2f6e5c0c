//! The live subscription set: config-file subscriptions (read-only seeds) merged with the API's,
//! rebuilt whenever the store's revision moves, by a change here or on another node.
use std::sync::Arc;
use std::time::Duration;

use hookbus_core::config::Config;
use hookbus_core::live::{Managed, StartFrom, SubscriptionSet, SubscriptionSpec};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::ControlError;
use crate::crypto::Sealer;
use crate::store::{Store, StoredSubscription};

/// How often the store's revision is polled for changes made by other nodes.
pub const POLL: Duration = Duration::from_millis(250);

/// Associated data of a sealed value: its subscription, generation and field.
pub fn aad(name: &str, generation: &str, field: &str) -> String {
    format!("{name}/{generation}/{field}")
}

/// Config-file subscriptions with their secrets resolved. Their generation is empty: the worker
/// keeps the consumer group it always used (`<prefix>.<name>`), so upgrading loses no position.
/// A secret this node cannot read (an ingress node need not hold the workers' signing secrets) is
/// left out with a warning; `config.signing_secret` still holds its reference, which a worker
/// resolves itself and fails on.
pub fn config_specs(config: &Config) -> Vec<SubscriptionSpec> {
    config
        .subscriptions
        .iter()
        .map(|(name, sub)| {
            let signing_secret = sub.signing_secret.as_ref().and_then(|r| {
                match r.resolve(&format!("subscriptions.{name}.signing_secret")) {
                    Ok(s) => Some(s.value),
                    Err(e) => {
                        tracing::warn!(subscription = %name, error = %e, "signing secret not readable on this node");
                        None
                    }
                }
            });
            SubscriptionSpec {
                name: name.clone(),
                version: 1,
                generation: String::new(),
                managed: Managed::Config,
                paused: false,
                // A new group on the embedded log reads from the start; keep that behaviour.
                start: StartFrom::Earliest,
                config: sub.clone(),
                signing_secret,
                secret_headers: Default::default(),
                // Read from their references by the worker that runs the subscription.
                secrets: Default::default(),
            }
        })
        .collect()
}

/// An API subscription as the worker needs it: secrets opened.
pub fn api_spec(s: &StoredSubscription, sealer: &Sealer) -> Result<SubscriptionSpec, ControlError> {
    let open = |field: &str, sealed: &str| {
        sealer
            .open(sealed, &aad(&s.name, &s.generation, field))
            .map_err(|e| ControlError::Internal(format!("subscription `{}` {field}: {e}", s.name)))
    };
    let signing_secret = s.signing_secret.as_deref().map(|v| open("signing_secret", v)).transpose()?;
    let mut secret_headers = std::collections::BTreeMap::new();
    for (k, v) in &s.secret_headers {
        secret_headers.insert(k.clone(), open(&format!("secret_headers.{k}"), v)?);
    }
    let mut secrets = std::collections::BTreeMap::new();
    for (path, v) in &s.sealed {
        secrets.insert(path.clone(), open(path, v)?);
    }
    Ok(SubscriptionSpec {
        name: s.name.clone(),
        version: s.version,
        generation: s.generation.clone(),
        managed: Managed::Api,
        paused: s.paused,
        // "From now on" means from when it was created: a worker that starts it later (a restart,
        // another node) must not skip what was accepted in between.
        start: match s.start {
            StartFrom::Latest => StartFrom::Time(s.created_at),
            other => other,
        },
        config: s.config.clone(),
        signing_secret,
        secret_headers,
        secrets,
    })
}

/// Builds the set at `revision`. A subscription whose secret cannot be opened (its key was removed
/// from the config) is left out and logged, rather than delivered unsigned.
pub async fn build(
    store: &Store,
    sealer: &Sealer,
    seeds: &[SubscriptionSpec],
) -> Result<SubscriptionSet, ControlError> {
    let revision = store.revision().await.map_err(|e| ControlError::Store(e.to_string()))?;
    let stored = store.subscriptions().await.map_err(|e| ControlError::Store(e.to_string()))?;
    let mut specs = seeds.to_vec();
    for s in &stored {
        if seeds.iter().any(|c| c.name == s.name) {
            tracing::warn!(subscription = %s.name, "an API subscription has a config subscription's name; the config one wins");
            continue;
        }
        match api_spec(s, sealer) {
            Ok(spec) => specs.push(spec),
            Err(e) => tracing::error!(subscription = %s.name, error = %e, "subscription left out"),
        }
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SubscriptionSet { specs, revision })
}

/// Publishes a new set when the revision moved (or `force`); returns the current one.
pub async fn refresh(
    store: &Store,
    sealer: &Sealer,
    seeds: &[SubscriptionSpec],
    tx: &watch::Sender<Arc<SubscriptionSet>>,
    force: bool,
) -> Result<Arc<SubscriptionSet>, ControlError> {
    if !force {
        let revision = store.revision().await.map_err(|e| ControlError::Store(e.to_string()))?;
        if revision == tx.borrow().revision {
            return Ok(tx.borrow().clone());
        }
    }
    let set = Arc::new(build(store, sealer, seeds).await?);
    tx.send_if_modified(|cur| {
        if **cur == *set {
            false
        } else {
            *cur = set.clone();
            true
        }
    });
    Ok(tx.borrow().clone())
}

/// Polls the revision until `shutdown`.
pub async fn poll(
    store: Store,
    sealer: Arc<Sealer>,
    seeds: Arc<Vec<SubscriptionSpec>>,
    tx: Arc<watch::Sender<Arc<SubscriptionSet>>>,
    shutdown: CancellationToken,
) {
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        match refresh(&store, &sealer, &seeds, &tx, false).await {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot read subscriptions from the store; keeping the last set");
            }
            Err(_) => {}
        }
    }
}
