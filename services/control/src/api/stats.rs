//! `GET /subscriptions/{name}/stats`: counts from the attempt log, latency percentiles of the last
//! five minutes.
use axum::Json;
use axum::extract::Path;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use axum::extract::State;

use super::St;
use crate::ControlError;
use crate::error::ErrorBody;

/// The window of the latency percentiles.
pub const WINDOW_SECS: u64 = 300;

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub subscription: String,
    pub generation: String,
    pub version: u64,
    pub paused: bool,
    /// Events delivered (within the retention period).
    pub delivered: u64,
    /// Attempts that did not deliver.
    pub failed: u64,
    pub dead_lettered: u64,
    pub filtered: u64,
    /// Events waiting for a scheduled retry.
    pub retrying: u64,
    /// Delivery latency percentiles over the last `window_secs`; null without attempts.
    pub latency_p50_ms: Option<u64>,
    pub latency_p99_ms: Option<u64>,
    pub window_secs: u64,
    /// Consumer lag, reported by the worker; null until it does.
    pub lag_records: Option<u64>,
    pub lag_seconds: Option<f64>,
    /// `closed`, `open` or `half_open`, reported by the worker; null until it does.
    pub circuit: Option<String>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Delivery counts and latency of one subscription (its current generation).
#[utoipa::path(operation_id = "subscription_stats", get, path = "/api/v1/subscriptions/{name}/stats", tag = "subscriptions", params(("name" = String, Path)),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn stats(State(inner): St, Path(name): Path<String>) -> Result<Json<Stats>, ControlError> {
    let set = inner.refresh(false).await?;
    let spec = set.get(&name).ok_or_else(|| ControlError::not_found("subscription", &name))?;
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(WINDOW_SECS as i64);
    let mut c =
        inner.store.counts(&name, &spec.generation, since).await.map_err(|e| ControlError::Store(e.to_string()))?;
    c.recent_latencies_ms.sort_unstable();
    // Lag and circuit come from this node's worker; null when it does not run the subscription.
    let health = inner.observations.health_of(&name, &spec.generation);
    Ok(Json(Stats {
        subscription: name,
        generation: spec.generation.clone(),
        version: spec.version,
        paused: spec.paused,
        delivered: c.delivered,
        failed: c.failed_attempts,
        dead_lettered: c.dead_lettered,
        filtered: c.filtered,
        retrying: c.retrying,
        latency_p50_ms: percentile(&c.recent_latencies_ms, 50.0),
        latency_p99_ms: percentile(&c.recent_latencies_ms, 99.0),
        window_secs: WINDOW_SECS,
        lag_records: health.as_ref().map(|h| h.lag_records),
        lag_seconds: health.as_ref().map(|h| h.lag_seconds),
        circuit: health.map(|h| h.circuit.as_str().to_owned()),
    }))
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
