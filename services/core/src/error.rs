//! The core crate's one error type.
use std::fmt;

/// One problem in a configuration file: where it is and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted key path, e.g. `subscriptions.crm.target`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The file could not be read or parsed, or values are invalid. `file` names the config file.
    #[error("{file}: {}", issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Config { file: String, issues: Vec<ConfigIssue> },
    #[error("secret {what}: {message}")]
    Secret { what: String, message: String },
    #[error("envelope: {0}")]
    Envelope(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}
