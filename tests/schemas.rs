//! The JSON Schemas in `schemas/` are valid draft 2020-12, every example in `schemas/examples/` validates
//! against the schema its name says (`cloudevent.*.json`, `dead-letter.*.json`, ...), and every example
//! in `schemas/examples/invalid/` is rejected, for the reason it was written to show.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::schema::{self, DRAFT_2020_12};

/// Why each invalid example must fail: (file, instance path of an expected error, text in its message).
/// Files not listed here only have to fail; listed files must exist.
const INVALID_BECAUSE: &[(&str, &str, &str)] = &[
    ("cloudevent.missing-id.json", "", "\"id\" is a required property"),
    ("cloudevent.both-data-and-data-base64.json", "", "oneOf"),
    ("cloudevent.bad-extension-name.json", "", "partition_key"),
    ("cloudevent.time-not-rfc3339.json", "/time", "date-time"),
    ("dead-letter.unknown-reason.json", "/reason", "target_unreachable"),
    ("dead-letter.no-attempts-retries-exhausted.json", "/attempts", "less than 1 item"),
    ("dead-letter.event-missing-partitionkey.json", "/event", "\"partitionkey\" is a required property"),
];

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn valid_examples() -> Vec<PathBuf> {
    schema::json_files_in(&schema::examples_dir())
}

fn invalid_examples() -> Vec<PathBuf> {
    schema::json_files_in(&schema::examples_dir().join("invalid"))
}

/// The schema an example names, checked to exist.
fn schema_for(example: &Path) -> String {
    let name = schema::schema_name_for_example(example);
    assert!(
        schema::schema_path(&name).is_file(),
        "{} names schema `{name}`, but schemas/{name}.json does not exist; name examples <schema>.<case>.json",
        example.display()
    );
    name
}

#[test]
fn every_schema_is_valid_draft_2020_12_with_an_id_matching_its_path() {
    let files = schema::schema_files();
    for required in ["cloudevent.json", "dead-letter.json"] {
        assert!(files.iter().any(|f| f == &schema::schemas_dir().join(required)), "schemas/{required} is missing");
    }
    for path in files {
        let schema = schema::load_json(&path);
        assert_eq!(
            schema.get("$schema").and_then(Value::as_str),
            Some(DRAFT_2020_12),
            "{} must declare draft 2020-12",
            path.display()
        );
        if let Err(error) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("{} is not a valid draft 2020-12 schema: {error} (at {})", path.display(), error.instance_path);
        }
        assert_eq!(
            schema.get("$id").and_then(Value::as_str),
            Some(schema::expected_id(&path).as_str()),
            "{}: `$id` must match the file's place under schemas/ so relative $refs resolve",
            path.display()
        );
        // Compiling also checks every $ref resolves offline and every pattern and format is known.
        schema::compile(&schema, &path);
    }
}

#[test]
fn valid_examples_validate() {
    let examples = valid_examples();
    assert!(examples.len() >= 3, "expected at least 3 examples in schemas/examples, found {}", examples.len());
    for required in ["cloudevent", "dead-letter"] {
        assert!(
            examples.iter().any(|e| schema::schema_name_for_example(e) == required),
            "no valid example for schemas/{required}.json"
        );
    }
    let mut failures = Vec::new();
    for example in &examples {
        let validator = schema::validator(&schema_for(example));
        let errors = schema::errors(&validator, &schema::load_json(example));
        if !errors.is_empty() {
            failures.push(format!("{}:\n    {}", file_name(example), errors.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "examples that should be valid are not:\n  {}", failures.join("\n  "));
}

#[test]
fn invalid_examples_are_rejected_for_the_documented_reason() {
    let examples = invalid_examples();
    assert!(examples.len() >= 3, "expected at least 3 examples in schemas/examples/invalid, found {}", examples.len());
    for (file, _, _) in INVALID_BECAUSE {
        assert!(
            examples.iter().any(|e| file_name(e) == *file),
            "schemas/examples/invalid/{file} is listed in INVALID_BECAUSE but does not exist"
        );
    }
    let mut failures = Vec::new();
    for example in &examples {
        let name = file_name(example);
        let validator = schema::validator(&schema_for(example));
        let errors = schema::errors(&validator, &schema::load_json(example));
        if errors.is_empty() {
            failures.push(format!("{name} validates, but it is in invalid/"));
            continue;
        }
        if let Some((_, at, text)) = INVALID_BECAUSE.iter().find(|(file, _, _)| *file == name) {
            let at = if at.is_empty() { "/" } else { at };
            let wanted = errors.iter().any(|e| e.starts_with(&format!("{at}: ")) && e.contains(text));
            if !wanted {
                failures.push(format!(
                    "{name} fails, but not with an error at {at} mentioning {text:?}; got:\n    {}",
                    errors.join("\n    ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n  "));
}

/// Targeted rules of the envelope schema, as mutations of the GitHub push example.
#[test]
fn cloudevent_attribute_rules() {
    let validator = schema::validator("cloudevent");
    let base = schema::load_json(&schema::examples_dir().join("cloudevent.github-push.json"));
    assert!(validator.is_valid(&base), "the base example must be valid");

    let with = |key: &str, value: Value| {
        let mut event = base.clone();
        event[key] = value;
        event
    };
    let without = |key: &str| {
        let mut event = base.clone();
        event.as_object_mut().unwrap().remove(key);
        event
    };
    let cases: Vec<(&str, Value, bool)> = vec![
        ("specversion 0.3", with("specversion", json!("0.3")), false),
        ("empty id", with("id", json!("")), false),
        ("source with another scheme", with("source", json!("https://github.com/acme-corp")), false),
        ("source with a slash in the name", with("source", json!("hookbus://sources/git/hub")), false),
        ("empty type", with("type", json!("")), false),
        ("time with offset", with("time", json!("2025-11-24T17:42:07.5+01:00")), true),
        ("time without offset", with("time", json!("2025-11-24T16:42:07")), false),
        ("missing time", without("time"), false),
        ("missing datacontenttype", without("datacontenttype"), false),
        ("datacontenttype with parameters", with("datacontenttype", json!("application/json; charset=utf-8")), true),
        ("missing partitionkey", without("partitionkey"), false),
        ("empty partitionkey", with("partitionkey", json!("")), false),
        ("no subject", without("subject"), true),
        ("no traceparent", without("traceparent"), true),
        (
            "traceparent upper-case",
            with("traceparent", json!("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01")),
            false,
        ),
        ("traceparent short", with("traceparent", json!("00-4bf92f3577b34da6-00f067aa0ba902b7-01")), false),
        ("data null is still data", with("data", Value::Null), true),
        ("data a string", with("data", json!("plain")), true),
        ("neither data nor data_base64", without("data"), false),
        ("any extension attribute (hookbus writes none)", with("comexampleextension1", json!("x")), false),
        ("extension of 21 chars", with("comexampleextension12", json!("x")), false),
        ("extension with upper case", with("tenantId", json!("t-1")), false),
    ];
    let mut wrong = Vec::new();
    for (what, event, expected) in &cases {
        if validator.is_valid(event) != *expected {
            wrong.push(format!(
                "{what}: expected {}, got {:?}",
                if *expected { "valid" } else { "invalid" },
                schema::errors(&validator, event)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let base64 = |value: &str| {
        let mut event = without("data");
        event["data_base64"] = json!(value);
        event
    };
    assert!(validator.is_valid(&base64("aGVsbG8=")));
    assert!(validator.is_valid(&base64("")), "an empty body is valid base64");
    assert!(!validator.is_valid(&base64("aGVsbG8")), "unpadded base64 is rejected");
    assert!(!validator.is_valid(&base64("aGVs bG8=")), "whitespace is rejected");
    assert!(!validator.is_valid(&base64("aGVsbG8_")), "base64url alphabet is rejected");
}

/// Targeted rules of the dead-letter schema, as mutations of the 3 x HTTP 500 example.
#[test]
fn dead_letter_rules() {
    let validator = schema::validator("dead-letter");
    let base = schema::load_json(&schema::examples_dir().join("dead-letter.retries-exhausted-http-500.json"));
    assert!(validator.is_valid(&base), "the base example must be valid");

    let edit = |f: &dyn Fn(&mut Value)| {
        let mut record = base.clone();
        f(&mut record);
        record
    };
    let cases: Vec<(&str, Value, bool)> = vec![
        ("version 2", edit(&|r| r["version"] = json!(2)), false),
        ("subscription with a space", edit(&|r| r["subscription"] = json!("stripe invoices")), false),
        (
            "empty attempts, permanent_failure",
            edit(&|r| {
                r["attempts"] = json!([]);
                r["reason"] = json!("permanent_failure")
            }),
            false,
        ),
        (
            "empty attempts, max_age_exceeded",
            edit(&|r| {
                r["attempts"] = json!([]);
                r["reason"] = json!("max_age_exceeded")
            }),
            false,
        ),
        (
            "empty attempts, transform_error",
            edit(&|r| {
                r["attempts"] = json!([]);
                r["reason"] = json!("transform_error")
            }),
            true,
        ),
        (
            "empty attempts, output_schema",
            edit(&|r| {
                r["attempts"] = json!([]);
                r["reason"] = json!("output_schema");
                r["violations"] = json!([{"path": "/email_address", "message": "null is not of type \"string\""}]);
            }),
            true,
        ),
        ("violation without a path", edit(&|r| r["violations"] = json!([{"message": "x"}])), false),
        ("attempt 0", edit(&|r| r["attempts"][0]["attempt"] = json!(0)), false),
        ("negative latency", edit(&|r| r["attempts"][0]["latency_ms"] = json!(-1)), false),
        ("status 999 (reqwest accepts up to 999)", edit(&|r| r["attempts"][0]["status"] = json!(999)), true),
        ("status 1000", edit(&|r| r["attempts"][0]["status"] = json!(1000)), false),
        ("status 99", edit(&|r| r["attempts"][0]["status"] = json!(99)), false),
        ("http_error without status", edit(&|r| r["attempts"][0]["status"] = Value::Null), false),
        (
            "timeout with null status",
            edit(&|r| {
                r["attempts"][0]["outcome"] = json!("timeout");
                r["attempts"][0]["status"] = Value::Null;
                r["attempts"][0]["error"] = json!("request timed out after 10s");
            }),
            true,
        ),
        (
            "only required attempt fields",
            edit(&|r| {
                r["attempts"] = json!([{ "attempt": 1, "at": "2025-11-24T09:14:02Z", "latency_ms": 12,
                "outcome": "connect_error", "decision": "give_up" }]);
            }),
            true,
        ),
        ("unknown outcome", edit(&|r| r["attempts"][0]["outcome"] = json!("dns_error")), false),
        (
            "delivered outcome with retry decision",
            edit(&|r| {
                r["attempts"][0]["outcome"] = json!("delivered");
                r["attempts"][0]["status"] = json!(200);
            }),
            false,
        ),
        (
            "delivered decision on an http_error",
            edit(&|r| {
                r["attempts"][0]["outcome"] = json!("delivered");
                r["attempts"][0]["decision"] = json!("delivered");
                r["attempts"][1]["decision"] = json!("delivered");
            }),
            false,
        ),
        ("snippet of 1024 chars", edit(&|r| r["attempts"][0]["response_snippet"] = json!("x".repeat(1024))), true),
        ("snippet of 1025 chars", edit(&|r| r["attempts"][0]["response_snippet"] = json!("x".repeat(1025))), false),
        ("retry_after_ms set", edit(&|r| r["attempts"][0]["retry_after_ms"] = json!(30000)), true),
        ("unknown attempt field", edit(&|r| r["attempts"][0]["headers"] = json!({})), false),
        ("unknown record field", edit(&|r| r["redriven"] = json!(true)), false),
        ("dead_lettered_at not a date-time", edit(&|r| r["dead_lettered_at"] = json!("yesterday")), false),
        (
            "event with data_base64",
            edit(&|r| {
                r["event"].as_object_mut().unwrap().remove("data");
                r["event"]["data_base64"] = json!("eyJvayI6dHJ1ZX0=");
            }),
            true,
        ),
        ("event with a bad source", edit(&|r| r["event"]["source"] = json!("stripe")), false),
    ];
    let mut wrong = Vec::new();
    for (what, record, expected) in &cases {
        if validator.is_valid(record) != *expected {
            wrong.push(format!(
                "{what}: expected {}, got {:?}",
                if *expected { "valid" } else { "invalid" },
                schema::errors(&validator, record)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The sample contract under schemas/contracts/ accepts the payload of the README tour, so turning it
/// on in config.example.toml does not change what the tour shows; and it does refuse a broken push.
#[test]
fn the_sample_push_contract_accepts_the_tour_payload() {
    let push = schema::load_json(&schema::schemas_dir().join("../examples/github-push.json"));
    schema::assert_valid("contracts/github-push", &push, "examples/github-push.json");
    let validator = schema::validator("contracts/github-push");
    let mut broken = push.clone();
    broken["commits"][0]["id"] = json!("not-a-sha");
    broken.as_object_mut().unwrap().remove("ref");
    let errors = schema::errors(&validator, &broken);
    assert!(errors.iter().any(|e| e.starts_with("/commits/0/id: ")), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("/: ") && e.contains("\"ref\"")), "{errors:?}");
}

/// The sample output contract accepts what the sample `crm-activity` subscription makes of the tour's
/// push, so turning `output_schema` on in config.example.toml changes nothing the tour shows.
#[test]
fn the_sample_output_contract_accepts_the_tour_mapping() {
    let root = schema::schemas_dir().join("..");
    let config = hookbus_core::config::Config::load(&root.join("config.example.toml")).expect("sample config loads");
    let sub = &config.subscriptions["crm-activity"];
    let mapping = hookbus_mapping::Mapping::compile(sub.filter.as_deref(), sub.transform.as_deref()).unwrap();
    let body = std::fs::read(root.join("examples/github-push.json")).unwrap();
    let event = hookbus_core::CloudEvent::from_body("d-1".into(), "github", "github.push".into(), None, &body);
    let output = mapping.apply(&serde_json::to_value(&event).unwrap()).unwrap().expect("not filtered out");
    schema::assert_valid("contracts/crm-activity", &output, "the crm-activity mapping of examples/github-push.json");
    // And hookbus compiles every sample contract as it would from the config (its regex engine).
    for path in schema::json_files_in(&schema::schemas_dir().join("contracts")) {
        let r = hookbus_core::config::SchemaRef::Inline(schema::load_json(&path));
        let compiled =
            hookbus_core::contract::Schema::compile(&r).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if path.ends_with("crm-activity.json") {
            assert_eq!(compiled.check(&output), vec![], "the worker's check agrees");
        }
    }
}
