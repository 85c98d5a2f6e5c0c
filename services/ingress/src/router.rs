//! `POST /webhooks/{source}`: rate limit, size and media type, verify on the raw bytes, answer
//! handshakes, normalize, check the schema contract (reject with 422, or divert to the source's
//! quarantine topic), dedup, produce durably, answer 202. `GET /webhooks/{source}` answers the
//! `?hub.*` handshakes of the sources that list them.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use hookbus_broker::{Publisher, Record};
use hookbus_core::config::{Handshake, OnViolation};
use hookbus_core::contract::VIOLATIONS_HEADER;
use hookbus_core::live::{Rejection, RejectionSink};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::IngressError;
use crate::dedup::{Claim, Dedup};
use crate::handshake::{self, Answer};
use crate::limits::check_media_type;
use crate::metrics::{HandshakeLabels, IngressMetrics, RejectLabels, SourceLabel, ViolationLabels};
use crate::normalize::normalize;
use crate::source::Source;
use crate::verify::Inbound;

pub struct IngressState {
    pub sources: HashMap<String, Source>,
    pub publisher: Arc<dyn Publisher>,
    pub dedup: Arc<dyn Dedup>,
    pub metrics: IngressMetrics,
    pub max_body_bytes: usize,
    /// Told about every refused webhook of a configured source (the admin API shows the last ones);
    /// must not block. `hookbus_core::live::Discard` when there is no control plane.
    pub rejections: Arc<dyn RejectionSink>,
}

pub fn router(state: Arc<IngressState>) -> Router {
    // Every method reaches `receive`, so that a wrong one gets the JSON error shape like any other.
    Router::new().route("/webhooks/{source}", any(receive)).with_state(state)
}

async fn receive(
    State(st): State<Arc<IngressState>>,
    name: Result<Path<String>, PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // A segment that does not percent-decode to UTF-8 names no source.
    let name = name.map(|Path(n)| n).unwrap_or_else(|_| String::from("(undecodable)"));
    let span = tracing::info_span!("ingress", source = %name, event_id = tracing::field::Empty);
    let inbound_tp = headers.get("traceparent").and_then(|v| v.to_str().ok());
    hookbus_core::trace::set_parent(&span, inbound_tp);
    let result = accept(&st, &name, &method, &uri, &headers, body).instrument(span).await;
    match result {
        Ok(resp) => resp,
        Err(e) => {
            // Unknown names come from the URL: as labels they would let anyone grow the metric set.
            let source = if matches!(e, IngressError::UnknownSource(_)) { "(unknown)".to_owned() } else { name };
            let labels = RejectLabels { source, reason: e.code().to_owned() };
            st.metrics.rejected.get_or_create(&labels).inc();
            tracing::info!(code = e.code(), error = %e, "webhook rejected");
            if !matches!(e, IngressError::UnknownSource(_)) {
                let at = OffsetDateTime::now_utc();
                st.rejections.rejected(Rejection {
                    source: labels.source,
                    at,
                    code: labels.reason,
                    message: e.to_string(),
                });
            }
            e.into_response()
        }
    }
}

async fn accept(
    st: &IngressState,
    name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, IngressError> {
    let source = st.sources.get(name).ok_or_else(|| IngressError::UnknownSource(name.to_owned()))?;
    // Cheapest refusal first: a flood costs one token check per request, nothing more.
    if let Some(limiter) = &source.rate_limiter {
        limiter.check()?;
    }
    // Unsigned handshakes carried in the query (Meta and WebSub GET, Microsoft Graph POST). A
    // provider that delivers webhooks with GET (HubSpot workflow actions) has its GETs verified and
    // published like POSTs, unless one is a `?hub.mode=` handshake the source lists.
    let delivers_get = source.scheme.provider().delivers_get;
    if method == Method::GET || method == Method::HEAD {
        if let Some(answer) = (source.scheme.provider().get_handshake)(method.as_str(), headers, uri.query()) {
            return Ok(answered(st, name, answer));
        }
        let query_handshake = handshake::is_hub_request(&source.handshakes, uri.query());
        if !(delivers_get && method == Method::GET) || query_handshake {
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let answer = handshake::on_get(&source.handshakes, uri.query(), &source.secrets, now)?;
            return Ok(answered(st, name, answer));
        }
    } else if method != Method::POST {
        let get = delivers_get || source.handshakes.iter().any(|h| matches!(h, Handshake::Meta | Handshake::Websub));
        return Err(IngressError::MethodNotAllowed {
            method: method.to_string(),
            allow: if get { "GET, POST" } else { "POST" },
            hint: "webhooks are delivered with POST",
        });
    }
    if let Some(answer) = handshake::before_body(&source.handshakes, uri.query()) {
        return Ok(answered(st, name, answer));
    }
    let limit = st.max_body_bytes;
    // Refuse early on a declared length; otherwise stop reading at the limit.
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(IngressError::TooLarge { limit });
    }
    // A GET delivery has no body and so no media type.
    if method == Method::POST {
        check_media_type(&source.content_types, headers)?;
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        // The cause sits some levels down, each body wrapper adding one.
        let mut causes = std::iter::successors(std::error::Error::source(&e), |c| c.source());
        let cause =
            causes.find(|c| c.is::<http_body_util::LengthLimitError>() || c.is::<tower_http::timeout::TimeoutError>());
        if cause.is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            IngressError::TooLarge { limit }
        } else if cause.is_some() {
            IngressError::BodyTimeout
        } else {
            IngressError::BodyRead(e.to_string())
        }
    })?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let url = uri.to_string();
    if let Some(answer) = handshake::before_verify(&source.scheme, headers, &bytes) {
        return Ok(answered(st, name, answer));
    }
    let inbound = Inbound { method: method.as_str(), headers, body: &bytes, url: &url, now };
    let matched = source.scheme.verify(&inbound, &source.secrets, source.tolerance_secs)?;
    // Signed handshakes (Slack, Zoom, Twitch, Discord): answered only once the signature verified.
    if let Some(answer) = handshake::after_verify(&source.scheme, headers, &bytes, &matched.value)? {
        return Ok(answered(st, name, answer));
    }

    let (mut event, dedup_key) = normalize(source, headers, &bytes);
    let span = tracing::Span::current();
    span.record("event_id", event.id.as_str());
    // Without an OpenTelemetry layer the span has no context: keep the caller's, or start a trace,
    // so every delivery can still be correlated with its webhook.
    event.traceparent = hookbus_core::trace::traceparent(&span)
        .or_else(|| headers.get("traceparent").and_then(|v| v.to_str().ok()).and_then(hookbus_core::trace::valid))
        .or_else(|| Some(new_traceparent()));

    // The contract is checked before dedup claims the delivery id: a rejected event stored nothing,
    // so the provider's corrected retry under the same id must not count as a duplicate.
    let violations = source.contracts.check(&event);
    let quarantined = !violations.is_empty();
    if quarantined {
        let labels = ViolationLabels {
            source: name.to_owned(),
            r#type: event.ty.clone(),
            mode: source.on_violation.as_str().to_owned(),
        };
        st.metrics.violations.get_or_create(&labels).inc();
        if source.on_violation == OnViolation::Reject {
            return Err(IngressError::SchemaViolation { event_type: event.ty.clone(), violations });
        }
    }

    let key = dedup_key.map(|k| format!("{name}:{k}"));
    if let Some(k) = &key {
        match st.dedup.claim(k).await {
            Ok(Claim::New) => {}
            Ok(Claim::Done) => {
                st.metrics.duplicates.get_or_create(&SourceLabel { source: name.to_owned() }).inc();
                return Ok(accepted(&event.id, true));
            }
            Ok(Claim::InFlight) => return Err(IngressError::InFlight),
            // Fail open: a dedup outage may let a duplicate through (targets dedupe on the id),
            // but refusing would make providers pile up retries.
            Err(e) => tracing::warn!(error = %e, "dedup unavailable; accepting without dedup"),
        }
    }

    let mut record = Record::from_event(&event, &bytes, now * 1000);
    let topic = if quarantined {
        record.headers.push((VIOLATIONS_HEADER.to_owned(), serde_json::to_vec(&violations).unwrap_or_default()));
        &source.quarantine_topic
    } else {
        &source.topic
    };
    let started = Instant::now();
    let produced = st.publisher.publish(topic, record).await;
    st.metrics.produce_seconds.observe(started.elapsed().as_secs_f64());
    match produced {
        Ok(_) => {
            if let Some(k) = &key
                && let Err(e) = st.dedup.confirm(k, source.dedup_window).await
            {
                tracing::warn!(error = %e, "could not mark delivery id as seen");
            }
            st.metrics.accepted.get_or_create(&SourceLabel { source: name.to_owned() }).inc();
            if quarantined {
                tracing::warn!(event_type = %event.ty, %topic, violations = violations.len(), "quarantined: the data breaks its contract");
                return Ok(quarantined_answer(&event.id));
            }
            // Per-event lines at debug: at INFO, formatting and writing one line per webhook cost a
            // few percent of the accept path; `hookbus_ingress_accepted_total` counts them.
            tracing::debug!(event_type = %event.ty, %topic, "accepted");
            Ok(accepted(&event.id, false))
        }
        Err(e) => {
            if let Some(k) = &key {
                st.dedup.release(k).await;
            }
            Err(if e.is_transient() {
                IngressError::BrokerUnavailable(e.to_string())
            } else {
                IngressError::Internal(e.to_string())
            })
        }
    }
}

/// A handshake's answer: counted, logged, and nothing published.
fn answered(st: &IngressState, name: &str, answer: Answer) -> Response {
    let labels = HandshakeLabels { source: name.to_owned(), kind: answer.kind.to_owned() };
    st.metrics.handshakes.get_or_create(&labels).inc();
    tracing::info!(kind = answer.kind, "handshake answered");
    answer.into_response()
}

fn accepted(id: &str, duplicate: bool) -> Response {
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id, "duplicate": duplicate }))).into_response()
}

/// Stored, but in quarantine: the provider did its part; an operator releases the event.
fn quarantined_answer(id: &str) -> Response {
    let body = serde_json::json!({ "id": id, "duplicate": false, "quarantined": true });
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// A fresh sampled W3C traceparent.
fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}
