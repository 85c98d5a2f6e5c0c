//! Output contracts: a subscription's output schema, checked on what the mapping produced before
//! anything is sent. Pure; `process` calls [`check`] in one place and dead-letters a violation with
//! reason `output_schema`.
use hookbus_core::contract::{Schema, Violation};
use serde_json::Value;

/// Why an output was refused: a summary for the dead letter's `message`, and every violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub message: String,
    pub violations: Vec<Violation>,
}

/// Checks `output` (the transform's output, or the envelope without a transform) against the
/// subscription's output schema; no schema, no check.
pub(crate) fn check(schema: Option<&Schema>, output: &Value) -> Result<(), Refused> {
    let Some(schema) = schema else { return Ok(()) };
    let violations = schema.check(output);
    if violations.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", if v.path.is_empty() { "(output)" } else { &v.path }, v.message))
        .collect();
    let message = format!("output breaks {}: {}", schema.origin(), listed.join("; "));
    Err(Refused { message, violations })
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemaRef;
    use serde_json::json;

    use super::*;

    #[test]
    fn an_output_breaking_the_schema_is_refused_with_every_path() {
        let schema = Schema::compile(&SchemaRef::Inline(json!({
            "type": "object",
            "required": ["email_address", "status"],
            "properties": {"email_address": {"type": "string", "format": "email"}}
        })))
        .unwrap();
        assert_eq!(check(Some(&schema), &json!({"email_address": "a@example.com", "status": "x"})), Ok(()));
        let refused = check(Some(&schema), &json!({"email_address": "not-an-email"})).unwrap_err();
        let paths: Vec<&str> = refused.violations.iter().map(|v| v.path.as_str()).collect();
        assert!(paths.contains(&"/email_address") && paths.contains(&""), "{refused:?}");
        assert!(refused.message.starts_with("output breaks inline schema: "), "{}", refused.message);
        assert!(
            refused.message.contains("/email_address") && refused.message.contains("status"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn without_a_schema_everything_passes() {
        assert_eq!(check(None, &json!(null)), Ok(()));
    }
}
