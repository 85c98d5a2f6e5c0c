//! `hookbus config check FILE`.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use hookbus_core::CoreError;
use hookbus_core::config::Config;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Validate a file: syntax, unknown keys, values, secrets, jq programs. Exit 1 when anything is wrong.
    Check { file: PathBuf },
}

pub fn run(cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    let ConfigCmd::Check { file } = cmd;
    let config = match Config::load(&file) {
        Ok(c) => c,
        Err(CoreError::Config { file, issues }) => {
            eprintln!("{file}: {} problem(s)", issues.len());
            for i in issues {
                eprintln!("  {i}");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    // Beyond the file itself: secrets must be readable and jq programs must compile.
    let mut problems = Vec::new();
    if let Err(e) = hookbus_ingress::source::load(&config) {
        problems.push(e.to_string());
    }
    for (name, sub) in &config.subscriptions {
        if let Err(e) = hookbus_worker::Subscription::build(name, sub, &config.broker.topic_prefix) {
            problems.push(e.to_string());
        }
    }
    if let Some(admin) = &config.admin {
        let tokens = admin.tokens.iter().enumerate().map(|(i, t)| (format!("admin.tokens[{i}].token"), &t.token));
        let keys = admin.encryption_key.iter().map(|k| ("admin.encryption_key".to_owned(), k));
        let old = admin.previous_encryption_keys.iter().enumerate();
        let old = old.map(|(i, k)| (format!("admin.previous_encryption_keys[{i}]"), k));
        for (what, r) in tokens.chain(keys).chain(old) {
            if let Err(e) = r.resolve(&what) {
                problems.push(e.to_string());
            }
        }
    }
    for warning in super::targets::refused_targets(&config).into_iter().chain(shared_store_warnings(&config)) {
        eprintln!("warning: {warning}");
    }
    if !problems.is_empty() {
        eprintln!("{}: {} problem(s)", file.display(), problems.len());
        for p in problems {
            eprintln!("  {p}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let admin = match &config.admin {
        Some(a) => format!(", admin API: {} on {}", a.listen, if a.is_postgres() { "postgres" } else { "sqlite" }),
        None => String::new(),
    };
    println!(
        "{}: ok ({} sources, {} subscriptions, broker: {:?}{admin})",
        file.display(),
        config.sources.len(),
        config.subscriptions.len(),
        config.broker.backend
    );
    Ok(ExitCode::SUCCESS)
}

/// A PostgreSQL store is shared by several admin nodes; without a common session key each node
/// signs console sessions with its own random key, so a balancer moving a browser to another node
/// signs it out.
fn shared_store_warnings(config: &hookbus_core::config::Config) -> Vec<String> {
    match &config.admin {
        Some(a) if a.is_postgres() && a.session_key.is_none() => vec![
            "admin.session_key is not set: with a PostgreSQL store shared by several nodes, console sessions \
             work only on the node that signed them in (and end when it restarts); give every node the same \
             session_key"
                .to_owned(),
        ],
        _ => Vec::new(),
    }
}
