//! The programs `scripts/bench` drives beside the `hookbus` binary: the bare axum reference, the
//! delivery targets, and the load generators wrk cannot stand in for. Each server prints
//! `listening on http://ADDR` as its first line (port 0 picks one).
use std::time::Duration;

use clap::{Parser, Subcommand};

mod corpus;
mod load;
mod target;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct SecretArgs {
    #[arg(long, default_value = "bench-github-secret")]
    github_secret: String,
    #[arg(long, default_value = "whsec_bench_stripe")]
    stripe_secret: String,
}

impl SecretArgs {
    fn secrets(self) -> corpus::Secrets {
        corpus::Secrets { github: self.github_secret, stripe: self.stripe_secret }
    }
}

#[derive(Subcommand)]
enum Command {
    /// A bare handler answering 202 after reading the body, on hookbus's own listener (hyper,
    /// axum, the same limits): the HTTP ceiling ingress is compared with.
    Reference {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// A delivery target answering 200 after `--delay-ms`.
    Target {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Keep `webhook-id` and arrival time of every request for `GET /_arrivals`.
        #[arg(long)]
        record: bool,
    },
    /// Print the `X-Hub-Signature-256` value of a body file.
    SignGithub {
        #[arg(long)]
        body_file: std::path::PathBuf,
        #[command(flatten)]
        secrets: SecretArgs,
    },
    /// Post `--n` varied signed events over `--concurrency` connections; one JSON line of totals.
    Load {
        #[arg(long)]
        github_url: String,
        #[arg(long)]
        stripe_url: Option<String>,
        #[arg(long)]
        n: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: u64,
        /// Distinct repositories (partition keys) of the GitHub pushes.
        #[arg(long, default_value_t = 10_000)]
        keys: u64,
        #[command(flatten)]
        secrets: SecretArgs,
    },
    /// Post `--rate` events/s for `--secs`, then join each 202 with its arrival at `--target`.
    Openloop {
        #[arg(long)]
        url: String,
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 60)]
        secs: u64,
        #[command(flatten)]
        secrets: SecretArgs,
    },
}

/// Nanoseconds since the Unix epoch: generator and target run on one host and share this clock.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// The first stdout line, which the harness waits for to learn the port.
pub fn banner(l: &tokio::net::TcpListener) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{}", l.local_addr()?)?;
    out.flush()?;
    Ok(())
}

async fn reference(listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    banner(&listener)?;
    let app = axum::Router::new().fallback(|_body: axum::body::Bytes| async { axum::http::StatusCode::ACCEPTED });
    let limits = hookbus_ingress::listener::Limits {
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(15),
        max_connections: 4096,
    };
    hookbus_ingress::listener::serve(listener, app, limits, tokio_util::sync::CancellationToken::new()).await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Reference { listen } => reference(&listen).await,
        Command::Target { listen, delay_ms, record } => {
            target::run(&listen, Duration::from_millis(delay_ms), record).await
        }
        Command::SignGithub { body_file, secrets } => {
            let body = std::fs::read(&body_file)?;
            println!("{}", corpus::github_signature(&secrets.github_secret, &body));
            Ok(())
        }
        Command::Load { github_url, stripe_url, n, concurrency, keys, secrets } => {
            let secrets = secrets.secrets();
            load::load(load::LoadArgs { github_url, stripe_url, n, concurrency, keys, secrets }).await
        }
        Command::Openloop { url, target, rate, secs, secrets } => {
            load::open_loop(load::OpenLoopArgs { url, rate, secs, target, secrets: secrets.secrets() }).await
        }
    }
}
