//! The store contract: the same behaviour on SQLite and PostgreSQL.
mod support;

use std::collections::BTreeMap;

use hookbus_control::store::{EventQuery, IndexedEvent, Store, StoreError, StoredSubscription};
use hookbus_core::config::SubscriptionConfig;
use hookbus_core::live::{DeliveryObservation, ObservationKind, Rejection, StartFrom};
use hookbus_core::{Attempt, AttemptOutcome, Decision, GiveUpReason};
use time::{Duration, OffsetDateTime};

fn sub(name: &str) -> StoredSubscription {
    let config: SubscriptionConfig =
        serde_json::from_value(serde_json::json!({"topic": "github", "target": "http://127.0.0.1:9/x"})).unwrap();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    StoredSubscription {
        name: name.into(),
        generation: uuid::Uuid::now_v7().to_string(),
        version: 1,
        paused: false,
        start: StartFrom::Latest,
        config,
        signing_secret: Some("v1.sealed".into()),
        secret_headers: BTreeMap::new(),
        sealed: BTreeMap::new(),
        created_at: now,
        updated_at: now,
    }
}

fn event(id: &str, source: &str, ty: &str, offset: i64, time: OffsetDateTime) -> IndexedEvent {
    IndexedEvent {
        id: id.into(),
        source: source.into(),
        ty: ty.into(),
        subject: None,
        time,
        received_at: time,
        topic: source.into(),
        partition: 0,
        offset,
        envelope: format!(r#"{{"id":"{id}"}}"#),
        payload: b"{\"a\":1}".to_vec(),
    }
}

fn obs(sub: &str, id: &str, kind: ObservationKind) -> DeliveryObservation {
    DeliveryObservation {
        subscription: sub.into(),
        generation: "g1".into(),
        version: 3,
        event_id: id.into(),
        event_type: "github.push".into(),
        at: OffsetDateTime::now_utc(),
        kind,
    }
}

fn attempt(n: u32, status: u16, latency_ms: u64, outcome: AttemptOutcome, decision: Decision) -> Attempt {
    Attempt {
        attempt: n,
        at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        latency_ms,
        outcome,
        decision,
        status: Some(status),
        error: None,
        response_snippet: Some("nope".into()),
        retry_after_ms: None,
    }
}

async fn subscriptions_are_versioned_and_bump_the_revision(store: Store) {
    let r0 = store.revision().await.unwrap();
    let mut s = sub("crm");
    store.create_subscription(&s).await.unwrap();
    assert!(matches!(store.create_subscription(&s).await, Err(StoreError::Conflict)), "a name exists once");
    let r1 = store.revision().await.unwrap();
    assert!(r1 > r0);
    assert_eq!(store.subscription("crm").await.unwrap().as_ref(), Some(&s));

    s.version = 2;
    s.paused = true;
    store.update_subscription(&s, 1).await.unwrap();
    assert!(store.revision().await.unwrap() > r1);
    // A writer holding the old version loses.
    let mut stale = s.clone();
    stale.version = 2;
    assert!(matches!(store.update_subscription(&stale, 1).await, Err(StoreError::Conflict)));
    assert!(store.subscription("crm").await.unwrap().unwrap().paused);

    store.create_subscription(&sub("billing")).await.unwrap();
    let names: Vec<String> = store.subscriptions().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["billing", "crm"]);
    assert!(store.delete_subscription("crm").await.unwrap());
    assert!(!store.delete_subscription("crm").await.unwrap());
    assert_eq!(store.subscription("crm").await.unwrap(), None);
}
on_both!(subscriptions_sqlite, subscriptions_postgres, subscriptions_are_versioned_and_bump_the_revision);

async fn events_page_newest_first_and_filter(store: Store) {
    let t0 = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let mut batch = Vec::new();
    for i in 0..5 {
        let ty = if i % 2 == 0 { "github.push" } else { "github.issues" };
        batch.push(event(&format!("e{i}"), "github", ty, i, t0 + Duration::seconds(i)));
    }
    batch.push(event("s0", "stripe", "stripe.invoice.paid", 0, t0));
    store.insert_events(&batch).await.unwrap();
    // Re-indexing the same records (after a crash) changes nothing.
    store.insert_events(&batch[..2]).await.unwrap();

    let page =
        store.events(&EventQuery { source: Some("github".into()), limit: 2, ..Default::default() }).await.unwrap();
    let ids: Vec<&str> = page.iter().map(|r| r.event.id.as_str()).collect();
    assert_eq!(ids, ["e4", "e3"]);
    let next = EventQuery { source: Some("github".into()), limit: 10, before: Some(page[1].seq), ..Default::default() };
    let ids: Vec<String> = store.events(&next).await.unwrap().into_iter().map(|r| r.event.id).collect();
    assert_eq!(ids, ["e2", "e1", "e0"]);

    let pushes = EventQuery { ty: Some("github.p*".into()), limit: 10, ..Default::default() };
    assert_eq!(store.events(&pushes).await.unwrap().len(), 3);
    let window = EventQuery {
        since: Some(t0 + Duration::seconds(1)),
        until: Some(t0 + Duration::seconds(3)),
        limit: 10,
        ..Default::default()
    };
    let ids: Vec<String> = store.events(&window).await.unwrap().into_iter().map(|r| r.event.id).collect();
    assert_eq!(ids, ["e2", "e1"]);

    let one = store.event("e3").await.unwrap().unwrap().event;
    assert_eq!((one.ty.as_str(), one.offset, one.payload.as_slice()), ("github.issues", 3, &b"{\"a\":1}"[..]));
    assert_eq!(one.time, t0 + Duration::seconds(3));
    assert_eq!(store.last_received("github").await.unwrap(), Some(t0 + Duration::seconds(4)));
    assert_eq!(store.last_received("nobody").await.unwrap(), None);
}
on_both!(events_sqlite, events_postgres, events_page_newest_first_and_filter);

async fn observations_build_status_attempts_and_counts(store: Store) {
    let t0 = OffsetDateTime::now_utc();
    store
        .insert_events(&[event("a", "github", "github.push", 0, t0), event("b", "github", "github.push", 1, t0)])
        .await
        .unwrap();
    let failed = attempt(1, 503, 40, AttemptOutcome::HttpError, Decision::Retry);
    let ok = attempt(2, 200, 10, AttemptOutcome::Delivered, Decision::Delivered);
    let next = (t0 + Duration::minutes(5)).replace_nanosecond(0).unwrap();
    let headers = vec![("webhook-signature".to_owned(), "<redacted>".to_owned())];
    store
        .record_observations(&[
            obs("crm", "a", ObservationKind::Attempted { attempt: failed.clone(), request_headers: headers.clone() }),
            obs("crm", "a", ObservationKind::RetryScheduled { next_attempt_at: next }),
            obs("crm", "b", ObservationKind::Filtered),
        ])
        .await
        .unwrap();
    let d = store.deliveries("a").await.unwrap();
    assert_eq!((d.len(), d[0].status.as_str(), d[0].attempts, d[0].next_attempt_at), (1, "retrying", 1, Some(next)));

    let pending = EventQuery {
        status: Some("pending".into()),
        subscription: Some("crm".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(store.events(&pending).await.unwrap().is_empty(), "a and b both have a verdict");
    let filtered = EventQuery {
        status: Some("filtered".into()),
        subscription: Some("crm".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.events(&filtered).await.unwrap()[0].event.id, "b");

    store
        .record_observations(&[
            obs("crm", "a", ObservationKind::Attempted { attempt: ok.clone(), request_headers: vec![] }),
            obs("crm", "a", ObservationKind::Delivered),
            obs("billing", "a", ObservationKind::DeadLettered { reason: GiveUpReason::PermanentFailure }),
        ])
        .await
        .unwrap();
    let d = store.deliveries("a").await.unwrap();
    let by: Vec<(&str, &str, u64)> =
        d.iter().map(|d| (d.subscription.as_str(), d.status.as_str(), d.attempts)).collect();
    assert_eq!(by, [("billing", "dead_lettered", 0), ("crm", "delivered", 2)]);
    assert_eq!(d[0].reason.as_deref(), Some("permanent_failure"));
    assert_eq!(d[1].next_attempt_at, None);

    let a = store.attempts("a").await.unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].attempt, failed);
    assert_eq!(a[0].request_headers, headers);
    assert_eq!((a[1].attempt.status, a[1].version), (Some(200), 3));

    let c = store.counts("crm", "g1", t0 - Duration::minutes(5)).await.unwrap();
    assert_eq!((c.delivered, c.filtered, c.dead_lettered, c.failed_attempts), (1, 1, 0, 1));
    let mut lat = c.recent_latencies_ms.clone();
    lat.sort();
    assert_eq!(lat, [10, 40]);
    assert_eq!(store.counts("crm", "other-generation", t0).await.unwrap().delivered, 0);
}
on_both!(observations_sqlite, observations_postgres, observations_build_status_attempts_and_counts);

async fn jobs_rejections_and_retention(store: Store) {
    let job = serde_json::json!({"id": "j1", "state": "running"});
    store.save_job("j1", &job).await.unwrap();
    store.save_job("j1", &serde_json::json!({"id": "j1", "state": "succeeded"})).await.unwrap();
    assert_eq!(store.job("j1").await.unwrap().unwrap()["state"], "succeeded");
    assert_eq!(store.job("nope").await.unwrap(), None);

    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let old = now - Duration::days(10);
    let rej = |at, code: &str| Rejection { source: "github".into(), at, code: code.into(), message: "m".into() };
    store.record_rejections(&[rej(old, "old"), rej(now, "signature_mismatch")]).await.unwrap();
    let r = store.rejections("github", 5).await.unwrap();
    assert_eq!(r.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["signature_mismatch", "old"]);
    assert_eq!(r[0].at, now);

    store.insert_events(&[event("old", "github", "t", 0, old), event("new", "github", "t", 1, now)]).await.unwrap();
    let removed = store.purge_older_than(now - Duration::days(7)).await.unwrap();
    assert_eq!(removed, 2, "the old event and the old rejection");
    assert!(store.event("old").await.unwrap().is_none());
    assert!(store.event("new").await.unwrap().is_some());
    assert_eq!(store.rejections("github", 5).await.unwrap().len(), 1);
}
on_both!(jobs_sqlite, jobs_postgres, jobs_rejections_and_retention);

#[tokio::test]
async fn migrating_twice_is_harmless() {
    let (store, _dir) = support::sqlite();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    if let Some(pg) = support::postgres().await {
        let (a, b) = tokio::join!(pg.migrate(), pg.migrate());
        a.unwrap();
        b.unwrap();
        assert_eq!(pg.revision().await.unwrap(), 0);
    }
}
