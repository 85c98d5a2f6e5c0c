//! The `hookbus` command line.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

// mimalloc instead of glibc malloc: under load, glibc's malloc/free/consolidate took about 17 % of
// the ingress process's samples (per-request headers, JSON values, records); see BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "hookbus", version, about = "Webhook event bus: verify, normalize, route, map and deliver webhooks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// Configuration file (TOML). Keys can be overridden with HOOKBUS_SECTION__KEY variables.
    #[arg(long, short, env = "HOOKBUS_CONFIG", default_value = "hookbus.toml")]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run ingress and worker in one process.
    Serve(ConfigArg),
    /// Run only the ingress (receives webhooks, produces events).
    Ingress(ConfigArg),
    /// Run only the subscriber worker (consumes, maps and delivers events).
    Worker(ConfigArg),
    /// Check a configuration file.
    #[command(subcommand)]
    Config(cli::config::ConfigCmd),
    /// Print the headers a provider would send for a body, for testing a source.
    Sign(cli::sign::SignArgs),
    /// Check one captured request's signature offline (exit 0 valid, 1 invalid, 2 usage error).
    Verify(cli::verify::VerifyArgs),
    /// Inspect, redrive and purge dead letters.
    #[command(subcommand)]
    Dlq(cli::dlq::DlqCmd),
    /// List and release events a source's schema contracts quarantined.
    #[command(subcommand)]
    Quarantine(cli::quarantine::QuarantineCmd),
    /// Re-deliver accepted events of a time range to one subscription.
    Replay(cli::dlq::ReplayArgs),
    /// Run a subscription's filter and transform on an event file.
    #[command(subcommand)]
    Mapping(cli::mapping::MappingCmd),
    /// A local HTTP receiver that prints what it gets and can verify Standard Webhooks signatures.
    Receive(cli::receive::ReceiveArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Larger stacks than tokio's 2 MiB default: jq programs are evaluated recursively on these threads.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(8 << 20).build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(c) => cli::run::run(&c.config, hookbus::app::Role::Serve).await,
            Command::Ingress(c) => cli::run::run(&c.config, hookbus::app::Role::Ingress).await,
            Command::Worker(c) => cli::run::run(&c.config, hookbus::app::Role::Worker).await,
            Command::Config(c) => cli::config::run(c),
            Command::Sign(a) => cli::sign::run(a),
            Command::Verify(a) => cli::verify::run(a),
            Command::Dlq(c) => cli::dlq::run(c).await,
            Command::Replay(a) => cli::dlq::replay(a).await,
            Command::Quarantine(c) => cli::quarantine::run(c).await,
            Command::Mapping(c) => cli::mapping::run(c),
            Command::Receive(a) => cli::receive::run(a).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
