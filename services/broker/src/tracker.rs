//! Offset tracking for out-of-order completion: a partition's commit position only advances past
//! an offset once that record and every one before it are finished (delivered or dead-lettered).
use std::collections::{BTreeSet, HashMap};

use crate::Position;

#[derive(Debug, Default)]
struct Partition {
    in_flight: BTreeSet<i64>,
    /// One past the highest offset seen.
    next: i64,
    committed: Option<i64>,
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    parts: HashMap<(String, i32), Partition>,
}

impl OffsetTracker {
    pub fn started(&mut self, topic: &str, partition: i32, offset: i64) {
        let p = self.parts.entry((topic.to_owned(), partition)).or_default();
        p.in_flight.insert(offset);
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
            let watermark = p.in_flight.first().copied().unwrap_or(p.next);
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
            t.started("a", 0, o);
        }
        t.finished("a", 0, 1);
        t.finished("a", 0, 2);
        assert!(t.take_commits().is_empty(), "offset 0 still in flight");
        t.finished("a", 0, 0);
        assert_eq!(t.take_commits(), vec![Position { topic: "a".into(), partition: 0, offset: 3 }]);
        assert!(t.take_commits().is_empty(), "nothing new");
        t.finished("a", 0, 3);
        assert_eq!(t.take_commits()[0].offset, 4);
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::default();
        t.started("a", 0, 10);
        t.started("a", 1, 5);
        t.finished("a", 1, 5);
        let mut got = t.take_commits();
        got.sort_by_key(|p| p.partition);
        // Partition 0 may only commit up to its in-flight record, never past it.
        let offsets: Vec<(i32, i64)> = got.iter().map(|p| (p.partition, p.offset)).collect();
        assert_eq!(offsets, vec![(0, 10), (1, 6)]);
    }
}
