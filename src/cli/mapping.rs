//! `hookbus mapping test`: run a subscription's filter and transform on an event, offline. The
//! event is a CloudEvent, or, with `--source`, a provider's payload (and its headers) normalized
//! exactly as ingress would.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use clap::Subcommand;
use hookbus_core::contract::Schema;

#[derive(Subcommand)]
pub enum MappingCmd {
    /// Print what the subscription would send for an event (or why it would not send it).
    Test {
        #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
        config: PathBuf,
        #[arg(long, short)]
        subscription: String,
        /// A CloudEvent envelope as JSON (e.g. from `hookbus dlq list --json`, field `event`), or
        /// with `--source` the body a provider posts.
        #[arg(long)]
        event: PathBuf,
        /// Treat `--event` as the webhook body of this configured source and normalize it as ingress
        /// does (event type and id from the body or from `--header`s; signatures are not checked).
        #[arg(long)]
        source: Option<String>,
        /// A request header of the provider's webhook, `Name: value` (repeatable), e.g.
        /// `--header 'X-GitHub-Event: push'`.
        #[arg(long = "header", short = 'H', requires = "source")]
        headers: Vec<String>,
    },
}

pub fn run(cmd: MappingCmd) -> anyhow::Result<ExitCode> {
    let MappingCmd::Test { config, subscription, event, source, headers } = cmd;
    let cfg = super::load(&config)?;
    let sub = cfg.subscriptions.get(&subscription).with_context(|| format!("no subscription `{subscription}`"))?;
    let mapping = hookbus_mapping::Mapping::compile(sub.filter.as_deref(), sub.transform.as_deref())?;
    let body = std::fs::read(&event).with_context(|| format!("reading {}", event.display()))?;
    let value = match &source {
        Some(name) => {
            let sources = hookbus_ingress::source::load(&cfg)?;
            let src = sources.get(name).with_context(|| {
                let mut known: Vec<&str> = sources.keys().map(String::as_str).collect();
                known.sort();
                format!("no source `{name}` in {} (sources: {})", config.display(), known.join(", "))
            })?;
            let (envelope, _) = hookbus_ingress::normalize::normalize(src, &header_map(&headers)?, &body);
            eprintln!("normalized as ingress would: id {}, type {}", envelope.id, envelope.ty);
            let violations = src.contracts.check(&envelope);
            if !violations.is_empty() {
                eprintln!(
                    "not delivered: ingress would {} it (on_violation); its data breaks the `{}` contract: {}",
                    src.on_violation.as_str(),
                    envelope.ty,
                    super::quarantine::describe(&violations)
                );
                return Ok(ExitCode::SUCCESS);
            }
            if !sub.wants(&envelope.ty) {
                eprintln!(
                    "not delivered: type {} is not among the subscription's event_types {:?}",
                    envelope.ty, sub.event_types
                );
                return Ok(ExitCode::SUCCESS);
            }
            serde_json::to_value(&envelope)?
        }
        None => {
            let value: serde_json::Value =
                serde_json::from_slice(&body).with_context(|| format!("{} is not JSON", event.display()))?;
            if value.get("specversion").is_none() {
                eprintln!(
                    "note: {} is not a CloudEvent (no `specversion`); for a provider's payload pass \
                     --source NAME (and its headers with --header)",
                    event.display()
                );
            }
            value
        }
    };
    let output_schema = sub.output_schema.as_ref().map(Schema::compile).transpose().map_err(anyhow::Error::msg)?;
    let outputs = mapping.apply_all(&value, sub.max_outputs)?;
    // Each output is checked against the output schema as the worker does before sending it.
    let check = |body: &serde_json::Value| {
        let violations = output_schema.as_ref().map(|s| s.check(body)).unwrap_or_default();
        if !violations.is_empty() {
            eprintln!(
                "not delivered: the output breaks the subscription's output_schema and would be dead-lettered \
                 (reason output_schema): {}",
                super::quarantine::describe(&violations)
            );
        }
    };
    match outputs.as_slice() {
        [] if mapping.has_transform() => {
            eprintln!("filtered out: the filter's first output was false or null, or the transform produced nothing")
        }
        [] => eprintln!("filtered out: the filter's first output was false or null"),
        [body] => {
            println!("{}", serde_json::to_string_pretty(body)?);
            check(body);
        }
        many => {
            // One delivery per output, each with its own idempotency key.
            for (i, body) in many.iter().enumerate() {
                eprintln!("output {} of {} (idempotency key <event id>:{i}):", i + 1, many.len());
                println!("{}", serde_json::to_string_pretty(body)?);
                check(body);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `Name: value` flags as a header map; the content type defaults to JSON as providers send it.
fn header_map(flags: &[String]) -> anyhow::Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for flag in flags {
        let Some((name, value)) = flag.split_once(':') else {
            bail!("--header {flag:?} is not `Name: value`");
        };
        let name = HeaderName::try_from(name.trim()).with_context(|| format!("--header {flag:?}: bad name"))?;
        let value = HeaderValue::try_from(value.trim()).with_context(|| format!("--header {flag:?}: bad value"))?;
        map.append(name, value);
    }
    if !map.contains_key("content-type") {
        map.insert("content-type", HeaderValue::from_static("application/json"));
    }
    Ok(map)
}
