//! Dedicated Apache Kafka nodes a test owns (to kill and restart), started through `scripts/kafka`,
//! the same script that starts the shared test broker, so every test finds the same cached jars.
use std::path::{Path, PathBuf};
use std::process::Command;

/// A single node or a cluster in its own temporary directory; stopped when dropped.
pub struct Kafka {
    dir: tempfile::TempDir,
    pub bootstrap: String,
    pub nodes: usize,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka")
}

fn run(args: &[&str]) -> String {
    let out = Command::new(script()).args(args).output().unwrap_or_else(|e| panic!("cannot run scripts/kafka: {e}"));
    assert!(
        out.status.success(),
        "scripts/kafka {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A partition's leader and in-sync replicas (node ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    pub partition: i32,
    pub leader: i32,
    pub isr: Vec<i32>,
}

impl Kafka {
    /// One combined broker+controller on a free port.
    pub fn single() -> Kafka {
        Self::start(&["start-single"], 1)
    }

    /// `n` combined nodes: replication factor `n`, `min.insync.replicas` 2.
    pub fn cluster(n: usize) -> Kafka {
        Self::start(&["start-cluster"], n)
    }

    fn start(cmd: &[&str], nodes: usize) -> Kafka {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        let n = nodes.to_string();
        let mut args: Vec<&str> = cmd.to_vec();
        args.push(&path);
        if nodes > 1 {
            args.push(&n);
        }
        let bootstrap = run(&args);
        Kafka { dir, bootstrap, nodes }
    }

    fn dir(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// SIGKILL node `id` (1-based); returns once the process is gone.
    pub fn kill(&self, id: usize) {
        run(&["kill-node", self.dir(), &id.to_string()]);
    }

    /// Restarts a killed node into its old state; returns once it answers metadata requests.
    pub fn restart(&self, id: usize) {
        run(&["start-node", self.dir(), &id.to_string()]);
    }

    /// Leader and ISR of every partition of `topic`, as the cluster reports them now.
    pub fn partitions(&self, topic: &str) -> Vec<PartitionState> {
        let text = run(&["metadata", &self.bootstrap, topic]);
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() == 4 && f[0] == topic).then(|| PartitionState {
                    partition: f[1].parse().unwrap(),
                    leader: f[2].parse().unwrap(),
                    isr: f[3].split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect(),
                })
            })
            .collect()
    }

    /// The node coordinating consumer group `group` (it leads the group's `__consumer_offsets`
    /// partition).
    pub fn coordinator(&self, group: &str) -> i32 {
        run(&["coordinator", &self.bootstrap, group]).parse().expect("a node id")
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs(&self) -> String {
        (1..=self.nodes)
            .map(|id| {
                let text =
                    std::fs::read_to_string(self.dir.path().join(format!("node{id}/kafka.log"))).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                format!("--- Kafka node {id}\n{}\n", lines[lines.len().saturating_sub(15)..].join("\n"))
            })
            .collect()
    }
}

impl Drop for Kafka {
    /// SIGKILL, not a controlled shutdown: the data is thrown away, and a node that lost its quorum
    /// would wait 30 s for a shutdown that cannot complete.
    fn drop(&mut self) {
        for id in 1..=self.nodes {
            let _ = Command::new(script()).args(["kill-node", self.dir(), &id.to_string()]).output();
        }
    }
}
