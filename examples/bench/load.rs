//! Two generators for what wrk cannot do: `load` posts a varied, signed corpus (distinct bodies,
//! many partition keys) with a fixed number of connections; `openloop` posts at a fixed rate,
//! whatever the answers' latency, and joins each 202 with the event's arrival at the target.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::corpus::{self, Secrets, Signed};
use crate::now_ns;

pub struct LoadArgs {
    pub github_url: String,
    /// Every third event goes here when set (the varied corpus).
    pub stripe_url: Option<String>,
    pub n: u64,
    pub concurrency: u64,
    pub keys: u64,
    pub secrets: Secrets,
}

fn client() -> anyhow::Result<reqwest::Client> {
    // Idle connections leave the pool before hookbus closes them (its header timeout, 10 s), so a
    // request never goes out on a connection the server is closing.
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn post(client: &reqwest::Client, url: &str, req: &Signed) -> anyhow::Result<()> {
    let mut r = client.post(url).body(req.body.clone());
    for (k, v) in &req.headers {
        r = r.header(*k, v);
    }
    let resp = r.send().await.with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    if status != reqwest::StatusCode::ACCEPTED {
        let text = resp.text().await.unwrap_or_default();
        bail!("POST {url} answered {status}, not 202: {text}");
    }
    Ok(())
}

/// Closed loop: `concurrency` tasks each post their share of `n` events. Prints one JSON line:
/// events sent, body bytes (headers counted apart), seconds, events/s.
pub async fn load(a: LoadArgs) -> anyhow::Result<()> {
    let client = client()?;
    let a = Arc::new(a);
    let next = Arc::new(AtomicU64::new(0));
    let body_bytes = Arc::new(AtomicU64::new(0));
    let header_bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..a.concurrency {
        let (a, client, next) = (a.clone(), client.clone(), next.clone());
        let (body_bytes, header_bytes) = (body_bytes.clone(), header_bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(t);
            loop {
                let seq = next.fetch_add(1, Relaxed);
                if seq >= a.n {
                    return anyhow::Ok(());
                }
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let req = match &a.stripe_url {
                    Some(_) if seq % 3 == 2 => corpus::stripe_event(&mut rng, &a.secrets, now),
                    _ => corpus::github_push(&mut rng, &a.secrets, seq, a.keys, now),
                };
                body_bytes.fetch_add(req.body.len() as u64, Relaxed);
                let h: usize = req.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
                header_bytes.fetch_add(h as u64, Relaxed);
                let url = if req.stripe { a.stripe_url.as_deref().unwrap_or(&a.github_url) } else { &a.github_url };
                post(&client, url, &req).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "events": a.n, "body_bytes": body_bytes.load(Relaxed), "header_bytes": header_bytes.load(Relaxed),
            "secs": secs, "rate": a.n as f64 / secs,
        })
    );
    Ok(())
}

pub struct OpenLoopArgs {
    pub url: String,
    pub rate: u64,
    pub secs: u64,
    /// The target's base URL (`/_arrivals`).
    pub target: String,
    pub secrets: Secrets,
}

/// Open loop: request i is sent at start + i/rate, each on its own task, so a slow answer delays
/// nothing after it. The 202's time is taken when the answer is read; the arrival time is the
/// target's clock (same host). Prints p50/p99/max of arrival − 202 and how many never arrived.
pub async fn open_loop(a: OpenLoopArgs) -> anyhow::Result<()> {
    let client = client()?;
    let total = a.rate * a.secs;
    let mut rng = StdRng::seed_from_u64(7);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Signed ahead, so signing does not shift the schedule.
    let requests: Vec<Signed> = (0..total).map(|i| corpus::github_push(&mut rng, &a.secrets, i, 1000, now)).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<anyhow::Result<(String, u64)>>();
    let started = tokio::time::Instant::now();
    let url = Arc::new(a.url.clone());
    for (i, req) in requests.into_iter().enumerate() {
        tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / a.rate as f64)).await;
        let (client, tx, url) = (client.clone(), tx.clone(), url.clone());
        tokio::spawn(async move {
            let r = post(&client, &url, &req).await.map(|()| (req.id, now_ns()));
            let _ = tx.send(r);
        });
    }
    drop(tx);
    let mut accepted = HashMap::with_capacity(total as usize);
    while let Some(r) = rx.recv().await {
        let (id, at) = r?;
        accepted.insert(id, at);
    }
    let send_secs = started.elapsed().as_secs_f64();
    // Wait (bounded) until the target has seen every accepted event.
    let deadline = Instant::now() + Duration::from_secs(60);
    let arrivals = loop {
        let text = client.get(format!("{}/_arrivals", a.target)).send().await?.text().await?;
        let map: HashMap<String, u64> = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(id, ns)| Some((id.to_owned(), ns.parse().ok()?)))
            .collect();
        if accepted.keys().all(|id| map.contains_key(id)) || Instant::now() > deadline {
            break map;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut lat_ms: Vec<f64> =
        accepted.iter().filter_map(|(id, at)| arrivals.get(id).map(|arr| (*arr as f64 - *at as f64) / 1e6)).collect();
    let missing = accepted.len() - lat_ms.len();
    lat_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| lat_ms.get(((lat_ms.len() as f64 * p) as usize).min(lat_ms.len().saturating_sub(1))).copied();
    println!(
        "{}",
        serde_json::json!({
            "sent": total, "accepted": accepted.len(), "send_secs": send_secs, "arrived": lat_ms.len(),
            "missing": missing, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": lat_ms.last(),
        })
    );
    if missing > 0 {
        bail!("{missing} accepted events never reached the target within 60 s");
    }
    Ok(())
}
