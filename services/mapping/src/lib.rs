//! # hookbus-mapping
//!
//! jq `filter` and `transform` programs for hookbus subscriptions, powered by
//! [jaq](https://github.com/01mf02/jaq) (a Rust jq clone).
//!
//! A subscription may declare two optional programs. Both receive the
//! CloudEvent envelope (`{id, source, type, time, data, ...}`) as input:
//!
//! * **filter**: the event is delivered when its *first* output is truthy
//!   (anything but `false` and `null`). No output at all drops the event.
//! * **transform**: must yield *exactly one* value, which becomes the body
//!   delivered downstream. Without a transform, the envelope itself is delivered.
//!
//! Programs are compiled once at config load into a [`Mapping`], which is
//! `Send + Sync`: put it in an `Arc` and share it across tokio tasks.
//! The full jaq standard library is available (`map`, `select`, `split`,
//! `ascii_downcase`, `to_entries`, `@base64`, `now`, regex, dates, ...).
//! `input`/`inputs`, `$ENV` and `import`/`include` are not: programs are
//! self-contained functions of the event.
//!
//! ## Example: only pushes, mapped to a mailing-list request
//!
//! ```
//! use hookbus_mapping::Mapping;
//! use serde_json::json;
//!
//! let mapping = Mapping::compile(
//!     Some(r#".type == "github.push""#),
//!     Some(r#"{email: .data.pusher.email, list: "devs", tags: [.data.commits[].id[0:7]]}"#),
//! )?;
//! let event = json!({
//!     "id": "1", "source": "github", "type": "github.push",
//!     "data": {"pusher": {"email": "ada@example.com"}, "commits": [{"id": "0123456789abcdef"}]}
//! });
//! assert_eq!(
//!     mapping.apply(&event)?,
//!     Some(json!({"email": "ada@example.com", "list": "devs", "tags": ["0123456"]}))
//! );
//! // Other event types are filtered out.
//! let other = json!({"id": "2", "source": "github", "type": "github.star", "data": {}});
//! assert_eq!(mapping.apply(&other)?, None);
//! # Ok::<(), hookbus_mapping::MappingError>(())
//! ```
//!
//! ## Example: errors carry a stable code and a position
//!
//! ```
//! use hookbus_mapping::{Mapping, MappingError, Program};
//!
//! let err = Mapping::compile(None, Some(".data\n| {a: }")).unwrap_err();
//! assert_eq!(err.code(), "mapping_compile_error");
//! assert!(matches!(
//!     err,
//!     MappingError::Compile { program: Program::Transform, line: 2, column: 7, .. }
//! ));
//!
//! // A transform must produce exactly one value.
//! let mapping = Mapping::compile(None, Some(".data.items[]"))?;
//! let event = serde_json::json!({"data": {"items": [1, 2, 3]}});
//! let err = mapping.apply(&event).unwrap_err();
//! assert_eq!(err.code(), "mapping_cardinality_error");
//! assert!(matches!(err, MappingError::Cardinality { outputs: 3 }));
//! # Ok::<(), MappingError>(())
//! ```
//!
//! ## Known limit: non-terminating programs
//!
//! Outputs are pulled lazily, so a generator that never ends is harmless
//! where only a bounded number of outputs is read: `repeat(1)` as a filter
//! reads one output and keeps the event; as a transform it fails with
//! [`MappingError::Cardinality`] after counting [`CARDINALITY_COUNT_LIMIT`]
//! outputs. But a program whose *single* output never completes, such as
//! `[repeat(1)]` in a transform (or `last(repeat(1))` anywhere), does not
//! terminate and will pin a worker thread: jaq has no fuel or timeout
//! mechanism. Review programs accordingly; this is a known limit.

mod compile;
mod error;
mod functions;
mod run;
mod template;

pub use error::{MappingError, Program};
pub use run::CARDINALITY_COUNT_LIMIT;
pub use template::{Escape, SecretLookup, Template};

use compile::Compiled;
use serde_json::Value;

/// Compiled once at config load; cheap to share (Send + Sync, put it in an Arc).
///
/// See the [crate documentation](crate) for semantics, examples and the
/// known limit on non-terminating programs (`[repeat(1)]` in a transform
/// never returns; jaq has no fuel or timeout).
pub struct Mapping {
    filter: Option<Compiled>,
    transform: Option<Compiled>,
}

// The worker shares one `Mapping` between tasks; fail the build, not the
// deployment, if a jaq upgrade (or losing jaq-json's `sync` feature) breaks it.
const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Mapping>();
};

impl std::fmt::Debug for Mapping {
    // The compiled lookup tables are huge and meaningless to print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("filter", &self.filter.is_some())
            .field("transform", &self.transform.is_some())
            .finish()
    }
}

impl Mapping {
    /// `filter`: keep the event when its first output is truthy (not false/null); no output = drop.
    /// `transform`: must yield exactly one value: the body delivered downstream.
    /// Both receive the CloudEvent envelope JSON (`{id, source, type, time, data, ...}`) as input.
    ///
    /// Fails with [`MappingError::Compile`] (1-based line/column) on syntax
    /// errors and undefined filters/variables.
    pub fn compile(filter: Option<&str>, transform: Option<&str>) -> Result<Mapping, MappingError> {
        Ok(Mapping {
            filter: filter.map(|code| compile::compile(Program::Filter, code)).transpose()?,
            transform: transform.map(|code| compile::compile(Program::Transform, code)).transpose()?,
        })
    }

    /// Ok(None) = filtered out. Ok(Some(v)) = deliver v (the envelope itself when there is no transform).
    ///
    /// Numbers round-trip: integers stay integers (including `u64` above
    /// `i64::MAX`), floats stay floats; NaN becomes `null` and infinities
    /// clamp to ±`f64::MAX`, as in jq. Note that `[repeat(1)]` in a transform
    /// would not terminate (no fuel/timeout in jaq); see the crate docs.
    pub fn apply(&self, event: &Value) -> Result<Option<Value>, MappingError> {
        if self.filter.is_none() && self.transform.is_none() {
            return Ok(Some(event.clone()));
        }
        let input = run::from_json(event).map_err(|e| MappingError::Runtime {
            // Cannot happen for a serde_json::Value, but never panic in the worker.
            program: if self.filter.is_some() { Program::Filter } else { Program::Transform },
            message: format!("cannot convert event to a jq value: {e}"),
        })?;
        if let Some(filter) = &self.filter {
            // Values are reference-counted, so this clone is cheap.
            if !run::keep(filter, input.clone())? {
                return Ok(None);
            }
        }
        match &self.transform {
            Some(transform) => run::transform(transform, input).map(Some),
            None => Ok(Some(event.clone())),
        }
    }

    /// Like [`apply`](Self::apply), for subscriptions that fan out: every output of the transform,
    /// in order, each to be delivered on its own. Empty when the filter drops the event or the
    /// transform produces nothing (`.items[]` of an empty list); the envelope alone without a
    /// transform. More than `max` outputs is [`MappingError::TooManyOutputs`].
    ///
    /// ```
    /// use hookbus_mapping::{Mapping, MappingError};
    /// let mapping = Mapping::compile(None, Some(".data.items[] | {sku: .}"))?;
    /// let event = serde_json::json!({"data": {"items": ["a", "b"]}});
    /// assert_eq!(mapping.apply_all(&event, 10)?, vec![serde_json::json!({"sku": "a"}), serde_json::json!({"sku": "b"})]);
    /// assert_eq!(mapping.apply_all(&event, 1), Err(MappingError::TooManyOutputs { max: 1 }));
    /// # Ok::<(), MappingError>(())
    /// ```
    pub fn apply_all(&self, event: &Value, max: usize) -> Result<Vec<Value>, MappingError> {
        let Some(transform) = &self.transform else {
            return Ok(self.apply(event)?.into_iter().collect());
        };
        let input = run::from_json(event).map_err(|e| MappingError::Runtime {
            program: Program::Transform,
            message: format!("cannot convert event to a jq value: {e}"),
        })?;
        if let Some(filter) = &self.filter
            && !run::keep(filter, input.clone())?
        {
            return Ok(Vec::new());
        }
        run::transform_all(transform, input, max)
    }

    /// Whether a filter program is configured.
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// Whether a transform program is configured.
    pub fn has_transform(&self) -> bool {
        self.transform.is_some()
    }
}

#[cfg(test)]
mod tests;
