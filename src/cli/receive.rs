//! `hookbus receive`: a local target for trying hookbus out. Prints every request it gets and, with
//! `--secret`, whether its Standard Webhooks signature is valid.
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use clap::Args;

#[derive(Args)]
pub struct ReceiveArgs {
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
    /// Standard Webhooks secret (`whsec_...`) to verify `webhook-signature` with.
    #[arg(long, env = "HOOKBUS_RECEIVE_SECRET")]
    secret: Option<String>,
    /// Status code to answer (e.g. 500 to watch retries, 400 to watch dead-lettering).
    #[arg(long, default_value_t = 200)]
    status: u16,
}

struct Receiver {
    key: Option<Vec<u8>>,
    status: StatusCode,
}

pub async fn run(a: ReceiveArgs) -> anyhow::Result<ExitCode> {
    let key = a.secret.as_deref().map(hookbus_core::signing::standard_webhooks_key).transpose()?;
    let status = StatusCode::from_u16(a.status).context("--status must be an HTTP status code")?;
    let listener =
        tokio::net::TcpListener::bind(&a.listen).await.with_context(|| format!("cannot listen on {}", a.listen))?;
    println!("receiving on http://{} (answering {status})", listener.local_addr()?);
    let app = axum::Router::new().fallback(handle).with_state(Arc::new(Receiver { key, status }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

async fn handle(State(r): State<Arc<Receiver>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let signature = match &r.key {
        None => "not checked (no --secret)".to_owned(),
        Some(key) => {
            let ts = h("webhook-timestamp").parse().unwrap_or_default();
            let ok = hookbus_core::signing::standard_webhooks_matches(
                key,
                &h("webhook-id"),
                ts,
                &body,
                &h("webhook-signature"),
            );
            if ok { "valid".into() } else { "INVALID".into() }
        }
    };
    let pretty = serde_json::from_slice::<serde_json::Value>(&body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
    println!("--- {uri}  webhook-id: {}  type: {}  signature: {signature}\n{pretty}", h("webhook-id"), h("ce-type"));
    r.status
}
