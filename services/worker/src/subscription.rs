//! A subscription ready to run: config resolved, jq compiled, secret read, topics named.
use std::sync::Arc;
use std::time::Duration;

use hookbus_core::config::{Config, SubscriptionConfig};
use hookbus_core::retry::RetryPolicy;
use hookbus_core::topics;
use hookbus_mapping::Mapping;

use crate::WorkerError;
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
        let fail = |message: String| WorkerError::Subscription { subscription: name.to_owned(), message };
        let mapping =
            Mapping::compile(config.filter.as_deref(), config.transform.as_deref()).map_err(|e| fail(e.to_string()))?;
        let policy = config.retry.policy().map_err(fail)?;
        let signing_key = match &config.signing_secret {
            Some(r) => {
                let secret = r.resolve(&format!("subscriptions.{name}.signing_secret"))?;
                Some(hookbus_core::signing::standard_webhooks_key(&secret.value).map_err(|e| fail(e.to_string()))?)
            }
            None => None,
        };
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
        })
    }

    pub fn group(&self) -> String {
        topics::group(&self.prefix, &self.name)
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
        t
    }
}
