//! Subscription routes: create, list, show, patch, delete, pause, resume.
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookbus_core::live::SubscriptionSpec;
use time::OffsetDateTime;

use axum::extract::State;

use super::St;
use super::delivery::strip;
use super::extract::{ApiJson, parse};
use super::merge_patch::merge_patch;
use super::model::{SubscriptionInput, SubscriptionList, SubscriptionPatch, SubscriptionView};
use crate::crypto::SealError;
use crate::error::ErrorBody;
use crate::live::{aad, api_spec};
use crate::plane::Inner;
use crate::store::{StoreError, StoredSubscription};
use crate::{ControlError, Problem, validate};

/// The sealed secrets of `input`: the signing secret, the secret headers, and the delivery
/// settings' secrets by path (`auth.password`, `secret_maps.MAP.KEY`).
struct Sealed {
    signing: Option<String>,
    headers: BTreeMap<String, String>,
    others: BTreeMap<String, String>,
}

fn seal_all(inner: &Inner, name: &str, generation: &str, input: &SubscriptionInput) -> Result<Sealed, ControlError> {
    let seal = |field: String, value: &str| {
        inner.sealer.seal(value, &aad(name, generation, &field)).map_err(|e| match e {
            SealError::NoKey => ControlError::Invalid(vec![Problem::new(field.clone(), e.to_string())]),
            other => ControlError::Internal(other.to_string()),
        })
    };
    let signing = input.signing_secret.as_deref().map(|s| seal("signing_secret".into(), s)).transpose()?;
    let mut headers = BTreeMap::new();
    for (k, v) in &input.secret_headers {
        headers.insert(k.clone(), seal(format!("secret_headers.{k}"), v)?);
    }
    let mut others = BTreeMap::new();
    for (path, v) in input.delivery().secrets() {
        let sealed = seal(path.clone(), &v)?;
        others.insert(path, sealed);
    }
    Ok(Sealed { signing, headers, others })
}

fn store_err(e: StoreError) -> ControlError {
    ControlError::Store(e.to_string())
}

/// The spec of `name` in the current set, after a write made it visible.
async fn view_after_write(inner: &Inner, name: &str) -> Result<SubscriptionView, ControlError> {
    let set = inner.refresh(true).await?;
    set.get(name).map(SubscriptionView::of).ok_or_else(|| ControlError::not_found("subscription", name))
}

fn config_managed(inner: &Inner, name: &str) -> bool {
    inner.seeds.iter().any(|s| s.name == name)
}

/// Create a subscription; events are delivered to it within a second, without a restart.
#[utoipa::path(operation_id = "create_subscription", post, path = "/api/v1/subscriptions", tag = "subscriptions", request_body = SubscriptionInput,
    responses((status = 201, body = SubscriptionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(State(inner): St, ApiJson(input): ApiJson<SubscriptionInput>) -> Result<Response, ControlError> {
    if config_managed(&inner, &input.name) {
        return Err(ControlError::ManagedByConfig(input.name));
    }
    let (mut config, start) = validate::check(&inner.config, &inner.guard, &input).map_err(ControlError::Invalid)?;
    strip(&mut config);
    let generation = uuid::Uuid::now_v7().to_string();
    let sealed = seal_all(&inner, &input.name, &generation, &input)?;
    let now = OffsetDateTime::now_utc();
    let stored = StoredSubscription {
        name: input.name.clone(),
        generation,
        version: 1,
        paused: input.paused,
        start,
        config,
        signing_secret: sealed.signing,
        secret_headers: sealed.headers,
        sealed: sealed.others,
        created_at: now,
        updated_at: now,
    };
    match inner.store.create_subscription(&stored).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(ControlError::AlreadyExists(input.name)),
        Err(e) => return Err(store_err(e)),
    }
    tracing::info!(subscription = %input.name, "subscription created");
    let view = view_after_write(&inner, &input.name).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/subscriptions/{}", input.name)).ok();
    let mut resp = (StatusCode::CREATED, Json(view)).into_response();
    if let Some(l) = location {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(resp)
}

/// Every subscription: the config file's (`managed: config`, read-only) and the API's.
#[utoipa::path(operation_id = "list_subscriptions", get, path = "/api/v1/subscriptions", tag = "subscriptions",
    responses((status = 200, body = SubscriptionList), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(inner): St) -> Result<Json<SubscriptionList>, ControlError> {
    let set = inner.refresh(false).await?;
    Ok(Json(SubscriptionList {
        subscriptions: set.specs.iter().map(SubscriptionView::of).collect(),
        revision: set.revision,
    }))
}

/// One subscription; secrets appear only as hints.
#[utoipa::path(operation_id = "get_subscription", get, path = "/api/v1/subscriptions/{name}", tag = "subscriptions", params(("name" = String, Path)),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(State(inner): St, Path(name): Path<String>) -> Result<Json<SubscriptionView>, ControlError> {
    let set = inner.refresh(false).await?;
    set.get(&name).map(|s| Json(SubscriptionView::of(s))).ok_or_else(|| ControlError::not_found("subscription", name))
}

async fn api_subscription(inner: &Inner, name: &str) -> Result<StoredSubscription, ControlError> {
    if config_managed(inner, name) {
        return Err(ControlError::ManagedByConfig(name.to_owned()));
    }
    inner
        .store
        .subscription(name)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ControlError::not_found("subscription", name))
}

/// Change any field (a JSON merge patch of the creation body); the version goes up by one and the
/// change applies to events handled after it.
#[utoipa::path(operation_id = "update_subscription", patch, path = "/api/v1/subscriptions/{name}", tag = "subscriptions", params(("name" = String, Path)),
    request_body = SubscriptionPatch,
    responses((status = 200, body = SubscriptionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch(
    State(inner): St,
    Path(name): Path<String>,
    _headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<SubscriptionView>, ControlError> {
    let stored = api_subscription(&inner, &name).await?;
    parse::<SubscriptionPatch>(&body)?;
    let mut patch: serde_json::Value = parse(&body)?;
    let current: SubscriptionSpec = api_spec(&stored, &inner.sealer)?;
    let obj =
        patch.as_object_mut().ok_or_else(|| ControlError::BadRequest("the patch must be a JSON object".into()))?;
    if let Some(n) = obj.get("name").and_then(|v| v.as_str())
        && n != name
    {
        return Err(ControlError::Invalid(vec![Problem::new(
            "name",
            "cannot change; create a new subscription instead",
        )]));
    }
    let signing_secret = match obj.remove("signing_secret") {
        None => current.signing_secret.clone(),
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => None,
    };
    let mut secret_headers = current.secret_headers.clone();
    if let Some(serde_json::Value::Object(m)) = obj.remove("secret_headers") {
        for (k, v) in m {
            match v {
                serde_json::Value::String(s) => secret_headers.insert(k, s),
                _ => secret_headers.remove(&k),
            };
        }
    }
    let mut base =
        serde_json::to_value(SubscriptionInput::of(&current)).map_err(|e| ControlError::Internal(e.to_string()))?;
    merge_patch(&mut base, &patch);
    // A schema is replaced whole: merging two schemas key by key would give one nobody wrote.
    if let Some(schema) = patch.get("output_schema") {
        base["output_schema"] = schema.clone();
    }
    let mut input: SubscriptionInput =
        serde_json::from_value(base).map_err(|e| ControlError::Invalid(vec![Problem::new("body", e.to_string())]))?;
    input.signing_secret = signing_secret;
    input.secret_headers = secret_headers;
    let (mut config, start) = validate::check(&inner.config, &inner.guard, &input).map_err(ControlError::Invalid)?;
    strip(&mut config);
    let sealed = seal_all(&inner, &name, &stored.generation, &input)?;
    let next = StoredSubscription {
        version: stored.version + 1,
        paused: input.paused,
        start,
        config,
        signing_secret: sealed.signing,
        secret_headers: sealed.headers,
        sealed: sealed.others,
        updated_at: OffsetDateTime::now_utc(),
        ..stored.clone()
    };
    update(&inner, &next, stored.version).await?;
    tracing::info!(subscription = %name, version = next.version, "subscription changed");
    Ok(Json(view_after_write(&inner, &name).await?))
}

async fn update(inner: &Inner, next: &StoredSubscription, expected: u64) -> Result<(), ControlError> {
    match inner.store.update_subscription(next, expected).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(ControlError::VersionConflict(next.name.clone())),
        Err(e) => Err(store_err(e)),
    }
}

/// Stop delivering to it. Its dead letters stay listable; a later subscription with the same name
/// starts fresh (a new generation).
#[utoipa::path(operation_id = "delete_subscription", delete, path = "/api/v1/subscriptions/{name}", tag = "subscriptions", params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(State(inner): St, Path(name): Path<String>) -> Result<StatusCode, ControlError> {
    if config_managed(&inner, &name) {
        return Err(ControlError::ManagedByConfig(name));
    }
    if !inner.store.delete_subscription(&name).await.map_err(store_err)? {
        return Err(ControlError::not_found("subscription", name));
    }
    inner.refresh(true).await?;
    tracing::info!(subscription = %name, "subscription deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_paused(inner: &Inner, name: &str, paused: bool) -> Result<Json<SubscriptionView>, ControlError> {
    let stored = api_subscription(inner, name).await?;
    if stored.paused != paused {
        let next = StoredSubscription {
            version: stored.version + 1,
            paused,
            updated_at: OffsetDateTime::now_utc(),
            ..stored.clone()
        };
        update(inner, &next, stored.version).await?;
    }
    Ok(Json(view_after_write(inner, name).await?))
}

/// Hold delivery; the position is kept.
#[utoipa::path(operation_id = "pause_subscription", post, path = "/api/v1/subscriptions/{name}/pause", tag = "subscriptions", params(("name" = String, Path)),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pause(State(inner): St, Path(name): Path<String>) -> Result<Json<SubscriptionView>, ControlError> {
    set_paused(&inner, &name, true).await
}

/// Deliver again from where it paused.
#[utoipa::path(operation_id = "resume_subscription", post, path = "/api/v1/subscriptions/{name}/resume", tag = "subscriptions", params(("name" = String, Path)),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume(State(inner): St, Path(name): Path<String>) -> Result<Json<SubscriptionView>, ControlError> {
    set_paused(&inner, &name, false).await
}
