//! `hookbus quarantine list|release`: events a source's schema contracts quarantined, and their
//! release once the schema (or what the provider sends) is fixed.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use hookbus_core::config::Config;
use hookbus_core::contract::{Contracts, Violation};
use hookbus_worker::quarantine::{self, Filter};

#[derive(Args)]
pub struct Target {
    #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
    config: PathBuf,
    /// Source whose quarantine to use.
    #[arg(long, short)]
    source: String,
    /// Event type, or a prefix ending in `*` (e.g. `stripe.customer.*`).
    #[arg(long = "type")]
    event_type: Option<String>,
    /// One event id.
    #[arg(long)]
    id: Option<String>,
}

#[derive(Subcommand)]
pub enum QuarantineCmd {
    /// Quarantined events not yet released, with what was wrong when they arrived.
    List {
        #[command(flatten)]
        target: Target,
        /// One JSON record per line (event, violations, place) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Re-check the matching events against the source's contracts as configured now; those that
    /// pass go to the source's topic (same event id), the others stay and are listed with the error.
    Release {
        #[command(flatten)]
        target: Target,
    },
}

fn open(t: &Target) -> anyhow::Result<(Config, Arc<dyn hookbus_broker::Broker>)> {
    let config = super::load(&t.config)?;
    if !config.sources.contains_key(&t.source) {
        bail!(
            "no source `{}` in {}; sources: {}",
            t.source,
            t.config.display(),
            config.sources.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let broker = hookbus_broker::connect(&config.broker)?;
    Ok((config, broker))
}

fn filter(t: &Target) -> Filter {
    Filter { event_type: t.event_type.clone(), event_id: t.id.clone() }
}

/// `path: message` pairs, the path `(root)` for the value as a whole.
pub fn describe(violations: &[Violation]) -> String {
    let at = |v: &Violation| if v.path.is_empty() { "(root)".to_owned() } else { v.path.clone() };
    violations.iter().map(|v| format!("{}: {}", at(v), v.message)).collect::<Vec<_>>().join("; ")
}

pub async fn run(cmd: QuarantineCmd) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        QuarantineCmd::List { target, json } => {
            let (config, broker) = open(&target)?;
            let prefix = &config.broker.topic_prefix;
            let entries = quarantine::list(broker.as_ref(), prefix, &target.source, &filter(&target)).await?;
            if json {
                for e in &entries {
                    writeln!(out, "{}", serde_json::to_string(e)?)?;
                }
            } else {
                writeln!(out, "{:<8} {:<38} {:<28} VIOLATIONS", "OFFSET", "EVENT ID", "TYPE")?;
                for e in &entries {
                    writeln!(out, "{:<8} {:<38} {:<28} {}", e.offset, e.event.id, e.event.ty, describe(&e.violations))?;
                }
                writeln!(out, "{} quarantined event(s) for {}", entries.len(), target.source)?;
            }
        }
        QuarantineCmd::Release { target } => {
            let (config, broker) = open(&target)?;
            let source = &config.sources[&target.source];
            let contracts = Contracts::compile(&source.contracts)
                .map_err(|(ty, m)| anyhow::anyhow!("sources.{}.contracts.\"{ty}\": {m}", target.source))?;
            let report = quarantine::release(
                broker.as_ref(),
                &config.broker.topic_prefix,
                &target.source,
                config.source_topic(&target.source),
                &contracts,
                &filter(&target),
                |done, total| {
                    if done % 100 == 0 || done == total {
                        eprintln!("checked {done}/{total}");
                    }
                },
            )
            .await
            .context("releasing from quarantine")?;
            for k in &report.kept {
                writeln!(out, "kept {} ({}): {}", k.event_id, k.event_type, describe(&k.violations))?;
            }
            writeln!(
                out,
                "released {} event(s) of {} to {}; {} still break their contract and stay in quarantine",
                report.released.len(),
                target.source,
                config.source_topic(&target.source),
                report.kept.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
