//! Retry one event now; redrive dead letters and replay a time range as jobs; show a job.
use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use hookbus_core::{CloudEvent, GiveUpReason};
use hookbus_worker::dlq;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use axum::extract::State;

use super::St;
use super::extract::ApiJson;
use crate::error::ErrorBody;
use crate::jobs::{self, Job};
use crate::plane::Inner;
use crate::{ControlError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub subscription: String,
    pub event_id: String,
    /// The retry tier it was queued in.
    pub topic: String,
}

/// Which dead letters to redrive; every field given must match.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedriveInput {
    /// `permanent_failure`, `retries_exhausted`, `transform_error`, `max_age_exceeded` or `output_schema`.
    pub reason: Option<String>,
    /// Exact event type, or a prefix ending in `*`.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// RFC 3339; dead-lettered at or after.
    pub since: Option<String>,
    /// RFC 3339; dead-lettered before.
    pub until: Option<String>,
    /// Only these events (e.g. the ones selected in the console), at most 1000.
    pub event_ids: Option<Vec<String>>,
}

/// Most event ids one redrive takes.
const MAX_REDRIVE_IDS: usize = 1000;

/// Which accepted events to deliver again (by event time).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayInput {
    /// RFC 3339; events at or after.
    pub since: String,
    /// RFC 3339; events before (default: now).
    pub until: Option<String>,
}

fn time(field: &str, v: Option<&str>, problems: &mut Vec<Problem>) -> Option<OffsetDateTime> {
    let s = v?;
    match OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem::new(field, format!("`{s}` is not an RFC 3339 time: {e}")));
            None
        }
    }
}

async fn subscription(inner: &Inner, name: &str) -> Result<hookbus_core::live::SubscriptionSpec, ControlError> {
    let set = inner.refresh(false).await?;
    set.get(name).cloned().ok_or_else(|| ControlError::not_found("subscription", name))
}

/// Deliver one event to a subscription again, now, with a fresh attempt count.
#[utoipa::path(operation_id = "retry_event", post, path = "/api/v1/subscriptions/{name}/events/{id}/retry", tag = "jobs",
    params(("name" = String, Path), ("id" = String, Path)),
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    State(inner): St,
    Path((name, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Queued>), ControlError> {
    subscription(&inner, &name).await?;
    let row = inner
        .store
        .event(&id)
        .await
        .map_err(|e| ControlError::Store(e.to_string()))?
        .ok_or_else(|| ControlError::not_found("event", &id))?;
    let event: CloudEvent = serde_json::from_str(&row.event.envelope)
        .map_err(|e| ControlError::Internal(format!("indexed envelope of `{id}`: {e}")))?;
    let topic = jobs::requeue(&*inner.broker, inner.prefix(), &name, event).await?;
    tracing::info!(subscription = %name, event_id = %id, "event queued for delivery again");
    Ok((StatusCode::ACCEPTED, Json(Queued { subscription: name, event_id: id, topic })))
}

/// Redrive the subscription's pending dead letters that match, as a job.
#[utoipa::path(operation_id = "redrive_dead_letters", post, path = "/api/v1/subscriptions/{name}/redrive", tag = "jobs", params(("name" = String, Path)),
    request_body = RedriveInput,
    responses((status = 202, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn redrive(
    State(inner): St,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<RedriveInput>,
) -> Result<(StatusCode, Json<Job>), ControlError> {
    let mut problems = Vec::new();
    let reason = match input.reason.as_deref() {
        None => None,
        Some(r) => match serde_json::from_value::<GiveUpReason>(serde_json::Value::String(r.to_owned())) {
            Ok(g) => Some(g),
            Err(_) => {
                problems.push(Problem::new(
                    "reason",
                    format!("`{r}` is not one of permanent_failure, retries_exhausted, transform_error, max_age_exceeded, output_schema"),
                ));
                None
            }
        },
    };
    let filter = dlq::Filter {
        event_type: input.ty.clone(),
        reason,
        event_id: None,
        since: time("since", input.since.as_deref(), &mut problems),
        until: time("until", input.until.as_deref(), &mut problems),
    };
    let ids = input.event_ids.clone();
    if ids.as_ref().is_some_and(|i| i.is_empty() || i.len() > MAX_REDRIVE_IDS) {
        problems.push(Problem::new("event_ids", format!("give 1 to {MAX_REDRIVE_IDS} ids, or leave it out")));
    }
    if !problems.is_empty() {
        return Err(ControlError::Invalid(problems));
    }
    subscription(&inner, &name).await?;
    let params = serde_json::to_value(&input).unwrap_or_default();
    let worker_inner = inner.clone();
    let sub = name.clone();
    let job = jobs::spawn(
        inner.store.clone(),
        Job::new("redrive", &name, params),
        inner.shutdown.clone(),
        move |job| async move {
            let progress = move |done: usize, total: usize| {
                let mut j = job.lock().unwrap_or_else(|p| p.into_inner());
                j.processed = done as u64;
                j.total = Some(total as u64);
            };
            let (broker, prefix) = (&*worker_inner.broker, worker_inner.prefix());
            let Some(ids) = ids else {
                let n = dlq::redrive(broker, prefix, &sub, &filter, progress).await?;
                return Ok((n as u64, n as u64));
            };
            // One pass per id (the dead-letter scan matches one id at a time); progress counts ids.
            let mut n = 0;
            for (i, id) in ids.iter().enumerate() {
                let one = dlq::Filter { event_id: Some(id.clone()), ..filter.clone() };
                n += dlq::redrive(broker, prefix, &sub, &one, |_, _| {}).await?;
                progress(i + 1, ids.len());
            }
            Ok((n as u64, n as u64))
        },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// Deliver the topic's events of a time range to the subscription again, as a job.
#[utoipa::path(operation_id = "replay_events", post, path = "/api/v1/subscriptions/{name}/replay", tag = "jobs", params(("name" = String, Path)),
    request_body = ReplayInput,
    responses((status = 202, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replay(
    State(inner): St,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<ReplayInput>,
) -> Result<(StatusCode, Json<Job>), ControlError> {
    let mut problems = Vec::new();
    let from = time("since", Some(&input.since), &mut problems);
    let to = time("until", input.until.as_deref(), &mut problems).unwrap_or_else(OffsetDateTime::now_utc);
    let Some(from) = from.filter(|_| problems.is_empty()) else {
        return Err(ControlError::Invalid(problems));
    };
    let spec = subscription(&inner, &name).await?;
    let params = serde_json::to_value(&input).unwrap_or_default();
    let worker_inner: Arc<Inner> = inner.clone();
    let job = jobs::spawn(
        inner.store.clone(),
        Job::new("replay", &name, params),
        inner.shutdown.clone(),
        move |job| async move {
            let progress = move |scanned: usize| {
                job.lock().unwrap_or_else(|p| p.into_inner()).scanned = scanned as u64;
            };
            let s =
                dlq::replay(&*worker_inner.broker, worker_inner.prefix(), &spec.name, &spec.config, from, to, progress)
                    .await?;
            Ok((s.replayed as u64, s.replayed as u64))
        },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A job's progress and, once finished, its final counts.
#[utoipa::path(operation_id = "get_job", get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(State(inner): St, Path(id): Path<String>) -> Result<Json<Job>, ControlError> {
    let body = inner
        .store
        .job(&id)
        .await
        .map_err(|e| ControlError::Store(e.to_string()))?
        .ok_or_else(|| ControlError::not_found("job", &id))?;
    serde_json::from_value(body).map(Json).map_err(|e| ControlError::Internal(format!("job `{id}`: {e}")))
}
