//! `serve`, `ingress`, `worker`: run until SIGINT/SIGTERM.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use hookbus::app::{self, Role};
use tokio_util::sync::CancellationToken;

pub async fn run(path: &Path, role: Role) -> anyhow::Result<ExitCode> {
    let config = super::load(path)?;
    let _telemetry = hookbus::telemetry::init(&config.telemetry, "info")?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen).await.with_context(|| {
        format!("cannot listen on {} (server.listen); is another process using it?", config.server.listen)
    })?;
    let admin = app::bind_admin(&config).await?;
    // Scripts and tests read the bound address (port 0 picks one) from this first stdout line.
    println!("hookbus listening on http://{}", listener.local_addr()?);
    if let Some(a) = &admin {
        println!("hookbus admin API on http://{}/api/v1", a.local_addr()?);
    }
    let shutdown = CancellationToken::new();
    app::cancel_on_signals(shutdown.clone());
    app::run_with(config, role, listener, admin, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
