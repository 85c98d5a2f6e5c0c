//! What a group member must do itself when the coordinator moves partitions, because librdkafka's
//! default handling forgets it:
//! - on revoke, commit the positions the worker last asked for, synchronously, so the next owner
//!   starts where this member finished rather than where the last fire-and-forget commit landed;
//! - after revoke, commit nothing more for those partitions: the worker's later positions for them
//!   (records it still finishes) would overwrite what the next owner committed;
//! - on assign, start from the committed offsets (what this member knew of a partition it owned
//!   before may be far behind what another owner did since), and pause again what the worker had
//!   paused, after the assignment: a retry tier whose head is not due stays paused through a
//!   rebalance, and pause and resume of a partition not assigned at that moment are remembered
//!   rather than refused.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};

pub(super) type Partition = (String, i32);

/// The member's view of its partitions, shared by the consumer and its rebalance callback.
#[derive(Debug, Default)]
pub(super) struct Positions {
    /// Offset after the last record handed out, per partition.
    pub next: HashMap<Partition, i64>,
    /// Partitions the worker paused and has not resumed.
    pub paused: HashSet<Partition>,
    /// The last commit position the worker asked for, per partition.
    pub requested: HashMap<Partition, i64>,
    /// Partitions assigned to this member now.
    pub assigned: HashSet<Partition>,
}

#[derive(Clone, Default)]
pub(super) struct GroupContext {
    positions: Arc<Mutex<Positions>>,
}

impl GroupContext {
    pub fn positions(&self) -> MutexGuard<'_, Positions> {
        // A panic elsewhere while holding the lock leaves plain maps behind: still usable.
        self.positions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let parts: Vec<Partition> = tpl.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
        let outcome = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => self.assign(consumer, tpl, &parts, cooperative),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => self.revoke(consumer, tpl, &parts, cooperative),
            other => {
                tracing::error!(error = ?other, "Kafka rebalance failed; leaving the assignment");
                consumer.unassign()
            }
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "applying a Kafka rebalance failed");
        }
    }
}

impl GroupContext {
    fn assign(
        &self,
        consumer: &BaseConsumer<Self>,
        tpl: &TopicPartitionList,
        parts: &[Partition],
        cooperative: bool,
    ) -> KafkaResult<()> {
        let mut to_pause = TopicPartitionList::new();
        {
            let mut p = self.positions();
            for key in parts {
                if p.paused.contains(key) {
                    to_pause.add_partition(&key.0, key.1);
                }
                p.assigned.insert(key.clone());
            }
        }
        if cooperative {
            consumer.incremental_assign(tpl)?
        } else {
            consumer.assign(tpl)?
        }
        tracing::info!(partitions = parts.len(), paused = to_pause.count(), "Kafka partitions assigned");
        if to_pause.count() > 0 {
            consumer.pause(&to_pause)?;
        }
        Ok(())
    }

    fn revoke(
        &self,
        consumer: &BaseConsumer<Self>,
        tpl: &TopicPartitionList,
        parts: &[Partition],
        cooperative: bool,
    ) -> KafkaResult<()> {
        let mut commit = TopicPartitionList::new();
        {
            let mut p = self.positions();
            for key in parts {
                if let Some(offset) = p.requested.get(key) {
                    commit.add_partition_offset(&key.0, key.1, Offset::Offset(*offset))?;
                }
                p.assigned.remove(key);
                p.requested.remove(key);
                p.next.remove(key);
            }
        }
        tracing::info!(partitions = parts.len(), "Kafka partitions revoked");
        if commit.count() > 0 {
            // Synchronous on purpose: the partitions leave this member when the callback returns.
            match consumer.commit(&commit, CommitMode::Sync) {
                Ok(()) => tracing::info!(partitions = commit.count(), "committed positions of revoked partitions"),
                Err(e) => tracing::warn!(error = %e, "commit at revoke failed; the next owner may repeat records"),
            }
        }
        if cooperative { consumer.incremental_unassign(tpl) } else { consumer.unassign() }
    }
}
