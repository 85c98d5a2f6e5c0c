//! `hookbus quarantine list|release|purge`: events a source's schema contracts quarantined, their
//! release once the schema (or what the provider sends) is fixed, and dropping the hopeless ones.
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
    /// Work through this node's admin API (e.g. http://127.0.0.1:8081) instead of the broker; the
    /// token comes from HOOKBUS_TOKEN. Release then checks against the contracts that node loaded.
    #[arg(long)]
    api: Option<String>,
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
    /// Stop listing the matching events without releasing them (kept in the topic for audit).
    Purge {
        #[command(flatten)]
        target: Target,
        /// Required when neither --type nor --id is given: purge everything quarantined.
        #[arg(long)]
        all: bool,
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
    Filter { event_type: t.event_type.clone(), event_ids: t.id.clone().map(|id| [id].into()) }
}

/// `path: message` pairs, the path `(root)` for the value as a whole.
pub fn describe(violations: &[Violation]) -> String {
    let at = |v: &Violation| if v.path.is_empty() { "(root)".to_owned() } else { v.path.clone() };
    violations.iter().map(|v| format!("{}: {}", at(v), v.message)).collect::<Vec<_>>().join("; ")
}

/// The API's violations (`[{path, message}]`) as the broker path prints them.
fn violations_of(v: &serde_json::Value) -> Vec<Violation> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// `list` and `release` through the admin API.
async fn over_api(cmd: QuarantineCmd, url: &str) -> anyhow::Result<ExitCode> {
    let api = || super::api::Api::new(url);
    let mut out = std::io::stdout().lock();
    match cmd {
        QuarantineCmd::Purge { .. } => {
            bail!("`purge` works on the broker directly; run it without --api on a node that reaches it")
        }
        QuarantineCmd::List { target, json } => {
            let query: Vec<(&str, String)> = target.event_type.iter().map(|t| ("type", t.clone())).collect();
            let list = api()?.quarantine(&target.source, &query).await?;
            let rows: Vec<&serde_json::Value> = list["events"]
                .as_array()
                .map(|a| a.iter().filter(|e| target.id.as_deref().is_none_or(|id| e["event_id"] == id)).collect())
                .unwrap_or_default();
            for e in &rows {
                if json {
                    writeln!(out, "{e}")?;
                } else {
                    let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
                    let v = describe(&violations_of(&e["violations"]));
                    writeln!(out, "{:<8} {:<38} {:<28} {v}", e["offset"], s("event_id"), s("event_type"))?;
                }
            }
            if !json {
                writeln!(out, "{} quarantined event(s) for {}", rows.len(), target.source)?;
            }
        }
        QuarantineCmd::Release { target } => {
            let mut body = serde_json::json!({});
            if let Some(t) = &target.event_type {
                body["type"] = t.clone().into();
            }
            if let Some(id) = &target.id {
                body["event_ids"] = serde_json::json!([id]);
            }
            let report = api()?.release(&target.source, body).await?;
            let kept = report["kept"].as_array().cloned().unwrap_or_default();
            for k in &kept {
                let v = describe(&violations_of(&k["violations"]));
                writeln!(
                    out,
                    "kept {} ({}): {v}",
                    k["event_id"].as_str().unwrap_or(""),
                    k["event_type"].as_str().unwrap_or("")
                )?;
            }
            writeln!(
                out,
                "released {} event(s) of {}; {} still break their contract and stay in quarantine",
                report["released"].as_array().map_or(0, Vec::len),
                target.source,
                kept.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(cmd: QuarantineCmd) -> anyhow::Result<ExitCode> {
    let (QuarantineCmd::List { target, .. } | QuarantineCmd::Release { target } | QuarantineCmd::Purge { target, .. }) =
        &cmd;
    if let Some(url) = target.api.clone() {
        return over_api(cmd, &url).await;
    }
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
        QuarantineCmd::Purge { target, all } => {
            if target.event_type.is_none() && target.id.is_none() && !all {
                bail!("give --type or --id, or --all to purge every quarantined event of {}", target.source);
            }
            let (config, broker) = open(&target)?;
            let ids = quarantine::purge(broker.as_ref(), &config.broker.topic_prefix, &target.source, &filter(&target))
                .await?;
            writeln!(out, "purged {} quarantined event(s) of {}", ids.len(), target.source)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
