//! A group member with manual commits: offsets advance only when the worker says so.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookbus_core::config::KafkaConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::kafka_err;
use super::rebalance::GroupContext;
use crate::{BrokerError, Consumer, Position, Received, Record};

/// Longest wait for a synchronous commit (shutdown, redrive) before reporting it failed.
const COMMIT_WAIT: Duration = Duration::from_secs(10);
/// How often a group member looks for subscribed topics that did not exist yet.
const TOPIC_REFRESH_MS: &str = "5000";
/// Longest wait for the high watermarks of a topic's partitions (consumer lag).
const WATERMARK_WAIT: Duration = Duration::from_secs(1);

pub struct KafkaConsumer {
    inner: Arc<StreamConsumer<GroupContext>>,
    /// Where each partition continues (after resume or a rebalance), shared with the rebalance callback.
    context: GroupContext,
    /// How to build and subscribe a replacement after a fatal error (group members only).
    rebuild: Option<(ClientConfig, Vec<String>)>,
}

impl KafkaConsumer {
    pub(super) fn new(
        mut base: ClientConfig,
        config: &KafkaConfig,
        group: &str,
        topics: &[String],
    ) -> Result<Self, BrokerError> {
        if let Some(id) = &config.group_instance_id {
            base.set("group.instance.id", id);
        }
        base.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", config.session_timeout_ms.to_string())
            // The worker polls at least once per delivery timeout (validated below this), so a
            // consumer silent for longer is stuck and should hand its partitions to another.
            .set("max.poll.interval.ms", config.max_poll_interval_ms.to_string())
            .set("enable.partition.eof", "false")
            // A subscribed topic created later (ingress started after the worker, a new source) is
            // only seen at a metadata refresh: librdkafka's default interval is 5 minutes.
            .set("topic.metadata.refresh.interval.ms", TOPIC_REFRESH_MS);
        let context = GroupContext::default();
        let inner = Self::subscribed(&base, topics, &context)?;
        Ok(Self { inner: Arc::new(inner), context, rebuild: Some((base, topics.to_vec())) })
    }

    fn subscribed(
        config: &ClientConfig,
        topics: &[String],
        context: &GroupContext,
    ) -> Result<StreamConsumer<GroupContext>, BrokerError> {
        let inner: StreamConsumer<GroupContext> = config.create_with_context(context.clone()).map_err(kafka_err)?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        inner.subscribe(&names).map_err(kafka_err)?;
        Ok(inner)
    }

    /// librdkafka gives up on a consumer after a fatal error, e.g. a static member fenced by its own
    /// earlier join after the group coordinator moved (`FencedInstanceId`): every later poll fails.
    /// Only a new consumer recovers. It resumes from the committed offsets, so records the old one
    /// handed out and nobody committed are read again (duplicates, never a gap).
    fn replace_if_fatal(&mut self) -> bool {
        let Some((config, topics)) = &self.rebuild else { return false };
        let Some((code, reason)) = self.inner.client().fatal_error() else { return false };
        // The replacement starts from the committed offsets, with nothing paused or assigned yet.
        let context = GroupContext::default();
        match Self::subscribed(config, topics, &context) {
            Ok(fresh) => {
                tracing::error!(%code, %reason, "Kafka consumer failed fatally; replaced it with a new one");
                let old = std::mem::replace(&mut self.inner, Arc::new(fresh));
                self.context = context;
                // Closing a consumer waits on the broker: not on an async worker.
                tokio::task::spawn_blocking(move || drop(old));
            }
            Err(e) => {
                tracing::error!(%code, %reason, error = %e, "Kafka consumer failed fatally; cannot replace it yet")
            }
        }
        true
    }

    /// Assigned (not subscribed) to every partition of `topics` from the beginning.
    pub(super) fn reader(mut base: ClientConfig, topics: &[String]) -> Result<Self, BrokerError> {
        let context = GroupContext::default();
        let inner: StreamConsumer<GroupContext> = base
            // librdkafka wants a group id even for manual assignment; nothing is committed under it.
            .set("group.id", "hookbus-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .create_with_context(context.clone())
            .map_err(kafka_err)?;
        let mut tpl = TopicPartitionList::new();
        for topic in topics {
            let meta = inner.fetch_metadata(Some(topic), Duration::from_secs(10)).map_err(kafka_err)?;
            for t in meta.topics() {
                for p in t.partitions() {
                    tpl.add_partition_offset(topic, p.id(), Offset::Beginning).map_err(kafka_err)?;
                }
            }
        }
        inner.assign(&tpl).map_err(kafka_err)?;
        context.positions().assigned.extend(tpl.elements().iter().map(|e| (e.topic().to_owned(), e.partition())));
        Ok(Self { inner: Arc::new(inner), context, rebuild: None })
    }

    fn one(topic: &str, partition: i32) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, partition);
        tpl
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, timeout: Duration) -> Result<Option<Received>, BrokerError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let inner = self.inner.clone();
        let msg = loop {
            match tokio::time::timeout_at(deadline, inner.recv()).await {
                Err(_) => return Ok(None),
                // A subscribed topic that does not exist yet (or whose creation has not reached
                // this broker): librdkafka reports it once per metadata refresh and keeps the
                // subscription, so it is a reason to wait, not a failed poll.
                Ok(Err(e)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) => {
                    tracing::debug!(error = %e, "subscribed topic not available yet");
                }
                Ok(Err(e)) if self.replace_if_fatal() => {
                    return Err(BrokerError::Unavailable(format!("Kafka consumer replaced after: {e}")));
                }
                Ok(r) => break r.map_err(kafka_err)?,
            }
        };
        self.context.positions().next.insert((msg.topic().to_owned(), msg.partition()), msg.offset() + 1);
        let headers = msg
            .headers()
            .map(|hs| hs.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect())
            .unwrap_or_default();
        Ok(Some(Received {
            topic: msg.topic().to_owned(),
            partition: msg.partition(),
            offset: msg.offset(),
            record: Record {
                key: msg.key().map(<[u8]>::to_vec),
                headers,
                payload: msg.payload().unwrap_or_default().to_vec(),
                timestamp_ms: msg.timestamp().to_millis().unwrap_or_default(),
            },
        }))
    }

    async fn commit(&mut self, positions: &[Position], wait: bool) -> Result<(), BrokerError> {
        let mut tpl = TopicPartitionList::new();
        {
            let mut state = self.context.positions();
            // Only partitions assigned now: another member owns a revoked one and commits it.
            for p in positions {
                let key = (p.topic.clone(), p.partition);
                if !state.assigned.contains(&key) {
                    continue;
                }
                tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.offset)).map_err(kafka_err)?;
                // What a revoke commits synchronously if these async commits have not landed yet.
                state.requested.insert(key, p.offset);
            }
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        if !wait {
            // Queued to the coordinator; never blocks. A synchronous commit here could wait on a
            // rebalance that itself waits for this consumer to poll again.
            return self.inner.commit(&tpl, CommitMode::Async).map_err(kafka_err);
        }
        let inner = self.inner.clone();
        let sync = tokio::task::spawn_blocking(move || inner.commit(&tpl, CommitMode::Sync));
        match tokio::time::timeout(COMMIT_WAIT, sync).await {
            Ok(joined) => joined.map_err(|e| BrokerError::Kafka(e.to_string()))?.map_err(kafka_err),
            Err(_) => Err(BrokerError::Unavailable(format!("offset commit not acknowledged within {COMMIT_WAIT:?}"))),
        }
    }

    fn pause(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError> {
        let assigned = {
            let mut state = self.context.positions();
            state.paused.insert((topic.to_owned(), partition));
            state.assigned.contains(&(topic.to_owned(), partition))
        };
        // Not assigned (revoked in a rebalance): the rebalance callback pauses it if it comes back.
        if !assigned {
            return Ok(());
        }
        self.inner.pause(&Self::one(topic, partition)).map_err(kafka_err)
    }

    fn resume(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError> {
        let key = (topic.to_owned(), partition);
        let (assigned, next) = {
            let mut state = self.context.positions();
            state.paused.remove(&key);
            (state.assigned.contains(&key), state.next.get(&key).copied())
        };
        if !assigned {
            return Ok(());
        }
        self.inner.resume(&Self::one(topic, partition)).map_err(kafka_err)?;
        // Pausing drops records librdkafka had already fetched for the partition, and fetching then
        // continues after them: seek back to the record after the last one handed out, or those
        // records would be skipped. (Seeking a paused partition is refused, hence after resume.)
        if let Some(next) = next {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition, Offset::Offset(next)).map_err(kafka_err)?;
            let done = self.inner.seek_partitions(tpl, Duration::from_secs(5)).map_err(kafka_err)?;
            for e in done.elements() {
                e.error().map_err(kafka_err)?;
            }
        }
        Ok(())
    }

    async fn ends(&mut self, topic: &str) -> Result<Vec<Position>, BrokerError> {
        let assigned = self.inner.assignment().map_err(kafka_err)?;
        let partitions: Vec<i32> =
            assigned.elements().iter().filter(|e| e.topic() == topic).map(|e| e.partition()).collect();
        let (inner, topic) = (self.inner.clone(), topic.to_owned());
        // A round trip per partition, blocking in librdkafka: off the async threads, and bounded as
        // a whole so a slow broker cannot hold the consume loop for long.
        tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + WATERMARK_WAIT;
            partitions
                .into_iter()
                .map(|p| {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    let (_, high) = inner.fetch_watermarks(&topic, p, left).map_err(kafka_err)?;
                    Ok(Position { topic: topic.clone(), partition: p, offset: high })
                })
                .collect()
        })
        .await
        .map_err(|e| BrokerError::Kafka(e.to_string()))?
    }
}
