//! Secrets are referenced, not inlined in logs: from the environment, a file, or (for samples) a literal.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `{ env = "NAME" }`, `{ file = "path" }` or `{ value = "..." }`, optionally `expires = "RFC 3339"`.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub value: Option<String>,
    /// After this instant the secret no longer verifies (rotation).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires: Option<time::OffsetDateTime>,
}

impl std::fmt::Debug for SecretRef {
    // Never print the literal value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRef")
            .field("env", &self.env)
            .field("file", &self.file)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("expires", &self.expires)
            .finish()
    }
}

impl SecretRef {
    pub fn literal(value: impl Into<String>) -> Self {
        Self { value: Some(value.into()), ..Self::default() }
    }

    /// Describes the reference problem, if any (exactly one of env/file/value must be set).
    pub fn shape_error(&self) -> Option<&'static str> {
        let set = [self.env.is_some(), self.file.is_some(), self.value.is_some()];
        match set.iter().filter(|s| **s).count() {
            1 => None,
            0 => Some("set exactly one of `env`, `file` or `value`"),
            _ => Some("set only one of `env`, `file` or `value`"),
        }
    }
}

/// A resolved secret. `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub value: String,
    pub expires: Option<time::OffsetDateTime>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("expires", &self.expires).finish_non_exhaustive()
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self { value: value.into(), expires: None }
    }

    /// True when the secret may be used at unix time `now`.
    pub fn active_at(&self, now: i64) -> bool {
        self.expires.is_none_or(|e| e.unix_timestamp() > now)
    }
}

impl SecretRef {
    /// Reads the secret from its env var, file (trailing newline trimmed) or literal.
    /// `what` names the reference in errors (e.g. `sources.github.secrets[0]`); the value never appears.
    pub fn resolve(&self, what: &str) -> Result<Secret, crate::CoreError> {
        let err = |message: String| crate::CoreError::Secret { what: what.to_owned(), message };
        let value = if let Some(name) = &self.env {
            std::env::var(name).map_err(|_| err(format!("environment variable `{name}` is not set")))?
        } else if let Some(path) = &self.file {
            std::fs::read_to_string(path)
                .map_err(|e| err(format!("cannot read `{}`: {e}", path.display())))?
                .trim_end_matches(['\r', '\n'])
                .to_owned()
        } else if let Some(v) = &self.value {
            v.clone()
        } else {
            return Err(err("set exactly one of `env`, `file` or `value`".into()));
        };
        if value.is_empty() {
            return Err(err("is empty".into()));
        }
        Ok(Secret { value, expires: self.expires })
    }
}
