//! `GET /sources`: what a person setting up a provider needs: the URL to hand it, the scheme, when
//! the last webhook arrived, the last rejections with their reason, and its schema contracts.
use axum::Json;
use hookbus_core::config::OnViolation;
use hookbus_core::topics;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use axum::extract::State;

use super::St;
use crate::ControlError;
use crate::error::ErrorBody;

const REJECTIONS: usize = 10;

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionView {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The error code ingress answered, e.g. `signature_mismatch`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    pub name: String,
    /// Signature scheme, e.g. `github`, `stripe`, `hmac`.
    pub scheme: String,
    pub topic: String,
    /// The URL to give the provider: `public_url` when configured, else this node's listener.
    pub url: String,
    /// False when `url` was derived from `[server] listen` (set `public_url` behind a proxy).
    pub url_is_public: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_received_at: Option<OffsetDateTime>,
    /// Newest first.
    pub rejections: Vec<RejectionView>,
    /// Schema contracts, by event type pattern.
    pub contracts: Vec<ContractView>,
    /// `reject` (422) or `quarantine` (held in `quarantine_topic` until released).
    pub on_violation: String,
    /// Where events breaking a contract are held; null unless the source quarantines.
    pub quarantine_topic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractView {
    /// Exact CloudEvent type, or a prefix ending in `*`.
    pub event_type: String,
    /// The schema file (relative to the config file), or `inline schema`.
    pub schema: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// Every configured source.
#[utoipa::path(operation_id = "list_sources", get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, body = SourceList), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(inner): St) -> Result<Json<SourceList>, ControlError> {
    let store_err = |e: crate::store::StoreError| ControlError::Store(e.to_string());
    let mut sources = Vec::new();
    for (name, s) in &inner.config.sources {
        let scheme =
            serde_json::to_value(s.scheme).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let (url, url_is_public) = match &s.public_url {
            Some(u) => (u.clone(), true),
            None => (format!("http://{}/webhooks/{name}", inner.config.server.listen), false),
        };
        let rejections = inner.store.rejections(name, REJECTIONS).await.map_err(store_err)?;
        let quarantines = !s.contracts.is_empty() && s.on_violation == OnViolation::Quarantine;
        sources.push(SourceView {
            name: name.clone(),
            scheme,
            topic: inner.config.source_topic(name).to_owned(),
            url,
            url_is_public,
            last_received_at: inner.store.last_received(name).await.map_err(store_err)?,
            rejections: rejections
                .into_iter()
                .map(|r| RejectionView { at: r.at, code: r.code, message: r.message })
                .collect(),
            contracts: s
                .contracts
                .iter()
                .map(|(ty, r)| ContractView { event_type: ty.clone(), schema: r.origin().to_owned() })
                .collect(),
            on_violation: s.on_violation.as_str().to_owned(),
            quarantine_topic: quarantines.then(|| topics::quarantine(inner.prefix(), name)),
        });
    }
    Ok(Json(SourceList { sources }))
}
