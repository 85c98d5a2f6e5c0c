//! The configuration file: one TOML file, overridable by `HOOKBUS_SECTION__KEY` environment variables,
//! unknown keys rejected. `Config::load` returns every problem at once, each with its key.
mod admin;
mod batch;
mod delivery;
mod schema;
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
pub use batch::{BATCH_EVENTS_RANGE, BatchConfig, MAX_BATCH_WAIT};
pub use delivery::{
    DEFAULT_MAX_OUTPUTS, DestinationConfig, HttpMethod, MAX_OUTPUTS_CEILING, OutboundAuth, SecretMaps, secret_map_path,
};
pub use schema::SchemaRef;
pub use secret::{Secret, SecretRef};
pub use sections::{
    BrokerBackend, BrokerConfig, DedupBackend, DedupConfig, EmbeddedConfig, KafkaConfig, LogFormat, RetentionLimits,
    ServerConfig, TelemetryConfig, TopicRetention, WorkerConfig,
};
pub use source::{
    Handshake, HmacAlgorithm, HmacParams, HmacSigned, OnViolation, RateLimit, SchemeKind, SigEncoding, SourceConfig,
};
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
        // Schema files are named relative to the config file, wherever the process runs from.
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::from_figment(Figment::new().merge(Toml::file(path)).merge(env), &file, Some(dir))
    }

    /// Parses TOML text (no environment overrides); `name` is used in error messages. Schema files
    /// are not read (there is no config directory): only inline schemas can be used.
    pub fn from_toml(text: &str, name: &str) -> Result<Self, CoreError> {
        Self::from_figment(Figment::new().merge(Toml::string(text)), name, None)
    }

    fn from_figment(fig: Figment, file: &str, dir: Option<&Path>) -> Result<Self, CoreError> {
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
        let mut config = config;
        let mut issues = dir.map(|d| config.load_schemas(d)).unwrap_or_default();
        // A schema file that could not be read is reported once, by what reading it said.
        let unread: Vec<String> = issues.iter().map(|i| i.key.clone()).collect();
        issues.extend(validate::validate(&config).into_iter().filter(|i| !unread.contains(&i.key)));
        if issues.is_empty() { Ok(config) } else { Err(CoreError::Config { file: file.to_owned(), issues }) }
    }

    /// Reads every schema file the config names, relative to `dir`; each problem names its key.
    fn load_schemas(&mut self, dir: &Path) -> Vec<ConfigIssue> {
        let sources = self.sources.iter_mut().flat_map(|(name, s)| {
            s.contracts.iter_mut().map(move |(ty, r)| (format!("sources.{name}.contracts.\"{ty}\""), r))
        });
        let outputs = self
            .subscriptions
            .iter_mut()
            .filter_map(|(name, s)| Some((format!("subscriptions.{name}.output_schema"), s.output_schema.as_mut()?)));
        sources
            .chain(outputs)
            .filter_map(|(key, r)| r.load(dir).err().map(|message| ConfigIssue { key, message }))
            .collect()
    }

    /// The topic a source produces to: its `topic`, or its name.
    pub fn source_topic<'a>(&'a self, name: &'a str) -> &'a str {
        self.sources.get(name).and_then(|s| s.topic.as_deref()).unwrap_or(name)
    }
}

#[cfg(test)]
mod tests;
