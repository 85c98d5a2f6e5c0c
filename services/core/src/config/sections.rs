//! Server, broker, dedup and telemetry sections, with their defaults.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server binds (ingress, /metrics, /healthz, /readyz). Port 0 picks a free port.
    pub listen: String,
    /// Largest webhook body accepted; larger gets 413.
    pub max_body_bytes: usize,
    /// On SIGTERM, how long in-flight work may take before the process exits.
    pub shutdown_grace_secs: u64,
    /// A connection whose request headers are not complete this long after it opened (or after
    /// its previous response) is closed, like nginx's `client_header_timeout`.
    pub header_timeout_secs: u64,
    /// A request whose body sends nothing for this long is answered 408 and its connection
    /// closed, like nginx's `client_body_timeout`.
    pub body_timeout_secs: u64,
    /// Connections open at once; beyond this a new connection is closed straight away.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
            header_timeout_secs: 10,
            body_timeout_secs: 15,
            max_connections: 4096,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BrokerBackend {
    /// A durable local log in one SQLite file: one machine, no servers.
    #[default]
    Embedded,
    /// Apache Kafka or any Kafka-protocol broker.
    Kafka,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    pub backend: BrokerBackend,
    /// Prefix of hookbus's own topics (retry tiers, dead letters).
    pub topic_prefix: String,
    pub embedded: EmbeddedConfig,
    pub kafka: KafkaConfig,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            backend: BrokerBackend::Embedded,
            topic_prefix: "hookbus".into(),
            embedded: EmbeddedConfig::default(),
            kafka: KafkaConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// The log file; created with its directory when missing.
    pub path: PathBuf,
    /// Records older than this are removed, except those a consumer group has not committed past
    /// and dead letters (kept until the size cap forces them out).
    pub retention: String,
    /// Cap on the stored (compressed) bytes of one topic; the oldest records go first, even
    /// unfinished ones (counted and logged). Unset: no cap.
    pub retention_bytes: Option<u64>,
    /// Per-topic overrides of `retention` / `retention_bytes`, keyed by topic name.
    pub topics: BTreeMap<String, TopicRetention>,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/hookbus.db"),
            retention: "7d".into(),
            retention_bytes: None,
            topics: BTreeMap::new(),
        }
    }
}

/// Retention of one topic of the embedded log; an unset field takes the `[broker.embedded]` value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicRetention {
    pub retention: Option<String>,
    pub retention_bytes: Option<u64>,
}

/// Retention of one topic as the log applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionLimits {
    pub max_age: std::time::Duration,
    pub max_bytes: Option<u64>,
}

impl EmbeddedConfig {
    /// The retention of `topic`: its override where set, else the section's.
    pub fn retention_for(&self, topic: &str) -> Result<RetentionLimits, String> {
        let o = self.topics.get(topic);
        let age = o.and_then(|o| o.retention.as_deref()).unwrap_or(&self.retention);
        let max_bytes = o.and_then(|o| o.retention_bytes).or(self.retention_bytes);
        Ok(RetentionLimits { max_age: parse_retention(age)?, max_bytes })
    }
}

fn parse_retention(s: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("`{s}` must be above zero")),
        Err(e) => Err(format!("`{s}`: {e} (use e.g. \"7d\", \"36h\")")),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated.
    pub brokers: String,
    /// Partitions for topics hookbus creates.
    pub partitions: i32,
    pub replication_factor: i32,
    /// How long ingress waits for the broker's acknowledgement before answering 503.
    pub produce_timeout_ms: u64,
    /// Consumer group session timeout; delivery timeouts must stay below it.
    pub session_timeout_ms: u64,
    /// Longest gap between two polls before a consumer is considered stuck and leaves its group; also
    /// how long a rebalance waits for members to rejoin. The worker polls at least every request
    /// timeout, so delivery timeouts must stay below it too. At least `session_timeout_ms`.
    pub max_poll_interval_ms: u64,
    /// Static group membership (`group.instance.id`), e.g. a pod name that survives restarts: a
    /// restarted worker takes its old place in each consumer group at once instead of waiting for the
    /// old member's session to time out and then rebalancing. Must differ between running workers.
    pub group_instance_id: Option<String>,
    /// Extra librdkafka properties (e.g. `security.protocol`), applied to producers and consumers.
    pub properties: BTreeMap<String, String>,
    /// `retention.ms` of the source topics and retry tiers hookbus creates, e.g. "7d", or
    /// "forever". Replay reaches this far back; it must exceed every retry delay.
    pub retention: String,
    /// `retention.ms` of the topics that hold records until someone acts (dead letters, quarantined
    /// events, and their ledgers): "forever" by default, so an unresolved dead letter never expires.
    pub held_retention: String,
    /// `min.insync.replicas` of created topics; by default 2 when `replication_factor` is 3 or more
    /// (an acknowledged event is on two brokers), else 1.
    pub min_insync_replicas: Option<i32>,
}

impl KafkaConfig {
    /// The topic settings hookbus gives a topic it creates (existing topics are left as they are).
    pub fn topic_settings(&self, topic: &str) -> Result<Vec<(&'static str, String)>, String> {
        let held = crate::topics::holds_records(topic);
        let retention = if held { &self.held_retention } else { &self.retention };
        let min_isr = self.min_insync_replicas.unwrap_or(if self.replication_factor >= 3 { 2 } else { 1 });
        Ok(vec![("retention.ms", retention_ms(retention)?.to_string()), ("min.insync.replicas", min_isr.to_string())])
    }
}

/// Milliseconds of a retention setting; -1 (Kafka's "no limit") for "forever".
pub fn retention_ms(s: &str) -> Result<i64, String> {
    if s == "forever" {
        return Ok(-1);
    }
    match humantime::parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d.as_millis().min(i64::MAX as u128) as i64),
        Ok(_) => Err(format!("`{s}` must be above zero (or \"forever\")")),
        Err(e) => Err(format!("`{s}`: {e} (use e.g. \"7d\", \"36h\" or \"forever\")")),
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            partitions: 3,
            replication_factor: 1,
            produce_timeout_ms: 5000,
            session_timeout_ms: 45_000,
            max_poll_interval_ms: 60_000,
            group_instance_id: None,
            properties: BTreeMap::new(),
            retention: "7d".into(),
            held_retention: "forever".into(),
            min_insync_replicas: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DedupBackend {
    /// Per process; forgotten on restart.
    #[default]
    Memory,
    /// Shared by every ingress; `SET NX EX`.
    Redis,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    pub backend: DedupBackend,
    pub redis_url: String,
    /// How long a provider delivery id is remembered.
    pub window_secs: u64,
    pub key_prefix: String,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            backend: DedupBackend::Memory,
            redis_url: "redis://127.0.0.1:6379".into(),
            window_secs: 24 * 3600,
            key_prefix: "hookbus:dedup".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// OTLP/gRPC endpoint for traces (e.g. `http://127.0.0.1:4317`); `OTEL_EXPORTER_OTLP_ENDPOINT` also works.
    pub otlp_endpoint: Option<String>,
    pub log_format: LogFormat,
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { otlp_endpoint: None, log_format: LogFormat::Text, service_name: "hookbus".into() }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Delivery targets allowed to resolve to internal addresses (loopback, private, link-local,
    /// CGNAT, ...): IP addresses, CIDR subnets, or host names. Everything else internal is refused.
    pub allow_targets: Vec<String>,
}
