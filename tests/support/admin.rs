//! A hookbus node with the control plane: `serve` in-process with a webhook listener and an admin
//! listener on free ports, and a client of its admin API.
use std::time::Duration;

use hookbus::app::{self, Role};
use tokio_util::sync::CancellationToken;

use super::bus::{self, Bus};

/// The write-scope token [`with_admin`] configures.
pub const TOKEN: &str = "e2e-admin-token";

/// Adds an `[admin]` section to the bus's config: SQLite store in its directory, one write token.
pub fn with_admin(bus: &Bus) {
    with_admin_store(bus, "sqlite");
}

/// As [`with_admin`], on `store` (`"sqlite"` or a `postgres://` URL shared by several nodes).
pub fn with_admin_store(bus: &Bus, store: &str) {
    let mut toml = std::fs::read_to_string(&bus.config_path).unwrap();
    toml.push_str(&format!(
        "\n[admin]\nlisten = \"127.0.0.1:0\"\nstore = \"{store}\"\nsqlite_path = \"{}\"\n\
         encryption_key = {{ value = \"k\" }}\ntokens = [{{ token = {{ value = \"{TOKEN}\" }}, scope = \"write\" }}]\n",
        bus.dir.path().join("control.db").display()
    ));
    std::fs::write(&bus.config_path, toml).unwrap();
}

pub struct Node {
    pub url: String,
    pub admin: String,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts `serve` on the bus's config and waits until both listeners answer.
pub async fn start(bus: &Bus) -> Node {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let admin = format!("http://{}", admin_listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let handle =
        tokio::spawn(app::run_with(bus.config(), Role::Serve, listener, Some(admin_listener), shutdown.clone()));
    bus::wait_ready(&url).await;
    bus::wait_ready(&admin).await;
    Node { url, admin, shutdown, handle }
}

impl Node {
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle.await.unwrap().unwrap();
    }

    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, format!("{}/api/v1{path}", self.admin)).bearer_auth(TOKEN)
    }

    /// Sends `method path` with a JSON body and returns (status, body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self.api(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GETs `path` until `cond` holds (10 s at most) and returns the last body.
    pub async fn get_until(&self, path: &str, cond: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let body: serde_json::Value =
                self.api(reqwest::Method::GET, path).send().await.unwrap().json().await.unwrap();
            if cond(&body) || tokio::time::Instant::now() > deadline {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs the hookbus binary with `args` and `HOOKBUS_TOKEN` set to [`TOKEN`]; asserts success,
/// returns stdout.
pub async fn cli(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hookbus"))
            .args(&args)
            .env("HOOKBUS_TOKEN", TOKEN)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "hookbus failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
