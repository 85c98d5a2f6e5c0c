//! The delivery targets: answer 200 after `delay` (0 for the fast target, 200 ms for the slow one,
//! 5 s for the holding one). `GET /_stats` tells the harness how many requests arrived, when the
//! the first arrived and the last was answered, and how many were in flight at most; with `record`, `GET /_arrivals` lists
//! `webhook-id arrival_ns` for the open-loop latency join.
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;

use crate::now_ns;

#[derive(Default)]
struct Stats {
    count: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    arrivals: Mutex<Vec<(String, u64)>>,
}

struct Target {
    delay: Duration,
    record: bool,
    stats: Stats,
}

pub async fn run(listen: &str, delay: Duration, record: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    crate::banner(&listener)?;
    let state = Arc::new(Target { delay, record, stats: Stats::default() });
    let app = axum::Router::new()
        .route("/_stats", get(stats))
        .route("/_arrivals", get(arrivals))
        .fallback(receive)
        .with_state(state);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(State(t): State<Arc<Target>>, headers: HeaderMap, _body: axum::body::Bytes) -> StatusCode {
    let s = &t.stats;
    let arrived = now_ns();
    let _ = s.first_ns.compare_exchange(0, arrived, Relaxed, Relaxed);
    if t.record {
        let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        s.arrivals.lock().expect("arrivals lock").push((id, arrived));
    }
    let now = s.in_flight.fetch_add(1, Relaxed) + 1;
    s.max_in_flight.fetch_max(now, Relaxed);
    if !t.delay.is_zero() {
        tokio::time::sleep(t.delay).await;
    }
    s.in_flight.fetch_sub(1, Relaxed);
    s.last_ns.fetch_max(now_ns(), Relaxed);
    // Counted when answered, so that `count` is the number of completed deliveries.
    s.count.fetch_add(1, Relaxed);
    StatusCode::OK
}

async fn stats(State(t): State<Arc<Target>>) -> axum::Json<serde_json::Value> {
    let s = &t.stats;
    axum::Json(serde_json::json!({
        "count": s.count.load(Relaxed),
        "first_ns": s.first_ns.load(Relaxed),
        "last_ns": s.last_ns.load(Relaxed),
        "in_flight": s.in_flight.load(Relaxed),
        "max_in_flight": s.max_in_flight.load(Relaxed),
    }))
}

async fn arrivals(State(t): State<Arc<Target>>) -> String {
    let list = t.stats.arrivals.lock().expect("arrivals lock");
    let mut out = String::with_capacity(list.len() * 50);
    for (id, ns) in list.iter() {
        out.push_str(id);
        out.push(' ');
        out.push_str(&ns.to_string());
        out.push('\n');
    }
    out
}
