//! Compile errors with positions, runtime errors with jq's text.

use super::{apply, push_event};
use crate::{Mapping, MappingError, Program};
use serde_json::json;

/// Unwrap a compile error into (program, line, column, message).
fn compile_err(filter: Option<&str>, transform: Option<&str>) -> (Program, usize, usize, String) {
    match Mapping::compile(filter, transform) {
        Err(MappingError::Compile { program, line, column, message }) => (program, line, column, message),
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn compile_error_position_on_one_line() {
    let (program, line, column, message) = compile_err(None, Some("{a: }"));
    assert_eq!((program, line, column), (Program::Transform, 1, 5));
    assert_eq!(message, "expected term, found `}`");
}

#[test]
fn compile_error_position_on_second_line() {
    let program = "{email: .data.pusher.email,\n  list: }";
    let (_, line, column, message) = compile_err(None, Some(program));
    assert_eq!((line, column), (2, 9));
    assert!(message.contains("`}`"), "{message}");
}

#[test]
fn compile_error_column_counts_characters_not_bytes() {
    // "é" is two bytes; the `}` is still the 10th character.
    let (_, line, column, _) = compile_err(None, Some(r#""é" | {a: }"#));
    assert_eq!((line, column), (1, 11));
}

#[test]
fn compile_error_names_the_filter_program() {
    let (program, line, column, message) = compile_err(Some(". | | ."), Some("."));
    assert_eq!((program, line, column), (Program::Filter, 1, 5));
    assert_eq!(message, "expected term, found `|`");
}

#[test]
fn unclosed_delimiter_reports_end_and_opening() {
    let (_, line, column, message) = compile_err(None, Some("[1,\n 2"));
    assert_eq!((line, column), (2, 3));
    assert!(message.contains("closing bracket"), "{message}");
    assert!(message.contains("unclosed `[` at line 1, column 1"), "{message}");
}

#[test]
fn undefined_filter_and_variable() {
    let (_, line, column, message) = compile_err(None, Some(".data | frobnicate(1)"));
    assert_eq!((line, column), (1, 9));
    assert_eq!(message, "undefined filter `frobnicate/1`");
    let (_, _, column, message) = compile_err(None, Some(". as $x | $y"));
    assert_eq!(column, 11);
    assert_eq!(message, "undefined variable `$y`");
}

#[test]
fn module_loading_and_inputs_are_not_available() {
    let (_, _, _, message) = compile_err(None, Some(r#"import "x" as x; ."#));
    assert!(message.contains("not supported"), "{message}");
    let (_, _, _, message) = compile_err(None, Some("input"));
    assert_eq!(message, "undefined filter `input/0`");
}

#[test]
fn compile_error_display_and_code() {
    let err = Mapping::compile(None, Some("{a: }")).unwrap_err();
    assert_eq!(err.code(), "mapping_compile_error");
    assert_eq!(err.to_string(), "transform does not compile: line 1, column 5: expected term, found `}`");
}

#[test]
fn runtime_error_from_error_builtin() {
    let err = apply(None, Some(r#"error("no email on " + .id)"#), &push_event()).unwrap_err();
    assert_eq!(
        err,
        MappingError::Runtime { program: Program::Transform, message: "no email on 01J9Z7X3V2W8Q4M6N5P0R1S2T3".into() }
    );
    assert_eq!(err.code(), "mapping_runtime_error");
    assert!(err.to_string().starts_with("transform failed: no email on"));
}

#[test]
fn runtime_error_from_indexing_a_number() {
    let event = json!({"type": "x", "data": 42});
    match apply(Some(".data.pusher"), None, &event).unwrap_err() {
        MappingError::Runtime { program, message } => {
            assert_eq!(program, Program::Filter);
            assert_eq!(message, r#"cannot index 42 with "pusher""#);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn try_catch_recovers_runtime_errors() {
    let out = apply(None, Some(r#"try error("x") catch ("caught " + .)"#), &push_event());
    assert_eq!(out.unwrap(), Some(json!("caught x")));
}

#[test]
fn halt_is_an_error_not_a_process_exit() {
    // jaq_core::unwrap_valr would call std::process::exit here.
    for program in ["halt", r#""bye" | halt_error(3)"#] {
        let err = apply(None, Some(program), &push_event()).unwrap_err();
        assert_eq!(err.code(), "mapping_runtime_error", "{program}");
        assert!(err.to_string().contains("halt"), "{program}: {err}");
    }
}

#[test]
fn non_string_object_keys_cannot_be_delivered() {
    let err = apply(None, Some("{(1): 2}"), &push_event()).unwrap_err();
    assert_eq!(
        err,
        MappingError::Runtime { program: Program::Transform, message: "object keys must be strings, got 1".into() }
    );
}

#[test]
fn deeply_nested_programs_are_refused_not_crashed_on() {
    for code in [
        format!("{}.{}", "(".repeat(1000), ")".repeat(1000)),
        format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
        "if true then ".repeat(500) + "1" + &" else 0 end".repeat(500),
        "1 + ".repeat(20_000) + "1",
    ] {
        let err = Mapping::compile(None, Some(&code)).unwrap_err();
        assert_eq!(err.code(), "mapping_compile_error", "{err}");
    }
    let ok = format!("{}.{}", "(".repeat(100), ")".repeat(100));
    assert!(Mapping::compile(None, Some(&ok)).is_ok(), "ordinary nesting still compiles");
}

#[test]
fn the_largest_accepted_programs_compile_and_run_on_a_small_stack() {
    // At the bounds, chains of operators, pipes and paths must not exhaust a 2 MiB stack, even in a
    // debug build; beyond them the program is refused.
    for code in ["1 + ".repeat(120) + "1", ". | ".repeat(120) + ".", ".a".repeat(250), "1, ".repeat(250) + "1"] {
        let run = code.clone();
        let result = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || Mapping::compile(None, Some(&run)).map(|m| m.apply(&json!({"a": null})).is_ok()))
            .unwrap()
            .join();
        assert!(matches!(result, Ok(Ok(_))), "accepted and survived: {}", &code[..20]);
    }
    for code in ["1 + ".repeat(300) + "1", ".a".repeat(300)] {
        assert!(Mapping::compile(None, Some(&code)).is_err(), "refused: {}", &code[..20]);
    }
}
