//! `hookbus verify`: checks one captured request offline, for debugging a provider's setup, with
//! the ingress's own code path (`Scheme::verify`).
//!
//! Exit codes: 0 the signature is valid, 1 it is not (the reason on stderr), 2 a usage error: an
//! unknown scheme, an unreadable body file, a malformed header, no secret.
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use clap::Args;
use hookbus_core::config::{Config, Secret, SourceConfig};
use hookbus_ingress::verify::{Inbound, Scheme};
use time::OffsetDateTime;

#[derive(Args)]
pub struct VerifyArgs {
    /// Print the scheme names, one per line, and exit.
    #[arg(long, exclusive = true)]
    list_schemes: bool,
    /// Signature scheme (see --list-schemes).
    #[arg(long, required_unless_present_any = ["list_schemes", "source"], conflicts_with = "source")]
    scheme: Option<String>,
    /// Instead of --scheme: the scheme, its settings, tolerance and secrets of this source in --config.
    #[arg(long, requires = "config")]
    source: Option<String>,
    /// Configuration file for --source.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// A signing secret; repeat for rotation (valid when any one matches).
    #[arg(long = "secret", value_name = "S", conflicts_with = "public_key")]
    secrets: Vec<String>,
    /// The provider's public key, for schemes that sign with a key pair.
    #[arg(long, value_name = "K")]
    public_key: Option<String>,
    /// The URL the provider posted to, for schemes that sign it (default: the source's `public_url`).
    #[arg(long, value_name = "U")]
    url: Option<String>,
    /// The request's HTTP method, for schemes that sign it (HubSpot v2/v3 workflow actions send GET).
    #[arg(long, value_name = "M", default_value = "POST")]
    method: String,
    /// Unix time to check timestamps against (default: now).
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    now: Option<i64>,
    /// Allowed clock skew in seconds for timestamped schemes (default: the source's, else 300).
    #[arg(long, value_name = "SECS")]
    tolerance: Option<u64>,
    /// A request header as `Name: value`; repeat. `@FILE` reads one per line (as `hookbus sign` prints).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The exact body bytes as received (`-` for stdin).
    #[arg(long, value_name = "F", required_unless_present = "list_schemes")]
    body_file: Option<PathBuf>,
}

/// A usage problem: exit 2 with the message.
struct Usage(String);

impl<E: std::fmt::Display> From<E> for Usage {
    fn from(e: E) -> Self {
        Usage(e.to_string())
    }
}

pub fn run(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    if a.list_schemes {
        for name in hookbus_ingress::verify::all_names() {
            println!("{name}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    Ok(match check(&a) {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    })
}

fn check(a: &VerifyArgs) -> Result<ExitCode, Usage> {
    let Chosen { scheme, mut secrets, tolerance, public_url } = match (&a.source, &a.scheme) {
        (Some(name), _) => from_source(a.config.as_deref(), name)?,
        (None, Some(name)) => {
            Chosen { scheme: scheme_named(name)?, secrets: Vec::new(), tolerance: 300, public_url: None }
        }
        (None, None) => return Err(Usage("say which scheme: --scheme NAME, or --config FILE --source NAME".into())),
    };
    // Given keys replace the configured ones.
    let given: Vec<Secret> = a.secrets.iter().chain(&a.public_key).map(Secret::new).collect();
    if !given.is_empty() {
        secrets = given;
    }
    if secrets.is_empty() {
        return Err(Usage("give the key to check against: --secret S (repeatable) or --public-key K".into()));
    }
    let headers = parse_headers(&a.headers)?;
    let body_file = a.body_file.as_deref().ok_or_else(|| Usage("--body-file F is required".into()))?;
    let body = read_body(body_file)?;
    let now = a.now.unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
    let tolerance = a.tolerance.unwrap_or(tolerance);
    let url = a.url.as_deref().or(public_url.as_deref()).unwrap_or("");

    let method = a.method.to_ascii_uppercase();
    let req = Inbound { method: &method, headers: &headers, body: &body, url, now };
    match scheme.verify(&req, &secrets, tolerance) {
        Ok(matched) => {
            // Which key matched tells an operator in the middle of a rotation which one the provider uses.
            let index = secrets.iter().position(|s| std::ptr::eq(s, matched));
            let which = match index {
                Some(i) if secrets.len() > 1 => format!(" (key {} of {})", i + 1, secrets.len()),
                _ => String::new(),
            };
            println!("valid: the {} signature matches{which}", scheme.name());
            Ok(ExitCode::SUCCESS)
        }
        // A secret that cannot work is the caller's input, not the request's fault.
        Err(e @ hookbus_ingress::verify::VerifyError::Misconfigured(_)) => Err(Usage(e.to_string())),
        Err(e) => {
            eprintln!("invalid ({}): {e}", e.code());
            Ok(ExitCode::from(1))
        }
    }
}

/// Builds a scheme from its config name exactly as a source with `scheme = NAME` would be built.
/// The generic `hmac` scheme gets the defaults of `hookbus sign` (hex SHA-256 in `X-Signature`);
/// for other settings use --config/--source.
fn scheme_named(name: &str) -> Result<Scheme, Usage> {
    let mut source = serde_json::json!({ "scheme": name, "secrets": [] });
    if name == "hmac" {
        source["hmac"] = serde_json::json!({ "header": "X-Signature" });
    }
    let config: SourceConfig = serde_json::from_value(source)
        .map_err(|_| Usage(format!("unknown scheme `{name}`; `hookbus verify --list-schemes` lists them")))?;
    Ok(Scheme::from_config(&config)?)
}

/// What to verify with: from --scheme, or from a configured source.
struct Chosen {
    scheme: Scheme,
    secrets: Vec<Secret>,
    tolerance: u64,
    public_url: Option<String>,
}

/// A configured source's scheme, secrets, tolerance and `public_url`.
fn from_source(config: Option<&Path>, name: &str) -> Result<Chosen, Usage> {
    let path = config.ok_or_else(|| Usage("--source needs --config FILE".into()))?;
    let config = Config::load(path).map_err(|e| Usage(format!("{e:#}")))?;
    let mut sources = hookbus_ingress::source::load(&config)?;
    let Some(source) = sources.remove(name) else {
        let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
        return Err(Usage(format!("no source `{name}` in {}; sources: {}", path.display(), names.join(", "))));
    };
    let public_url = config.sources.get(name).and_then(|s| s.public_url.clone());
    Ok(Chosen { scheme: source.scheme, secrets: source.secrets, tolerance: source.tolerance_secs, public_url })
}

/// `Name: value` pairs (or `@FILE` with one per line) into a header map; repeats are kept in order.
fn parse_headers(args: &[String]) -> Result<HeaderMap, Usage> {
    let mut lines = Vec::new();
    for arg in args {
        match arg.strip_prefix('@') {
            Some(file) => {
                let text =
                    std::fs::read_to_string(file).map_err(|e| Usage(format!("reading headers from {file}: {e}")))?;
                lines.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
            }
            None => lines.push(arg.clone()),
        }
    }
    let mut map = HeaderMap::new();
    for line in lines {
        let (name, value) =
            line.split_once(':').ok_or_else(|| Usage(format!("header `{line}` is not `Name: value`")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Usage(format!("`{}` is not a valid header name", name.trim())))?;
        let value = HeaderValue::from_str(value.trim_start())
            .map_err(|_| Usage(format!("the value of header `{name}` has characters a header cannot carry")))?;
        map.append(name, value);
    }
    Ok(map)
}

fn read_body(path: &Path) -> Result<Vec<u8>, Usage> {
    if path == Path::new("-") {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body).map_err(|e| Usage(format!("reading the body from stdin: {e}")))?;
        return Ok(body);
    }
    std::fs::read(path).map_err(|e| Usage(format!("cannot read the body file {}: {e}", path.display())))
}
