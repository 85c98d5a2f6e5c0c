//! `GET /series`: per-minute counts for charts: per subscription delivered and failed attempts,
//! per source accepted and rejected webhooks, over the last N minutes (default 60), one point per
//! minute (zeros included) so a client can draw them as they come.
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use axum::extract::State;

use super::St;
use super::extract::ApiQuery;
use crate::ControlError;
use crate::error::ErrorBody;
use crate::store::MinuteCount;

const DEFAULT_MINUTES: i64 = 60;
const MAX_MINUTES: i64 = 1440;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// How many minutes back, 1 to 1440 (default 60); the last point is the current minute.
    pub minutes: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionSeries {
    pub name: String,
    /// Delivered attempts per minute, oldest first.
    pub delivered: Vec<u64>,
    /// Attempts that did not deliver, per minute.
    pub failed: Vec<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceSeries {
    pub name: String,
    /// Webhooks accepted per minute, oldest first.
    pub accepted: Vec<u64>,
    /// Webhooks refused per minute.
    pub rejected: Vec<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Series {
    /// Start of the first minute.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    pub minutes: i64,
    /// Every live subscription, plus any with attempts in the window.
    pub subscriptions: Vec<SubscriptionSeries>,
    /// Every configured source.
    pub sources: Vec<SourceSeries>,
}

/// Dense per-minute columns for each of `names` (in order) and any other name in `counts`, from
/// minute `first` for `n` minutes. Pure, so the gap filling is unit-tested.
pub fn densify(names: &[String], counts: &[MinuteCount], first: i64, n: usize) -> Vec<(String, Vec<u64>, Vec<u64>)> {
    let mut out: Vec<(String, Vec<u64>, Vec<u64>)> =
        names.iter().map(|s| (s.clone(), vec![0; n], vec![0; n])).collect();
    for c in counts {
        let Some(i) = usize::try_from(c.minute - first).ok().filter(|i| *i < n) else { continue };
        let row = match out.iter().position(|r| r.0 == c.name) {
            Some(p) => p,
            None => {
                out.push((c.name.clone(), vec![0; n], vec![0; n]));
                out.len() - 1
            }
        };
        out[row].1[i] += c.ok;
        out[row].2[i] += c.failed;
    }
    out
}

/// Per-minute delivery and ingress counts for charts.
#[utoipa::path(operation_id = "get_series", get, path = "/api/v1/series", tag = "events", params(SeriesQuery),
    responses((status = 200, body = Series), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn series(State(inner): St, ApiQuery(q): ApiQuery<SeriesQuery>) -> Result<Json<Series>, ControlError> {
    let minutes = q.minutes.unwrap_or(DEFAULT_MINUTES);
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(ControlError::BadRequest(format!("`minutes` must be between 1 and {MAX_MINUTES}")));
    }
    let store_err = |e: crate::store::StoreError| ControlError::Store(e.to_string());
    let now_min = OffsetDateTime::now_utc().unix_timestamp().div_euclid(60);
    let first = now_min - minutes + 1;
    let start = OffsetDateTime::from_unix_timestamp(first * 60).map_err(|e| ControlError::Internal(e.to_string()))?;
    let set = inner.refresh(false).await?;
    let subs: Vec<String> = set.specs.iter().map(|s| s.name.clone()).collect();
    let attempts = inner.store.attempt_minutes(start).await.map_err(store_err)?;
    let sources: Vec<String> = inner.config.sources.keys().cloned().collect();
    let ingress = inner.store.source_minutes(start).await.map_err(store_err)?;
    let n = minutes as usize;
    Ok(Json(Series {
        start,
        minutes,
        subscriptions: densify(&subs, &attempts, first, n)
            .into_iter()
            .map(|(name, delivered, failed)| SubscriptionSeries { name, delivered, failed })
            .collect(),
        sources: densify(&sources, &ingress, first, n)
            .into_iter()
            .map(|(name, accepted, rejected)| SourceSeries { name, accepted, rejected })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, minute: i64, ok: u64, failed: u64) -> MinuteCount {
        MinuteCount { name: name.into(), minute, ok, failed }
    }

    #[test]
    fn fills_gaps_keeps_order_and_drops_minutes_outside() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let got = densify(&names, &[c("b", 101, 2, 1), c("z", 100, 5, 0), c("a", 99, 9, 9), c("a", 103, 1, 1)], 100, 3);
        assert_eq!(
            got,
            vec![
                ("a".to_owned(), vec![0, 0, 0], vec![0, 0, 0]),
                ("b".to_owned(), vec![0, 2, 0], vec![0, 1, 0]),
                ("z".to_owned(), vec![5, 0, 0], vec![0, 0, 0]),
            ]
        );
    }
}
