//! Names of the topics and consumer groups hookbus owns, derived from the topic prefix and the
//! subscription name, so the worker, the CLI and operators agree on them.

/// Consumer group of a subscription; also consumes its retry tiers.
pub fn group(prefix: &str, subscription: &str) -> String {
    format!("{prefix}.{subscription}")
}

/// Retry tier `n` of a subscription: records waiting for attempt `n + 1`. Tier 0 is immediate
/// (redriven events); tier `n >= 1` holds events whose next delay is `schedule[n]`, so each tier's
/// records become due in roughly the order they were written.
pub fn retry_tier(prefix: &str, subscription: &str, n: usize) -> String {
    format!("{prefix}.{subscription}.retry.{n}")
}

/// Dead letters of a subscription.
pub fn dead_letter(prefix: &str, subscription: &str) -> String {
    format!("{prefix}.{subscription}.dlq")
}

/// Group whose committed offset marks how far the dead letters were redriven.
pub fn redrive_group(prefix: &str, subscription: &str) -> String {
    format!("{prefix}.{subscription}.dlq-redrive")
}

/// Quarantine of a source: events that broke their schema contract, waiting to be released. Named
/// `<prefix>.<source>.quarantine` rather than `<prefix>.quarantine.<source>`, which a source named
/// `dlq` would share with the dead letters of a subscription named `quarantine`; no subscription
/// topic ends in `.quarantine`.
pub fn quarantine(prefix: &str, source: &str) -> String {
    format!("{prefix}.{source}.quarantine")
}

/// The ledger beside a topic of held records (dead letters, quarantine): one record per entry
/// released, redriven or purged.
pub fn resolved(topic: &str) -> String {
    format!("{topic}.resolved")
}

/// Whether `topic` holds records until an operator acts on them (dead letters and their ledger,
/// quarantined events and theirs): such topics must not expire by age.
pub fn holds_records(topic: &str) -> bool {
    let topic = topic.strip_suffix(".resolved").unwrap_or(topic);
    topic.ends_with(".dlq") || topic.ends_with(".quarantine")
}

/// Tier index when `topic` is one of `subscription`'s retry tiers.
pub fn tier_of(prefix: &str, subscription: &str, topic: &str) -> Option<usize> {
    topic.strip_prefix(&format!("{prefix}.{subscription}.retry."))?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(retry_tier("hookbus", "crm", 3), "hookbus.crm.retry.3");
        assert_eq!(tier_of("hookbus", "crm", "hookbus.crm.retry.3"), Some(3));
        assert_eq!(tier_of("hookbus", "crm", "hookbus.crm2.retry.3"), None);
        assert_eq!(tier_of("hookbus", "crm", "github"), None);
        assert_eq!(dead_letter("hookbus", "crm"), "hookbus.crm.dlq");
        assert!(holds_records("hookbus.crm.dlq") && holds_records("hookbus.crm.dlq.resolved"));
        assert!(holds_records("hookbus.github.quarantine") && holds_records("hookbus.github.quarantine.resolved"));
        assert!(!holds_records("hookbus.crm.retry.1") && !holds_records("github") && !holds_records("a.resolved"));
        assert_eq!(quarantine("hookbus", "github"), "hookbus.github.quarantine");
        assert_eq!(resolved(&dead_letter("hookbus", "crm")), "hookbus.crm.dlq.resolved");
    }
}
