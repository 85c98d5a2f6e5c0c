//! One contract, every backend: the embedded log always, Kafka when `HOOKBUS_TEST_KAFKA_BROKERS`
//! names a Kafka-protocol broker (under `CI=true` its absence fails the run instead of skipping).
use std::sync::Arc;
use std::time::Duration;

use hookbus_broker::{Broker, Consumer, Position, Received, Record};
use hookbus_core::config::KafkaConfig;

const WAIT: Duration = Duration::from_secs(30);

struct Backend {
    broker: Arc<dyn Broker>,
    /// A consumer group of the case's own: cases run in parallel against one Kafka cluster, and a
    /// group shared between them rebalances whenever any case's consumer joins or leaves, which
    /// on a slow machine held a case's records back past `WAIT`.
    group: String,
    _dir: Option<tempfile::TempDir>,
}

fn case_group() -> String {
    format!("contract-{}", uuid::Uuid::now_v7().simple())
}

fn embedded() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let broker = hookbus_broker::embedded::EmbeddedBroker::open(&dir.path().join("log.db")).unwrap();
    Some(Backend { broker: Arc::new(broker), group: case_group(), _dir: Some(dir) })
}

fn kafka() -> Option<Backend> {
    let Ok(brokers) = std::env::var("HOOKBUS_TEST_KAFKA_BROKERS") else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but HOOKBUS_TEST_KAFKA_BROKERS is unset");
        eprintln!("skipping: set HOOKBUS_TEST_KAFKA_BROKERS to run the Kafka contract tests");
        return None;
    };
    let config = KafkaConfig { brokers, partitions: 1, ..KafkaConfig::default() };
    Some(Backend {
        broker: Arc::new(hookbus_broker::kafka::KafkaBroker::new(&config).unwrap()),
        group: case_group(),
        _dir: None,
    })
}

fn topic(name: &str) -> String {
    format!("contract-{name}-{}", uuid::Uuid::now_v7().simple())
}

fn record(i: usize) -> Record {
    Record {
        key: Some(format!("key-{}", i % 3).into_bytes()),
        headers: vec![("ce_id".into(), format!("id-{i}").into_bytes()), ("bin".into(), vec![0, 255, i as u8])],
        payload: format!("{{\"n\":{i}}}").into_bytes(),
        timestamp_ms: 1_700_000_000_000 + i as i64,
    }
}

async fn publish_n(b: &Backend, topic: &str, n: usize) {
    let p = b.broker.publisher();
    p.ensure_topics(&[topic.to_owned()]).await.unwrap();
    for i in 0..n {
        p.publish(topic, record(i)).await.unwrap();
    }
}

async fn take(c: &mut Box<dyn Consumer>, n: usize) -> Vec<Received> {
    let mut out = Vec::new();
    while out.len() < n {
        match c.poll(WAIT).await.unwrap() {
            Some(r) => out.push(r),
            None => panic!("only {} of {n} records arrived within {WAIT:?}", out.len()),
        }
    }
    out
}

async fn round_trip(b: Backend) {
    let t = topic("rt");
    publish_n(&b, &t, 5).await;
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let got = take(&mut c, 5).await;
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.record, record(i), "record {i} changed on the way");
        assert_eq!(r.topic, t);
    }
    let offsets: Vec<i64> = got.iter().map(|r| r.offset).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "offsets not increasing: {offsets:?}");
}

async fn ends_count_every_record_written(b: Backend) {
    let t = topic("ends");
    publish_n(&b, &t, 4).await;
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    // A group member knows its partitions once it has joined: after its first records.
    let got = take(&mut c, 1).await;
    let ends = c.ends(&t).await.unwrap();
    assert!(ends.iter().all(|p| p.topic == t), "{ends:?}");
    let end = ends.iter().find(|p| p.partition == got[0].partition).expect("the read partition has an end");
    assert_eq!(ends.iter().map(|p| p.offset).sum::<i64>(), 4, "{ends:?}");
    assert!(end.offset > got[0].offset);
    publish_n(&b, &t, 2).await;
    assert_eq!(c.ends(&t).await.unwrap().iter().map(|p| p.offset).sum::<i64>(), 6);
}

async fn resumes_from_commit_and_redelivers_the_rest(b: Backend) {
    let t = topic("commit");
    publish_n(&b, &t, 6).await;
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let got = take(&mut c, 6).await;
    let fourth = &got[3];
    c.commit(&[Position { topic: t.clone(), partition: fourth.partition, offset: fourth.offset }], true).await.unwrap();
    drop(c);
    let mut again = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let rest = take(&mut again, 3).await;
    assert_eq!(rest.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), vec![record(3), record(4), record(5)]);
}

async fn restarts_inside_a_producer_batch(b: Backend) {
    // Records published together travel in one producer batch; a commit can land in its middle (a
    // later record of the batch finished first). The next consumer must get the batch's remainder:
    // Kafka returns the whole batch and the client drops what lies before the position.
    let t = topic("midbatch");
    let p = b.broker.publisher();
    p.ensure_topics(std::slice::from_ref(&t)).await.unwrap();
    let sent = futures::future::join_all((0..8).map(|i| p.publish(&t, record(i)))).await;
    let mut offsets: Vec<i64> = sent.into_iter().map(|r| r.unwrap().1).collect();
    offsets.sort();
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let got = take(&mut c, 8).await;
    c.commit(&[Position { topic: t.clone(), partition: got[0].partition, offset: got[3].offset }], true).await.unwrap();
    drop(c);
    let mut again = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let rest: Vec<i64> = take(&mut again, 5).await.iter().map(|r| r.offset).collect();
    assert_eq!(rest, offsets[3..].to_vec(), "records after the committed position inside the batch");
}

async fn groups_are_independent(b: Backend) {
    let t = topic("groups");
    publish_n(&b, &t, 3).await;
    for g in [format!("{}-a", b.group), format!("{}-b", b.group)] {
        let mut c = b.broker.consumer(&g, std::slice::from_ref(&t)).unwrap();
        assert_eq!(take(&mut c, 3).await.len(), 3, "group {g}");
    }
}

async fn pause_holds_a_topic_back_until_resume(b: Backend) {
    let (paused, open) = (topic("paused"), topic("open"));
    publish_n(&b, &paused, 3).await;
    // Both topics exist before the consumer subscribes: a topic appearing later makes Kafka
    // rebalance the group mid-test, which is not what this case is about.
    b.broker.publisher().ensure_topics(std::slice::from_ref(&open)).await.unwrap();
    let mut c = b.broker.consumer(&b.group, &[paused.clone(), open.clone()]).unwrap();
    let first = take(&mut c, 1).await.remove(0);
    assert_eq!(first.record, record(0));
    c.pause(&paused, first.partition).unwrap();
    b.broker.publisher().publish(&open, record(9)).await.unwrap();
    let next = take(&mut c, 1).await.remove(0);
    assert_eq!((next.topic.as_str(), next.record.clone()), (open.as_str(), record(9)), "paused topic leaked");
    c.resume(&paused, first.partition).unwrap();
    let rest = take(&mut c, 2).await;
    assert_eq!(rest.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), vec![record(1), record(2)]);
}

async fn pause_survives_a_rebalance(b: Backend) {
    // A retry tier stays paused while its head is not due, whatever the group does meanwhile: a
    // member joining moves every partition (eager rebalance), and afterwards the paused partition
    // must neither leak records nor stay silent after resume.
    let (paused, open, other) = (topic("rb-paused"), topic("rb-open"), topic("rb-other"));
    publish_n(&b, &paused, 3).await;
    b.broker.publisher().ensure_topics(&[open.clone(), other.clone()]).await.unwrap();
    let mut c = b.broker.consumer(&b.group, &[paused.clone(), open.clone()]).unwrap();
    let first = take(&mut c, 1).await.remove(0);
    assert_eq!(first.record, record(0));
    // Finished, as a worker would say, without waiting for the commit: the rebalance moves the
    // partition through the group, and what comes after it starts from the committed position,
    // which the revoke must have stored.
    c.commit(&[Position { topic: paused.clone(), partition: first.partition, offset: first.offset + 1 }], false)
        .await
        .unwrap();
    c.pause(&paused, first.partition).unwrap();
    // A second member of the group, on another topic: its join rebalances the whole group, and it
    // reads a record only once that rebalance is complete. The first member polls meanwhile, as
    // it must to take part.
    let mut joiner = b.broker.consumer(&b.group, std::slice::from_ref(&other)).unwrap();
    b.broker.publisher().publish(&other, record(7)).await.unwrap();
    let (joined, leaked) = tokio::join!(take(&mut joiner, 1), async {
        let mut leaked = Vec::new();
        for _ in 0..10 {
            leaked.extend(c.poll(Duration::from_millis(500)).await.unwrap());
        }
        leaked
    });
    assert_eq!(joined[0].record, record(7));
    assert!(leaked.is_empty(), "nothing is readable while the only record left is paused: {leaked:?}");
    b.broker.publisher().publish(&open, record(9)).await.unwrap();
    let next = take(&mut c, 1).await.remove(0);
    assert_eq!((next.topic.as_str(), next.record.clone()), (open.as_str(), record(9)), "paused topic leaked");
    c.commit(&[Position { topic: open.clone(), partition: next.partition, offset: next.offset + 1 }], false)
        .await
        .unwrap();
    c.resume(&paused, first.partition).unwrap();
    let rest = take(&mut c, 2).await;
    assert_eq!(rest.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), vec![record(1), record(2)]);
}

async fn pause_survives_a_topic_appearing(b: Backend) {
    // A worker may subscribe before ingress creates its topic: the topic must be found within
    // seconds (librdkafka's default metadata refresh is 5 minutes), and the rebalance it causes
    // must leave the paused partition paused and then resumable.
    let (paused, late) = (topic("late-paused"), topic("late"));
    publish_n(&b, &paused, 3).await;
    let mut c = b.broker.consumer(&b.group, &[paused.clone(), late.clone()]).unwrap();
    let first = take(&mut c, 1).await.remove(0);
    c.commit(&[Position { topic: paused.clone(), partition: first.partition, offset: first.offset + 1 }], false)
        .await
        .unwrap();
    c.pause(&paused, first.partition).unwrap();
    b.broker.publisher().ensure_topics(std::slice::from_ref(&late)).await.unwrap();
    b.broker.publisher().publish(&late, record(9)).await.unwrap();
    let next = take(&mut c, 1).await.remove(0);
    assert_eq!((next.topic.as_str(), next.record.clone()), (late.as_str(), record(9)), "paused topic leaked");
    c.commit(&[Position { topic: late.clone(), partition: next.partition, offset: next.offset + 1 }], false)
        .await
        .unwrap();
    c.resume(&paused, first.partition).unwrap();
    let rest = take(&mut c, 2).await;
    assert_eq!(rest.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), vec![record(1), record(2)]);
}

async fn resume_continues_right_after_the_paused_record(b: Backend) {
    // A retry tier pauses while its head record is not due; records written meanwhile, or fetched
    // ahead of the pause, must all come after resume, none skipped.
    let t = topic("prefetch");
    publish_n(&b, &t, 10).await;
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let first = take(&mut c, 1).await.remove(0);
    c.pause(&t, first.partition).unwrap();
    let p = b.broker.publisher();
    for i in 10..30 {
        p.publish(&t, record(i)).await.unwrap();
    }
    assert!(c.poll(Duration::from_millis(1500)).await.unwrap().is_none(), "paused");
    c.resume(&t, first.partition).unwrap();
    let rest = take(&mut c, 29).await;
    let offsets: Vec<i64> = rest.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (first.offset + 1..first.offset + 30).collect::<Vec<_>>(), "no record skipped");
}

async fn poll_times_out_on_an_empty_topic(b: Backend) {
    let t = topic("empty");
    b.broker.publisher().ensure_topics(std::slice::from_ref(&t)).await.unwrap();
    let mut c = b.broker.consumer(&b.group, &[t]).unwrap();
    let started = std::time::Instant::now();
    assert!(c.poll(Duration::from_millis(300)).await.unwrap().is_none());
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn reader_sees_everything_from_the_start(b: Backend) {
    let t = topic("reader");
    publish_n(&b, &t, 4).await;
    let mut c = b.broker.consumer(&b.group, std::slice::from_ref(&t)).unwrap();
    let got = take(&mut c, 4).await;
    c.commit(&[Position { topic: t.clone(), partition: got[3].partition, offset: got[3].offset + 1 }], true)
        .await
        .unwrap();
    let mut r = b.broker.reader(std::slice::from_ref(&t)).unwrap();
    let all = take(&mut r, 4).await;
    assert_eq!(all.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), (0..4).map(record).collect::<Vec<_>>());
    assert!(r.poll(Duration::from_millis(500)).await.unwrap().is_none(), "nothing beyond the end");
}

async fn one_consumer_reads_many_topics(b: Backend) {
    // A subscription consumes its source topic and every retry tier: a dozen topics per consumer.
    let base = topic("many");
    let topics: Vec<String> = (0..12).map(|i| format!("{base}.{i}")).collect();
    b.broker.publisher().ensure_topics(&topics).await.unwrap();
    let mut c = b.broker.consumer(&b.group, &topics).unwrap();
    for (i, t) in topics.iter().enumerate().rev() {
        b.broker.publisher().publish(t, record(i)).await.unwrap();
    }
    let mut got: Vec<String> = take(&mut c, topics.len()).await.into_iter().map(|r| r.topic).collect();
    got.sort();
    let mut want = topics.clone();
    want.sort();
    assert_eq!(got, want, "every topic delivered");
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod embedded_backend { $( #[tokio::test] async fn $case() { if let Some(b) = super::embedded() { super::$case(b).await } } )* }
        mod kafka_backend { $( #[tokio::test] async fn $case() { if let Some(b) = super::kafka() { super::$case(b).await } } )* }
    };
}

contract!(
    round_trip,
    ends_count_every_record_written,
    resumes_from_commit_and_redelivers_the_rest,
    restarts_inside_a_producer_batch,
    groups_are_independent,
    pause_holds_a_topic_back_until_resume,
    pause_survives_a_rebalance,
    pause_survives_a_topic_appearing,
    poll_times_out_on_an_empty_topic,
    resume_continues_right_after_the_paused_record,
    reader_sees_everything_from_the_start,
    one_consumer_reads_many_topics,
);
