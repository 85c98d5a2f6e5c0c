//! Long operations (bulk redrive, replay) run as jobs: a task on the node that was asked, its
//! progress saved to the store every half second so any node can show it.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookbus_broker::{Broker, Record};
use hookbus_core::{CloudEvent, RetryEnvelope, topics};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::ControlError;
use crate::store::Store;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    /// `redrive` or `replay`.
    pub kind: String,
    pub subscription: String,
    pub state: JobState,
    /// Records read so far (replay: of the topic).
    pub scanned: u64,
    /// Events queued for delivery so far.
    pub processed: u64,
    /// Events to queue, once known.
    pub total: Option<u64>,
    pub error: Option<String>,
    /// What was asked.
    pub params: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl Job {
    pub fn new(kind: &str, subscription: &str, params: serde_json::Value) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.into(),
            subscription: subscription.into(),
            state: JobState::Running,
            scanned: 0,
            processed: 0,
            total: None,
            error: None,
            params,
            created_at: OffsetDateTime::now_utc(),
            finished_at: None,
        }
    }
}

async fn save(store: &Store, job: &Mutex<Job>) {
    let snapshot = job.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let body = serde_json::to_value(&snapshot).unwrap_or_default();
    if let Err(e) = store.save_job(&snapshot.id, &body).await {
        tracing::warn!(job = %snapshot.id, error = %e, "cannot save job progress");
    }
}

/// Starts `work` as a job; `work` reports progress through the shared job and returns
/// `(processed, total)`. Returns the job as first saved.
pub async fn spawn<F>(
    store: Store,
    job: Job,
    shutdown: CancellationToken,
    work: impl FnOnce(Arc<Mutex<Job>>) -> F,
) -> Result<Job, ControlError>
where
    F: std::future::Future<Output = Result<(u64, u64), ControlError>> + Send + 'static,
{
    let first = job.clone();
    let job = Arc::new(Mutex::new(job));
    save(&store, &job).await;
    let fut = work(job.clone());
    tokio::spawn(async move {
        tokio::pin!(fut);
        let outcome = loop {
            tokio::select! {
                r = &mut fut => break r,
                _ = tokio::time::sleep(Duration::from_millis(500)) => save(&store, &job).await,
                _ = shutdown.cancelled() => break Err(ControlError::Internal("interrupted by shutdown; run it again".into())),
            }
        };
        {
            let mut j = job.lock().unwrap_or_else(|p| p.into_inner());
            j.finished_at = Some(OffsetDateTime::now_utc());
            match outcome {
                Ok((processed, total)) => {
                    j.state = JobState::Succeeded;
                    j.processed = processed;
                    j.total = Some(total);
                }
                Err(e) => {
                    j.state = JobState::Failed;
                    j.error = Some(e.to_string());
                }
            }
            tracing::info!(job = %j.id, kind = %j.kind, state = ?j.state, processed = j.processed, "job finished");
        }
        save(&store, &job).await;
    });
    Ok(first)
}

/// Queues `event` for `subscription` at once, with a fresh attempt count: a retry envelope in
/// retry tier 0, as a redrive does.
pub async fn requeue(
    broker: &dyn Broker,
    prefix: &str,
    subscription: &str,
    event: CloudEvent,
) -> Result<String, ControlError> {
    let topic = topics::retry_tier(prefix, subscription, 0);
    let publisher = broker.publisher();
    publisher.ensure_topics(std::slice::from_ref(&topic)).await?;
    let retry = RetryEnvelope {
        subscription: subscription.to_owned(),
        attempts: Vec::new(),
        not_before: OffsetDateTime::now_utc(),
        event,
    };
    let record = Record {
        key: Some(retry.event.partitionkey.as_bytes().to_vec()),
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        payload: serde_json::to_vec(&retry).map_err(|e| ControlError::Internal(e.to_string()))?,
        timestamp_ms: OffsetDateTime::now_utc().unix_timestamp() * 1000,
    };
    publisher.publish(&topic, record).await?;
    Ok(topic)
}
