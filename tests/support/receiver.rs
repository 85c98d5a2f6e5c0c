//! A local delivery target for end-to-end tests: records every request and answers from a script.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    /// The query string, without the `?` (empty when there is none).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What the receiver answered.
    pub status: u16,
    /// When the answer was sent.
    pub at: std::time::Instant,
}

impl Req {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("delivered body is JSON")
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Req>,
    /// Next answers, in order; then `default`.
    script: VecDeque<(u16, Duration)>,
    default: Option<(u16, Duration)>,
    /// Requests that reached the handler, answered or not yet.
    arrived: usize,
    /// Remaining failures (status 500) per `webhook-id`.
    fail_event: std::collections::HashMap<String, usize>,
    /// Paths that always answer this status.
    fail_path: std::collections::HashMap<String, u16>,
    /// Paths answered with a JSON body of their own (a token endpoint beside the API).
    answer_json: std::collections::HashMap<String, String>,
    /// Per mille of requests answered 503, and of requests answered only after `slow`.
    chaos: Option<(u64, u64, Duration)>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inner }
    }

    /// Answers the next requests with these statuses, then the default (200 unless set).
    pub fn script(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().script.extend(statuses.iter().map(|s| (*s, Duration::ZERO)));
    }

    /// Answers 500 to the first `times` deliveries of event `id` (before the script applies).
    pub fn fail_event(&self, id: &str, times: usize) {
        self.inner.lock().unwrap().fail_event.insert(id.to_owned(), times);
    }

    /// Answers `status` to every request on `path`.
    pub fn fail_path(&self, path: &str, status: u16) {
        self.inner.lock().unwrap().fail_path.insert(path.to_owned(), status);
    }

    /// Deterministic faults: `fail` per mille of requests get 503, `slow` per mille wait `delay`
    /// first (chosen by a hash of event id and attempt, so a rerun sees the same faults).
    pub fn chaos(&self, fail: u64, slow: u64, delay: Duration) {
        self.inner.lock().unwrap().chaos = Some((fail, slow, delay));
    }

    /// Answers every request on `path` with 200 and `body` as JSON.
    pub fn answer_json(&self, path: &str, body: serde_json::Value) {
        self.inner.lock().unwrap().answer_json.insert(path.to_owned(), body.to_string());
    }

    pub fn set_default(&self, status: u16, delay: Duration) {
        self.inner.lock().unwrap().default = Some((status, delay));
    }

    pub fn arrived(&self) -> usize {
        self.inner.lock().unwrap().arrived
    }

    pub fn requests(&self) -> Vec<Req> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Requests whose `webhook-id` is `id`.
    pub fn for_event(&self, id: &str) -> Vec<Req> {
        self.requests().into_iter().filter(|r| r.header("webhook-id") == id).collect()
    }

    /// Waits until `f` holds for the recorded requests, or panics after `timeout` naming `what`.
    pub async fn wait_until(&self, what: &str, timeout: Duration, f: impl Fn(&[Req]) -> bool) -> Vec<Req> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let reqs = self.requests();
            if f(&reqs) {
                return reqs;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; got {} request(s): {:#?}",
                reqs.len(),
                reqs.iter()
                    .map(|r| (&r.path, r.status, r.header("webhook-id"), r.header("hookbus-attempt")))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (status, delay) = {
        let mut i = inner.lock().unwrap();
        i.arrived += 1;
        let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let by_event = i.fail_event.get_mut(&id).filter(|n| **n > 0).map(|n| {
            *n -= 1;
            (500, Duration::ZERO)
        });
        let by_path = i.fail_path.get(uri.path()).map(|s| (*s, Duration::ZERO));
        let by_chaos = i.chaos.and_then(|(fail, slow, delay)| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&id, headers.get("hookbus-attempt").map(|v| v.as_bytes().to_vec())).hash(&mut h);
            match h.finish() % 1000 {
                x if x < fail => Some((503, Duration::ZERO)),
                x if x < fail + slow => Some((200, delay)),
                _ => None,
            }
        });
        by_event
            .or(by_path)
            .or(by_chaos)
            .or_else(|| i.script.pop_front())
            .or(i.default)
            .unwrap_or((200, Duration::ZERO))
    };
    let canned = inner.lock().unwrap().answer_json.get(uri.path()).cloned();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    inner.lock().unwrap().requests.push(Req {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
        status,
        at: std::time::Instant::now(),
    });
    let status = StatusCode::from_u16(status).unwrap();
    match canned {
        Some(json) => (status, [(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response(),
        None => status.into_response(),
    }
}
