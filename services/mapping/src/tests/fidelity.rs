//! Behaviour mappings rely on that differs between jaq and jq out of the box, fixed by
//! `prelude.jq` or by the crate (key order, refused imports). Found by running jq's own test file
//! (see `jq_suite.rs`).
use super::eval;
use crate::{Mapping, MappingError};
use serde_json::json;

/// Serialized as a target would receive it.
fn body(transform: &str, event: serde_json::Value) -> String {
    let mapping = Mapping::compile(None, Some(transform)).unwrap();
    serde_json::to_string(&mapping.apply(&event).unwrap().unwrap()).unwrap()
}

#[test]
fn objects_keep_the_order_they_are_built_in() {
    let event = json!({"a": "Bug", "b": "mona", "c": ["x"]});
    assert_eq!(body("{title: .a, owner: .b, labels: .c}", event), r#"{"title":"Bug","owner":"mona","labels":["x"]}"#);
}

#[test]
fn input_objects_keep_their_order_through_a_transform_and_without_one() {
    let event: serde_json::Value =
        serde_json::from_str(r#"{"data": {"zeta": 1, "alpha": 2, "mid": {"y": 1, "b": 2}}}"#).unwrap();
    assert_eq!(body(".data", event.clone()), r#"{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}"#);
    assert_eq!(
        body(".data + {added: true}", event.clone()),
        r#"{"zeta":1,"alpha":2,"mid":{"y":1,"b":2},"added":true}"#
    );
    let passthrough = Mapping::compile(None, None).unwrap().apply(&event).unwrap().unwrap();
    assert_eq!(serde_json::to_string(&passthrough).unwrap(), r#"{"data":{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}}"#);
}

#[test]
fn join_writes_null_as_empty_like_jq() {
    assert_eq!(
        eval(r#"[.first, .middle, .last] | join(" ")"#, json!({"first": "Ada", "last": "Lovelace"})),
        json!("Ada  Lovelace")
    );
    assert_eq!(eval(r#"join(",")"#, json!(["1", 2, true, null])), json!("1,2,true,"));
    assert_eq!(eval(r#"join(",")"#, json!([])), json!(""));
    let err = Mapping::compile(None, Some(r#"join(",")"#)).unwrap().apply(&json!(["a", {"b": 1}])).unwrap_err();
    assert!(matches!(err, MappingError::Runtime { .. }), "{err}");
}

#[test]
fn from_entries_accepts_jq_key_spellings() {
    let entries =
        json!([{"key": "a", "value": 1}, {"Key": "b", "Value": 2}, {"name": "c", "value": 3}, {"k": "d", "v": 4}]);
    assert_eq!(eval("from_entries", entries), json!({"a": 1, "b": 2, "c": 3, "d": 4}));
    assert_eq!(eval("from_entries", json!([{"key": 1, "value": "x"}])), json!({"1": "x"}));
}

#[test]
fn del_of_several_indices_removes_the_original_elements() {
    assert_eq!(eval("del(.[0, 2])", json!(["a", "b", "c", "d"])), json!(["b", "d"]));
    assert_eq!(eval("del(.[] | select(. == 2))", json!([1, 2, 3, 2])), json!([1, 3]));
    assert_eq!(eval("del(.a, .c)", json!({"a": 1, "b": 2, "c": 3})), json!({"b": 2}));
    assert_eq!(eval("del(.a.b)", json!({})), json!({}));
    assert_eq!(eval("del(.x[1])", json!({"x": [1, 2, 3]})), json!({"x": [1, 3]}));
}

#[test]
fn del_keeps_the_order_of_the_remaining_keys() {
    let event: serde_json::Value =
        serde_json::from_str(r#"{"a": 1, "b": 2, "c": 3, "d": {"x": 1, "y": 2, "z": 3}}"#).unwrap();
    assert_eq!(body("del(.a) | del(.d.x)", event), r#"{"b":2,"c":3,"d":{"y":2,"z":3}}"#);
}

#[test]
fn in_index_and_csv_helpers_exist() {
    assert_eq!(
        eval(
            r#"[.[] | select(.type | IN("a", "c")) | .n]"#,
            json!([{"type": "a", "n": 1}, {"type": "b", "n": 2}, {"type": "c", "n": 3}])
        ),
        json!([1, 3])
    );
    assert_eq!(eval("INDEX(.id) | keys", json!([{"id": 2}, {"id": 1}])), json!(["1", "2"]));
    assert_eq!(eval("@csv", json!(["a\"b", 1, null, true])), json!(r#""a""b",1,,true"#));
    assert_eq!(eval("@tsv", json!(["a\tb", "c\\d", 2])), json!("a\\tb\tc\\\\d\t2"));
    assert_eq!(eval(r#"@csv "row: \(.)""#, json!(["x"])), json!(r#"row: "x""#));
}

#[test]
fn imports_are_refused_at_compile_time_not_at_run_time() {
    for program in [r#"import "data" as $d; $d"#, r#"include "lib"; ."#, r#"import "m" as m; m::f"#] {
        let err = Mapping::compile(None, Some(program)).unwrap_err();
        assert!(
            matches!(&err, MappingError::Compile { line: 1, column: 1, message, .. } if message.contains("not supported")),
            "{program}: {err}"
        );
    }
}
