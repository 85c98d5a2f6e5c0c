//! Counters of the embedded log, registered into the process registry by whoever serves /metrics.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::retention::Plan;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    pub topic: String,
    /// `age`, `size`, or `size_unfinished` (the size cap took records a group had not finished).
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SkipLabels {
    pub topic: String,
    pub group: String,
}

#[derive(Clone, Debug, Default)]
pub struct LogMetrics {
    pub dropped: Family<DropLabels, Counter>,
    /// Records a consumer was behind the retained start by, when it was moved to the start.
    pub skipped: Family<SkipLabels, Counter>,
}

impl LogMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "hookbus_log_retention_dropped",
            "Records removed from the embedded log by retention, by reason",
            self.dropped.clone(),
        );
        registry.register(
            "hookbus_log_consumer_skipped",
            "Records a consumer group had not read when retention removed them (it resumed at the retained start)",
            self.skipped.clone(),
        );
    }

    pub(super) fn dropped(&self, topic: &str, p: &Plan) {
        for (reason, n) in [("age", p.age), ("size", p.size), ("size_unfinished", p.size_unfinished)] {
            if n > 0 {
                self.dropped
                    .get_or_create(&DropLabels { topic: topic.to_owned(), reason: reason.into() })
                    .inc_by(n as u64);
            }
        }
    }
}
