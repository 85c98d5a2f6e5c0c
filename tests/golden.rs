//! Golden tests: values built with the real Rust types (`CloudEvent::from_body`, `DeadLetter::new`) serialize
//! to JSON that validates against `schemas/`, and survive the round trips hookbus puts them through (Kafka
//! binary mode, JSON in retry tiers and dead-letter topics). The schemas were written separately from the
//! types, so these tests are where the two have to agree.

mod support;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use hookbus_core::{Attempt, AttemptOutcome, CloudEvent, DeadLetter, Decision, GiveUpReason};
use jsonschema::Validator;
use serde_json::{Value, json};
use support::schema;
use time::OffsetDateTime;

static CLOUDEVENT: LazyLock<Validator> = LazyLock::new(|| schema::validator("cloudevent"));
static DEAD_LETTER: LazyLock<Validator> = LazyLock::new(|| schema::validator("dead-letter"));

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn assert_valid(validator: &Validator, schema_name: &str, instance: &Value, what: &str) {
    let errors = schema::errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} does not validate against schemas/{schema_name}.json:\n  {}\ninstance: {instance:#}",
        errors.join("\n  ")
    );
}

fn event_json(event: &CloudEvent) -> Value {
    serde_json::to_value(event).expect("a CloudEvent serializes")
}

/// Validates `event` and checks it survives both round trips: JSON (retry tiers, dead letters) and Kafka
/// binary mode (`to_binary` -> `from_binary`, what ingress writes and the worker reads).
/// The body an event was built from (for data, its compact JSON; ingress passes the exact bytes).
fn body_of(event: &CloudEvent) -> Vec<u8> {
    use base64::Engine as _;
    match (&event.data, &event.data_base64) {
        (Some(v), _) => serde_json::to_vec(v).unwrap(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD.decode(b).unwrap(),
        (None, None) => Vec::new(),
    }
}

fn assert_golden_event(event: &CloudEvent, what: &str) {
    let json = event_json(event);
    assert_valid(&CLOUDEVENT, "cloudevent", &json, what);

    let back: CloudEvent = serde_json::from_value(json.clone()).expect("the JSON form deserializes");
    assert_eq!(&back, event, "{what}: JSON round trip changed the event");

    let binary = event.to_binary(&body_of(event));
    assert_eq!(binary.key, event.partitionkey.as_bytes(), "{what}: the record key is the partition key");
    let decoded = CloudEvent::from_binary(&binary.headers, &binary.value)
        .unwrap_or_else(|e| panic!("{what}: binary mode does not decode: {e}; headers {:?}", binary.headers));
    let decoded_json = event_json(&decoded);
    assert_valid(&CLOUDEVENT, "cloudevent", &decoded_json, &format!("{what} after binary mode"));
    assert_eq!(&decoded, event, "{what}: binary round trip changed the event");
    assert_eq!(decoded_json, json, "{what}: binary round trip changed the JSON form");
}

fn github_push() -> CloudEvent {
    let body = br#"{"ref":"refs/heads/main","repository":{"full_name":"octo-org/hello-world"},"commits":[{"id":"59b20b8","message":"Fix"}]}"#;
    CloudEvent::from_body(
        "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
        "github",
        "github.push".into(),
        Some("application/json"),
        body,
    )
}

// ---------------------------------------------------------------------------------------------------------
// CloudEvent envelope.

#[test]
fn json_body_event_is_valid_and_round_trips() {
    let event = github_push();
    assert!(event.data.is_some() && event.data_base64.is_none());
    assert_eq!(event.datacontenttype, "application/json");
    assert_golden_event(&event, "JSON body, no traceparent or subject");
}

#[test]
fn json_body_event_with_traceparent_subject_and_partition_key_is_valid_and_round_trips() {
    let mut event = github_push();
    event.traceparent = Some(TRACEPARENT.into());
    event.subject = Some("octo-org/hello-world".into());
    event.partitionkey = "octo-org/hello-world".into();
    let json = event_json(&event);
    assert_eq!(json["traceparent"], json!(TRACEPARENT));
    assert_eq!(json["subject"], json!("octo-org/hello-world"));
    assert_golden_event(&event, "JSON body with traceparent and subject");
}

#[test]
fn json_body_without_a_content_type_header_is_still_json() {
    let event =
        CloudEvent::from_body("evt_1".into(), "stripe", "stripe.invoice.paid".into(), None, br#"{"id":"evt_1"}"#);
    assert_eq!(event.datacontenttype, "application/json");
    assert_golden_event(&event, "JSON body without Content-Type");
}

#[test]
fn scalar_and_array_json_bodies_are_valid_and_round_trip() {
    for body in [&br#""text""#[..], b"42", b"-1.5", b"true", b"[1,2,{\"a\":null}]", b"{}", b" { \"spaced\" : 1 } "] {
        let what = format!("JSON body {:?}", String::from_utf8_lossy(body));
        let event = CloudEvent::from_body("id-1".into(), "acme", "acme.webhook".into(), Some("application/json"), body);
        assert!(event.data.is_some(), "{what} is data");
        assert_golden_event(&event, &what);
    }
}

#[test]
fn json_null_body_survives_the_json_round_trip() {
    // `null` is a JSON body, so it becomes `"data": null`, which the schema accepts (see tests/schemas.rs,
    // "data null is still data"). Dead letters and retry envelopes carry the event as JSON, so it must read
    // back as the same event, with `data` still present.
    let event =
        CloudEvent::from_body("id-null".into(), "acme", "acme.webhook".into(), Some("application/json"), b"null");
    assert_golden_event(&event, "JSON body `null`");
}

#[test]
fn non_json_body_event_is_base64_valid_and_round_trips() {
    let cases: [(&[u8], Option<&str>, &str); 7] = [
        (
            b"From=%2B15551234567&Body=Hi",
            Some("application/x-www-form-urlencoded"),
            "application/x-www-form-urlencoded",
        ),
        (b"plain text", Some("text/plain; charset=utf-8"), "text/plain; charset=utf-8"),
        (b"<xml/>", Some("application/xml"), "application/xml"),
        (b"\x00\xff\xfe binary", None, "application/octet-stream"),
        (b"ab", None, "application/octet-stream"),
        (b"abcd", None, "application/octet-stream"),
        (b"", Some("text/plain"), "text/plain"),
    ];
    for (body, content_type, expected_type) in cases {
        let what = format!("non-JSON body {:?} ({content_type:?})", String::from_utf8_lossy(body));
        let event = CloudEvent::from_body("SM123".into(), "twilio", "twilio.webhook".into(), content_type, body);
        assert!(event.data.is_none() && event.data_base64.is_some(), "{what}: carried as data_base64");
        assert_eq!(event.datacontenttype, expected_type, "{what}");
        assert_eq!(event.to_binary(body).value, body, "{what}: binary mode carries the raw bytes");
        assert_golden_event(&event, &what);
    }
}

#[test]
fn non_json_body_event_with_traceparent_and_subject_is_valid_and_round_trips() {
    let mut event = CloudEvent::from_body(
        "SM123".into(),
        "twilio",
        "twilio.webhook".into(),
        Some("application/x-www-form-urlencoded"),
        b"a=1&b=2",
    );
    event.traceparent = Some(TRACEPARENT.into());
    event.subject = Some("+15551234567".into());
    assert_golden_event(&event, "non-JSON body with traceparent and subject");
}

#[test]
fn a_malformed_content_type_header_still_gives_a_valid_envelope() {
    // The Content-Type comes from the client; ingress passes it to `from_body` as is (trimmed). Whatever a
    // signed request declares, the envelope hookbus stores must be valid.
    for content_type in ["text", "json", "application/", "/plain", "text plain"] {
        let event = CloudEvent::from_body("id-ct".into(), "acme", "acme.webhook".into(), Some(content_type), b"a=1");
        assert_valid(&CLOUDEVENT, "cloudevent", &event_json(&event), &format!("Content-Type {content_type:?}"));
    }
}

#[test]
fn a_non_json_body_declared_as_json_still_round_trips_through_binary_mode() {
    // A provider (or `hookbus sign`, which always says application/json) may label a non-JSON body as JSON.
    // `from_body` keeps it as data_base64; the record must still decode, or the worker skips it.
    let event = CloudEvent::from_body("id-x".into(), "acme", "acme.webhook".into(), Some("application/json"), b"a=1");
    assert!(event.data_base64.is_some());
    assert_golden_event(&event, "non-JSON body declared application/json");
}

#[test]
fn attributes_the_rust_type_cannot_carry_are_rejected_by_the_schema() {
    // The schema describes the envelope as hookbus writes it. An attribute the Rust type would drop on
    // redrive (an extension such as `tenant`) must not validate, so no valid dead letter can lose data.
    let mut instance = event_json(&github_push());
    instance["tenant"] = json!("t-1");
    assert!(!CLOUDEVENT.is_valid(&instance), "an unknown attribute validated: {instance}");
}

#[test]
fn the_schema_describes_exactly_the_rust_envelope_fields() {
    let mut full = github_push();
    full.subject = Some("s".into());
    full.traceparent = Some(TRACEPARENT.into());
    let mut rust: BTreeSet<String> = event_json(&full).as_object().unwrap().keys().cloned().collect();
    rust.insert("data_base64".into());
    let schema = schema::load_schema("cloudevent");
    let declared: BTreeSet<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(declared, rust, "schemas/cloudevent.json properties vs CloudEvent fields");
    let required: BTreeSet<String> =
        schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    let minimal = CloudEvent::from_body("i".into(), "s", "t".into(), None, b"{}");
    let always: BTreeSet<String> = event_json(&minimal).as_object().unwrap().keys().cloned().collect();
    let always: BTreeSet<String> = always.into_iter().filter(|k| k != "data").collect();
    assert_eq!(required, always, "required attributes vs the ones CloudEvent always writes");
}

// ---------------------------------------------------------------------------------------------------------
// Dead-letter records.

fn at(seconds_ago: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::seconds(seconds_ago)
}

fn attempt(number: u32, outcome: AttemptOutcome, decision: Decision) -> Attempt {
    Attempt {
        attempt: number,
        at: at(600 - i64::from(number) * 60),
        latency_ms: 40 + u64::from(number),
        outcome,
        decision,
        status: None,
        error: None,
        response_snippet: None,
        retry_after_ms: None,
    }
}

fn http_error(number: u32, status: u16, snippet: &str, decision: Decision) -> Attempt {
    Attempt {
        status: Some(status),
        response_snippet: Some(snippet.into()),
        ..attempt(number, AttemptOutcome::HttpError, decision)
    }
}

fn failed(number: u32, outcome: AttemptOutcome, error: &str, decision: Decision) -> Attempt {
    Attempt { error: Some(error.into()), ..attempt(number, outcome, decision) }
}

/// A realistic history for each reason. The match is exhaustive so a new reason must get one here.
fn history(reason: GiveUpReason) -> (Vec<Attempt>, String) {
    match reason {
        GiveUpReason::TransformError => {
            (Vec::new(), "jq: error (at <unknown>): Cannot index null with \"email\"".into())
        }
        GiveUpReason::PermanentFailure => (
            vec![http_error(1, 422, r#"{"error":"email is invalid"}"#, Decision::GiveUp)],
            "target answered 422 which retrying cannot fix".into(),
        ),
        GiveUpReason::RetriesExhausted => (
            vec![
                failed(1, AttemptOutcome::Timeout, "operation timed out after 10s", Decision::Retry),
                Attempt {
                    retry_after_ms: Some(30_000),
                    ..http_error(2, 503, "<html>Service Unavailable</html>", Decision::Retry)
                },
                http_error(3, 500, &"x".repeat(1024), Decision::GiveUp),
            ],
            "gave up after 3 attempts".into(),
        ),
        GiveUpReason::MaxAgeExceeded => (
            vec![
                failed(
                    1,
                    AttemptOutcome::ConnectError,
                    "tcp connect error: Connection refused (os error 111)",
                    Decision::Retry,
                ),
                failed(2, AttemptOutcome::OtherError, "invalid peer certificate: UnknownIssuer", Decision::GiveUp),
            ],
            "gave up after 2 attempts".into(),
        ),
        GiveUpReason::OutputSchema => {
            (Vec::new(), "output breaks schemas/contracts/crm-activity.json: /email: \"x\" is not a \"email\"".into())
        }
    }
}

const REASONS: [GiveUpReason; 5] = [
    GiveUpReason::PermanentFailure,
    GiveUpReason::RetriesExhausted,
    GiveUpReason::TransformError,
    GiveUpReason::MaxAgeExceeded,
    GiveUpReason::OutputSchema,
];

#[test]
fn dead_letter_for_every_reason_is_valid_and_round_trips() {
    for reason in REASONS {
        for (label, event) in [
            ("JSON event", {
                let mut e = github_push();
                e.traceparent = Some(TRACEPARENT.into());
                e
            }),
            (
                "base64 event",
                CloudEvent::from_body("SM1".into(), "twilio", "twilio.webhook".into(), Some("text/plain"), b"hi"),
            ),
        ] {
            // The worker dead-letters the event as it decoded it from the record.
            let binary = event.to_binary(&body_of(&event));
            let consumed = CloudEvent::from_binary(&binary.headers, &binary.value).expect("decodes");
            let (attempts, message) = history(reason);
            let what = format!("dead letter {} with {label} and {} attempts", reason.as_str(), attempts.len());
            let mut dl = DeadLetter::new("crm-activity", consumed, attempts, reason, message);
            if reason == GiveUpReason::OutputSchema {
                let message = "\"x\" is not a \"email\"".into();
                dl.violations = vec![hookbus_core::contract::Violation { path: "/email".into(), message }];
            }
            let json = serde_json::to_value(&dl).expect("serializes");
            assert_valid(&DEAD_LETTER, "dead-letter", &json, &what);
            assert_eq!(json["reason"], json!(reason.as_str()), "{what}: as_str matches serde");
            let back: DeadLetter = serde_json::from_value(json).expect("deserializes");
            assert_eq!(back, dl, "{what}: JSON round trip changed the record");
        }
    }
}

#[test]
fn dead_letter_enums_match_the_schema_exactly() {
    let schema = schema::load_schema("dead-letter");
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    let serialized = |values: Vec<Value>| -> BTreeSet<String> {
        values.into_iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };

    let reasons = serialized(REASONS.iter().map(|r| serde_json::to_value(r).unwrap()).collect());
    assert_eq!(names(&schema["properties"]["reason"]["enum"]), reasons, "reason");

    let outcomes = [
        AttemptOutcome::Delivered,
        AttemptOutcome::HttpError,
        AttemptOutcome::Timeout,
        AttemptOutcome::ConnectError,
        AttemptOutcome::OtherError,
    ];
    let outcomes = serialized(outcomes.iter().map(|o| serde_json::to_value(o).unwrap()).collect());
    assert_eq!(names(&schema["$defs"]["attempt"]["properties"]["outcome"]["enum"]), outcomes, "outcome");

    let decisions = [Decision::Delivered, Decision::Retry, Decision::GiveUp];
    let decisions = serialized(decisions.iter().map(|d| serde_json::to_value(d).unwrap()).collect());
    assert_eq!(names(&schema["$defs"]["attempt"]["properties"]["decision"]["enum"]), decisions, "decision");

    // And every field the schema declares is one the Rust types write, and the reverse.
    // (`violations` is written only when there are some, so the record here has them.)
    let (attempts, message) = history(GiveUpReason::RetriesExhausted);
    // One output of a fan-out (the only kind of dead letter with every optional field).
    let output = hookbus_core::MappedOutput { index: 1, count: 3, body: serde_json::json!({"sku": "a-1", "qty": 2.5}) };
    let mut dl = DeadLetter::new("s", github_push(), attempts, GiveUpReason::RetriesExhausted, message)
        .with_output(Some(output));
    dl.violations = vec![hookbus_core::contract::Violation { path: "/a".into(), message: "m".into() }];
    let json = serde_json::to_value(&dl).unwrap();
    assert_valid(&DEAD_LETTER, "dead-letter", &json, "a fan-out output's dead letter");
    let back: DeadLetter = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, dl, "round trip");
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    // A batch's dead letter carries its items instead of one output.
    let (attempts, message) = history(GiveUpReason::RetriesExhausted);
    let mut batch_dl = DeadLetter::new("s", github_push(), attempts, GiveUpReason::RetriesExhausted, message);
    let item = hookbus_core::BatchItem {
        id: "e-1:0".into(),
        event_id: "e-1".into(),
        event_type: "github.push".into(),
        body: serde_json::json!({"sku": "a-1"}),
    };
    batch_dl.batch = Some(hookbus_core::Batch { items: vec![item] });
    let batch_json = serde_json::to_value(&batch_dl).unwrap();
    assert_valid(&DEAD_LETTER, "dead-letter", &batch_json, "a batch's dead letter");
    assert_eq!(serde_json::from_value::<DeadLetter>(batch_json.clone()).unwrap(), batch_dl, "round trip");
    assert_eq!(keys(&schema["properties"]["batch"]["properties"]), keys(&batch_json["batch"]), "batch fields");
    let item_schema = &schema["properties"]["batch"]["properties"]["items"]["items"]["properties"];
    assert_eq!(keys(item_schema), keys(&batch_json["batch"]["items"][0]), "batch item fields");
    let written: BTreeSet<String> = keys(&json).union(&keys(&batch_json)).cloned().collect();
    assert_eq!(keys(&schema["properties"]), written, "dead-letter fields");
    assert_eq!(keys(&schema["properties"]["output"]["properties"]), keys(&json["output"]), "output fields");
    assert_eq!(keys(&schema["$defs"]["attempt"]["properties"]), keys(&json["attempts"][0]), "attempt fields");
}
