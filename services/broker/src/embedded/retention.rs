//! Retention of the embedded log: per topic, drop the oldest records past the age limit — never
//! one a consumer group has not committed past, nor a dead letter or quarantined event — and past
//! the size cap, which wins over both (such losses are counted apart, and logged). Records go as a prefix, so a
//! topic's offsets stay dense from its first retained record on. The decision is [`plan`]; the
//! rest reads its inputs and applies it.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookbus_core::config::{EmbeddedConfig, RetentionLimits};
use rusqlite::{Connection, OptionalExtension, params};

use super::metrics::LogMetrics;
use super::store;

/// What retention knows of one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TopicState {
    /// First retained offset (`next` when the topic is empty).
    pub start: i64,
    pub next: i64,
    /// First offset some consumer group has not committed past; `next` when none holds it.
    pub hold: i64,
    /// First offset written at or after the age limit (`next` when every record is older).
    pub young: i64,
    /// First offset from which the records fit the size cap (`start` when they all fit).
    pub fits: i64,
}

/// Records to drop: every offset below `drop_before`, counted by why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Plan {
    pub drop_before: i64,
    /// Older than the age limit and finished.
    pub age: i64,
    /// Dropped for the size cap, finished by every group.
    pub size: i64,
    /// Dropped for the size cap although a group had not committed past them (or dead letters).
    pub size_unfinished: i64,
}

pub(super) fn plan(t: TopicState) -> Plan {
    let by_age = t.young.min(t.hold).max(t.start);
    let drop_before = by_age.max(t.fits).min(t.next);
    let unfinished_from = t.hold.max(by_age);
    let size_unfinished = (drop_before - unfinished_from).max(0);
    Plan { drop_before, age: by_age - t.start, size: drop_before - by_age - size_unfinished, size_unfinished }
}

/// Dead letters and quarantined events (and the ledgers of resolved ones beside them) are kept
/// whatever their age: the log cannot tell a resolved one from a pending one, and a pending one is
/// never dropped by age.
fn holds_dead_letters(topic: &str) -> bool {
    hookbus_core::topics::holds_records(topic)
}

/// What one pass did, per topic with something dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub topic: String,
    pub age: i64,
    pub size: i64,
    pub size_unfinished: i64,
}

/// One retention pass over every topic, then returns freed pages to the filesystem.
pub(super) fn enforce(
    conn: &mut Connection,
    config: &EmbeddedConfig,
    metrics: &LogMetrics,
    now: SystemTime,
) -> rusqlite::Result<Vec<Dropped>> {
    let now_ms = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    let topics: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM topics")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (id, name) in topics {
        // Validated at load; a bad override here keeps the topic (never drop on a config error).
        let Ok(limits) = config.retention_for(&name) else { continue };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let state = read_state(&tx, id, &name, limits, now_ms)?;
        let p = plan(state);
        if p.drop_before > state.start {
            let (lo, _) = store::id_range(id);
            let freed: i64 = tx.query_row(
                "SELECT coalesce(sum(length(data)), 0) FROM log WHERE id >= ?1 AND id < ?2",
                [lo, lo + p.drop_before],
                |r| r.get(0),
            )?;
            tx.execute("DELETE FROM log WHERE id >= ?1 AND id < ?2", [lo, lo + p.drop_before])?;
            tx.execute("UPDATE topics SET bytes = max(bytes - ?2, 0) WHERE id = ?1", [id, freed])?;
            tx.commit()?;
            metrics.dropped(&name, &p);
            if p.size_unfinished > 0 {
                tracing::warn!(
                    topic = %name, records = p.size_unfinished, retention_bytes = limits.max_bytes,
                    "size cap dropped records a subscription had not finished (or dead letters)"
                );
            }
            tracing::info!(topic = %name, age = p.age, size = p.size, "retention dropped records");
            out.push(Dropped { topic: name, age: p.age, size: p.size, size_unfinished: p.size_unfinished });
        }
    }
    if !out.is_empty() {
        // Each step of the pragma frees pages; it must be stepped to the end, not just started.
        let mut vacuum = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut steps = vacuum.query([])?;
        while steps.next()?.is_some() {}
        drop(steps);
        drop(vacuum);
        // The main file only shrinks once the WAL holding the vacuum is checkpointed into it.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(out)
}

fn read_state(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    name: &str,
    limits: RetentionLimits,
    now_ms: i64,
) -> rusqlite::Result<TopicState> {
    let (lo, hi) = store::id_range(id);
    let (next, bytes): (i64, i64) =
        tx.query_row("SELECT next_offset, bytes FROM topics WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // The first record of the topic written at or after `cutoff` (i64::MIN: the first record).
    let first_since = |cutoff: i64| -> rusqlite::Result<i64> {
        let found: Option<i64> = tx
            .query_row(
                "SELECT id FROM log WHERE id >= ?1 AND id < ?2 AND timestamp_ms >= ?3 ORDER BY id LIMIT 1",
                params![lo, hi, cutoff],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.map_or(next, |rowid| rowid - lo))
    };
    let start = first_since(i64::MIN)?;
    let young = first_since(now_ms.saturating_sub(limits.max_age.as_millis().min(i64::MAX as u128) as i64))?;
    let committed: Option<i64> =
        tx.query_row("SELECT min(offset) FROM commits WHERE topic = ?1 AND grp <> ''", [name], |r| r.get(0))?;
    let hold = if holds_dead_letters(name) { start } else { committed.unwrap_or(next) };
    let fits = match limits.max_bytes {
        Some(cap) if bytes as u64 > cap => first_fitting(tx, lo, hi, bytes as u64 - cap)?.unwrap_or(next),
        _ => start,
    };
    Ok(TopicState { start, next, hold, young, fits })
}

/// The first offset left once the oldest records holding at least `excess` bytes are gone.
fn first_fitting(tx: &rusqlite::Transaction<'_>, lo: i64, hi: i64, excess: u64) -> rusqlite::Result<Option<i64>> {
    let mut stmt = tx.prepare("SELECT id, length(data) FROM log WHERE id >= ?1 AND id < ?2 ORDER BY id")?;
    let mut rows = stmt.query([lo, hi])?;
    let mut freed = 0u64;
    while let Some(row) = rows.next()? {
        if freed >= excess {
            return Ok(Some(row.get::<_, i64>(0)? - lo));
        }
        freed += row.get::<_, i64>(1)? as u64;
    }
    Ok(None)
}

/// How often the serving process runs a pass.
pub(super) const EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    fn state(start: i64, next: i64, hold: i64, young: i64, fits: i64) -> TopicState {
        TopicState { start, next, hold, young, fits }
    }

    #[test]
    fn age_drops_only_what_every_group_finished() {
        // 0..100 stored, records before 60 are old, groups committed up to 40.
        let p = plan(state(0, 100, 40, 60, 0));
        assert_eq!(p, Plan { drop_before: 40, age: 40, size: 0, size_unfinished: 0 });
        // Every group is past the old records: all old ones go.
        assert_eq!(plan(state(0, 100, 100, 60, 0)).drop_before, 60);
        // Nothing is old.
        assert_eq!(plan(state(10, 100, 100, 10, 10)), Plan { drop_before: 10, ..Plan::default() });
    }

    #[test]
    fn the_size_cap_wins_and_counts_unfinished_losses_apart() {
        // Old up to 60, groups at 40, the cap keeps 80.. only.
        let p = plan(state(0, 100, 40, 60, 80));
        assert_eq!(p, Plan { drop_before: 80, age: 40, size: 0, size_unfinished: 40 });
        // Groups at 90: 0..60 by age, 60..80 for size (finished).
        assert_eq!(plan(state(0, 100, 90, 60, 80)), Plan { drop_before: 80, age: 60, size: 20, size_unfinished: 0 });
        // A cap smaller than one record empties the topic, never past its end.
        assert_eq!(plan(state(0, 5, 5, 0, 5)), Plan { drop_before: 5, age: 0, size: 5, size_unfinished: 0 });
    }

    #[test]
    fn a_hold_below_the_start_drops_nothing_by_age() {
        // A group registered at 0 on a topic already trimmed to 50 by size: it holds everything.
        assert_eq!(plan(state(50, 100, 0, 100, 50)), Plan { drop_before: 50, ..Plan::default() });
        assert_eq!(plan(state(50, 100, 0, 100, 70)), Plan { drop_before: 70, age: 0, size: 0, size_unfinished: 20 });
    }

    #[test]
    fn dead_letter_topics_are_recognised() {
        assert!(holds_dead_letters("hookbus.crm.dlq") && holds_dead_letters("hookbus.crm.dlq.resolved"));
        assert!(holds_dead_letters("hookbus.github.quarantine"), "quarantined events wait for release too");
        assert!(!holds_dead_letters("hookbus.crm.retry.1") && !holds_dead_letters("github"));
    }
}
