//! A hookbus under test: a config for a chosen backend with names unique to the test (so tests can
//! share one Kafka broker and one Redis), started in-process on port 0 or as a child process.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookbus::app::{self, Role};
use hookbus_core::config::Config;
use hookbus_ingress::verify::Scheme;
use tokio_util::sync::CancellationToken;

pub const GITHUB_SECRET: &str = "gh-test-secret";
pub const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Outbound signing secret of every test subscription.
/// The `crm` subscription's default mapping: a CRM activity from a push.
pub const CRM_TRANSFORM: &str =
    "{email: .data.pusher.email, repo: .data.repository.full_name, commits: [.data.commits[].id[0:7]]}";
pub const OUT_SECRET: &str = "whsec_dGVzdC1vdXRib3VuZC1zZWNyZXQ=";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Kafka(String),
}

fn required(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {var} is unset: {what} is required in CI"
            );
            eprintln!("skipping: set {var} to run against {what}");
            None
        }
    }
}

impl Backend {
    /// `None` (skip, with a printed reason) only outside CI when no Kafka-protocol broker is configured.
    pub fn kafka() -> Option<Self> {
        required("HOOKBUS_TEST_KAFKA_BROKERS", "a Kafka-protocol broker").map(Backend::Kafka)
    }
}

/// Redis for dedup when available (required in CI), else in-memory dedup.
pub fn redis_url() -> Option<String> {
    required("HOOKBUS_TEST_REDIS_URL", "Redis")
}

pub struct Options {
    pub schedule: Vec<&'static str>,
    pub timeout_ms: u64,
    /// Allow-list 127.0.0.1 for the SSRF guard (the receiver is local).
    pub allow_loopback: bool,
    /// Ordered delivery per partition key for the `crm` subscription.
    pub ordered: bool,
    /// Dedup in this Redis instead of the shared one (tests that restart Redis).
    pub redis_url: Option<String>,
    /// How long ingress waits for Kafka's acknowledgement before answering 503.
    pub produce_timeout_ms: u64,
    /// The `crm` subscription's jq transform; empty for none.
    pub transform: &'static str,
    /// The `crm` subscription's circuit breaker (tests of retry mechanics turn it off).
    pub circuit_breaker: bool,
    /// Ordered mode: events allowed to wait behind busy keys before reading stops.
    pub ordered_backlog: usize,
    /// Kafka static membership: restarted workers take their old place in the group.
    pub group_instance_id: Option<&'static str>,
    /// Kafka: partitions and replication factor of the topics hookbus creates.
    pub partitions: i32,
    pub replication_factor: i32,
    /// Kafka consumer group session timeout (also the longest poll gap allowed).
    pub session_timeout_ms: u64,
    /// More TOML lines for the `crm` subscription (e.g. `content_mode = "binary"`).
    pub crm_settings: &'static str,
    /// The path of the `crm` subscription's target on the receiver (may hold `{{ jq }}` templates).
    pub crm_path: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            schedule: vec!["0s", "100ms", "200ms"],
            timeout_ms: 5000,
            allow_loopback: true,
            ordered: false,
            redis_url: None,
            produce_timeout_ms: 5000,
            transform: CRM_TRANSFORM,
            circuit_breaker: true,
            ordered_backlog: 10_000,
            group_instance_id: None,
            partitions: 1,
            replication_factor: 1,
            session_timeout_ms: 10_000,
            crm_settings: "",
            crm_path: "/crm",
        }
    }
}

pub struct Bus {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub prefix: String,
    pub backend: Backend,
}

pub struct Running {
    pub url: String,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle.await.expect("app task").expect("app returned an error");
    }
}

impl Bus {
    pub fn new(backend: Backend, receiver_url: &str, opts: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let (backend_name, brokers) = match &backend {
            Backend::Embedded => ("embedded", "127.0.0.1:1".to_owned()),
            Backend::Kafka(b) => ("kafka", b.clone()),
        };
        let (dedup, redis) = match opts.redis_url.clone().or_else(redis_url) {
            Some(u) => ("redis", u),
            None => ("memory", "redis://127.0.0.1:6379".to_owned()),
        };
        let instance = opts.group_instance_id.map(|id| format!(", group_instance_id = \"{id}\"")).unwrap_or_default();
        let schedule = opts.schedule.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        let toml = format!(
            r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 5

[broker]
backend = "{backend_name}"
topic_prefix = "{prefix}"
embedded = {{ path = "{db}" }}
kafka = {{ brokers = "{brokers}", partitions = {partitions}, replication_factor = {rf}, session_timeout_ms = {session}, max_poll_interval_ms = {poll}, produce_timeout_ms = {produce_timeout}{instance} }}

[worker]
allow_targets = [{allow}]

[dedup]
backend = "{dedup}"
redis_url = "{redis}"
key_prefix = "{prefix}:dedup"

[sources.github]
scheme = "github"
topic = "{prefix}-github"
secrets = [{{ value = "{GITHUB_SECRET}" }}]
partition_key = "/repository/full_name"

[sources.acme]
scheme = "standard_webhooks"
topic = "{prefix}-acme"
secrets = [{{ value = "{SW_SECRET}" }}]

[subscriptions.crm]
topic = "{prefix}-github"
event_types = ["github.push"]
target = "{receiver_url}{crm_path}"
filter = '.data.ref == "refs/heads/main"'
{transform}
signing_secret = {{ value = "{OUT_SECRET}" }}
timeout_ms = {timeout}
ordered = {ordered}
ordered_backlog = {backlog}
retry = {{ schedule = [{schedule}], jitter = 0.0 }}
circuit_breaker = {{ enabled = {breaker} }}
{crm_settings}

[subscriptions.billing]
topic = "{prefix}-acme"
target = "{receiver_url}/billing"
filter = '.type == "acme.invoice.paid"'
transform = '{{invoice: .data.data.id, amount_cents: .data.data.amount}}'
signing_secret = {{ value = "{OUT_SECRET}" }}
timeout_ms = {timeout}
retry = {{ schedule = [{schedule}], jitter = 0.0 }}
"#,
            db = dir.path().join("log.db").display(),
            timeout = opts.timeout_ms,
            ordered = opts.ordered,
            backlog = opts.ordered_backlog,
            // An empty transform means none: the CloudEvent envelope is delivered.
            transform =
                if opts.transform.is_empty() { String::new() } else { format!("transform = '{}'", opts.transform) },
            breaker = opts.circuit_breaker,
            crm_settings = opts.crm_settings,
            crm_path = opts.crm_path,
            produce_timeout = opts.produce_timeout_ms,
            partitions = opts.partitions,
            rf = opts.replication_factor,
            session = opts.session_timeout_ms,
            poll = opts.session_timeout_ms.max(10_000),
            allow = if opts.allow_loopback { "\"127.0.0.1\"" } else { "" },
        );
        let config_path = dir.path().join("hookbus.toml");
        std::fs::write(&config_path, toml).unwrap();
        Self { dir, config_path, prefix, backend }
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).expect("test config is valid")
    }

    /// Runs `serve` in this process on a free port.
    pub async fn start(&self) -> Running {
        // Spans get real trace contexts, as in the binary (the first call in a test process wins).
        // Quiet unless RUST_LOG asks for more: test output stays readable.
        std::mem::forget(hookbus::telemetry::init(&Default::default(), "warn"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app::run(self.config(), Role::Serve, listener, shutdown.clone()));
        let running = Running { url, shutdown, handle };
        wait_ready(&running.url).await;
        running
    }

    /// Runs the `hookbus` binary with `args` and this bus's `--config`; asserts success, returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookbus"))
            .args(args)
            .arg("--config")
            .arg(&self.config_path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "hookbus {args:?} failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    }

    pub fn broker(&self) -> Arc<dyn hookbus_broker::Broker> {
        hookbus_broker::connect(&self.config().broker).unwrap()
    }
}

/// Waits until /readyz answers 200.
pub async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{url} did not become ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A GitHub push payload for `repo`, on `refs/heads/main`.
pub fn github_push(repo: &str, email: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "repository": { "full_name": repo },
        "pusher": { "name": "mona", "email": email },
        "commits": [{ "id": "59b20b8d5c6ff8d09518454d4dd8b7a30f095ab5", "message": "Update README.md" }]
    }))
    .unwrap()
}

/// Posts `body` to `/webhooks/{source}` signed by `scheme` with `secret`; returns status and JSON.
pub async fn post_signed(
    url: &str,
    source: &str,
    scheme: Scheme,
    secret: &str,
    body: &[u8],
    id: &str,
) -> (u16, serde_json::Value) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let headers = scheme.sign(secret, body, now, id).unwrap();
    post(url, source, &headers, body).await
}

pub async fn post(url: &str, source: &str, headers: &[(String, String)], body: &[u8]) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().post(format!("{url}/webhooks/{source}")).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

pub async fn post_github(url: &str, body: &[u8], delivery: &str) -> (u16, serde_json::Value) {
    post_signed(url, "github", Scheme::of(hookbus_core::config::SchemeKind::Github), GITHUB_SECRET, body, delivery)
        .await
}

/// Like [`post_github`], with the response headers.
pub async fn post_github_full(url: &str, body: &[u8], id: &str) -> (u16, reqwest::header::HeaderMap) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let headers = Scheme::of(hookbus_core::config::SchemeKind::Github).sign(GITHUB_SECRET, body, now, id).unwrap();
    let mut req = reqwest::Client::new().post(format!("{url}/webhooks/github")).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.headers().clone())
}
