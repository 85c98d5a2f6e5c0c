//! JSON Schema helpers: find `schemas/`, compile a schema by name with every other schema registered as an
//! in-memory resource (so relative `$ref`s such as `"cloudevent.json"` resolve without network), and
//! assert that instances validate.
//!
//! Self-contained on purpose (only `jsonschema` and `serde_json`): crates under `services/` can include it
//! in their golden tests with `#[path = "../../../tests/support/schema.rs"] mod schema;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use jsonschema::{Draft, Resource, Validator};
use serde_json::Value;

/// Every hookbus schema's `$id` is this base plus its path relative to `schemas/`.
pub const BASE_URI: &str = "https://hookbus.dev/schemas/";

/// The dialect every hookbus schema declares.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The repository's `schemas/` directory: the first ancestor of the including crate's manifest directory
/// that has `schemas/cloudevent.json`.
pub fn schemas_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("schemas"))
        .find(|dir| dir.join("cloudevent.json").is_file())
        .unwrap_or_else(|| panic!("no schemas/cloudevent.json in {} or any parent directory", manifest_dir.display()))
}

/// The directory of example instances: `schemas/examples` (valid) with `invalid/` below it.
pub fn examples_dir() -> PathBuf {
    schemas_dir().join("examples")
}

/// Read and parse a JSON file, panicking with the path on failure.
pub fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// `*.json` files directly in `dir`, sorted. Empty if `dir` does not exist.
pub fn json_files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Every schema file under `schemas/` (recursively, skipping `examples/`), sorted.
pub fn schema_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        // schemas/openapi.json is the admin API's OpenAPI document (services/control/tests/openapi.rs
        // keeps it current), not a JSON Schema.
        out.extend(json_files_in(dir).into_iter().filter(|p| !p.ends_with("schemas/openapi.json")));
        let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|path| path.is_dir() && !path.ends_with("examples"))
            .collect();
        subdirs.sort();
        for subdir in subdirs {
            walk(&subdir, out);
        }
    }
    let mut files = Vec::new();
    walk(&schemas_dir(), &mut files);
    files.sort();
    files
}

/// The path of a schema given its name relative to `schemas/`, with or without `.json`
/// (`"cloudevent"`, `"dead-letter.json"`).
pub fn schema_path(name: &str) -> PathBuf {
    let file = if name.ends_with(".json") { name.to_owned() } else { format!("{name}.json") };
    schemas_dir().join(file)
}

/// The `$id` a schema file must have: [`BASE_URI`] + its path relative to `schemas/`.
pub fn expected_id(path: &Path) -> String {
    let relative =
        path.strip_prefix(schemas_dir()).unwrap_or_else(|_| panic!("{} is not under schemas/", path.display()));
    let relative: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("{BASE_URI}{}", relative.join("/"))
}

/// Load a schema by name (see [`schema_path`]).
pub fn load_schema(name: &str) -> Value {
    load_json(&schema_path(name))
}

/// Compile a schema by name. Every other schema under `schemas/` is registered under its `$id`, formats
/// (`date-time`, `uri`, ...) are asserted rather than treated as annotations, and an unknown format is an
/// error. No network or file retrieval happens (jsonschema is built without `resolve-http`).
pub fn validator(name: &str) -> Validator {
    let path = schema_path(name);
    compile(&load_json(&path), &path)
}

/// Compile `schema` (read from `path`) with the other schemas registered as resources.
pub fn compile(schema: &Value, path: &Path) -> Validator {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false);
    for other in schema_files() {
        if other == path {
            continue;
        }
        let contents = load_json(&other);
        let uri = contents.get("$id").and_then(Value::as_str).map_or_else(|| expected_id(&other), str::to_owned);
        let resource = Resource::from_contents(contents)
            .unwrap_or_else(|e| panic!("{} is not a usable schema resource: {e}", other.display()));
        options = options.with_resource(uri, resource);
    }
    options.build(schema).unwrap_or_else(|e| panic!("schema {} does not compile: {e}", path.display()))
}

/// All validation errors as `"<instance path>: <message>"` lines; empty when `instance` is valid.
pub fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| {
            let at = e.instance_path.as_str();
            format!("{}: {e}", if at.is_empty() { "/" } else { at })
        })
        .collect()
}

/// Panic with every validation error unless `instance` is valid against the named schema.
/// `what` says where the instance came from, for the message.
pub fn assert_valid(schema: &str, instance: &Value, what: &str) {
    let errors = errors(&validator(schema), instance);
    assert!(
        errors.is_empty(),
        "{what} does not validate against schemas/{}:\n  {}",
        schema_path(schema).file_name().unwrap().to_string_lossy(),
        errors.join("\n  ")
    );
}

/// The schema an example file is checked against: the part of its file name before the first `.`
/// (`dead-letter.retries-exhausted.json` -> `dead-letter`).
pub fn schema_name_for_example(path: &Path) -> String {
    let file = path.file_name().expect("example has a file name").to_string_lossy();
    file.split('.').next().unwrap_or_default().to_owned()
}
