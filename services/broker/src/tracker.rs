//! Offset tracking for out-of-order completion: a partition's commit position only advances past
//! an offset once that record and every one before it are finished (delivered or dead-lettered).
use std::collections::{BTreeMap, HashMap};

use crate::Position;

#[derive(Debug, Default)]
struct Partition {
    /// Offsets started and not finished, with their records' timestamps (ms).
    in_flight: BTreeMap<i64, i64>,
    /// One past the highest offset seen.
    next: i64,
    committed: Option<i64>,
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    parts: HashMap<(String, i32), Partition>,
}

impl OffsetTracker {
    /// A record is being worked on; `timestamp_ms` is when it was written (for the lag in time).
    pub fn started(&mut self, topic: &str, partition: i32, offset: i64, timestamp_ms: i64) {
        let p = self.parts.entry((topic.to_owned(), partition)).or_default();
        p.in_flight.insert(offset, timestamp_ms);
        p.next = p.next.max(offset + 1);
    }

    pub fn finished(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.parts.get_mut(&(topic.to_owned(), partition)) {
            p.in_flight.remove(&offset);
        }
    }

    /// Records in flight across all partitions.
    pub fn in_flight(&self) -> usize {
        self.parts.values().map(|p| p.in_flight.len()).sum()
    }

    /// Where a restart would resume in (topic, partition): the first unfinished offset, or one past
    /// the highest seen. None for a partition this tracker has not seen a record of.
    pub fn position(&self, topic: &str, partition: i32) -> Option<i64> {
        let p = self.parts.get(&(topic.to_owned(), partition))?;
        Some(p.in_flight.keys().next().copied().unwrap_or(p.next))
    }

    /// The timestamp of the oldest unfinished record of `topic`, in ms.
    pub fn oldest_ms(&self, topic: &str) -> Option<i64> {
        self.parts
            .iter()
            .filter(|((t, _), _)| t == topic)
            .filter_map(|(_, p)| p.in_flight.values().min().copied())
            .min()
    }

    /// Every partition's current commit position (for a final commit that must not rely on earlier
    /// fire-and-forget commits having landed).
    pub fn positions(&mut self) -> Vec<Position> {
        for p in self.parts.values_mut() {
            p.committed = None;
        }
        self.take_commits()
    }

    /// Positions that advanced since the last call; the caller commits them.
    pub fn take_commits(&mut self) -> Vec<Position> {
        let mut out = Vec::new();
        for ((topic, partition), p) in &mut self.parts {
            let watermark = p.in_flight.keys().next().copied().unwrap_or(p.next);
            if p.committed.is_none_or(|c| watermark > c) && watermark > 0 {
                p.committed = Some(watermark);
                out.push(Position { topic: topic.clone(), partition: *partition, offset: watermark });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_the_low_watermark_of_finished_records() {
        let mut t = OffsetTracker::default();
        for o in 0..4 {
            t.started("a", 0, o, 100 + o);
        }
        t.finished("a", 0, 1);
        t.finished("a", 0, 2);
        assert!(t.take_commits().is_empty(), "offset 0 still in flight");
        assert_eq!(t.position("a", 0), Some(0));
        assert_eq!(t.oldest_ms("a"), Some(100), "offset 0's timestamp");
        t.finished("a", 0, 0);
        assert_eq!(t.take_commits(), vec![Position { topic: "a".into(), partition: 0, offset: 3 }]);
        assert!(t.take_commits().is_empty(), "nothing new");
        t.finished("a", 0, 3);
        assert_eq!(t.take_commits()[0].offset, 4);
        assert_eq!(t.in_flight(), 0);
        assert_eq!(t.position("a", 0), Some(4), "one past the highest seen");
        assert_eq!(t.oldest_ms("a"), None);
        assert_eq!(t.position("b", 0), None);
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::default();
        t.started("a", 0, 10, 7);
        t.started("a", 1, 5, 9);
        t.finished("a", 1, 5);
        let mut got = t.take_commits();
        got.sort_by_key(|p| p.partition);
        // Partition 0 may only commit up to its in-flight record, never past it.
        let offsets: Vec<(i32, i64)> = got.iter().map(|p| (p.partition, p.offset)).collect();
        assert_eq!(offsets, vec![(0, 10), (1, 6)]);
    }
}
