//! `POST /mapping/check`: compiles a filter and a transform and names every error with its line
//! and column, for editors that check as the user types. Runs nothing.
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiJson;
use crate::error::ErrorBody;
use crate::validate::jq_problems;
use crate::{ControlError, Problem};

/// Longest program checked; longer ones are refused rather than compiled.
const MAX_PROGRAM: usize = 64 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingCheckInput {
    pub filter: Option<String>,
    pub transform: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingCheckOutput {
    /// True when both compile.
    pub ok: bool,
    /// Compile errors, with `field` (`filter` or `transform`), `line` and `column`.
    pub problems: Vec<Problem>,
}

/// Compile a filter and a transform without running them.
#[utoipa::path(operation_id = "check_mapping", post, path = "/api/v1/mapping/check", tag = "mapping", request_body = MappingCheckInput,
    responses((status = 200, body = MappingCheckOutput), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check(ApiJson(input): ApiJson<MappingCheckInput>) -> Result<Json<MappingCheckOutput>, ControlError> {
    let long = |f: &str, v: &Option<String>| {
        v.as_ref()
            .is_some_and(|p| p.len() > MAX_PROGRAM)
            .then(|| Problem::new(f, format!("longer than {MAX_PROGRAM} bytes")))
    };
    let too_long: Vec<Problem> =
        [long("filter", &input.filter), long("transform", &input.transform)].into_iter().flatten().collect();
    if !too_long.is_empty() {
        return Err(ControlError::Invalid(too_long));
    }
    let problems = jq_problems(input.filter.as_deref(), input.transform.as_deref());
    Ok(Json(MappingCheckOutput { ok: problems.is_empty(), problems }))
}
