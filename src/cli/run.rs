//! `serve`, `ingress`, `worker`: run until SIGINT/SIGTERM.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use hookbus::app::{self, Role};
use tokio_util::sync::CancellationToken;

pub async fn run(path: &Path, role: Role) -> anyhow::Result<ExitCode> {
    let config = super::load(path)?;
    let _telemetry = hookbus::telemetry::init(&config.telemetry, "info")?;
    raise_open_file_limit(&config);
    let listener = tokio::net::TcpListener::bind(&config.server.listen).await.with_context(|| {
        format!("cannot listen on {} (server.listen); is another process using it?", config.server.listen)
    })?;
    let admin = app::bind_admin(&config).await?;
    // Scripts and tests read the bound address (port 0 picks one) from this first stdout line. One
    // write for both lines, and a reader that has gone (a script that read only the first line) is
    // no reason to stop serving.
    let mut banner = format!("hookbus listening on http://{}\n", listener.local_addr()?);
    if let Some(a) = &admin {
        banner.push_str(&format!("hookbus admin API on http://{}/api/v1\n", a.local_addr()?));
    }
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    let shutdown = CancellationToken::new();
    app::cancel_on_signals(shutdown.clone());
    app::run_with(config, role, listener, admin, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// Every delivery in flight and every webhook connection holds a socket, and many systems start a
/// process with a soft limit of 1,024 open files: raise it to the hard limit, as long-running
/// servers do, and say when the configured concurrency may still not fit.
fn raise_open_file_limit(config: &hookbus_core::config::Config) {
    let wanted: u64 =
        config.subscriptions.values().map(|s| s.concurrency as u64).sum::<u64>() + config.server.max_connections as u64;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted => tracing::warn!(
            limit,
            wanted,
            "the open-file limit is below the subscriptions' concurrency plus server.max_connections; \
             raise it (ulimit -n, LimitNOFILE=) or lower concurrency"
        ),
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
}
