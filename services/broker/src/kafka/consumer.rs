//! A group member with manual commits: offsets advance only when the worker says so.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookbus_core::config::KafkaConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::kafka_err;
use crate::{BrokerError, Consumer, Position, Received, Record};

pub struct KafkaConsumer {
    inner: Arc<StreamConsumer>,
}

impl KafkaConsumer {
    pub(super) fn new(
        mut base: ClientConfig,
        config: &KafkaConfig,
        group: &str,
        topics: &[String],
    ) -> Result<Self, BrokerError> {
        let inner: StreamConsumer = base
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", config.session_timeout_ms.to_string())
            .set("enable.partition.eof", "false")
            .create()
            .map_err(kafka_err)?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        inner.subscribe(&names).map_err(kafka_err)?;
        Ok(Self { inner: Arc::new(inner) })
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
        let msg = match tokio::time::timeout(timeout, self.inner.recv()).await {
            Err(_) => return Ok(None),
            Ok(r) => r.map_err(kafka_err)?,
        };
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

    async fn commit(&mut self, positions: &[Position]) -> Result<(), BrokerError> {
        let mut tpl = TopicPartitionList::new();
        for p in positions {
            tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.offset)).map_err(kafka_err)?;
        }
        // Synchronous, so a commit is known to have landed (or failed) before the caller moves on;
        // run off the async threads because it waits for the group coordinator.
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| BrokerError::Kafka(e.to_string()))?
            .map_err(kafka_err)
    }

    fn pause(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError> {
        self.inner.pause(&Self::one(topic, partition)).map_err(kafka_err)
    }

    fn resume(&mut self, topic: &str, partition: i32) -> Result<(), BrokerError> {
        self.inner.resume(&Self::one(topic, partition)).map_err(kafka_err)
    }
}
