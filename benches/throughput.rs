//! Throughput of `hookbus serve` on the embedded backend, next to a bare axum handler as the HTTP
//! ceiling of this machine with the same client. Everything runs in this process on loopback.
//!
//! `cargo bench --bench throughput`; `BENCH_N` (default 5000), `BENCH_C` (32), `BENCH_SLOW_N` (400)
//! and `BENCH_TIMEOUT_SECS` (300) override the sizes. Prints a markdown table at the end.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hookbus::app::{self, Role};
use hookbus_core::config::Config;
use hookbus_ingress::verify::Scheme;
use reqwest::header::{HeaderName, HeaderValue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "bench-github-secret";
const OUT_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Repositories the pushes are spread over (distinct partition keys).
const REPOS: usize = 16;
const SLOW_DELAY: Duration = Duration::from_millis(200);
const SUB_CONCURRENCY: usize = 16;

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} is not a positive integer")),
        Err(_) => default,
    }
}

fn main() {
    let n = env_usize("BENCH_N", 5000).max(1);
    let c = env_usize("BENCH_C", 32).max(1);
    let slow_n = env_usize("BENCH_SLOW_N", 400).max(1);
    let limit = Duration::from_secs(env_usize("BENCH_TIMEOUT_SECS", 300) as u64);
    // A watchdog thread rather than a tokio timeout: it fires even if the runtime is wedged.
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("throughput bench: ABORTED, did not finish within {limit:?} (set BENCH_TIMEOUT_SECS to allow more)");
        std::process::exit(2);
    });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(run(n, c, slow_n));
}

struct Row {
    workload: String,
    requests: usize,
    rate: f64,
    p50: Duration,
    p99: Duration,
}

async fn run(n: usize, c: usize, slow_n: usize) {
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(c).build().expect("reqwest client");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let body_len = push_body(0).len();
    let load_at_start = loadavg();
    eprintln!("throughput bench: N={n} C={c} slow N={slow_n}, body {body_len} bytes");

    // 1. The ceiling: the same client and requests against a handler that only reads the body.
    let reqs = Arc::new(signed_requests("ref", n));
    let url = reference_server().await;
    let post_url = format!("{url}/webhooks/github");
    load(&client, &post_url, Arc::new(signed_requests("warm", (c * 4).min(n))), c, 202, None).await;
    let r = load(&client, &post_url, reqs, c, 202, None).await;
    rows.push(r.row("reference: bare axum handler, read body → 202", n));

    // 2 + 3. Ingress accept rate and end-to-end delivery, in one run against a fast receiver.
    let fast = run_bus(&client, n, c, Duration::ZERO, false).await;
    rows.push(fast.ingress.row("hookbus serve: signed GitHub push → 202", n));
    rows.push(fast.e2e_row("end-to-end: post → fast receiver (events/s)", n));
    notes.push(fast.note("fast receiver"));

    // 3b. The same with the control plane on: every attempt and outcome goes to the attempt log.
    let logged = run_bus(&client, n, c, Duration::ZERO, true).await;
    rows.push(logged.ingress.row("hookbus serve with [admin] (attempt log): push → 202", n));
    rows.push(logged.e2e_row("end-to-end with the attempt log: post → fast receiver (events/s)", n));
    notes.push(logged.note("fast receiver, attempt log on"));

    // 4. A slow target: delivery concurrency bounds the rate.
    let slow = run_bus(&client, slow_n, c, SLOW_DELAY, false).await;
    rows.push(slow.ingress.row("hookbus serve: 202 while target is slow", slow_n));
    rows.push(slow.e2e_row(&format!("end-to-end: post → 200 ms receiver, concurrency {SUB_CONCURRENCY}"), slow_n));
    notes.push(slow.note("200 ms receiver"));

    // 5. Memory of the whole bench process (client, receivers and hookbus together).
    let (rss, hwm) = (proc_status("VmRSS"), proc_status("VmHWM"));

    println!();
    println!("N={n}, C={c}, body {body_len} B, {} cores", std::thread::available_parallelism().map_or(0, |p| p.get()));
    println!();
    println!("| workload | requests | req/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!("| {} | {} | {:.0} | {} | {} |", r.workload, r.requests, r.rate, ms(r.p50), ms(r.p99));
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
    println!("- load average (1/5/15 min) at start: {load_at_start}; at end: {}", loadavg());
    println!("- process RSS after the run: {rss} (peak {hwm}); bench client, receivers and hookbus share this process");
}

/// Results of one `hookbus serve` run.
struct BusRun {
    ingress: Load,
    /// First post start to the N-th delivery answered by the receiver.
    e2e_elapsed: Duration,
    /// Post start to arrival at the receiver, per event.
    e2e: Vec<Duration>,
    duplicates: usize,
    produce_mean: Option<Duration>,
    outcomes: String,
}

impl BusRun {
    fn e2e_row(&self, workload: &str, n: usize) -> Row {
        let mut lat = self.e2e.clone();
        lat.sort_unstable();
        Row {
            workload: workload.into(),
            requests: n,
            rate: n as f64 / self.e2e_elapsed.as_secs_f64(),
            p50: pct(&lat, 0.50),
            p99: pct(&lat, 0.99),
        }
    }

    fn note(&self, what: &str) -> String {
        let produce = self.produce_mean.map_or("n/a".into(), ms);
        format!(
            "{what}: mean ingress produce (publish → durable) {produce}; worker events {}; duplicate deliveries {}",
            self.outcomes, self.duplicates
        )
    }
}

/// One `hookbus serve` run; with `attempt_log`, the control plane runs too (`[admin]`, SQLite store)
/// and the worker reports every attempt to it.
async fn run_bus(client: &reqwest::Client, n: usize, c: usize, delay: Duration, attempt_log: bool) -> BusRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let prefix = format!("bench-{tag}-");
    let stamps = Arc::new(Stamps::new(n));
    let target = Arc::new(Target {
        stamps: stamps.clone(),
        prefix: prefix.clone(),
        delay,
        delivered: AtomicUsize::new(0),
        duplicates: AtomicUsize::new(0),
        other: AtomicUsize::new(0),
        last_done: AtomicU64::new(0),
    });
    let target_url = receiver(target.clone()).await;
    let mut toml = config_toml(&dir.path().join("log.db"), &target_url);
    if attempt_log {
        toml.push_str(&format!(
            "\n[admin]\nlisten = \"127.0.0.1:0\"\nsqlite_path = '{}'\nencryption_key = {{ value = \"bench\" }}\n\
             tokens = [{{ token = {{ value = \"bench-admin-token\" }}, scope = \"read\" }}]\n",
            dir.path().join("control.db").display()
        ));
    }
    let config = Config::from_toml(&toml, "bench config").expect("bench config is valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app::run(config, Role::Serve, listener, shutdown.clone()));
    wait_ready(client, &url, &handle).await;
    let post_url = format!("{url}/webhooks/github");

    // Warm up connections, the jq program and the SQLite file with events outside the measured ids.
    let warm = (c * 4).min(n);
    load(client, &post_url, Arc::new(signed_requests(&format!("warm-{tag}-"), warm)), c, 202, None).await;
    wait_for(&handle, "warm-up deliveries", || target.other.load(Ordering::Relaxed) >= warm).await;

    let reqs = Arc::new(signed_requests(&prefix, n));
    let ingress = load(client, &post_url, reqs, c, 202, Some(stamps.clone())).await;
    wait_for(&handle, "all deliveries", || target.delivered.load(Ordering::Relaxed) >= n).await;

    let first_sent = stamps.sent.iter().map(|s| s.load(Ordering::Relaxed)).min().unwrap_or(0);
    let e2e_elapsed = Duration::from_nanos(target.last_done.load(Ordering::Relaxed) - first_sent);
    let e2e = (0..n)
        .map(|i| {
            let (s, a) = (stamps.sent[i].load(Ordering::Relaxed), stamps.arrived[i].load(Ordering::Relaxed));
            Duration::from_nanos(a - s)
        })
        .collect();
    let metrics = match client.get(format!("{url}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    shutdown.cancel();
    match tokio::time::timeout(Duration::from_secs(15), handle).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => panic!("hookbus returned an error: {e:#}"),
        Ok(Err(e)) => panic!("hookbus task failed: {e}"),
        Err(_) => panic!("hookbus did not stop within 15 s of shutdown"),
    }
    BusRun {
        ingress,
        e2e_elapsed,
        e2e,
        duplicates: target.duplicates.load(Ordering::Relaxed),
        produce_mean: produce_mean(&metrics),
        outcomes: worker_outcomes(&metrics),
    }
}

fn config_toml(db: &std::path::Path, target: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 5

[broker]
backend = "embedded"
topic_prefix = "bench"
embedded = {{ path = '{db}' }}

[dedup]
backend = "memory"

# The receivers are local; the SSRF guard refuses loopback targets unless allowed.
[worker]
allow_targets = ["127.0.0.1"]

[sources.github]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
partition_key = "/repository/full_name"

[subscriptions.crm-activity]
topic = "github"
event_types = ["github.push"]
target = "{target}/crm/activities"
filter = '.data.ref == "refs/heads/main"'
transform = '''
{{
  email: .data.pusher.email,
  activity: "code_push",
  repository: .data.repository.full_name,
  commits: [.data.commits[] | {{id: .id[0:7], message}}],
  occurred_at: .time
}}
'''
signing_secret = {{ value = "{OUT_SECRET}" }}
timeout_ms = 10000
concurrency = {SUB_CONCURRENCY}
retry = {{ schedule = ["0s", "1s", "5s"], jitter = 0.0 }}
"#,
        db = db.display()
    )
}

/// A GitHub push webhook body of about 1 KB; `i` varies the repository and commit ids.
fn push_body(i: usize) -> Vec<u8> {
    let repo = i % REPOS;
    let sha = |k: u64| format!("{:040x}", (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15 + k as u128);
    let commit = |k: u64, msg: &str| {
        serde_json::json!({
            "id": sha(k), "distinct": true, "message": msg,
            "timestamp": "2025-01-15T10:42:17Z", "url": format!("https://github.com/acme/repo-{repo}/commit/{}", sha(k)),
            "author": { "name": "Mona Lisa", "email": "mona@example.com", "username": "mona" },
            "modified": ["README.md"]
        })
    };
    serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "before": sha(100),
        "after": sha(1),
        "repository": {
            "id": 100_000 + repo, "name": format!("repo-{repo}"), "full_name": format!("acme/repo-{repo}"),
            "private": false, "html_url": format!("https://github.com/acme/repo-{repo}"),
            "owner": { "login": "acme", "id": 9919, "type": "Organization" }, "default_branch": "main"
        },
        "pusher": { "name": "mona", "email": "mona@example.com" },
        "sender": { "login": "mona", "id": 583231, "type": "User" },
        "created": false, "deleted": false, "forced": false,
        "compare": format!("https://github.com/acme/repo-{repo}/compare/{}...{}", &sha(100)[..12], &sha(1)[..12]),
        "commits": [commit(1, "Update README.md with the install steps"), commit(2, "Fix the build on Rust 1.95")],
    }))
    .expect("JSON")
}

struct Signed {
    body: Bytes,
    headers: reqwest::header::HeaderMap,
}

/// `n` signed GitHub pushes with delivery ids `{prefix}{i}`, built before any timing starts.
fn signed_requests(prefix: &str, n: usize) -> Vec<Signed> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (0..n)
        .map(|i| {
            let body = push_body(i);
            let pairs = Scheme::of(hookbus_core::config::SchemeKind::Github)
                .sign(SECRET, &body, now, &format!("{prefix}{i}"))
                .expect("sign");
            let headers = pairs
                .iter()
                .map(|(k, v)| {
                    (HeaderName::try_from(k.as_str()).expect("header"), HeaderValue::try_from(v).expect("value"))
                })
                .collect();
            Signed { body: Bytes::from(body), headers }
        })
        .collect()
}

/// Send and arrival times, in ns since `base` (0 = not yet), indexed by the delivery id's number.
struct Stamps {
    base: Instant,
    sent: Vec<AtomicU64>,
    arrived: Vec<AtomicU64>,
}

impl Stamps {
    fn new(n: usize) -> Self {
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect();
        Self { base: Instant::now(), sent: zeros(), arrived: zeros() }
    }

    /// Never 0, so 0 can mean "unset".
    fn nanos(&self, t: Instant) -> u64 {
        t.duration_since(self.base).as_nanos() as u64 + 1
    }
}

struct Load {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Load {
    fn row(&self, workload: &str, n: usize) -> Row {
        Row {
            workload: workload.into(),
            requests: n,
            rate: n as f64 / self.elapsed.as_secs_f64(),
            p50: pct(&self.latencies, 0.50),
            p99: pct(&self.latencies, 0.99),
        }
    }
}

/// Posts every request once from `c` tasks sharing `client`; aborts on any status but `expect`.
async fn load(
    client: &reqwest::Client,
    url: &str,
    reqs: Arc<Vec<Signed>>,
    c: usize,
    expect: u16,
    stamps: Option<Arc<Stamps>>,
) -> Load {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..c)
        .map(|_| {
            let (client, url, reqs, next, stamps) =
                (client.clone(), url.to_owned(), reqs.clone(), next.clone(), stamps.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(reqs.len() / c + 1);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = reqs.get(i) else { break };
                    let t0 = Instant::now();
                    if let Some(s) = &stamps {
                        s.sent[i].store(s.nanos(t0), Ordering::Relaxed);
                    }
                    let resp = client.post(&url).headers(r.headers.clone()).body(r.body.clone()).send().await;
                    let resp = resp.unwrap_or_else(|e| fail(&format!("POST {url} failed: {e}")));
                    let status = resp.status().as_u16();
                    let text = resp.bytes().await.unwrap_or_default();
                    if status != expect {
                        fail(&format!("POST {url} answered {status}: {}", String::from_utf8_lossy(&text)));
                    }
                    lat.push(t0.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(reqs.len());
    for t in tasks {
        latencies.extend(t.await.expect("load task"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Load { latencies, elapsed }
}

fn fail(msg: &str) -> ! {
    eprintln!("throughput bench: ABORTED: {msg}");
    std::process::exit(1);
}

/// The ceiling: reads the body, answers 202.
async fn reference_server() -> String {
    async fn accept(body: Bytes) -> StatusCode {
        drop(body);
        StatusCode::ACCEPTED
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let app = axum::Router::new().fallback(accept);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The delivery target: stamps arrival by `webhook-id`, optionally sleeps, answers 200.
struct Target {
    stamps: Arc<Stamps>,
    prefix: String,
    delay: Duration,
    /// Distinct measured events answered.
    delivered: AtomicUsize,
    /// Measured events seen again (retries).
    duplicates: AtomicUsize,
    /// Warm-up and anything else.
    other: AtomicUsize,
    /// When the latest measured event was answered.
    last_done: AtomicU64,
}

async fn receiver(target: Arc<Target>) -> String {
    async fn handle(State(t): State<Arc<Target>>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let now = t.stamps.nanos(Instant::now());
        drop(body);
        let index = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|id| id.strip_prefix(t.prefix.as_str()))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|i| *i < t.stamps.arrived.len());
        let first = index.map(|i| t.stamps.arrived[i].compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed));
        if !t.delay.is_zero() {
            tokio::time::sleep(t.delay).await;
        }
        match first {
            Some(Ok(_)) => {
                t.last_done.fetch_max(t.stamps.nanos(Instant::now()), Ordering::Relaxed);
                t.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(_)) => {
                t.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                t.other.fetch_add(1, Ordering::Relaxed);
            }
        }
        StatusCode::OK
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let app = axum::Router::new().fallback(handle).with_state(target);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn wait_ready(client: &reqwest::Client, url: &str, app: &JoinHandle<anyhow::Result<()>>) {
    wait_until(app, "hookbus /readyz", || async {
        matches!(client.get(format!("{url}/readyz")).send().await, Ok(r) if r.status() == 200)
    })
    .await;
}

async fn wait_for(app: &JoinHandle<anyhow::Result<()>>, what: &str, done: impl Fn() -> bool) {
    wait_until(app, what, || std::future::ready(done())).await;
}

/// Polls `done` every 5 ms; the overall watchdog bounds the wait. Aborts if hookbus stops.
async fn wait_until<F: Future<Output = bool>>(app: &JoinHandle<anyhow::Result<()>>, what: &str, done: impl Fn() -> F) {
    while !done().await {
        if app.is_finished() {
            fail(&format!("hookbus stopped while waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Mean of `hookbus_ingress_produce_seconds` from the /metrics text.
fn produce_mean(metrics: &str) -> Option<Duration> {
    let value =
        |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok());
    let (sum, count) = (value("hookbus_ingress_produce_seconds_sum")?, value("hookbus_ingress_produce_seconds_count")?);
    (count > 0.0).then(|| Duration::from_secs_f64(sum / count))
}

/// `outcome=count` of `hookbus_worker_events_total`, e.g. `delivered=5128`.
fn worker_outcomes(metrics: &str) -> String {
    let found: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("hookbus_worker_events_total{"))
        .filter_map(|l| {
            let outcome = l.split("outcome=\"").nth(1)?.split('"').next()?;
            Some(format!("{outcome}={}", l.rsplit(' ').next()?))
        })
        .collect();
    if found.is_empty() { "n/a".into() } else { found.join(", ") }
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let kb: f64 = s
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some(format!("{:.1} MiB", kb / 1024.0))
        })
        .unwrap_or_else(|| "n/a".into())
}

/// The machine is shared: the load average says how much else was running.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// `q`-quantile of sorted values (nearest rank).
fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 { format!("{ms:.0} ms") } else { format!("{ms:.2} ms") }
}
