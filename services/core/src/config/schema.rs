//! A JSON Schema named in the config: a file (`"schemas/contracts/github-push.json"`, relative to
//! the config file's directory) or the schema itself, inline (a TOML table, or a JSON object through
//! the admin API). Files are read once, by [`Config::load`](super::Config::load); what they held
//! travels with the reference, so the worker and the ingress never read files themselves.
use std::path::Path;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Largest schema file read; a contract is a document a person writes, not a data set.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaRef {
    /// A JSON file; `schema` is its content once [`SchemaRef::load`] has read it.
    File { path: String, schema: Option<Value> },
    /// The schema itself.
    Inline(Value),
}

impl SchemaRef {
    /// The schema document, when it is known (inline, or a file already read).
    pub fn document(&self) -> Option<&Value> {
        match self {
            Self::File { schema, .. } => schema.as_ref(),
            Self::Inline(v) => Some(v),
        }
    }

    /// What to call the schema in messages: its file path, or `inline schema`.
    pub fn origin(&self) -> &str {
        match self {
            Self::File { path, .. } => path,
            Self::Inline(_) => "inline schema",
        }
    }

    /// Reads a file reference relative to `dir` (inline schemas need nothing). The message names the
    /// file and what is wrong with it.
    pub fn load(&mut self, dir: &Path) -> Result<(), String> {
        let Self::File { path, schema } = self else { return Ok(()) };
        let full = dir.join(&*path);
        let meta = std::fs::metadata(&full).map_err(|e| format!("schema file `{}`: {e}", full.display()))?;
        if !meta.is_file() {
            return Err(format!("schema file `{}` is not a regular file", full.display()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!("schema file `{}` is larger than {MAX_FILE_BYTES} bytes", full.display()));
        }
        let text = std::fs::read_to_string(&full).map_err(|e| format!("schema file `{}`: {e}", full.display()))?;
        let value =
            serde_json::from_str(&text).map_err(|e| format!("schema file `{}` is not JSON: {e}", full.display()))?;
        *schema = Some(value);
        Ok(())
    }
}

impl Serialize for SchemaRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::File { path, .. } => s.serialize_str(path),
            Self::Inline(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for SchemaRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(path) if path.trim().is_empty() => {
                Err(D::Error::custom("a schema file path cannot be empty"))
            }
            Value::String(path) => Ok(Self::File { path, schema: None }),
            v @ (Value::Object(_) | Value::Bool(_)) => Ok(Self::Inline(v)),
            other => Err(D::Error::custom(format!(
                "a schema is a file path (e.g. \"schemas/contracts/github-push.json\") or an inline JSON Schema \
                 (a table or object), not `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_are_files_and_objects_inline() {
        let f: SchemaRef = serde_json::from_value(json!("schemas/x.json")).unwrap();
        assert_eq!(f, SchemaRef::File { path: "schemas/x.json".into(), schema: None });
        let i: SchemaRef = serde_json::from_value(json!({"type": "object"})).unwrap();
        assert_eq!(i.document(), Some(&json!({"type": "object"})));
        assert_eq!(serde_json::to_value(&f).unwrap(), json!("schemas/x.json"));
        let err = serde_json::from_value::<SchemaRef>(json!(3)).unwrap_err().to_string();
        assert!(err.contains("file path") && err.contains("inline"), "{err}");
    }

    #[test]
    fn load_reads_relative_to_the_dir_and_names_the_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.json"), r#"{"type": "string"}"#).unwrap();
        std::fs::write(dir.path().join("bad.json"), "{nope").unwrap();
        let mut ok = SchemaRef::File { path: "ok.json".into(), schema: None };
        ok.load(dir.path()).unwrap();
        assert_eq!(ok.document(), Some(&json!({"type": "string"})));
        for name in ["bad.json", "missing.json"] {
            let mut r = SchemaRef::File { path: name.into(), schema: None };
            let err = r.load(dir.path()).unwrap_err();
            assert!(err.contains(name), "{err}");
            assert_eq!(r.document(), None);
        }
    }
}
