//! Running compiled programs and converting values between serde_json and jaq.
//!
//! Outputs are pulled lazily from jaq's iterator and we never ask for more
//! than we need: the filter reads one output and the transform reads two
//! (plus a bounded count for the error message). That is what makes a runaway
//! generator such as `repeat(1)` terminate. A *single* output that never
//! finishes (`[repeat(1)]`, `last(repeat(1))`, `until(false; .)`) still does
//! not terminate: jaq has no fuel or timeout mechanism.

use crate::compile::{Compiled, Data};
use crate::{MappingError, Program};
use jaq_core::{Ctx, Exn, Vars};
use jaq_json::{Num, Val};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// How many transform outputs are counted before giving up; see
/// [`MappingError::Cardinality`]. Public so callers can recognise the cap.
pub const CARDINALITY_COUNT_LIMIT: usize = 1000;

/// Lazily run `prog` on `input`, turning jaq exceptions into messages.
pub(crate) fn outputs(prog: &Compiled, input: Val) -> impl Iterator<Item = Result<Val, String>> + '_ {
    let ctx = Ctx::<Data>::new(&prog.lut, Vars::new([]));
    prog.id.run((ctx, input)).map(|r| r.map_err(exn_message))
}

/// `Ok(true)` when the first output is truthy; no output drops the event.
pub(crate) fn keep(prog: &Compiled, input: Val) -> Result<bool, MappingError> {
    match outputs(prog, input).next() {
        None => Ok(false),
        Some(Ok(v)) => Ok(!matches!(v, Val::Null | Val::Bool(false))),
        Some(Err(message)) => Err(runtime(Program::Filter, message)),
    }
}

/// Exactly one output, converted back to JSON.
pub(crate) fn transform(prog: &Compiled, input: Val) -> Result<Value, MappingError> {
    let err = |message| runtime(Program::Transform, message);
    let mut outs = outputs(prog, input);
    let first = match outs.next() {
        None => return Err(MappingError::Cardinality { outputs: 0 }),
        Some(r) => r.map_err(err)?,
    };
    if let Some(second) = outs.next() {
        // An error as second output means the program is broken anyway;
        // report the real failure rather than a cardinality problem.
        second.map_err(err)?;
        let rest = outs.take(CARDINALITY_COUNT_LIMIT - 2).count();
        return Err(MappingError::Cardinality { outputs: 2 + rest });
    }
    to_json(&first).map_err(err)
}

/// Every output, up to `max`: one more is [`MappingError::TooManyOutputs`] (and stops the
/// program, so an endless generator ends too). No output is an empty list.
pub(crate) fn transform_all(prog: &Compiled, input: Val, max: usize) -> Result<Vec<Value>, MappingError> {
    let err = |message| runtime(Program::Transform, message);
    let mut out = Vec::new();
    for r in outputs(prog, input) {
        if out.len() == max {
            return Err(MappingError::TooManyOutputs { max });
        }
        out.push(to_json(&r.map_err(err)?).map_err(err)?);
    }
    Ok(out)
}

fn runtime(program: Program, message: String) -> MappingError {
    MappingError::Runtime { program, message }
}

/// Message for a jaq exception.
///
/// We deliberately do not use `jaq_core::unwrap_valr`: on `halt`/`halt_error`
/// it calls `std::process::exit`, which would take the whole service down.
fn exn_message(exn: Exn<'_, Val>) -> String {
    match exn.get_err() {
        // `error("x")` carries the value "x": show it raw like jq does, not
        // JSON-quoted; jaq's built-in errors are already plain strings.
        Ok(err) => match err.into_val() {
            Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(&b).into_owned(),
            other => other.to_string(),
        },
        Err(exn) => match exn.get_halt() {
            Ok(code) => format!("halt (exit code {code}) is not supported in mappings"),
            // Break/tail-call exceptions are internal to jaq and never escape.
            Err(_) => "internal jaq control flow escaped the program".to_owned(),
        },
    }
}

/// serde_json -> jaq, via jaq-json's `Deserialize` impl. Integers arrive as
/// `i64`/`u64` and stay integers (`Num::Int`, or `Num::BigInt` above
/// `isize::MAX`); floats become `Num::Float`.
pub(crate) fn from_json(value: &Value) -> Result<Val, serde_json::Error> {
    Val::deserialize(value)
}

/// jaq -> serde_json. jaq-json has no `Serialize`, and its JSON printer may
/// emit non-JSON (`NaN`, byte strings), so convert by hand, following jq:
/// NaN becomes null and infinities clamp to the largest finite double.
pub(crate) fn to_json(val: &Val) -> Result<Value, String> {
    Ok(match val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(n),
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(a) => Value::Array(a.iter().map(to_json).collect::<Result<_, _>>()?),
        Val::Obj(o) => {
            let mut map = Map::with_capacity(o.len());
            for (k, v) in o.iter() {
                let key = match k {
                    Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                    // jaq allows any key type, JSON (and jq) do not.
                    other => return Err(format!("object keys must be strings, got {other}")),
                };
                map.insert(key, to_json(v)?);
            }
            Value::Object(map)
        }
    })
}

fn num_to_json(n: &Num) -> Value {
    match n {
        Num::Int(i) => i64::try_from(*i).map_or_else(|_| decimal(&n.to_string()), Value::from),
        Num::Float(f) => float(*f),
        // Big integers (e.g. u64 above i64::MAX) and decimal literals from the
        // program text (`1.5` is kept as its source text): let serde_json parse
        // the digits, which keeps u64 exact and turns the rest into f64.
        Num::BigInt(_) | Num::Dec(_) => decimal(&n.to_string()),
    }
}

fn decimal(digits: &str) -> Value {
    digits
        .parse::<Number>()
        .map(Value::Number)
        // serde_json rejects numbers out of f64 range; f64 parsing gives ±inf.
        .unwrap_or_else(|_| float(digits.parse().unwrap_or(f64::NAN)))
}

fn float(f: f64) -> Value {
    let f = if f.is_infinite() { f64::MAX.copysign(f) } else { f };
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}
