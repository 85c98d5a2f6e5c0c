//! `hookbus sign`: the headers a provider would send, so a source can be tested with curl:
//! `hookbus sign ... > headers.txt && curl -H @headers.txt --data-binary @body.json URL`.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use hookbus_core::config::{SchemeKind, SigEncoding};
use hookbus_ingress::verify::Scheme;
use time::OffsetDateTime;

#[derive(Args)]
pub struct SignArgs {
    /// Take scheme and secret from this source of the config file.
    #[arg(long, requires = "config")]
    source: Option<String>,
    #[arg(long, short, env = "HOOKBUS_CONFIG")]
    config: Option<PathBuf>,
    /// Scheme when not using --source (names: `hookbus verify --list-schemes`); `hmac` is hex SHA-256 in
    /// X-Signature. Schemes that sign the URL need --source with a `public_url`.
    #[arg(long, conflicts_with = "source", requires = "secret")]
    scheme: Option<String>,
    #[arg(long, conflicts_with = "source")]
    secret: Option<String>,
    /// The exact body to sign.
    #[arg(long)]
    body_file: PathBuf,
    /// Delivery id for schemes that send one (default: a new UUID).
    #[arg(long)]
    id: Option<String>,
    /// Unix time to sign at (default: now).
    #[arg(long)]
    now: Option<i64>,
}

pub fn run(a: SignArgs) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&a.body_file).with_context(|| format!("reading {}", a.body_file.display()))?;
    let (scheme, secret) = match (&a.source, &a.scheme) {
        (Some(name), _) => {
            let path = a.config.as_ref().context("--source needs --config")?;
            let config = super::load(path)?;
            let sources = hookbus_ingress::source::load(&config)?;
            let Some(src) = sources.into_iter().find_map(|(n, s)| (n == *name).then_some(s)) else {
                bail!(
                    "no source `{name}` in {}; sources: {}",
                    path.display(),
                    config.sources.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let secret = src.secrets.iter().find(|s| s.active_at(now)).context("the source has no active secret")?;
            (src.scheme, secret.value.clone())
        }
        (None, Some(s)) => {
            let kind: SchemeKind = serde_json::from_value(serde_json::Value::String(s.clone()))
                .map_err(|_| anyhow::anyhow!("unknown scheme `{s}`; use one of: {}", SchemeKind::ALL.join(", ")))?;
            let params = hookbus_core::config::HmacParams {
                header: "X-Signature".into(),
                encoding: SigEncoding::Hex,
                ..Default::default()
            };
            // Built like a config file's source, so every scheme gets its defaults.
            let mut source: hookbus_core::config::SourceConfig =
                serde_json::from_value(serde_json::json!({ "scheme": kind, "secrets": [] }))?;
            source.hmac = (kind == SchemeKind::Hmac).then_some(params);
            let scheme = Scheme::from_config(&source)?;
            (scheme, a.secret.clone().context("--scheme needs --secret")?)
        }
        (None, None) => bail!("say which source: --config FILE --source NAME, or --scheme NAME --secret SECRET"),
    };
    let now = a.now.unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
    let id = a.id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    for (name, value) in scheme.sign(&secret, &body, now, &id)? {
        println!("{name}: {value}");
    }
    Ok(ExitCode::SUCCESS)
}
