//! A source's quarantine: `GET /sources/{name}/quarantine` lists the events its schema contracts
//! held back, `POST /sources/{name}/quarantine/release` re-checks them against the contracts this
//! node was started with and sends those that now pass to the source's topic.
use axum::Json;
use axum::extract::{Path, State};
use hookbus_core::contract::{Contracts, Violation};
use hookbus_worker::quarantine::{self, Filter};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::St;
use super::extract::{ApiJson, ApiQuery};
use crate::ControlError;
use crate::error::ErrorBody;
use crate::plane::Inner;

/// Most events one list answer holds, and most ids one release takes.
const MAX: usize = 1000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViolationView {
    /// JSON Pointer into the event's data; empty for the data as a whole.
    pub path: String,
    pub message: String,
}

fn views(v: Vec<Violation>) -> Vec<ViolationView> {
    v.into_iter().map(|v| ViolationView { path: v.path, message: v.message }).collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// Exact event type, or a prefix ending in `*`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub ty: Option<String>,
    /// At most this many, oldest first (1 to 1000, default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinedView {
    pub event_id: String,
    pub event_type: String,
    /// What was wrong when the event arrived.
    pub violations: Vec<ViolationView>,
    #[serde(with = "time::serde::rfc3339")]
    pub quarantined_at: OffsetDateTime,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineList {
    pub events: Vec<QuarantinedView>,
    /// Quarantined events matching the filter, beyond `limit` too.
    pub total: usize,
}

/// Which quarantined events to release; every field given must match.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    /// Exact event type, or a prefix ending in `*`.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Only these events, at most 1000.
    pub event_ids: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeptView {
    pub event_id: String,
    pub event_type: String,
    /// What is still wrong, against the contracts in force now.
    pub violations: Vec<ViolationView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseReport {
    /// Ids of the events sent to the source's topic.
    pub released: Vec<String>,
    /// Events that still break their contract and stay in quarantine.
    pub kept: Vec<KeptView>,
}

fn known(inner: &Inner, name: &str) -> Result<(), ControlError> {
    if inner.config.sources.contains_key(name) { Ok(()) } else { Err(ControlError::not_found("source", name)) }
}

/// Quarantined events of a source not yet released.
#[utoipa::path(operation_id = "list_quarantine", get, path = "/api/v1/sources/{name}/quarantine", tag = "sources",
    params(("name" = String, Path), QuarantineQuery),
    responses((status = 200, body = QuarantineList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(inner): St,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<QuarantineQuery>,
) -> Result<Json<QuarantineList>, ControlError> {
    known(&inner, &name)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX).contains(&limit) {
        return Err(ControlError::BadRequest(format!("`limit` must be between 1 and {MAX}")));
    }
    let filter = Filter { event_type: q.ty, event_ids: None };
    let entries = quarantine::list(&*inner.broker, inner.prefix(), &name, &filter).await?;
    let total = entries.len();
    let events = entries
        .into_iter()
        .take(limit)
        .map(|e| QuarantinedView {
            event_id: e.event.id,
            event_type: e.event.ty,
            violations: views(e.violations),
            quarantined_at: e.quarantined_at,
            partition: e.partition,
            offset: e.offset,
        })
        .collect();
    Ok(Json(QuarantineList { events, total }))
}

/// Re-check the matching quarantined events against the source's contracts (as this node loaded
/// them) and send those that pass to the source's topic, under their original id.
#[utoipa::path(operation_id = "release_quarantine", post, path = "/api/v1/sources/{name}/quarantine/release", tag = "sources",
    params(("name" = String, Path)), request_body = ReleaseInput,
    responses((status = 200, body = ReleaseReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(
    State(inner): St,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> Result<Json<ReleaseReport>, ControlError> {
    known(&inner, &name)?;
    if input.event_ids.as_ref().is_some_and(|i| i.is_empty() || i.len() > MAX) {
        return Err(ControlError::BadRequest(format!("`event_ids`: give 1 to {MAX} ids, or leave it out")));
    }
    let contracts = Contracts::compile(&inner.config.sources[&name].contracts)
        .map_err(|(ty, m)| ControlError::Internal(format!("sources.{name}.contracts.\"{ty}\": {m}")))?;
    let topic = inner.config.source_topic(&name).to_owned();
    // One scan of the quarantine whatever the number of ids: a scan per id made a request of many
    // ids outlast any client timeout.
    let filter =
        Filter { event_type: input.ty.clone(), event_ids: input.event_ids.map(|ids| ids.into_iter().collect()) };
    let done =
        quarantine::release(&*inner.broker, inner.prefix(), &name, &topic, &contracts, &filter, |_, _| {}).await?;
    let report = ReleaseReport {
        released: done.released,
        kept: done
            .kept
            .into_iter()
            .map(|k| KeptView { event_id: k.event_id, event_type: k.event_type, violations: views(k.violations) })
            .collect(),
    };
    tracing::info!(source = %name, released = report.released.len(), kept = report.kept.len(), "quarantine released");
    Ok(Json(report))
}
