//! YAML helpers for tests that check deployment files (docker-compose.yml, collector config).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// The repository root (the root package's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Read and parse a YAML file relative to the repository root, with `<<` merge keys applied (Compose
/// files use them with `x-` extension fields), panicking with the path on failure.
pub fn load(relative: impl AsRef<Path>) -> Value {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut value: Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    value.apply_merge().unwrap_or_else(|e| panic!("{}: bad `<<` merge key: {e}", path.display()));
    value
}

/// Follow a path of mapping keys; `None` if any step is missing or not a mapping.
pub fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.as_mapping()?.get(*key))
}

/// The string keys of a mapping (empty for anything else), in file order.
pub fn keys(value: &Value) -> Vec<String> {
    value.as_mapping().map(|m| m.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// A scalar as a string (`9092` and `"9092"` and `true` all become text); `None` for null and
/// collections.
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A sequence of scalars as strings; a single scalar becomes a one-element list; anything else is empty.
pub fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}
