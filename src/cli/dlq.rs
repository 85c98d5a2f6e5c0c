//! `hookbus dlq list|redrive`.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;

#[derive(clap::Args)]
pub struct Target {
    #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
    config: PathBuf,
    /// Subscription whose dead letters to use.
    #[arg(long, short)]
    subscription: String,
}

#[derive(Subcommand)]
pub enum DlqCmd {
    /// Dead letters not yet redriven.
    List {
        #[command(flatten)]
        target: Target,
        /// One JSON dead-letter record per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deliver the pending dead letters again, with a fresh attempt count.
    Redrive {
        #[command(flatten)]
        target: Target,
    },
}

fn open(t: &Target) -> anyhow::Result<(hookbus_core::config::Config, std::sync::Arc<dyn hookbus_broker::Broker>)> {
    let config = super::load(&t.config)?;
    if !config.subscriptions.contains_key(&t.subscription) {
        bail!(
            "no subscription `{}` in {}; subscriptions: {}",
            t.subscription,
            t.config.display(),
            config.subscriptions.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let broker = hookbus_broker::connect(&config.broker)?;
    Ok((config, broker))
}

pub async fn run(cmd: DlqCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DlqCmd::List { target, json } => {
            let (config, broker) = open(&target)?;
            let entries =
                hookbus_worker::dlq::list(broker.as_ref(), &config.broker.topic_prefix, &target.subscription).await?;
            let mut out = std::io::stdout().lock();
            if json {
                for e in &entries {
                    writeln!(out, "{}", serde_json::to_string(&e.record)?)?;
                }
            } else {
                writeln!(
                    out,
                    "{:<8} {:<38} {:<24} {:<18} {:>8} LAST",
                    "OFFSET", "EVENT ID", "TYPE", "REASON", "ATTEMPTS"
                )?;
                for e in &entries {
                    let r = &e.record;
                    let last = r.attempts.last().map(|a| match (a.status, &a.error) {
                        (Some(s), _) => format!("HTTP {s}"),
                        (None, Some(err)) => err.chars().take(40).collect(),
                        _ => String::new(),
                    });
                    writeln!(
                        out,
                        "{:<8} {:<38} {:<24} {:<18} {:>8} {}",
                        e.offset,
                        r.event.id,
                        r.event.ty,
                        r.reason.as_str(),
                        r.attempts.len(),
                        last.unwrap_or_default()
                    )?;
                }
                writeln!(out, "{} pending dead letter(s) for {}", entries.len(), target.subscription)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCmd::Redrive { target } => {
            let (config, broker) = open(&target)?;
            let n =
                hookbus_worker::dlq::redrive(broker.as_ref(), &config.broker.topic_prefix, &target.subscription, |n| {
                    if n % 100 == 0 {
                        eprintln!("redriven {n}...");
                    }
                })
                .await?;
            println!("redrove {n} dead letter(s) of {}; a running worker delivers them now", target.subscription);
            Ok(ExitCode::SUCCESS)
        }
    }
}
