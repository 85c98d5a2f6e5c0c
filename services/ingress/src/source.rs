//! Sources ready to serve: scheme built, secrets read, topic and partition key resolved.
use std::collections::HashMap;
use std::time::Duration;

use hookbus_core::config::{Config, Handshake, OnViolation, Secret};
use hookbus_core::contract::Contracts;
use hookbus_core::topics;

use crate::IngressError;
use crate::limits::RateLimiter;
use crate::verify::Scheme;

pub struct Source {
    pub name: String,
    pub scheme: Scheme,
    pub secrets: Vec<Secret>,
    pub tolerance_secs: u64,
    pub topic: String,
    pub partition_key: Option<String>,
    /// How long delivery ids are remembered (None: `dedup.window_secs`).
    pub dedup_window: Option<Duration>,
    /// Accepted media types; empty = any.
    pub content_types: Vec<String>,
    pub rate_limiter: Option<RateLimiter>,
    /// Handshakes answered beyond those the scheme implies.
    pub handshakes: Vec<Handshake>,
    /// Schema contracts by event type, compiled once here.
    pub contracts: Contracts,
    pub on_violation: OnViolation,
    /// Where events that break their contract go with `on_violation = "quarantine"`.
    pub quarantine_topic: String,
}

impl Source {
    /// The topics ingress produces to: the source topic, and its quarantine when it quarantines.
    pub fn topics(&self) -> Vec<String> {
        let quarantines = !self.contracts.is_empty() && self.on_violation == OnViolation::Quarantine;
        std::iter::once(self.topic.clone()).chain(quarantines.then(|| self.quarantine_topic.clone())).collect()
    }
}

/// Every configured source by name. Fails on the first secret that cannot be read or contract
/// that does not compile.
pub fn load(config: &Config) -> Result<HashMap<String, Source>, IngressError> {
    let mut out = HashMap::new();
    for (name, s) in &config.sources {
        let scheme = Scheme::from_config(s)?;
        let contracts = Contracts::compile(&s.contracts)
            .map_err(|(ty, m)| IngressError::Internal(format!("sources.{name}.contracts.\"{ty}\": {m}")))?;
        let secrets = s
            .secrets
            .iter()
            .enumerate()
            .map(|(i, r)| r.resolve(&format!("sources.{name}.secrets[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| IngressError::Internal(e.to_string()))?;
        out.insert(
            name.clone(),
            Source {
                name: name.clone(),
                scheme,
                secrets,
                tolerance_secs: s.tolerance_secs,
                topic: config.source_topic(name).to_owned(),
                partition_key: s.partition_key.clone(),
                dedup_window: s.dedup_window_secs.map(Duration::from_secs),
                content_types: s.content_types.clone(),
                rate_limiter: s.rate_limit.as_ref().and_then(RateLimiter::new),
                handshakes: s.handshakes.clone(),
                contracts,
                on_violation: s.on_violation,
                quarantine_topic: topics::quarantine(&config.broker.topic_prefix, name),
            },
        );
    }
    Ok(out)
}
