//! `GET /events` (the index, newest first, cursor pages) and `GET /events/{id}` (envelope, payload,
//! and per subscription its status and every attempt).
use axum::Json;
use axum::extract::Path;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use axum::extract::State;

use super::St;
use super::extract::ApiQuery;
use crate::ControlError;
use crate::error::ErrorBody;
use crate::store::{AttemptRow, EventQuery, EventRow};

const PAGE: usize = 50;
const MAX_PAGE: usize = 500;
/// How much of a response body the API shows.
const SNIPPET: usize = 4096;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Source name, e.g. `github`.
    pub source: Option<String>,
    /// Exact event type, or a prefix ending in `*`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub ty: Option<String>,
    /// `pending`, `delivered`, `retrying`, `dead_lettered` or `filtered` (with `subscription`: its status).
    pub status: Option<String>,
    pub subscription: Option<String>,
    /// Text the event must contain (its id, type, subject or payload), case-insensitive.
    pub q: Option<String>,
    /// Dead-letter reason, e.g. `retries_exhausted` (with `subscription`: that subscription's).
    pub reason: Option<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// RFC 3339; events before.
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub subject: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Per subscription (current generation) that reported on it: its status.
    pub statuses: Vec<DeliveryStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryStatus {
    pub subscription: String,
    /// `pending`, `delivered`, `retrying`, `dead_lettered` or `filtered`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventSummary>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The subscription version that mapped this delivery.
    pub version: u64,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// `delivered`, `http_error`, `timeout`, `connect_error` or `other_error`.
    pub outcome: String,
    /// `delivered`, `retry` or `give_up`.
    pub decision: String,
    pub error: Option<String>,
    /// The first 4 KiB of the response body.
    pub response: Option<String>,
    /// The request headers sent, secrets redacted.
    pub request_headers: Vec<Header>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub subscription: String,
    pub generation: String,
    /// `pending`, `delivered`, `retrying`, `dead_lettered` or `filtered`.
    pub status: String,
    pub version: Option<u64>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    /// The CloudEvent the worker maps.
    pub envelope: serde_json::Value,
    /// The body the provider sent, when it is JSON.
    pub payload: Option<serde_json::Value>,
    /// The body, base64, when it is not JSON.
    pub payload_base64: Option<String>,
    pub deliveries: Vec<DeliveryView>,
}

fn time_param(name: &str, v: &Option<String>) -> Result<Option<OffsetDateTime>, ControlError> {
    v.as_deref()
        .map(|s| {
            OffsetDateTime::parse(s, &Rfc3339)
                .map_err(|e| ControlError::BadRequest(format!("`{name}`: `{s}` is not an RFC 3339 time: {e}")))
        })
        .transpose()
}

pub(crate) fn summary(r: &EventRow, statuses: Vec<DeliveryStatus>) -> EventSummary {
    let e = &r.event;
    EventSummary {
        id: e.id.clone(),
        source: e.source.clone(),
        ty: e.ty.clone(),
        subject: e.subject.clone(),
        time: e.time,
        received_at: e.received_at,
        topic: e.topic.clone(),
        partition: e.partition,
        offset: e.offset,
        statuses,
    }
}

/// The statuses of a page of events, keeping only the live subscriptions' current generations.
async fn statuses_of(inner: &crate::plane::Inner, rows: &[EventRow]) -> Result<Vec<Vec<DeliveryStatus>>, ControlError> {
    let ids: Vec<String> = rows.iter().map(|r| r.event.id.clone()).collect();
    let found = inner.store.delivery_statuses(&ids).await.map_err(|e| ControlError::Store(e.to_string()))?;
    let set = inner.refresh(false).await?;
    let current = |sub: &str, generation: &str| set.get(sub).is_some_and(|s| s.generation == generation);
    Ok(ids
        .iter()
        .map(|id| {
            found
                .iter()
                .filter(|(e, sub, generation, _)| e == id && current(sub, generation))
                .map(|(_, sub, _, status)| DeliveryStatus { subscription: sub.clone(), status: status.clone() })
                .collect()
        })
        .collect())
}

/// Accepted events, newest first.
#[utoipa::path(operation_id = "list_events", get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(State(inner): St, ApiQuery(q): ApiQuery<EventsQuery>) -> Result<Json<EventPage>, ControlError> {
    const STATUSES: [&str; 5] = ["pending", "delivered", "retrying", "dead_lettered", "filtered"];
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ControlError::BadRequest(format!("`status`: `{s}` is not one of {}", STATUSES.join(", "))));
    }
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ControlError::BadRequest(format!("`limit` must be between 1 and {MAX_PAGE}")));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ControlError::BadRequest(format!("`cursor`: `{c}` is not a cursor this API gave")))
        })
        .transpose()?;
    let query = EventQuery {
        source: q.source,
        topic: None,
        ty: q.ty,
        status: q.status,
        subscription: q.subscription,
        text: q.q,
        reason: q.reason,
        since: time_param("since", &q.since)?,
        until: time_param("until", &q.until)?,
        before,
        limit: limit + 1,
    };
    let mut rows = inner.store.events(&query).await.map_err(|e| ControlError::Store(e.to_string()))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|r| r.seq.to_string()) } else { None };
    let statuses = statuses_of(&inner, &rows).await?;
    Ok(Json(EventPage { events: rows.iter().zip(statuses).map(|(r, s)| summary(r, s)).collect(), next_cursor }))
}

fn snippet(s: &str) -> String {
    let mut end = s.len().min(SNIPPET);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn attempt_view(a: &AttemptRow) -> AttemptView {
    AttemptView {
        attempt: a.attempt.attempt,
        at: a.attempt.at,
        version: a.version,
        status: a.attempt.status,
        latency_ms: a.attempt.latency_ms,
        outcome: snake(&a.attempt.outcome),
        decision: snake(&a.attempt.decision),
        error: a.attempt.error.clone(),
        response: a.attempt.response_snippet.as_deref().map(snippet),
        request_headers: a.request_headers.iter().map(|(n, v)| Header { name: n.clone(), value: v.clone() }).collect(),
    }
}

/// Serde's snake_case name of an enum value.
fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One event: envelope, payload, and for every subscription that took it its status and attempts.
#[utoipa::path(operation_id = "get_event", get, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = EventDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(State(inner): St, Path(id): Path<String>) -> Result<Json<EventDetail>, ControlError> {
    let store_err = |e: crate::store::StoreError| ControlError::Store(e.to_string());
    let row = inner.store.event(&id).await.map_err(store_err)?.ok_or_else(|| ControlError::not_found("event", &id))?;
    let deliveries = inner.store.deliveries(&id).await.map_err(store_err)?;
    let attempts = inner.store.attempts(&id).await.map_err(store_err)?;
    let mut views: Vec<DeliveryView> = deliveries
        .iter()
        .map(|d| DeliveryView {
            subscription: d.subscription.clone(),
            generation: d.generation.clone(),
            status: d.status.clone(),
            version: Some(d.version),
            reason: d.reason.clone(),
            next_attempt_at: d.next_attempt_at,
            attempts: attempts
                .iter()
                .filter(|a| a.subscription == d.subscription && a.generation == d.generation)
                .map(attempt_view)
                .collect(),
        })
        .collect();
    // Subscriptions that take this event but have not reported on it yet.
    let set = inner.refresh(false).await?;
    for spec in &set.specs {
        let takes = spec.config.topic == row.event.topic && spec.config.wants(&row.event.ty);
        let reported = views.iter().any(|v| v.subscription == spec.name && v.generation == spec.generation);
        if takes && !reported {
            views.push(DeliveryView {
                subscription: spec.name.clone(),
                generation: spec.generation.clone(),
                status: "pending".into(),
                version: None,
                reason: None,
                next_attempt_at: None,
                attempts: Vec::new(),
            });
        }
    }
    let envelope = serde_json::from_str(&row.event.envelope).unwrap_or(serde_json::Value::Null);
    let payload: Option<serde_json::Value> = serde_json::from_slice(&row.event.payload).ok();
    let payload_base64 = payload.is_none().then(|| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&row.event.payload)
    });
    let statuses = views
        .iter()
        .filter(|v| set.get(&v.subscription).is_some_and(|s| s.generation == v.generation))
        .map(|v| DeliveryStatus { subscription: v.subscription.clone(), status: v.status.clone() })
        .collect();
    Ok(Json(EventDetail { summary: summary(&row, statuses), envelope, payload, payload_base64, deliveries: views }))
}
