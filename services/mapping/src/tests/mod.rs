//! Unit tests, split by concern: end-to-end mapping semantics, error
//! reporting, and value/standard-library fidelity.

mod errors;
mod fidelity;
mod helpers;
mod jq_suite;
mod mapping;
mod values;

use crate::{Mapping, MappingError};
use serde_json::{Value, json};

/// A realistic normalized GitHub push envelope, as produced by ingress.
fn push_event() -> Value {
    json!({
        "specversion": "1.0",
        "id": "01J9Z7X3V2W8Q4M6N5P0R1S2T3",
        "source": "github/acme/web",
        "type": "github.push",
        "time": "2024-05-01T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "ref": "refs/heads/main",
            "pusher": {"name": "Ada", "email": "Ada.Lovelace@Example.com"},
            "commits": [
                {"id": "9fceb02d0ae598e95dc970b74767f19372d61af8", "message": "Fix bug"},
                {"id": "0123456789abcdef0123456789abcdef01234567", "message": "Add feature"}
            ]
        }
    })
}

/// Compile and apply in one go; panics on compile errors (tests of those
/// call `Mapping::compile` directly).
fn apply(filter: Option<&str>, transform: Option<&str>, event: &Value) -> Result<Option<Value>, MappingError> {
    Mapping::compile(filter, transform).expect("program compiles").apply(event)
}

/// Run a transform on `input` and return its single output.
fn eval(transform: &str, input: Value) -> Value {
    apply(None, Some(transform), &input)
        .unwrap_or_else(|e| panic!("{transform}: {e}"))
        .expect("transform without filter always delivers")
}
