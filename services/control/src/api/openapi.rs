//! The OpenAPI 3.1 document, generated from the handlers and types; committed as
//! schemas/openapi.json (a test fails when they differ).
use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{
    check, dead_letters, delivery, events, jobs, mapping, model, quarantine, series, sources, stats, subscriptions,
};
use crate::error::{ErrorBody, ErrorDetail};
use crate::{Problem, jobs as job_model};

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from [admin] tokens; `read` scope for GET, `write` to change. The console \
                         instead sends the session cookie from POST /console/session, with its \
                         X-CSRF-Token header on every POST, PATCH and DELETE.",
                    ))
                    .build(),
            ),
        );
        // Every operation that may answer 401 may also answer 429 once an address has failed to
        // authenticate too often (api/throttle.rs): documented once here rather than per handler.
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                if let Some(mut refused) = responses.get("401").cloned() {
                    if let utoipa::openapi::RefOr::T(r) = &mut refused {
                        r.description = "Too many wrong tokens from this address; see Retry-After".into();
                    }
                    responses.entry("429".into()).or_insert(refused);
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "hookbus admin API", description = "Subscriptions, the event index, delivery attempts, jobs and sources."),
    paths(
        subscriptions::create, subscriptions::list, subscriptions::show, subscriptions::patch, subscriptions::delete,
        subscriptions::pause, subscriptions::resume, stats::stats,
        events::list, events::show,
        jobs::retry, dead_letters::list, jobs::redrive, jobs::replay, jobs::show,
        sources::list, quarantine::list, quarantine::release, mapping::test, check::check, series::series,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, Problem,
        model::SubscriptionInput, model::SubscriptionPatch, model::SubscriptionView, model::SubscriptionList,
        model::RetryInput, model::BreakerInput, model::RetryView, model::BreakerView, model::ManagedBy,
        delivery::MethodInput, delivery::AuthInput, delivery::AuthView, delivery::DestinationInput,
        delivery::BatchInput,
        stats::Stats, events::EventPage, events::EventSummary, events::DeliveryStatus, events::EventDetail, events::DeliveryView,
        events::AttemptView, events::Header, jobs::Queued, jobs::RedriveInput, jobs::ReplayInput,
        job_model::Job, job_model::JobState, sources::SourceList, sources::SourceView, sources::RejectionView,
        mapping::MappingTestInput, mapping::LastEvents, mapping::MappingTestOutput, mapping::MappingResult,
        mapping::MappingFailure, dead_letters::DeadLetterList, dead_letters::DeadLetterView,
        check::MappingCheckInput, check::MappingCheckOutput,
        series::Series, series::SubscriptionSeries, series::SourceSeries,
        quarantine::ViolationView, quarantine::QuarantinedView, quarantine::QuarantineList, quarantine::ReleaseInput,
        quarantine::KeptView, quarantine::ReleaseReport, sources::ContractView,
    )),
    modifiers(&Bearer),
    tags(
        (name = "subscriptions", description = "Where events go, live: changes apply within a second."),
        (name = "events", description = "Accepted events and what happened to each."),
        (name = "jobs", description = "Deliver again: one event, dead letters, a time range."),
        (name = "sources", description = "Webhook sources, their recent rejections, schema contracts and quarantine."),
        (name = "mapping", description = "Dry runs of filters and transforms."),
    )
)]
struct Doc;

/// The document as pretty JSON with a trailing newline, exactly as committed.
pub fn document() -> String {
    let mut doc = Doc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

pub async fn serve() -> impl IntoResponse {
    let v: serde_json::Value = serde_json::from_str(&document()).unwrap_or_default();
    Json(v)
}
