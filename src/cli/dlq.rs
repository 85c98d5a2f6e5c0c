//! `hookbus dlq list|show|redrive|purge` and `hookbus replay`.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use hookbus_core::GiveUpReason;
use hookbus_core::config::Config;
use hookbus_worker::dlq::{self, Filter};
use time::OffsetDateTime;

#[derive(Args)]
pub struct Target {
    #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
    config: PathBuf,
    /// Subscription whose dead letters to use.
    #[arg(long, short)]
    subscription: String,
    /// Work through this node's admin API (e.g. http://127.0.0.1:8081) instead of the broker;
    /// the token comes from HOOKBUS_TOKEN. Then the config file is not read.
    #[arg(long)]
    api: Option<String>,
}

#[derive(Args, Default)]
pub struct FilterArgs {
    /// Event type, or a prefix ending in `*` (e.g. `github.*`).
    #[arg(long = "type")]
    event_type: Option<String>,
    /// permanent_failure, retries_exhausted, transform_error, max_age_exceeded or output_schema.
    #[arg(long)]
    reason: Option<String>,
    /// Dead-lettered at or after: RFC 3339 time, or an age such as `2h`.
    #[arg(long)]
    since: Option<String>,
    /// Dead-lettered before: RFC 3339 time, or an age such as `30m`.
    #[arg(long)]
    until: Option<String>,
    /// One event id.
    #[arg(long)]
    id: Option<String>,
}

#[derive(Subcommand)]
pub enum DlqCmd {
    /// Pending dead letters (not redriven, not purged).
    List {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        filter: FilterArgs,
        /// One JSON dead-letter record per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One dead letter in full: the event, every attempt, the reason.
    Show {
        #[command(flatten)]
        target: Target,
        /// Event id.
        id: String,
    },
    /// Deliver the matching pending dead letters again, with a fresh attempt count.
    Redrive {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Stop listing the matching dead letters without delivering them (kept in the topic for audit).
    Purge {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        filter: FilterArgs,
        /// Required when no filter is given: purge everything pending.
        #[arg(long)]
        all: bool,
    },
}

/// Re-deliver accepted events of a time range to one subscription.
#[derive(Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    target: Target,
    /// Received at or after: RFC 3339 time, or an age such as `2h`.
    #[arg(long)]
    from: String,
    /// Received before (default: now): RFC 3339 time, or an age.
    #[arg(long)]
    to: Option<String>,
}

/// RFC 3339, or a duration meaning "that long ago".
fn when(s: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let ago = humantime::parse_duration(s).map_err(|_| {
        anyhow::anyhow!("`{s}` is neither an RFC 3339 time (2026-11-25T10:00:00Z) nor an age (2h, 30m)")
    })?;
    Ok(OffsetDateTime::now_utc() - ago)
}

impl FilterArgs {
    fn build(&self) -> anyhow::Result<Filter> {
        let reason = match &self.reason {
            Some(r) => Some(serde_json::from_value::<GiveUpReason>(serde_json::Value::String(r.clone())).map_err(|_| {
                anyhow::anyhow!(
                    "unknown reason `{r}`; use permanent_failure, retries_exhausted, transform_error, max_age_exceeded or output_schema"
                )
            })?),
            None => None,
        };
        Ok(Filter {
            event_type: self.event_type.clone(),
            reason,
            event_id: self.id.clone(),
            since: self.since.as_deref().map(when).transpose()?,
            until: self.until.as_deref().map(when).transpose()?,
        })
    }

    /// The filter as API query parameters (ages turned into times); the id is filtered locally.
    fn query(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let rfc = |s: &str| -> anyhow::Result<String> {
            Ok(when(s)?.format(&time::format_description::well_known::Rfc3339)?)
        };
        let mut q = Vec::new();
        if let Some(t) = &self.event_type {
            q.push(("type", t.clone()));
        }
        if let Some(r) = &self.reason {
            q.push(("reason", r.clone()));
        }
        if let Some(s) = &self.since {
            q.push(("since", rfc(s)?));
        }
        if let Some(u) = &self.until {
            q.push(("until", rfc(u)?));
        }
        Ok(q)
    }

    fn is_empty(&self) -> bool {
        self.event_type.is_none()
            && self.reason.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.id.is_none()
    }
}

fn open(t: &Target) -> anyhow::Result<(Config, Arc<dyn hookbus_broker::Broker>)> {
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

fn table(out: &mut impl std::io::Write, entries: &[dlq::DlqEntry]) -> std::io::Result<()> {
    // ITEMS: a batch dead letter stands for all its items (the event shown is the first's).
    let head = ("OFFSET", "EVENT ID", "TYPE", "REASON", "ATTEMPTS", "ITEMS");
    writeln!(out, "{:<8} {:<38} {:<24} {:<18} {:>8} {:>5} LAST", head.0, head.1, head.2, head.3, head.4, head.5)?;
    for e in entries {
        let r = &e.record;
        let last = r.attempts.last().map(|a| match (a.status, &a.error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(err)) => err.chars().take(40).collect(),
            _ => String::new(),
        });
        writeln!(
            out,
            "{:<8} {:<38} {:<24} {:<18} {:>8} {:>5} {}",
            e.offset,
            r.event.id,
            r.event.ty,
            r.reason.as_str(),
            r.attempts.len(),
            r.items(),
            last.unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `list` and `redrive` through the admin API.
async fn over_api(cmd: DlqCmd) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        DlqCmd::List { target, filter, json } => {
            let api = super::api::Api::new(target.api.as_deref().unwrap_or_default())?;
            let list = api.dead_letters(&target.subscription, &filter.query()?).await?;
            let rows: Vec<&serde_json::Value> = list["dead_letters"]
                .as_array()
                .map(|a| a.iter().filter(|d| filter.id.as_deref().is_none_or(|id| d["event_id"] == id)).collect())
                .unwrap_or_default();
            if json {
                for d in &rows {
                    writeln!(out, "{d}")?;
                }
            } else {
                let head = ("OFFSET", "EVENT ID", "TYPE", "REASON", "ATTEMPTS", "ITEMS");
                writeln!(
                    out,
                    "{:<8} {:<38} {:<24} {:<18} {:>8} {:>5}",
                    head.0, head.1, head.2, head.3, head.4, head.5
                )?;
                for d in &rows {
                    let s = |k: &str| d[k].as_str().unwrap_or("").to_owned();
                    writeln!(
                        out,
                        "{:<8} {:<38} {:<24} {:<18} {:>8} {:>5}",
                        d["offset"],
                        s("event_id"),
                        s("event_type"),
                        s("reason"),
                        d["attempts"],
                        d["items"]
                    )?;
                }
                writeln!(out, "{} pending dead letter(s) for {}", rows.len(), target.subscription)?;
            }
        }
        DlqCmd::Redrive { target, filter } => {
            if filter.id.is_some() {
                bail!("--id is not available with --api; filter by --type, --reason, --since or --until");
            }
            let api = super::api::Api::new(target.api.as_deref().unwrap_or_default())?;
            let body = super::api::redrive_body(&filter.query()?);
            let job = api.job(&format!("/subscriptions/{}/redrive", target.subscription), body).await?;
            writeln!(
                out,
                "redrove {} dead letter(s) of {}; a running worker delivers them now",
                job["processed"], target.subscription
            )?;
        }
        DlqCmd::Show { .. } | DlqCmd::Purge { .. } => {
            bail!("`show` and `purge` work on the broker directly; run them without --api on a node that reaches it")
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(cmd: DlqCmd) -> anyhow::Result<ExitCode> {
    let target = match &cmd {
        DlqCmd::List { target, .. }
        | DlqCmd::Show { target, .. }
        | DlqCmd::Redrive { target, .. }
        | DlqCmd::Purge { target, .. } => target,
    };
    if target.api.is_some() {
        return over_api(cmd).await;
    }
    match cmd {
        DlqCmd::List { target, filter, json } => {
            let (config, broker) = open(&target)?;
            let prefix = &config.broker.topic_prefix;
            let entries = dlq::list(broker.as_ref(), prefix, &target.subscription, &filter.build()?).await?;
            let mut out = std::io::stdout().lock();
            if json {
                for e in &entries {
                    writeln!(out, "{}", serde_json::to_string(&e.record)?)?;
                }
            } else {
                table(&mut out, &entries)?;
                writeln!(out, "{} pending dead letter(s) for {}", entries.len(), target.subscription)?;
            }
        }
        DlqCmd::Show { target, id } => {
            let (config, broker) = open(&target)?;
            let filter = Filter { event_id: Some(id.clone()), ..Filter::default() };
            let entries =
                dlq::list(broker.as_ref(), &config.broker.topic_prefix, &target.subscription, &filter).await?;
            let e = entries.first().with_context(|| format!("no pending dead letter with event id `{id}`"))?;
            println!("{}", serde_json::to_string_pretty(&e.record)?);
        }
        DlqCmd::Redrive { target, filter } => {
            let (config, broker) = open(&target)?;
            let prefix = &config.broker.topic_prefix;
            let n = dlq::redrive(broker.as_ref(), prefix, &target.subscription, &filter.build()?, |done, total| {
                if done % 100 == 0 || done == total {
                    eprintln!("redriven {done}/{total}");
                }
            })
            .await?;
            println!("redrove {n} dead letter(s) of {}; a running worker delivers them now", target.subscription);
        }
        DlqCmd::Purge { target, filter, all } => {
            if filter.is_empty() && !all {
                bail!(
                    "give a filter (--type, --reason, --since, --until, --id) or --all to purge every pending dead letter"
                );
            }
            let (config, broker) = open(&target)?;
            let prefix = &config.broker.topic_prefix;
            let n = dlq::purge(broker.as_ref(), prefix, &target.subscription, &filter.build()?).await?;
            println!("purged {n} dead letter(s) of {}", target.subscription);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(a: ReplayArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = (when(&a.from)?, a.to.as_deref().map(when).transpose()?.unwrap_or_else(OffsetDateTime::now_utc));
    if from >= to {
        bail!("--from must be before --to");
    }
    if let Some(url) = &a.target.api {
        let api = super::api::Api::new(url)?;
        let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339);
        let body = serde_json::json!({"since": rfc(from)?, "until": rfc(to)?});
        let job = api.job(&format!("/subscriptions/{}/replay", a.target.subscription), body).await?;
        println!(
            "replayed {} event(s) to {}; a running worker delivers them now",
            job["processed"], a.target.subscription
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (config, broker) = open(&a.target)?;
    let sub = &config.subscriptions[&a.target.subscription];
    eprintln!("scanning {} for events received in [{from}, {to})...", sub.topic);
    let summary =
        dlq::replay(broker.as_ref(), &config.broker.topic_prefix, &a.target.subscription, sub, from, to, |n| {
            eprintln!("scanned {n} records...");
        })
        .await?;
    println!(
        "replayed {} of {} scanned event(s) to {}; a running worker delivers them now",
        summary.replayed, summary.scanned, a.target.subscription
    );
    Ok(ExitCode::SUCCESS)
}
