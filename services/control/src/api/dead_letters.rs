//! `GET /subscriptions/{name}/dead-letters`: the pending dead letters (not redriven, not purged),
//! read from the dead-letter topic; listable after the subscription was deleted, until purged.
use axum::Json;
use axum::extract::{Path, State};
use hookbus_core::GiveUpReason;
use hookbus_worker::dlq;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::St;
use super::extract::ApiQuery;
use crate::ControlError;
use crate::error::ErrorBody;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// `permanent_failure`, `retries_exhausted`, `transform_error`, `max_age_exceeded` or `output_schema`.
    pub reason: Option<String>,
    /// Exact event type, or a prefix ending in `*`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub ty: Option<String>,
    /// RFC 3339; dead-lettered at or after.
    pub since: Option<String>,
    /// RFC 3339; dead-lettered before.
    pub until: Option<String>,
    /// At most this many, oldest first (1 to 1000, default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    pub event_id: String,
    pub event_type: String,
    pub reason: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_lettered_at: OffsetDateTime,
    pub attempts: usize,
    /// Deliveries the dead letter stands for: the items of a batch, else 1. The event fields are
    /// those of a batch's first item.
    pub items: usize,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetterView>,
    /// Pending dead letters matching the filter, beyond `limit` too.
    pub total: usize,
}

fn bad(m: String) -> ControlError {
    ControlError::BadRequest(m)
}

/// Pending dead letters of a subscription that match the filter.
#[utoipa::path(operation_id = "list_dead_letters", get, path = "/api/v1/subscriptions/{name}/dead-letters", tag = "jobs",
    params(("name" = String, Path), DeadLetterQuery),
    responses((status = 200, body = DeadLetterList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(inner): St,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Json<DeadLetterList>, ControlError> {
    let time = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                OffsetDateTime::parse(s, &Rfc3339)
                    .map_err(|e| bad(format!("`{field}`: `{s}` is not an RFC 3339 time: {e}")))
            })
            .transpose()
    };
    let reason = q
        .reason
        .as_deref()
        .map(|r| {
            serde_json::from_value::<GiveUpReason>(serde_json::Value::String(r.to_owned())).map_err(|_| {
                bad(format!("`reason`: `{r}` is not one of permanent_failure, retries_exhausted, transform_error, max_age_exceeded, output_schema"))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(bad("`limit` must be between 1 and 1000".into()));
    }
    let filter = dlq::Filter {
        event_type: q.ty.clone(),
        reason,
        event_id: None,
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
    };
    let entries = dlq::list(&*inner.broker, inner.prefix(), &name, &filter).await?;
    let total = entries.len();
    let dead_letters = entries
        .into_iter()
        .take(limit)
        .map(|e| DeadLetterView {
            event_id: e.record.event.id.clone(),
            event_type: e.record.event.ty.clone(),
            reason: e.record.reason.as_str().to_owned(),
            message: e.record.message.clone(),
            dead_lettered_at: e.record.dead_lettered_at,
            attempts: e.record.attempts.len(),
            items: e.record.items(),
            partition: e.partition,
            offset: e.offset,
        })
        .collect();
    Ok(Json(DeadLetterList { dead_letters, total }))
}
