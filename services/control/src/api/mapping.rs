//! `POST /mapping/test`: a dry run of a filter and transform (or a subscription's) over given
//! events or the last N indexed events of a topic, on the worker's code path, delivering nothing.
use axum::Json;
use hookbus_core::CloudEvent;
use hookbus_mapping::Mapping;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use axum::extract::State;

use super::St;
use super::extract::ApiJson;
use crate::error::ErrorBody;
use crate::store::EventQuery;
use crate::validate::jq_problems;
use crate::{ControlError, Problem};

const MAX_EVENTS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LastEvents {
    /// Default: the subscription's topic.
    pub topic: Option<String>,
    /// 1 to 100.
    pub count: usize,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingTestInput {
    pub filter: Option<String>,
    pub transform: Option<String>,
    /// Use this subscription's filter, transform and event types instead.
    pub subscription: Option<String>,
    /// One CloudEvent.
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// Several CloudEvents.
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<serde_json::Value>>,
    /// The newest indexed events of a topic.
    pub last: Option<LastEvents>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingFailure {
    /// `mapping_runtime_error` or `mapping_too_many_outputs`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingResult {
    pub event_id: String,
    pub event_type: String,
    /// Whether the subscription's `event_types` select it (always true without a subscription).
    pub selected: bool,
    /// Whether it would be delivered.
    pub passed: bool,
    /// The body that would be delivered (the first, when the transform fans out).
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    /// Every body that would be delivered, one delivery each (fan-out; at most the
    /// subscription's `max_outputs`); empty when nothing would be.
    #[schema(value_type = Vec<Object>)]
    pub outputs: Vec<serde_json::Value>,
    pub error: Option<MappingFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingTestOutput {
    pub results: Vec<MappingResult>,
}

/// Try a filter and transform on events without delivering anything.
#[utoipa::path(operation_id = "test_mapping", post, path = "/api/v1/mapping/test", tag = "mapping", request_body = MappingTestInput,
    responses((status = 200, body = MappingTestOutput), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test(
    State(inner): St,
    ApiJson(input): ApiJson<MappingTestInput>,
) -> Result<Json<MappingTestOutput>, ControlError> {
    let mut problems = Vec::new();
    let (filter, transform, spec) = match &input.subscription {
        Some(name) => {
            if input.filter.is_some() || input.transform.is_some() {
                problems.push(Problem::new("subscription", "give either a subscription or filter/transform, not both"));
            }
            let set = inner.refresh(false).await?;
            let spec = set.get(name).cloned().ok_or_else(|| ControlError::not_found("subscription", name))?;
            (spec.config.filter.clone(), spec.config.transform.clone(), Some(spec))
        }
        None => (input.filter.clone(), input.transform.clone(), None),
    };
    problems.extend(jq_problems(filter.as_deref(), transform.as_deref()));

    let mut events: Vec<(String, serde_json::Value)> = Vec::new();
    let given = input.event.iter().chain(input.events.iter().flatten());
    for (i, v) in given.enumerate() {
        match serde_json::from_value::<CloudEvent>(v.clone()) {
            Ok(e) => events.push((e.ty.clone(), serde_json::to_value(&e).unwrap_or_default())),
            Err(e) => problems.push(Problem::new(format!("events[{i}]"), format!("is not a CloudEvent: {e}"))),
        }
    }
    if let Some(last) = &input.last {
        if !(1..=MAX_EVENTS).contains(&last.count) {
            problems.push(Problem::new("last.count", format!("must be between 1 and {MAX_EVENTS}")));
        }
        match last.topic.clone().or_else(|| spec.as_ref().map(|s| s.config.topic.clone())) {
            None => problems.push(Problem::new("last.topic", "name a topic (or a subscription)")),
            Some(topic) if problems.is_empty() => {
                let q = EventQuery { topic: Some(topic), limit: last.count, ..Default::default() };
                for row in inner.store.events(&q).await.map_err(|e| ControlError::Store(e.to_string()))? {
                    match serde_json::from_str::<CloudEvent>(&row.event.envelope) {
                        Ok(e) => events.push((e.ty.clone(), serde_json::to_value(&e).unwrap_or_default())),
                        Err(e) => tracing::warn!(event_id = %row.event.id, error = %e, "indexed envelope unreadable"),
                    }
                }
            }
            Some(_) => {}
        }
    }
    if events.is_empty() && problems.is_empty() {
        problems.push(Problem::new("event", "give `event`, `events` or `last`"));
    }
    if events.len() > MAX_EVENTS {
        problems.push(Problem::new("events", format!("at most {MAX_EVENTS} events at once")));
    }
    if !problems.is_empty() {
        return Err(ControlError::Invalid(problems));
    }
    let mapping = Mapping::compile(filter.as_deref(), transform.as_deref())
        .map_err(|e| ControlError::Invalid(vec![Problem::new("mapping", e.to_string())]))?;
    let max_outputs = spec.as_ref().map_or(hookbus_core::config::DEFAULT_MAX_OUTPUTS, |s| s.config.max_outputs);
    let results = events
        .into_iter()
        .map(|(ty, envelope)| {
            let event_id = envelope["id"].as_str().unwrap_or_default().to_owned();
            let selected = spec.as_ref().is_none_or(|s| s.config.wants(&ty));
            let (outputs, error) = if !selected {
                (Vec::new(), None)
            } else {
                match mapping.apply_all(&envelope, max_outputs) {
                    Ok(outputs) => (outputs, None),
                    Err(e) => (Vec::new(), Some(MappingFailure { code: e.code().into(), message: e.to_string() })),
                }
            };
            let (passed, output) = (!outputs.is_empty(), outputs.first().cloned());
            MappingResult { event_id, event_type: ty, selected, passed, output, outputs, error }
        })
        .collect();
    Ok(Json(MappingTestOutput { results }))
}
