//! Topics hookbus creates on Kafka get its retention and durability settings: source topics and
//! retry tiers expire after `retention`, held records (dead letters, quarantine, their ledgers)
//! never by default. Needs `HOOKBUS_TEST_KAFKA_BROKERS` (required under `CI=true`).
use std::time::Duration;

use hookbus_broker::Broker as _;
use hookbus_core::config::KafkaConfig;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;

fn brokers() -> Option<String> {
    let b = std::env::var("HOOKBUS_TEST_KAFKA_BROKERS").ok();
    if b.is_none() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but HOOKBUS_TEST_KAFKA_BROKERS is unset");
        eprintln!("skipping: set HOOKBUS_TEST_KAFKA_BROKERS to run the Kafka topic settings test");
    }
    b
}

async fn setting(admin: &AdminClient<DefaultClientContext>, topic: &str, name: &str) -> String {
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin.describe_configs([&ResourceSpecifier::Topic(topic)], &opts).await.unwrap();
    let resource = described.into_iter().next().unwrap().unwrap();
    resource.get(name).and_then(|e| e.value.clone()).unwrap_or_else(|| panic!("{topic} has no {name}"))
}

#[tokio::test]
async fn created_topics_carry_retention_and_min_insync_replicas() {
    let Some(brokers) = brokers() else { return };
    let config =
        KafkaConfig { brokers: brokers.clone(), partitions: 1, retention: "36h".into(), ..KafkaConfig::default() };
    let broker = hookbus_broker::kafka::KafkaBroker::new(&config).unwrap();
    let base = format!("topics-{}", uuid::Uuid::now_v7().simple());
    let (source, tier, dlq, ledger) =
        (base.clone(), format!("{base}.crm.retry.1"), format!("{base}.crm.dlq"), format!("{base}.crm.dlq.resolved"));
    let all = [source.clone(), tier.clone(), dlq.clone(), ledger.clone()];
    broker.publisher().ensure_topics(&all).await.unwrap();

    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    for t in [&source, &tier] {
        assert_eq!(setting(&admin, t, "retention.ms").await, (36 * 3600 * 1000).to_string(), "{t}");
    }
    for t in [&dlq, &ledger] {
        assert_eq!(setting(&admin, t, "retention.ms").await, "-1", "{t}: held records never expire");
    }
    // Replication factor 1 (a single test node): one in-sync replica is all there can be.
    assert_eq!(setting(&admin, &source, "min.insync.replicas").await, "1");
}
