//! What the control plane and the data plane tell each other while running, as plain data:
//! the live set of subscriptions (control -> worker), what happened to each delivery
//! (worker -> control) and which webhooks were refused (ingress -> control).
//! The sinks are traits here so the worker and ingress need not depend on the control crate.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::SubscriptionConfig;
use crate::{Attempt, GiveUpReason};

/// Who owns a subscription: the config file (read-only through the API) or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Managed {
    Config,
    Api,
}

/// Where a new subscription starts reading its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartFrom {
    /// Events accepted from now on.
    #[default]
    Latest,
    /// Everything the topic still holds.
    Earliest,
    /// Events accepted at or after this instant.
    Time(OffsetDateTime),
}

impl StartFrom {
    /// `latest`, `earliest`, or an RFC 3339 time.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "latest" => Ok(Self::Latest),
            "earliest" => Ok(Self::Earliest),
            t => {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map(Self::Time).map_err(|e| {
                    format!(
                        "`{t}` is neither \"latest\", \"earliest\" nor an RFC 3339 time like 2026-01-31T12:00:00Z: {e}"
                    )
                })
            }
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Self::Latest => "latest".into(),
            Self::Earliest => "earliest".into(),
            Self::Time(t) => t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        }
    }
}

impl Serialize for StartFrom {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for StartFrom {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One subscription as the worker should run it right now.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionSpec {
    pub name: String,
    /// Bumped by every change; each delivery records the version that mapped it.
    pub version: u64,
    /// New each time a name is created (again): the worker puts it in the consumer-group name, so a
    /// subscription re-created after a delete starts fresh instead of resuming the old position.
    pub generation: String,
    pub managed: Managed,
    /// Paused: hold delivery, keep the position.
    pub paused: bool,
    pub start: StartFrom,
    /// Everything else. For API-managed subscriptions `signing_secret` here is `None`; the resolved
    /// secret is in [`SubscriptionSpec::signing_secret`].
    pub config: SubscriptionConfig,
    /// Resolved plaintext Standard Webhooks secret (`whsec_...`); never serialized.
    #[serde(skip_serializing, default)]
    pub signing_secret: Option<String>,
    /// Resolved plaintext header values (e.g. an API key), sent in addition to `config.headers`;
    /// never serialized.
    #[serde(skip_serializing, default)]
    pub secret_headers: BTreeMap<String, String>,
    /// Resolved plaintext secrets of other settings, by the path that names them
    /// (`auth.client_secret`, `secret_maps.api_keys.acct_1`); they stand in for the references in
    /// `config` (which the admin API leaves empty). Never serialized.
    #[serde(skip_serializing, default)]
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for SubscriptionSpec {
    // Never print secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionSpec")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("generation", &self.generation)
            .field("managed", &self.managed)
            .field("paused", &self.paused)
            .field("start", &self.start)
            .field("config", &self.config)
            .field("signing_secret", &self.signing_secret.as_ref().map(|_| "<redacted>"))
            .field("secret_headers", &self.secret_headers.keys().collect::<Vec<_>>())
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Every subscription at one store revision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SubscriptionSet {
    pub specs: Vec<SubscriptionSpec>,
    /// The store's change counter when this set was read; grows with every change on any node.
    pub revision: u64,
}

impl SubscriptionSet {
    pub fn get(&self, name: &str) -> Option<&SubscriptionSpec> {
        self.specs.iter().find(|s| s.name == name)
    }
}

/// What the worker did with one event for one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryObservation {
    pub subscription: String,
    pub generation: String,
    /// The subscription version that mapped this delivery.
    pub version: u64,
    pub event_id: String,
    pub event_type: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: ObservationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObservationKind {
    /// One HTTP attempt. `request_headers` are what was sent, already redacted by the worker.
    Attempted {
        attempt: Attempt,
        request_headers: Vec<(String, String)>,
    },
    Delivered,
    /// The filter dropped the event (or its type was not selected).
    Filtered,
    RetryScheduled {
        #[serde(with = "time::serde::rfc3339")]
        next_attempt_at: OffsetDateTime,
    },
    DeadLettered {
        reason: GiveUpReason,
    },
}

/// A subscription's circuit breaker as the worker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    Closed,
    /// Failing too often: deliveries wait for the cool-down (or a probe is in flight).
    Open,
    /// Failing without a success for longer than `disable_after`.
    Disabled,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::Disabled => "disabled",
        }
    }
}

/// How far behind one worker's consume loop of a subscription is, reported every few seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionHealth {
    pub subscription: String,
    pub generation: String,
    /// Records of the source topic not yet finished (delivered, dead-lettered or filtered).
    pub lag_records: u64,
    /// Age of the oldest unfinished record; 0 when caught up.
    pub lag_seconds: f64,
    pub circuit: CircuitState,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Receives delivery observations. Must not block: an implementation queues and drops when full,
/// so delivery never waits for bookkeeping.
pub trait ObservationSink: Send + Sync {
    fn observe(&self, o: DeliveryObservation);
    /// The latest lag and circuit state of a subscription; the newest report replaces the last.
    fn health(&self, _h: SubscriptionHealth) {}
}

/// A webhook ingress refused, for "why does my provider's webhook fail" in the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The error code ingress answered, e.g. `signature_mismatch`.
    pub code: String,
    pub message: String,
}

/// Receives ingress rejections; non-blocking like [`ObservationSink`].
pub trait RejectionSink: Send + Sync {
    fn rejected(&self, r: Rejection);
}

/// A sink that keeps nothing, for processes without a control plane and for tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl ObservationSink for Discard {
    fn observe(&self, _: DeliveryObservation) {}
}

impl RejectionSink for Discard {
    fn rejected(&self, _: Rejection) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_parses_its_three_forms_and_names_the_bad_one() {
        assert_eq!(StartFrom::parse("latest"), Ok(StartFrom::Latest));
        assert_eq!(StartFrom::parse("earliest"), Ok(StartFrom::Earliest));
        let t = StartFrom::parse("2026-01-31T12:00:00Z").unwrap();
        assert_eq!(t.as_string(), "2026-01-31T12:00:00Z");
        let err = StartFrom::parse("yesterday").unwrap_err();
        assert!(err.contains("`yesterday`"), "{err}");
    }

    #[test]
    fn secrets_are_neither_serialized_nor_printed() {
        let config: SubscriptionConfig =
            serde_json::from_value(serde_json::json!({"topic": "t", "target": "http://x"})).unwrap();
        let spec = SubscriptionSpec {
            name: "s".into(),
            version: 1,
            generation: "g".into(),
            managed: Managed::Api,
            paused: false,
            start: StartFrom::Latest,
            config,
            signing_secret: Some("whsec_topsecret".into()),
            secret_headers: BTreeMap::from([("x-api-key".into(), "k3y-value".into())]),
            secrets: BTreeMap::from([("auth.token".into(), "t0ken-value".into())]),
        };
        let json = serde_json::to_string(&spec).unwrap();
        let debug = format!("{spec:?}");
        for text in [&json, &debug] {
            assert!(!text.contains("topsecret") && !text.contains("k3y-value") && !text.contains("t0ken"), "{text}");
        }
    }

    #[test]
    fn observations_round_trip_with_a_kind_tag() {
        let o = DeliveryObservation {
            subscription: "s".into(),
            generation: "g".into(),
            version: 2,
            event_id: "e".into(),
            event_type: "t".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            kind: ObservationKind::DeadLettered { reason: GiveUpReason::RetriesExhausted },
        };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["kind"]["kind"], "dead_lettered");
        assert_eq!(serde_json::from_value::<DeliveryObservation>(v).unwrap(), o);
    }
}
