//! Filter/transform semantics on realistic envelopes.

use super::{apply, push_event};
use crate::{CARDINALITY_COUNT_LIMIT, Mapping, MappingError};
use serde_json::{Value, json};
use std::sync::Arc;

#[test]
fn crm_email_mapping_from_github_push() {
    let out = apply(
        Some(r#".type == "github.push""#),
        Some(r#"{email: .data.pusher.email, list: "devs", tags: [.data.commits[].id[0:7]]}"#),
        &push_event(),
    )
    .unwrap();
    assert_eq!(
        out,
        Some(json!({
            "email": "Ada.Lovelace@Example.com",
            "list": "devs",
            "tags": ["9fceb02", "0123456"]
        }))
    );
}

#[test]
fn multi_line_transform_with_definitions() {
    let program = r#"
        def short: .[0:7];
        .data as $d
        | {
            email: ($d.pusher.email | ascii_downcase),
            branch: ($d.ref | split("/") | last),
            tags: [$d.commits[].id | short]
          }
    "#;
    let out = apply(None, Some(program), &push_event()).unwrap().unwrap();
    assert_eq!(out, json!({"email": "ada.lovelace@example.com", "branch": "main", "tags": ["9fceb02", "0123456"]}));
}

#[test]
fn no_programs_delivers_the_envelope() {
    assert_eq!(apply(None, None, &push_event()).unwrap(), Some(push_event()));
}

#[test]
fn filter_only_delivers_the_envelope_unchanged() {
    assert_eq!(apply(Some("true"), None, &push_event()).unwrap(), Some(push_event()));
}

#[test]
fn filter_keeps_on_truthy_first_output() {
    // Any value other than false/null is truthy, including 0, "" and [].
    for program in ["true", "0", r#""""#, "[]", "{}", ".data", "true, false"] {
        assert!(apply(Some(program), None, &push_event()).unwrap().is_some(), "{program} should keep");
    }
}

#[test]
fn filter_drops_on_false_null_or_no_output() {
    for program in ["false", "null", "empty", ".missing", "false, true", "select(false)"] {
        assert_eq!(apply(Some(program), None, &push_event()).unwrap(), None, "{program} should drop");
    }
}

#[test]
fn filter_on_event_type() {
    let mapping = Mapping::compile(Some(r#".type == "github.push""#), None).unwrap();
    assert!(mapping.apply(&push_event()).unwrap().is_some());
    let mut star = push_event();
    star["type"] = json!("github.star");
    assert_eq!(mapping.apply(&star).unwrap(), None);
}

#[test]
fn filtered_out_events_skip_the_transform() {
    // The transform would fail at runtime; it must not even run.
    let out = apply(Some("false"), Some(r#"error("unreachable")"#), &push_event());
    assert_eq!(out.unwrap(), None);
}

#[test]
fn transform_with_zero_outputs_is_a_cardinality_error() {
    let err = apply(None, Some(r#"select(.type == "nope")"#), &push_event()).unwrap_err();
    assert_eq!(err, MappingError::Cardinality { outputs: 0 });
    assert_eq!(err.code(), "mapping_cardinality_error");
}

#[test]
fn transform_with_many_outputs_is_a_cardinality_error() {
    let err = apply(None, Some(".data.commits[]"), &push_event()).unwrap_err();
    assert_eq!(err, MappingError::Cardinality { outputs: 2 });
    let err = apply(None, Some("1, 2, 3, 4, 5"), &push_event()).unwrap_err();
    assert_eq!(err, MappingError::Cardinality { outputs: 5 });
}

#[test]
fn runaway_generator_terminates_where_outputs_are_bounded() {
    // The filter only reads the first output.
    assert!(apply(Some("repeat(1)"), None, &push_event()).unwrap().is_some());
    // The transform counts up to the cap, then reports.
    let err = apply(None, Some("repeat(1)"), &push_event()).unwrap_err();
    assert_eq!(err, MappingError::Cardinality { outputs: CARDINALITY_COUNT_LIMIT });
    // `first` makes a generator usable as a transform.
    assert_eq!(apply(None, Some("first(repeat(7))"), &push_event()).unwrap(), Some(json!(7)));
}

#[test]
fn mapping_is_send_and_sync() {
    // Static assertion: this only compiles if the bound holds.
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Mapping>();
    assert_send_sync::<Arc<Mapping>>();
}

#[test]
fn shared_mapping_across_threads() {
    let mapping = Arc::new(Mapping::compile(Some(".data.n > 1"), Some(".data.n * 10")).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let mapping = Arc::clone(&mapping);
            std::thread::spawn(move || mapping.apply(&json!({"data": {"n": n}})).unwrap())
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, vec![None, None, Some(json!(20)), Some(json!(30))]);
}

#[test]
fn debug_does_not_dump_programs() {
    let mapping = Mapping::compile(Some("true"), None).unwrap();
    assert_eq!(format!("{mapping:?}"), "Mapping { filter: true, transform: false }");
    assert!(mapping.has_filter() && !mapping.has_transform());
}

#[test]
fn apply_all_fans_out_in_order_and_caps_the_outputs() {
    let event = push_event();
    let m = Mapping::compile(Some(r#".type == "github.push""#), Some(".data.commits[] | .id[0:7]")).unwrap();
    assert_eq!(m.apply_all(&event, 2).unwrap(), vec![json!("9fceb02"), json!("0123456")]);
    assert_eq!(m.apply_all(&event, 1), Err(MappingError::TooManyOutputs { max: 1 }));
    let other = json!({"type": "github.star", "data": {"commits": [{"id": "x"}]}});
    assert_eq!(m.apply_all(&other, 10).unwrap(), Vec::<Value>::new(), "filtered");
    let none = Mapping::compile(None, Some(".data.commits[] | select(.message == \"none\")")).unwrap();
    assert!(none.apply_all(&event, 10).unwrap().is_empty(), "no output is nothing to deliver");
    // An endless generator stops at the cap; a runtime error in any output fails the event.
    assert!(matches!(
        Mapping::compile(None, Some("repeat(1)")).unwrap().apply_all(&event, 5),
        Err(MappingError::TooManyOutputs { max: 5 })
    ));
    let broken = Mapping::compile(None, Some(".data.commits[] | .id | tonumber")).unwrap();
    assert_eq!(broken.apply_all(&event, 10).unwrap_err().code(), "mapping_runtime_error");
    let bare = Mapping::compile(None, None).unwrap();
    assert_eq!(bare.apply_all(&event, 1).unwrap(), vec![event.clone()], "no transform: the envelope itself");
}
