//! `hookbus mapping test`: run a subscription's filter and transform on an event, offline.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum MappingCmd {
    /// Print what the subscription would send for a CloudEvent JSON file (or that it filters it out).
    Test {
        #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
        config: PathBuf,
        #[arg(long, short)]
        subscription: String,
        /// A CloudEvent envelope as JSON (e.g. from `hookbus dlq list --json`, field `event`).
        #[arg(long)]
        event: PathBuf,
    },
}

pub fn run(cmd: MappingCmd) -> anyhow::Result<ExitCode> {
    let MappingCmd::Test { config, subscription, event } = cmd;
    let cfg = super::load(&config)?;
    let sub = cfg.subscriptions.get(&subscription).with_context(|| format!("no subscription `{subscription}`"))?;
    let mapping = hookbus_mapping::Mapping::compile(sub.filter.as_deref(), sub.transform.as_deref())?;
    let text = std::fs::read_to_string(&event).with_context(|| format!("reading {}", event.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", event.display()))?;
    match mapping.apply(&value)? {
        Some(body) => println!("{}", serde_json::to_string_pretty(&body)?),
        None => eprintln!("filtered out: the filter's first output was false or null"),
    }
    Ok(ExitCode::SUCCESS)
}
