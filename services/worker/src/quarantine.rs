//! A source's quarantine (`<prefix>.<source>.quarantine`): events that broke their schema contract
//! at ingress with `on_violation = "quarantine"`, stored as the source topic would have held them
//! plus a `ce_schemaviolations` header. Releasing re-checks each against the contracts in force now:
//! those that pass go to the source's topic unchanged (same id, same bytes, so dedup downstream
//! holds), the others stay, reported with what is still wrong. What was released is kept in the
//! same kind of ledger as dead-letter redrives ([`crate::ledger`]).
use hookbus_broker::{Broker, Received};
use hookbus_core::CloudEvent;
use hookbus_core::contract::{Contracts, VIOLATIONS_HEADER, Violation};
use hookbus_core::topics;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{WorkerError, codec, ledger};

/// A quarantined event and where it sits.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineEntry {
    pub partition: i32,
    pub offset: i64,
    pub event: CloudEvent,
    /// What was wrong when it arrived.
    pub violations: Vec<Violation>,
    #[serde(with = "time::serde::rfc3339")]
    pub quarantined_at: OffsetDateTime,
}

/// Which quarantined events an operation applies to; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact CloudEvent type, or a prefix ending in `*`.
    pub event_type: Option<String>,
    /// Only these events; all when `None`.
    pub event_ids: Option<std::collections::BTreeSet<String>>,
}

impl Filter {
    pub fn matches(&self, e: &CloudEvent) -> bool {
        self.event_type.as_deref().is_none_or(|t| match t.strip_suffix('*') {
            Some(prefix) => e.ty.starts_with(prefix),
            None => t == e.ty,
        }) && self.event_ids.as_ref().is_none_or(|ids| ids.contains(&e.id))
    }
}

/// An event that still breaks its contract, with the violations found now.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub event_id: String,
    pub event_type: String,
    pub violations: Vec<Violation>,
}

/// What a release did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Released {
    /// Ids of the events now in the source topic.
    pub released: Vec<String>,
    /// Events left in quarantine.
    pub kept: Vec<Kept>,
}

fn entry(r: &Received) -> Result<QuarantineEntry, WorkerError> {
    let event = r.record.event().map_err(|e| codec::bad_record(r, e))?;
    let violations = match r.record.header(VIOLATIONS_HEADER) {
        Some(v) => serde_json::from_slice(v).map_err(|e| codec::bad_record(r, e))?,
        None => Vec::new(),
    };
    let quarantined_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.record.timestamp_ms) * 1_000_000).unwrap_or(event.time);
    Ok(QuarantineEntry { partition: r.partition, offset: r.offset, event, violations, quarantined_at })
}

/// Quarantined events of `source` not yet released, matching `filter`.
pub async fn list(
    broker: &dyn Broker,
    prefix: &str,
    source: &str,
    filter: &Filter,
) -> Result<Vec<QuarantineEntry>, WorkerError> {
    let mut out = Vec::new();
    for r in ledger::pending(broker, &topics::quarantine(prefix, source)).await? {
        let e = entry(&r)?;
        if filter.matches(&e.event) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Releases the matching quarantined events of `source` that pass `contracts` (the source's
/// contracts as configured now) to `source_topic`, then marks them released; a crash between the
/// two publishes an event twice at most, under the same id. `progress` gets (done, total).
pub async fn release(
    broker: &dyn Broker,
    prefix: &str,
    source: &str,
    source_topic: &str,
    contracts: &Contracts,
    filter: &Filter,
    mut progress: impl FnMut(usize, usize),
) -> Result<Released, WorkerError> {
    let topic = topics::quarantine(prefix, source);
    let publisher = broker.publisher();
    publisher.ensure_topics(&[source_topic.to_owned()]).await?;
    let pending = ledger::pending(broker, &topic).await?;
    let mut out = Released::default();
    let total = pending.len();
    for (n, r) in pending.into_iter().enumerate() {
        let e = entry(&r)?;
        if filter.matches(&e.event) {
            let violations = contracts.check(&e.event);
            if violations.is_empty() {
                let mut record = r.record.clone();
                record.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(VIOLATIONS_HEADER));
                publisher.publish(source_topic, record).await?;
                ledger::resolve(broker, &topic, (r.partition, r.offset), &e.event.id, "released").await?;
                out.released.push(e.event.id);
            } else {
                out.kept.push(Kept { event_id: e.event.id, event_type: e.event.ty, violations });
            }
        }
        progress(n + 1, total);
    }
    Ok(out)
}

/// Marks the matching quarantined events of `source` as purged: they stay in the topic for audit
/// but are no longer listed or released. Returns their ids.
pub async fn purge(
    broker: &dyn Broker,
    prefix: &str,
    source: &str,
    filter: &Filter,
) -> Result<Vec<String>, WorkerError> {
    let topic = topics::quarantine(prefix, source);
    let mut out = Vec::new();
    for e in list(broker, prefix, source, filter).await? {
        ledger::resolve(broker, &topic, (e.partition, e.offset), &e.event.id, "purged").await?;
        out.push(e.event.id);
    }
    Ok(out)
}
