//! Per-key gate for ordered subscriptions: at most one event per partition key is in flight; later
//! events of a busy key wait in arrival order, other keys pass straight through.
use std::collections::{HashMap, VecDeque};

pub(crate) struct KeyGate<T> {
    ordered: bool,
    /// Busy keys, each with the events waiting behind the one in flight.
    busy: HashMap<String, VecDeque<T>>,
    queued: usize,
}

impl<T> KeyGate<T> {
    pub fn new(ordered: bool) -> Self {
        Self { ordered, busy: HashMap::new(), queued: 0 }
    }

    /// `Some(item)` when it may run now (its key becomes busy); `None` when it was queued.
    pub fn admit(&mut self, key: &str, item: T) -> Option<T> {
        if !self.ordered {
            return Some(item);
        }
        match self.busy.get_mut(key) {
            Some(q) => {
                q.push_back(item);
                self.queued += 1;
                None
            }
            None => {
                self.busy.insert(key.to_owned(), VecDeque::new());
                Some(item)
            }
        }
    }

    /// The key's in-flight event finished: the next waiting one (the key stays busy), if any.
    pub fn release(&mut self, key: &str) -> Option<T> {
        if !self.ordered {
            return None;
        }
        let q = self.busy.get_mut(key)?;
        match q.pop_front() {
            Some(next) => {
                self.queued -= 1;
                Some(next)
            }
            None => {
                self.busy.remove(key);
                None
            }
        }
    }

    /// Events waiting behind busy keys (bounded by the caller through backpressure).
    pub fn queued(&self) -> usize {
        self.queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_waits_in_order_other_keys_pass() {
        let mut g = KeyGate::new(true);
        assert_eq!(g.admit("a", 1), Some(1));
        assert_eq!(g.admit("a", 2), None);
        assert_eq!(g.admit("b", 3), Some(3));
        assert_eq!(g.admit("a", 4), None);
        assert_eq!(g.queued(), 2);
        assert_eq!(g.release("a"), Some(2));
        assert_eq!(g.release("a"), Some(4));
        assert_eq!(g.release("a"), None);
        assert_eq!(g.admit("a", 5), Some(5), "the key is free again");
        assert_eq!(g.release("b"), None);
        assert_eq!(g.queued(), 0);
    }

    #[test]
    fn unordered_never_waits() {
        let mut g = KeyGate::new(false);
        assert_eq!(g.admit("a", 1), Some(1));
        assert_eq!(g.admit("a", 2), Some(2));
        assert_eq!(g.release("a"), None);
    }
}
