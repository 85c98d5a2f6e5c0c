//! The HTTP listener, which faces the internet: HTTP/1 with three limits a slow or idle client
//! cannot outlast (the equivalents of nginx's `client_header_timeout`, `client_body_timeout` and
//! `worker_connections`). `axum::serve` has none of them.
//! - A connection whose request headers are not complete within `header_timeout` is closed
//!   (hyper's `header_read_timeout`, which also covers a connection that sends nothing at all).
//! - A request body that produces no data for `body_timeout` fails the read (tower-http's
//!   request-body timeout); the handler answers 408 and the connection is closed.
//! - At most `max_connections` are open at once; beyond that a new connection is closed at once,
//!   so that a flood of idle ones costs a file descriptor each only until the header timeout.
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::RequestBodyTimeout;

/// The listener's limits (`[server]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then stops accepting and waits for
/// the open connections to finish their requests.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: CancellationToken) {
    let service = RequestBodyTimeout::new(app, limits.body_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            // Out of file descriptors and the like: back off instead of spinning, as axum::serve does.
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = limits.max_connections, "connection limit reached; closing a new connection");
            drop(stream);
            continue;
        };
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timed out, malformed): nothing to do but close.
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
