//! Prometheus metrics of the worker, registered into the process registry served at /metrics.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubLabel {
    pub subscription: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub subscription: String,
    pub outcome: String,
}

#[derive(Clone)]
pub struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
    }
}

#[derive(Clone)]
pub struct WorkerMetrics {
    /// Attempts by outcome: delivered, http_error, timeout, connect_error, other_error.
    pub attempts: Family<OutcomeLabels, Counter>,
    /// Events that left the pipeline, by how: delivered, retry_scheduled, dead_lettered, filtered.
    pub events: Family<OutcomeLabels, Counter>,
    pub in_flight: Family<SubLabel, Gauge>,
    pub attempt_seconds: Family<SubLabel, Histogram, LatencyBuckets>,
    /// 1 while the subscription's circuit breaker is open or half-open.
    pub circuit_open: Family<SubLabel, Gauge>,
    /// 1 once the endpoint failed for longer than `disable_after`.
    pub endpoint_disabled: Family<SubLabel, Gauge>,
    /// Records of the source topic not yet finished, per subscription (this process's partitions).
    pub lag_records: Family<SubLabel, Gauge>,
    /// Age of the oldest unfinished source record, per subscription.
    pub lag_seconds: Family<SubLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// Items per batch request (batch subscriptions only), counted on every attempt.
    pub batch_items: Family<SubLabel, Histogram, BatchBuckets>,
}

#[derive(Clone)]
pub struct BatchBuckets;

impl MetricConstructor<Histogram> for BatchBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new([1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0])
    }
}

impl WorkerMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            attempts: Family::default(),
            events: Family::default(),
            in_flight: Family::default(),
            attempt_seconds: Family::new_with_constructor(LatencyBuckets),
            circuit_open: Family::default(),
            endpoint_disabled: Family::default(),
            lag_records: Family::default(),
            lag_seconds: Family::default(),
            batch_items: Family::new_with_constructor(BatchBuckets),
        };
        registry.register("hookbus_consumer_lag_records", "Source records not yet finished", m.lag_records.clone());
        registry.register(
            "hookbus_consumer_lag_seconds",
            "Age of the oldest unfinished source record",
            m.lag_seconds.clone(),
        );
        registry.register(
            "hookbus_endpoint_circuit_open",
            "Circuit breaker open (1) or closed (0)",
            m.circuit_open.clone(),
        );
        registry.register(
            "hookbus_endpoint_disabled",
            "Endpoint disabled after failing too long",
            m.endpoint_disabled.clone(),
        );
        registry.register("hookbus_delivery_attempts", "HTTP delivery attempts by outcome", m.attempts.clone());
        registry.register("hookbus_worker_events", "Events finished by the worker, by result", m.events.clone());
        registry.register("hookbus_worker_in_flight", "Deliveries in flight", m.in_flight.clone());
        registry.register(
            "hookbus_delivery_attempt_seconds",
            "Latency of delivery attempts",
            m.attempt_seconds.clone(),
        );
        registry.register("hookbus_delivery_batch_items", "Items per batch request", m.batch_items.clone());
        m
    }

    pub(crate) fn event(&self, subscription: &str, outcome: crate::decide::EventOutcome) {
        let labels = OutcomeLabels { subscription: subscription.into(), outcome: outcome.as_str().into() };
        self.events.get_or_create(&labels).inc();
    }
}
