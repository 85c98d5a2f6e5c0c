//! Prometheus metrics of the ingress.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabels {
    pub source: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandshakeLabels {
    pub source: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ViolationLabels {
    pub source: String,
    /// The event type (types with a contract only; the sender is authenticated by then).
    pub r#type: String,
    /// `reject` or `quarantine`.
    pub mode: String,
}

#[derive(Clone)]
pub struct IngressMetrics {
    pub accepted: Family<SourceLabel, Counter>,
    pub duplicates: Family<SourceLabel, Counter>,
    pub rejected: Family<RejectLabels, Counter>,
    pub produce_seconds: Histogram,
    pub handshakes: Family<HandshakeLabels, Counter>,
    pub violations: Family<ViolationLabels, Counter>,
}

impl IngressMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            accepted: Family::default(),
            duplicates: Family::default(),
            rejected: Family::default(),
            produce_seconds: Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0]),
            handshakes: Family::default(),
            violations: Family::default(),
        };
        registry.register(
            "hookbus_ingress_schema_violations",
            "Webhooks whose data broke their schema contract, by source, event type and mode (reject or quarantine)",
            m.violations.clone(),
        );
        registry.register(
            "hookbus_ingress_handshakes",
            "Endpoint-verification handshakes answered (nothing published), by kind",
            m.handshakes.clone(),
        );
        registry.register("hookbus_ingress_accepted", "Webhooks accepted and durably stored", m.accepted.clone());
        registry.register("hookbus_ingress_duplicates", "Webhooks recognised as duplicates", m.duplicates.clone());
        registry.register("hookbus_ingress_rejected", "Webhooks rejected, by reason", m.rejected.clone());
        registry.register(
            "hookbus_ingress_produce_seconds",
            "Time until the broker held the event",
            m.produce_seconds.clone(),
        );
        m
    }
}
