//! Schema contracts: JSON Schemas compiled once, and the pure check of a value against one. Ingress
//! checks an event's `data` against its source's contract for the event type; the worker checks a
//! transform's output against the subscription's output schema. Both report the same [`Violation`]s.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CloudEvent;
use crate::config::SchemaRef;

/// Most violations reported for one value: enough to fix a payload, small enough for a response
/// body and a record header.
pub const MAX_VIOLATIONS: usize = 20;

/// The record header (the CloudEvents extension `schemaviolations` in Kafka binary mode) that a
/// quarantined event carries: its violations as a JSON array of [`Violation`]s.
pub const VIOLATIONS_HEADER: &str = "ce_schemaviolations";

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) to the failing value; empty for the value as a whole.
    pub path: String,
    pub message: String,
}

/// A compiled JSON Schema and where it came from.
pub struct Schema {
    validator: jsonschema::Validator,
    origin: String,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("origin", &self.origin).finish()
    }
}

impl Schema {
    /// Compiles the referenced schema; formats (`date-time`, `email`, ...) are asserted, not just
    /// annotations, because a contract that lets a malformed date through protects nothing. No
    /// `$ref` is fetched over the network or from disk. `pattern`s run on the `regex` engine, in
    /// time linear in the input, since payloads come from the internet (a backtracking engine could
    /// be made to spin on a crafted string); lookaround and backreferences are therefore refused at
    /// compile time. The message names the file.
    pub fn compile(r: &SchemaRef) -> Result<Self, String> {
        let doc = r
            .document()
            .ok_or_else(|| format!("`{}` was not read; only Config::load reads schema files", r.origin()))?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(doc)
            .map_err(|e| format!("{} is not a valid JSON Schema: {e}", r.origin()))?;
        Ok(Self { validator, origin: r.origin().to_owned() })
    }

    /// The file path, or `inline schema`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every violation of `value`, at most [`MAX_VIOLATIONS`]; empty when it conforms.
    pub fn check(&self, value: &Value) -> Vec<Violation> {
        self.validator
            .iter_errors(value)
            .take(MAX_VIOLATIONS)
            .map(|e| Violation { path: e.instance_path.as_str().to_owned(), message: e.to_string() })
            .collect()
    }
}

/// A source's contracts: event type (exact, or a prefix ending in `*`) to schema.
#[derive(Debug, Default)]
pub struct Contracts {
    exact: BTreeMap<String, Schema>,
    /// Longest prefix first, so the most specific pattern wins.
    prefixes: Vec<(String, Schema)>,
}

impl Contracts {
    /// Compiles every contract; the error names the event-type pattern and the file.
    pub fn compile(map: &BTreeMap<String, SchemaRef>) -> Result<Self, (String, String)> {
        let mut out = Self::default();
        for (pattern, r) in map {
            let schema = Schema::compile(r).map_err(|m| (pattern.clone(), m))?;
            match pattern.strip_suffix('*') {
                Some(prefix) => out.prefixes.push((prefix.to_owned(), schema)),
                None => {
                    out.exact.insert(pattern.clone(), schema);
                }
            }
        }
        out.prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// The schema for `ty`: an exact pattern, else the longest matching prefix. None: no contract.
    pub fn for_type(&self, ty: &str) -> Option<&Schema> {
        self.exact.get(ty).or_else(|| self.prefixes.iter().find(|(p, _)| ty.starts_with(p.as_str())).map(|(_, s)| s))
    }

    /// The violations of the event's `data` against its type's contract; empty when it conforms or
    /// its type has none. A body that is not JSON cannot conform to a JSON Schema.
    pub fn check(&self, event: &CloudEvent) -> Vec<Violation> {
        let Some(schema) = self.for_type(&event.ty) else { return Vec::new() };
        match &event.data {
            Some(data) => schema.check(data),
            None => vec![Violation {
                path: String::new(),
                message: format!(
                    "the body is not JSON ({}), so it cannot match {}",
                    event.datacontenttype, schema.origin
                ),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn inline(v: Value) -> SchemaRef {
        SchemaRef::Inline(v)
    }

    fn event(ty: &str, body: &[u8]) -> CloudEvent {
        CloudEvent::from_body("id".into(), "s", ty.into(), None, body)
    }

    #[test]
    fn violations_point_at_the_failing_value() {
        let s = Schema::compile(&inline(json!({
            "type": "object",
            "required": ["ref"],
            "properties": {"ref": {"type": "string"}, "commits": {"type": "array", "items": {"required": ["id"]}}}
        })))
        .unwrap();
        assert!(s.check(&json!({"ref": "main", "commits": [{"id": "a"}]})).is_empty());
        let v = s.check(&json!({"commits": [{"id": "a"}, {}]}));
        let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths.len(), 2, "{v:?}");
        assert!(paths.contains(&"") && paths.contains(&"/commits/1"), "{v:?}");
        assert!(v.iter().any(|v| v.message.contains("\"ref\"")), "{v:?}");
    }

    #[test]
    fn formats_are_asserted_and_the_count_is_capped() {
        let s = Schema::compile(&inline(json!({"items": {"type": "string", "format": "date-time"}}))).unwrap();
        assert_eq!(s.check(&json!(["2026-01-01T00:00:00Z"])), vec![]);
        assert_eq!(s.check(&json!(["yesterday"]))[0].path, "/0");
        assert_eq!(s.check(&json!(vec![1; 50])).len(), MAX_VIOLATIONS);
    }

    #[test]
    fn patterns_run_in_linear_time_and_backtracking_only_syntax_is_refused() {
        let s = Schema::compile(&inline(json!({"pattern": "^(a+)+$"}))).unwrap();
        // Catastrophic for a backtracking engine; instant here.
        let started = std::time::Instant::now();
        assert_eq!(s.check(&json!(format!("{}!", "a".repeat(5000)))).len(), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
        assert!(Schema::compile(&inline(json!({"pattern": "(?=a)"}))).is_err(), "lookahead");
    }

    #[test]
    fn a_bad_schema_is_an_error_naming_its_origin() {
        let r = SchemaRef::File { path: "schemas/bad.json".into(), schema: Some(json!({"type": "strin"})) };
        let err = Schema::compile(&r).unwrap_err();
        assert!(err.contains("schemas/bad.json"), "{err}");
        let unread = SchemaRef::File { path: "x.json".into(), schema: None };
        assert!(Schema::compile(&unread).unwrap_err().contains("x.json"));
    }

    #[test]
    fn exact_types_win_over_prefixes_and_longer_prefixes_over_shorter() {
        let map = BTreeMap::from([
            ("stripe.*".to_owned(), inline(json!({"required": ["a"]}))),
            ("stripe.customer.*".to_owned(), inline(json!({"required": ["b"]}))),
            ("stripe.customer.deleted".to_owned(), inline(json!(true))),
        ]);
        let c = Contracts::compile(&map).unwrap();
        let body = br#"{"x": 1}"#;
        assert!(c.check(&event("stripe.customer.deleted", body)).is_empty());
        assert!(c.check(&event("stripe.customer.created", body))[0].message.contains("\"b\""));
        assert!(c.check(&event("stripe.invoice.paid", body))[0].message.contains("\"a\""));
        assert!(c.check(&event("github.push", body)).is_empty(), "no contract, no check");
        let not_json = c.check(&event("stripe.invoice.paid", b"a=1"));
        assert!(not_json[0].message.contains("not JSON"), "{not_json:?}");
    }

    #[test]
    fn compile_errors_name_the_pattern() {
        let map = BTreeMap::from([("github.push".to_owned(), inline(json!({"minLength": -1})))]);
        let (pattern, _) = Contracts::compile(&map).unwrap_err();
        assert_eq!(pattern, "github.push");
    }
}
