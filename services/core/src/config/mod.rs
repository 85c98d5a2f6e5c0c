//! The configuration file: one TOML file, overridable by `HOOKBUS_SECTION__KEY` environment variables,
//! unknown keys rejected. `Config::load` returns every problem at once, each with its key.
mod admin;
mod secret;
mod sections;
mod source;
mod subscription;
mod validate;

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use std::collections::BTreeMap;

pub use admin::{AdminConfig, AdminToken, TokenScope};
pub use secret::{Secret, SecretRef};
pub use sections::{
    BrokerBackend, BrokerConfig, DedupBackend, DedupConfig, EmbeddedConfig, KafkaConfig, LogFormat, RetentionLimits,
    ServerConfig, TelemetryConfig, TopicRetention, WorkerConfig,
};
pub use source::{Handshake, HmacAlgorithm, HmacParams, HmacSigned, RateLimit, SchemeKind, SigEncoding, SourceConfig};
pub use subscription::{BreakerSettings, ContentMode, RetryConfig, SubscriptionConfig};
pub use validate::subscription_issues;

use crate::error::{ConfigIssue, CoreError};

/// Top-level sections; environment variables outside these are not configuration.
const SECTIONS: [&str; 8] = ["admin", "server", "broker", "dedup", "telemetry", "worker", "sources", "subscriptions"];

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The control plane; absent = no admin listener.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub broker: BrokerConfig,
    #[serde(default)]
    pub dedup: DedupConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    #[serde(default)]
    pub worker: WorkerConfig,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    #[serde(default)]
    pub subscriptions: BTreeMap<String, SubscriptionConfig>,
}

impl Config {
    /// Reads `path`, applies `HOOKBUS_*` overrides and validates. Errors name the file and every bad key.
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        let file = path.display().to_string();
        if !path.is_file() {
            return Err(CoreError::Config {
                file,
                issues: vec![ConfigIssue {
                    key: "(file)".into(),
                    message: "not found or not a file; copy config.example.toml to start".into(),
                }],
            });
        }
        let env = Env::prefixed("HOOKBUS_")
            .filter(|k| SECTIONS.iter().any(|s| k.as_str().to_ascii_lowercase().starts_with(&format!("{s}__"))))
            .split("__");
        Self::from_figment(Figment::new().merge(Toml::file(path)).merge(env), &file)
    }

    /// Parses TOML text (no environment overrides); `name` is used in error messages.
    pub fn from_toml(text: &str, name: &str) -> Result<Self, CoreError> {
        Self::from_figment(Figment::new().merge(Toml::string(text)), name)
    }

    fn from_figment(fig: Figment, file: &str) -> Result<Self, CoreError> {
        let config: Config = fig.extract().map_err(|errs| CoreError::Config {
            file: file.to_owned(),
            issues: errs
                .into_iter()
                .map(|e| ConfigIssue {
                    key: if e.path.is_empty() { "(root)".into() } else { e.path.join(".") },
                    message: e.kind.to_string(),
                })
                .collect(),
        })?;
        let issues = validate::validate(&config);
        if issues.is_empty() { Ok(config) } else { Err(CoreError::Config { file: file.to_owned(), issues }) }
    }

    /// The topic a source produces to: its `topic`, or its name.
    pub fn source_topic<'a>(&'a self, name: &'a str) -> &'a str {
        self.sources.get(name).and_then(|s| s.topic.as_deref()).unwrap_or(name)
    }
}

#[cfg(test)]
mod tests;
