//! A subscription ready to run: config resolved, jq compiled, secret read, topics named.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hookbus_core::config::{Config, SecretRef, SubscriptionConfig, secret_map_path};
use hookbus_core::contract::Schema;
use hookbus_core::live::{StartFrom, SubscriptionSpec};
use hookbus_core::retry::RetryPolicy;
use hookbus_core::topics;
use hookbus_mapping::Mapping;
use time::OffsetDateTime;

use crate::WorkerError;
use crate::destination::SecretValues;
use crate::health::BreakerConfig;

pub struct Subscription {
    pub name: String,
    pub config: SubscriptionConfig,
    pub mapping: Mapping,
    pub policy: RetryPolicy,
    pub signing_key: Option<Vec<u8>>,
    pub timeout: Duration,
    pub prefix: String,
    pub breaker: Option<BreakerConfig>,
    /// The version of the subscription that maps its deliveries (1 for config-file ones).
    pub version: u64,
    /// Empty for config-file subscriptions; new each time an API subscription's name is created.
    pub generation: String,
    /// Events accepted before this are not delivered; None: everything the topic holds.
    pub start: Option<OffsetDateTime>,
    /// Header values that are secrets (API keys): sent, never shown in the attempt log.
    pub secret_headers: BTreeMap<String, String>,
    /// The target URL and header values, with their `{{ jq }}` templates compiled.
    pub destination: crate::destination::Destination,
    /// What the mapping's output must match before it is sent.
    pub output_schema: Option<Schema>,
    /// Outbound authentication (basic, bearer, OAuth2 with its token cache).
    pub(crate) auth: Option<crate::auth::Auth>,
}

impl Subscription {
    /// Builds every subscription of `config`; the first problem is returned with its subscription.
    pub fn all(config: &Config) -> Result<Vec<Arc<Subscription>>, WorkerError> {
        config
            .subscriptions
            .iter()
            .map(|(name, sub)| Self::build(name, sub, &config.broker.topic_prefix).map(Arc::new))
            .collect()
    }

    pub fn build(name: &str, config: &SubscriptionConfig, prefix: &str) -> Result<Self, WorkerError> {
        let secret = match &config.signing_secret {
            Some(r) => Some(r.resolve(&format!("subscriptions.{name}.signing_secret"))?.value),
            None => None,
        };
        Self::assemble(name, config, prefix, secret.as_deref(), &BTreeMap::new())
    }

    /// A subscription of the live set (config-file or API), its secrets already resolved.
    pub fn from_spec(spec: &SubscriptionSpec, prefix: &str) -> Result<Self, WorkerError> {
        let signing = match (&spec.signing_secret, &spec.config.signing_secret) {
            (Some(secret), _) => Some(secret.clone()),
            (None, Some(r)) => Some(r.resolve(&format!("subscriptions.{}.signing_secret", spec.name))?.value),
            (None, None) => None,
        };
        let mut sub = Self::assemble(&spec.name, &spec.config, prefix, signing.as_deref(), &spec.secrets)?;
        sub.version = spec.version;
        sub.generation = spec.generation.clone();
        sub.start = match spec.start {
            StartFrom::Earliest => None,
            StartFrom::Time(t) => Some(t),
            // A spec that did not pin "now" to its creation time: from when this worker built it.
            StartFrom::Latest => Some(OffsetDateTime::now_utc()),
        };
        sub.secret_headers = spec.secret_headers.clone();
        Ok(sub)
    }

    /// `given` holds secrets resolved elsewhere (the admin API's), by path; other secrets are read
    /// from their references in `config`.
    fn assemble(
        name: &str,
        config: &SubscriptionConfig,
        prefix: &str,
        secret: Option<&str>,
        given: &BTreeMap<String, String>,
    ) -> Result<Self, WorkerError> {
        let fail = |message: String| WorkerError::Subscription { subscription: name.to_owned(), message };
        let resolve = |path: String, r: &SecretRef| match given.get(&path) {
            Some(v) => Ok(v.clone()),
            None => r.resolve(&format!("subscriptions.{name}.{path}")).map(|s| s.value),
        };
        let mut maps = SecretValues::new();
        for (map, entries) in &config.secret_maps {
            let mut values = BTreeMap::new();
            for (key, r) in entries {
                values.insert(key.clone(), resolve(secret_map_path(map, key), r)?);
            }
            maps.insert(map.clone(), values);
        }
        let auth = match &config.auth {
            Some(a) => {
                let (path, r) = a.secret();
                Some(crate::auth::Auth::build(a, resolve(path, r)?).map_err(fail)?)
            }
            None => None,
        };
        let mapping =
            Mapping::compile(config.filter.as_deref(), config.transform.as_deref()).map_err(|e| fail(e.to_string()))?;
        let destination = crate::destination::Destination::build(config, maps).map_err(|e| fail(e.to_string()))?;
        let policy = config.retry.policy().map_err(fail)?;
        let output_schema = config.output_schema.as_ref().map(Schema::compile).transpose().map_err(fail)?;
        let signing_key = secret
            .map(|s| hookbus_core::signing::standard_webhooks_key(s).map_err(|e| fail(e.to_string())))
            .transpose()?;
        let cb = &config.circuit_breaker;
        let breaker = if cb.enabled {
            let (window, cool_down, disable_after) = cb.durations().map_err(fail)?;
            Some(BreakerConfig {
                window,
                min_requests: cb.min_requests,
                failure_ratio: cb.failure_ratio,
                cool_down,
                disable_after,
            })
        } else {
            None
        };
        Ok(Self {
            breaker,
            name: name.to_owned(),
            timeout: Duration::from_millis(config.timeout_ms),
            config: config.clone(),
            mapping,
            policy,
            signing_key,
            prefix: prefix.to_owned(),
            version: 1,
            generation: String::new(),
            start: None,
            secret_headers: BTreeMap::new(),
            destination,
            output_schema,
            auth,
        })
    }

    /// The consumer group: config-file subscriptions keep the one they always had; each generation
    /// of an API subscription has its own, so a name created again starts fresh.
    pub fn group(&self) -> String {
        let group = topics::group(&self.prefix, &self.name);
        if self.generation.is_empty() { group } else { format!("{group}.{}", self.generation) }
    }

    /// Whether a fresh event accepted at `time` is before where this subscription starts.
    pub fn before_start(&self, time: OffsetDateTime) -> bool {
        self.start.is_some_and(|s| time < s)
    }

    pub fn tier_topic(&self, n: usize) -> String {
        topics::retry_tier(&self.prefix, &self.name, n)
    }

    pub fn tier_of(&self, topic: &str) -> Option<usize> {
        topics::tier_of(&self.prefix, &self.name, topic)
    }

    pub fn dlq_topic(&self) -> String {
        topics::dead_letter(&self.prefix, &self.name)
    }

    /// The source topic followed by every retry tier (tier 0 receives redriven events).
    pub fn consumed_topics(&self) -> Vec<String> {
        let tiers = self.policy.schedule.len().max(1);
        std::iter::once(self.config.topic.clone()).chain((0..tiers).map(|n| self.tier_topic(n))).collect()
    }

    /// Everything this subscription reads or writes, for `ensure_topics` at start.
    pub fn owned_topics(&self) -> Vec<String> {
        let mut t = self.consumed_topics();
        t.push(self.dlq_topic());
        t.extend(self.config.destination.as_ref().map(|d| d.topic().to_owned()));
        t
    }
}
