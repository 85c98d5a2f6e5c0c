//! The Kafka backend (rdkafka, bundled librdkafka). Binary-mode CloudEvents travel as record
//! headers; hookbus never depends on transactions, only on idempotent produce and manual commits.
mod consumer;
mod rebalance;

use std::sync::{Arc, RwLock};
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
    /// Replaced when the broker fences or forgets the idempotent producer (`replace_if_broken`).
    producer: Arc<RwLock<Generation>>,
    admin: Arc<AdminClient<DefaultClientContext>>,
}

/// The producer in use and how many times it was replaced.
struct Generation {
    number: u64,
    producer: FutureProducer,
}

impl KafkaBroker {
    pub fn new(config: &KafkaConfig) -> Result<Self, BrokerError> {
        let producer = Arc::new(RwLock::new(Generation { number: 0, producer: new_producer(config)? }));
        let admin = base(config).create().map_err(kafka_err)?;
        Ok(Self { config: config.clone(), producer, admin: Arc::new(admin) })
    }

    fn producer(&self) -> (u64, FutureProducer) {
        let g = self.producer.read().unwrap_or_else(|e| e.into_inner());
        (g.number, g.producer.clone())
    }

    /// An idempotent producer whose state the broker lost or rejects (a fatal error, or sequence
    /// and producer-id errors, e.g. after an outage or a cluster restored from scratch) fails every
    /// later send. Only a new producer, with a new producer id, recovers; the records of the failed
    /// one were never acknowledged, so nothing accepted is lost, and their senders retry (ingress
    /// answered 503).
    fn replace_if_broken(&self, generation: u64, failed: &FutureProducer, error: &KafkaError) -> bool {
        let (code, reason) = match failed.client().fatal_error() {
            Some(fatal) => fatal,
            None => match error.rdkafka_error_code() {
                Some(
                    code @ (RDKafkaErrorCode::OutOfOrderSequenceNumber
                    | RDKafkaErrorCode::UnknownProducerId
                    | RDKafkaErrorCode::InvalidProducerEpoch
                    | RDKafkaErrorCode::InvalidProducerIdMapping
                    | RDKafkaErrorCode::ProducerFenced),
                ) => (code, error.to_string()),
                _ => return false,
            },
        };
        let mut slot = self.producer.write().unwrap_or_else(|e| e.into_inner());
        // Several sends fail together; only the first replaces the producer they shared.
        if slot.number != generation {
            return true;
        }
        match new_producer(&self.config) {
            Ok(fresh) => {
                tracing::error!(%code, %reason, generation = generation + 1, "Kafka producer is broken; replaced it with a new one");
                let old = std::mem::replace(&mut *slot, Generation { number: generation + 1, producer: fresh });
                drop(slot);
                // Dropping a producer purges and joins its thread: not on an async worker.
                tokio::task::spawn_blocking(move || drop(old));
            }
            Err(e) => {
                tracing::error!(%code, %reason, error = %e, "Kafka producer is broken and cannot be recreated yet")
            }
        }
        true
    }
}

impl KafkaBroker {
    async fn create_topics(&self, topics: &[String]) -> Result<(), BrokerError> {
        let settings = topics
            .iter()
            .map(|t| self.config.topic_settings(t).map_err(|m| BrokerError::Kafka(format!("topic {t}: {m}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .zip(&settings)
            .map(|(t, set)| {
                let topic =
                    NewTopic::new(t, self.config.partitions, TopicReplication::Fixed(self.config.replication_factor));
                set.iter().fold(topic, |topic, (k, v)| topic.set(k, v))
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in self.admin.create_topics(&new, &opts).await.map_err(kafka_err)? {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((
                    topic,
                    code @ (RDKafkaErrorCode::RequestTimedOut
                    | RDKafkaErrorCode::NotController
                    | RDKafkaErrorCode::BrokerNotAvailable
                    | RDKafkaErrorCode::OperationTimedOut),
                )) => return Err(BrokerError::Unavailable(format!("creating topic {topic}: {code}"))),
                Err((topic, code)) => return Err(BrokerError::Kafka(format!("creating topic {topic}: {code}"))),
            }
        }
        Ok(())
    }

    /// Kafka acknowledges a topic creation before every broker knows the topic's leaders; a consumer
    /// subscribing in that window gets "unknown topic" errors, and a publish waits for metadata.
    /// Returns once each topic has every partition led, or fails at `deadline`.
    async fn wait_for_leaders(&self, topics: &[String], deadline: tokio::time::Instant) -> Result<(), BrokerError> {
        for topic in topics {
            loop {
                let (_, producer) = self.producer();
                let name = topic.clone();
                let led = tokio::task::spawn_blocking(move || {
                    let meta = producer.client().fetch_metadata(Some(&name), Duration::from_secs(2))?;
                    Ok::<bool, KafkaError>(meta.topics().iter().any(|t| {
                        t.error().is_none()
                            && !t.partitions().is_empty()
                            && t.partitions().iter().all(|p| p.error().is_none() && p.leader() >= 0)
                    }))
                })
                .await
                .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
                // A failed metadata request (a broker restarting, a leader moving) is asked again.
                match led {
                    Ok(true) => break,
                    Ok(false) if tokio::time::Instant::now() >= deadline => {
                        return Err(BrokerError::Unavailable(format!(
                            "topic {topic} has no leader after {TOPIC_READY:?}"
                        )));
                    }
                    Err(e) if tokio::time::Instant::now() >= deadline => return Err(kafka_err(e)),
                    _ => {}
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
}

/// How long `ensure_topics` keeps trying to create topics and waits for their partitions' leaders.
const TOPIC_READY: Duration = Duration::from_secs(60);

fn new_producer(config: &KafkaConfig) -> Result<FutureProducer, BrokerError> {
    base(config)
        // Idempotence implies acks=all and ordered retries without duplicates within a session.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", config.produce_timeout_ms.to_string())
        .set("linger.ms", "2")
        .create()
        .map_err(kafka_err)
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
    // rdkafka reports no error code for a failed admin request; it carries one all the same.
    let code = match &e {
        KafkaError::AdminOp(code) => Some(*code),
        _ => e.rdkafka_error_code(),
    };
    match code {
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
        let (generation, producer) = self.producer();
        let delivery = producer.send(fr, Timeout::After(Duration::from_millis(self.config.produce_timeout_ms))).await;
        match delivery {
            Ok(d) => Ok((d.partition, d.offset)),
            // Retriable from the sender's view: the replacement producer takes the retry.
            Err((e, _)) if self.replace_if_broken(generation, &producer, &e) => {
                tokio::task::spawn_blocking(move || drop(producer));
                Err(BrokerError::Unavailable(format!("Kafka producer reset after: {e}")))
            }
            Err((e, _)) => Err(kafka_err(e)),
        }
    }

    async fn ensure_topics(&self, topics: &[String]) -> Result<(), BrokerError> {
        // A worker may start while a broker restarts or a controller moves: ask again until then.
        let deadline = tokio::time::Instant::now() + TOPIC_READY;
        loop {
            match self.create_topics(topics).await {
                Ok(()) => break,
                Err(BrokerError::Unavailable(e)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, "creating topics failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.wait_for_leaders(topics, deadline).await
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        let (_, producer) = self.producer();
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
