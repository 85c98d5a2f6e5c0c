//! Subcommand implementations. Each returns an exit code or an error whose message says what to do.
pub mod api;
pub mod config;
pub mod dlq;
pub mod mapping;
pub mod quarantine;
pub mod receive;
pub mod run;
pub mod sign;
mod targets;
pub mod verify;

use std::path::Path;

use anyhow::Context as _;
use hookbus_core::config::Config;

/// Loads a config file for commands that need one; the error lists every problem with its key.
pub fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path)
        .with_context(|| format!("configuration is invalid; run `hookbus config check {}`", path.display()))
}
