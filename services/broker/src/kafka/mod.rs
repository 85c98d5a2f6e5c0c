//! The Kafka backend (rdkafka, bundled librdkafka). Binary-mode CloudEvents travel as record
//! headers; hookbus never depends on transactions, only on idempotent produce and manual commits.
mod consumer;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookbus_core::config::KafkaConfig;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::{Broker, BrokerError, Consumer, Publisher, Record};
pub use consumer::KafkaConsumer;

#[derive(Clone)]
pub struct KafkaBroker {
    config: KafkaConfig,
    producer: FutureProducer,
    admin: Arc<AdminClient<DefaultClientContext>>,
}

impl KafkaBroker {
    pub fn new(config: &KafkaConfig) -> Result<Self, BrokerError> {
        let producer: FutureProducer = base(config)
            // Idempotence implies acks=all and ordered retries without duplicates within a session.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", config.produce_timeout_ms.to_string())
            .set("linger.ms", "2")
            .create()
            .map_err(kafka_err)?;
        let admin = base(config).create().map_err(kafka_err)?;
        Ok(Self { config: config.clone(), producer, admin: Arc::new(admin) })
    }
}

/// Settings shared by producer, consumer and admin clients, plus the user's extra properties.
fn base(config: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.brokers).set("client.id", "hookbus");
    for (k, v) in &config.properties {
        c.set(k, v);
    }
    c
}

pub(crate) fn kafka_err(e: KafkaError) -> BrokerError {
    match e.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::QueueFull
            | RDKafkaErrorCode::NotEnoughReplicas
            | RDKafkaErrorCode::LeaderNotAvailable
            | RDKafkaErrorCode::NotLeaderForPartition,
        ) => BrokerError::Unavailable(e.to_string()),
        _ => BrokerError::Kafka(e.to_string()),
    }
}

#[async_trait]
impl Publisher for KafkaBroker {
    async fn publish(&self, topic: &str, record: Record) -> Result<(i32, i64), BrokerError> {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (k, v) in &record.headers {
            headers = headers.insert(Header { key: k, value: Some(v) });
        }
        let mut fr = FutureRecord::to(topic).payload(&record.payload).headers(headers).timestamp(record.timestamp_ms);
        if let Some(k) = &record.key {
            fr = fr.key(k);
        }
        // message.timeout.ms bounds the wait: the future resolves with MessageTimedOut, never hangs.
        let delivery =
            self.producer.send(fr, Timeout::After(Duration::from_millis(self.config.produce_timeout_ms))).await;
        match delivery {
            Ok(d) => Ok((d.partition, d.offset)),
            Err((e, _)) => Err(kafka_err(e)),
        }
    }

    async fn ensure_topics(&self, topics: &[String]) -> Result<(), BrokerError> {
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| NewTopic::new(t, self.config.partitions, TopicReplication::Fixed(self.config.replication_factor)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in self.admin.create_topics(&new, &opts).await.map_err(kafka_err)? {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => return Err(BrokerError::Kafka(format!("creating topic {topic}: {code}"))),
            }
        }
        Ok(())
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, Duration::from_secs(2)))
            .await
            .map_err(|e| BrokerError::Unavailable(e.to_string()))?
            .map(|_| ())
            .map_err(|e| BrokerError::Unavailable(e.to_string()))
    }
}

impl Broker for KafkaBroker {
    fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.clone())
    }

    fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError> {
        Ok(Box::new(KafkaConsumer::new(base(&self.config), &self.config, group, topics)?))
    }

    fn reader(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BrokerError> {
        Ok(Box::new(KafkaConsumer::reader(base(&self.config), topics)?))
    }

    fn name(&self) -> &'static str {
        "kafka"
    }
}
