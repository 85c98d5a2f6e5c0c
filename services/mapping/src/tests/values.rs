//! Standard library coverage and value fidelity across the serde_json <-> jaq
//! boundary (numbers, unicode).

use super::eval;
use serde_json::{Value, json};

#[test]
fn std_string_functions() {
    assert_eq!(eval("ascii_downcase", json!("Ada@Example.COM")), json!("ada@example.com"));
    assert_eq!(eval(r#"split(",")"#, json!("a,b,,c")), json!(["a", "b", "", "c"]));
    assert_eq!(eval("@base64", json!("hookbus")), json!("aG9va2J1cw=="));
    assert_eq!(eval("@base64d", json!("aG9va2J1cw==")), json!("hookbus"));
    assert_eq!(eval(r#"test("^gh-\\d+$")"#, json!("gh-42")), json!(true));
    assert_eq!(eval("ltrimstr(\"refs/heads/\")", json!("refs/heads/main")), json!("main"));
}

#[test]
fn std_collection_functions() {
    assert_eq!(eval("map(. * 2)", json!([1, 2, 3])), json!([2, 4, 6]));
    assert_eq!(
        eval("to_entries", json!({"a": 1, "b": "x"})),
        json!([{"key": "a", "value": 1}, {"key": "b", "value": "x"}])
    );
    assert_eq!(eval("with_entries(.value |= tostring)", json!({"a": 1})), json!({"a": "1"}));
    assert_eq!(eval("[.[] | select(. > 1)] | add", json!([1, 2, 3])), json!(5));
    assert_eq!(eval("sort_by(.n) | map(.n)", json!([{"n": 2}, {"n": 1}])), json!([1, 2]));
    assert_eq!(eval("length", json!({"a": 1, "b": 2})), json!(2));
}

#[test]
fn std_conversions_and_time() {
    assert_eq!(eval("tostring", json!({"a": [1, 2]})), json!(r#"{"a":[1,2]}"#));
    assert_eq!(eval("tostring", json!(42)), json!("42"));
    assert_eq!(eval("tonumber", json!("42")), json!(42));
    assert_eq!(eval("now | type", json!(null)), json!("number"));
    assert_eq!(eval("fromjson | .a", json!(r#"{"a": true}"#)), json!(true));
    assert_eq!(eval("todate", json!(1714564800)), json!("2024-05-01T12:00:00Z"));
}

#[test]
fn numbers_round_trip() {
    let two_53: u64 = 1 << 53;
    for n in [json!(0), json!(-1), json!(two_53), json!(1.5), json!(-0.25), json!(1e300)] {
        assert_eq!(eval(".", n.clone()), n, "identity on {n}");
        assert_eq!(eval("[.] | .[0]", n.clone()), n, "through an array: {n}");
    }
    // Integers stay integers (not 0.0 / -1.0), also in serialized form.
    assert_eq!(serde_json::to_string(&eval(".", json!(0))).unwrap(), "0");
    assert_eq!(serde_json::to_string(&eval(".", json!(-1))).unwrap(), "-1");
    assert_eq!(eval(". + 1", json!(two_53)), json!(two_53 + 1));
}

#[test]
fn large_integers_are_exact() {
    for n in [json!(i64::MIN), json!(i64::MAX), json!(u64::MAX)] {
        assert_eq!(eval(".", n.clone()), n);
    }
    // Integer arithmetic past i64 is promoted to a big integer by jaq.
    assert_eq!(eval(". + 1", json!(i64::MAX)), json!(i64::MAX as u64 + 1));
    // Beyond u64 JSON has no exact integer type: it becomes the nearest double.
    assert_eq!(eval("100000000000000000000000", json!(null)), json!(1e23));
}

#[test]
fn float_results_are_sensible() {
    assert_eq!(eval("1.5", json!(null)), json!(1.5));
    assert_eq!(eval(". / 4", json!(3)), json!(0.75));
    // jq maps NaN to null and infinities to the largest finite double.
    assert_eq!(eval("nan", json!(null)), Value::Null);
    assert_eq!(eval("infinite", json!(null)), json!(f64::MAX));
    assert_eq!(eval("-infinite", json!(null)), json!(f64::MIN));
    assert_eq!(eval("1e1000", json!(null)), json!(f64::MAX));
}

#[test]
fn unicode_round_trips() {
    let text = "Grüße, 世界! 👋🏽 \u{0}\t\"quoted\"";
    assert_eq!(eval(".", json!(text)), json!(text));
    let event = json!({"data": {"name": "Zoë 🦀", "城市": "東京"}});
    assert_eq!(eval(".data", event.clone()), event["data"]);
    // String functions count characters, not bytes.
    assert_eq!(eval(".data.name | length", event.clone()), json!(5));
    assert_eq!(eval(".data.name[0:3]", event.clone()), json!("Zoë"));
    assert_eq!(eval(r#"{"ключ": "значение"} | keys"#, json!(null)), json!(["ключ"]));
}
