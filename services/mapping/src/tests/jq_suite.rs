//! Runs jq's own test file (tests/jq.test of the jqlang/jq repository) through the mapping crate's
//! compiler and standard library, and prints the pass rate. The file is not vendored: fetch it and
//! point HOOKBUS_JQ_TEST at it.
//!
//! ```text
//! HOOKBUS_JQ_TEST=/tmp/jq.test cargo test -p hookbus-mapping --lib jq_suite -- --ignored --nocapture
//! ```
//!
//! Format (as jq's own runner reads it): blank lines and `#` lines separate tests; a test is a
//! program line, an input line and the expected outputs up to the next blank or `#` line. A
//! `%%FAIL` line before the program means the program must not compile. As in jq's runner, an
//! error after all expected outputs were produced does not fail the test.
use crate::Program;
use crate::compile;
use crate::run::outputs;
use jaq_json::Val;

struct Case {
    line: usize,
    program: String,
    must_fail: bool,
    input: String,
    expected: Vec<String>,
}

fn parse(text: &str) -> Vec<Case> {
    let skip = |l: &str| l.trim().is_empty() || l.starts_with('#');
    let mut lines = text.lines().enumerate().peekable();
    let mut cases = Vec::new();
    while let Some((n, line)) = lines.next() {
        if skip(line) {
            continue;
        }
        let (must_fail, (n, program)) = if line.starts_with("%%FAIL") {
            match lines.next() {
                Some(next) => (true, next),
                None => break,
            }
        } else {
            (false, (n, line))
        };
        let mut body = Vec::new();
        while let Some((_, l)) = lines.peek() {
            if skip(l) {
                break;
            }
            body.push(lines.next().unwrap().1.to_owned());
        }
        let (input, expected) = if must_fail || body.is_empty() {
            (String::new(), Vec::new())
        } else {
            (body[0].clone(), body[1..].to_vec())
        };
        cases.push(Case { line: n + 1, program: program.to_owned(), must_fail, input, expected });
    }
    cases
}

fn value(text: &str) -> Result<Val, String> {
    jaq_json::read::parse_single(text.trim().as_bytes()).map_err(|e| format!("cannot parse {text:?}: {e}"))
}

/// `Ok(())` when the case passes, else why it failed.
fn check(case: &Case) -> Result<(), String> {
    let compiled = compile::compile(Program::Transform, &case.program);
    if case.must_fail {
        return match compiled {
            Err(_) => Ok(()),
            Ok(_) => Err("compiled, but jq refuses it".into()),
        };
    }
    let compiled = compiled.map_err(|e| format!("does not compile: {e}"))?;
    let input = value(&case.input)?;
    let mut outs = outputs(&compiled, input);
    for want in &case.expected {
        let want = value(want)?;
        match outs.next() {
            Some(Ok(got)) if got == want => {}
            Some(Ok(got)) => return Err(format!("expected {want}, got {got}")),
            Some(Err(e)) => return Err(format!("expected {want}, got error: {e}")),
            None => return Err(format!("expected {want}, got no more outputs")),
        }
    }
    match outs.next() {
        Some(Ok(extra)) => Err(format!("unexpected extra output {extra}")),
        _ => Ok(()),
    }
}

#[test]
#[ignore = "needs jq's tests/jq.test; set HOOKBUS_JQ_TEST to its path"]
fn jq_suite() {
    let Ok(path) = std::env::var("HOOKBUS_JQ_TEST") else {
        eprintln!("skipping: set HOOKBUS_JQ_TEST to the path of jq's tests/jq.test");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("HOOKBUS_JQ_TEST is readable");
    let cases = parse(&text);
    assert!(!cases.is_empty(), "no tests found in {path}");
    let mut failed = 0;
    for case in &cases {
        // A panic inside jaq counts as a failure of that case, not of the run.
        let result = std::panic::catch_unwind(|| check(case)).unwrap_or_else(|_| Err("panicked".into()));
        if let Err(why) = result {
            failed += 1;
            println!("FAIL line {}: {}\n    {why}", case.line, case.program);
        }
    }
    let passed = cases.len() - failed;
    println!("jq.test: {passed}/{} passed ({:.1}%)", cases.len(), 100.0 * passed as f64 / cases.len() as f64);
}
