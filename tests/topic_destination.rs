//! A topic as a subscription's destination, through the real worker path on both backends: the
//! mapped output is published to the topic in CloudEvents binary mode (`ce_*` headers, the
//! partition key as the record key, the output as the value), one record per fan-out output with
//! its own `ce_id`.
#[macro_use]
mod support;

use std::time::Duration;

use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

/// Points the `crm` subscription at `topic` instead of its HTTP target.
fn to_topic(bus: &Bus, topic: &str) {
    let toml = std::fs::read_to_string(&bus.config_path).unwrap();
    let line = toml.lines().find(|l| l.starts_with("target = ") && l.ends_with("/crm\"")).unwrap().to_owned();
    let toml = toml.replace(&line, &format!("destination = {{ kind = \"topic\", topic = \"{topic}\" }}"));
    std::fs::write(&bus.config_path, toml).unwrap();
}

/// Reads `topic` from its start (a fresh reader each round: a Kafka reader sees the partitions that
/// existed when it was made) until it holds `n` records.
async fn read_until(bus: &Bus, topic: &str, n: usize) -> Vec<hookbus_broker::Record> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut reader = bus.broker().reader(&[topic.to_owned()]).unwrap();
        let mut records = Vec::new();
        while let Some(r) = reader.poll(Duration::from_millis(1000)).await.unwrap() {
            records.push(r.record);
        }
        if records.len() >= n {
            return records;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} record(s) on {topic}", records.len());
    }
}

async fn mapped_outputs_are_published_in_binary_mode(backend: Backend) {
    let rx = Receiver::start().await;
    let transform = "{sha: .data.commits[].id[0:7], repo: .data.repository.full_name}";
    let bus = Bus::new(backend, &rx.url, Options { transform, ..Options::default() });
    let topic = format!("{}-crm-mapped", bus.prefix);
    to_topic(&bus, &topic);
    let app = bus.start().await;
    let e = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "repository": {"full_name": "acme/a"},
        "pusher": {"name": "mona", "email": "m@x.io"},
        "commits": [{"id": "aaaaaaa111"}, {"id": "bbbbbbb222"}],
    }))
    .unwrap();
    assert_eq!(bus::post_github(&app.url, &body, &e).await.0, 202);

    let records = read_until(&bus, &topic, 2).await;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.header_str("ce_id"), Some(format!("{e}:{i}").as_str()), "each output is an event of its own");
        assert_eq!(r.header_str("ce_type"), Some("github.push"));
        assert_eq!(r.header_str("ce_source"), Some("hookbus://sources/github"));
        assert_eq!(r.header_str("ce_specversion"), Some("1.0"));
        assert_eq!(r.header_str("content-type"), Some("application/json"));
        assert_eq!(r.key.as_deref(), Some(&b"acme/a"[..]), "the partition key is the record key");
        let value: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        let sha = if i == 0 { "aaaaaaa" } else { "bbbbbbb" };
        assert_eq!(value, serde_json::json!({"sha": sha, "repo": "acme/a"}), "the mapped body as the value");
        let event = r.event().expect("a consumer reads it back as a CloudEvent");
        assert_eq!(event.data, Some(value));
    }
    app.stop().await;
}

on_every_backend!(mapped_outputs_are_published_in_binary_mode);
