//! `hookbus dlq ... --api URL`, `hookbus replay --api URL` and `hookbus quarantine ... --api URL`: the
//! same operations through a running node's admin API (token from HOOKBUS_TOKEN), so they work
//! against a remote deployment.
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

pub struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let token = std::env::var("HOOKBUS_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .context("set HOOKBUS_TOKEN to an admin token ([admin] tokens) to use --api")?;
        let base = url.trim_end_matches('/').trim_end_matches("/api/v1").to_owned();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        Ok(Self { base, token, client })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.client.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| format!("cannot reach {url}; is the admin listener up?"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let e = &body["error"];
            bail!("{url}: {status}: {} ({})", e["message"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or("?"));
        }
        Ok(body)
    }

    pub async fn dead_letters(&self, subscription: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("limit", "1000".into()));
        let qs = serde_urlencoded_pairs(&q);
        self.call(reqwest::Method::GET, &format!("/subscriptions/{subscription}/dead-letters?{qs}"), None).await
    }

    /// A source's quarantined events, up to 1000.
    pub async fn quarantine(&self, source: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("limit", "1000".into()));
        let qs = serde_urlencoded_pairs(&q);
        self.call(reqwest::Method::GET, &format!("/sources/{source}/quarantine?{qs}"), None).await
    }

    /// Releases a source's quarantined events; the answer lists those released and those kept.
    pub async fn release(&self, source: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, &format!("/sources/{source}/quarantine/release"), Some(body)).await
    }

    /// Starts a job and waits for it, printing progress; returns the finished job.
    pub async fn job(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let job = self.call(reqwest::Method::POST, path, Some(body)).await?;
        let id = job["id"].as_str().context("the API answered without a job id")?.to_owned();
        eprintln!("job {id} started");
        loop {
            let j = self.call(reqwest::Method::GET, &format!("/jobs/{id}"), None).await?;
            match j["state"].as_str() {
                Some("running") => {
                    eprintln!("... {} queued, {} scanned", j["processed"], j["scanned"]);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Some("succeeded") => return Ok(j),
                _ => bail!("job {id} failed: {}", j["error"].as_str().unwrap_or("unknown error")),
            }
        }
    }
}

/// `a=b&c=d`, percent-encoding values (RFC 3339 times carry `+` and `:`).
fn serde_urlencoded_pairs(pairs: &[(&str, String)]) -> String {
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        u.append_pair(k, v);
    }
    u.finish()
}

pub fn redrive_body(query: &[(&str, String)]) -> Value {
    let mut body = json!({});
    for (k, v) in query {
        body[*k] = json!(v);
    }
    body
}
