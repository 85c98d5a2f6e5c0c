//! Dedup by provider delivery id. A key is first claimed as "pending" for a short time, and marked
//! "done" for the full window only after the event is durable; a failed publish releases it. So a
//! provider's retry after a failure is accepted, and a crash between claim and publish costs at most
//! the pending TTL of 503s, never the event.
//!
//! The "done" window is per call, so each source can remember its delivery ids for as long as its
//! provider retries (`sources.NAME.dedup_window_secs`); without one the store's default
//! (`dedup.window_secs`) applies.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::AsyncCommands;

use crate::IngressError;

/// How long a claim blocks duplicates while its publish is in progress.
const PENDING_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen: publish, then `confirm` (or `release` on failure).
    New,
    /// Already accepted within the window.
    Done,
    /// Another request with this id is publishing right now.
    InFlight,
}

#[async_trait]
pub trait Dedup: Send + Sync {
    /// Claims `key` as pending (for a short TTL) unless it is pending or done already.
    async fn claim(&self, key: &str) -> Result<Claim, IngressError>;
    /// Marks `key` done for `window` (None: the store's default window).
    async fn confirm(&self, key: &str, window: Option<Duration>) -> Result<(), IngressError>;
    /// Forgets a pending claim after a failed publish, so the provider's retry is accepted.
    async fn release(&self, key: &str);
}

/// Per-process dedup; forgotten on restart. `window` is the default done window.
pub struct MemoryDedup {
    window: Duration,
    entries: Mutex<Entries>,
}

/// key -> (done, expires at), and claims since the last sweep of expired keys.
#[derive(Default)]
struct Entries {
    map: HashMap<String, (bool, Instant)>,
    claims: u32,
}

/// Expired keys are swept once per this many claims, bounding memory to one window of traffic.
const SWEEP_EVERY: u32 = 4096;

impl MemoryDedup {
    pub fn new(window: Duration) -> Self {
        Self { window, entries: Mutex::new(Entries::default()) }
    }
}

#[async_trait]
impl Dedup for MemoryDedup {
    async fn claim(&self, key: &str) -> Result<Claim, IngressError> {
        let now = Instant::now();
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.claims += 1;
        if e.claims >= SWEEP_EVERY {
            e.claims = 0;
            e.map.retain(|_, (_, exp)| *exp > now);
        }
        match e.map.get(key) {
            Some((done, exp)) if *exp > now => Ok(if *done { Claim::Done } else { Claim::InFlight }),
            _ => {
                e.map.insert(key.to_owned(), (false, now + PENDING_TTL));
                Ok(Claim::New)
            }
        }
    }

    async fn confirm(&self, key: &str, window: Option<Duration>) -> Result<(), IngressError> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.map.insert(key.to_owned(), (true, Instant::now() + window.unwrap_or(self.window)));
        Ok(())
    }

    async fn release(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).map.remove(key);
    }
}

/// Shared dedup across ingress replicas: `SET key pending NX EX`, then `SET key done EX window`.
/// `window` is the default done window.
pub struct RedisDedup {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    window: Duration,
}

impl RedisDedup {
    /// Connects (the manager reconnects by itself after Redis restarts).
    pub async fn connect(url: &str, prefix: &str, window: Duration) -> Result<Self, IngressError> {
        let client = redis::Client::open(url).map_err(|e| IngressError::Dedup(format!("{url}: {e}")))?;
        // Short timeouts and few reconnect attempts: while Redis is down a webhook must get its answer
        // (dedup fails open) in about a second, not hang behind a long reconnect backoff.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(Duration::from_secs(1))
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = redis::aio::ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| IngressError::Dedup(format!("cannot connect to {url}: {e}")))?;
        Ok(Self { conn, prefix: prefix.to_owned(), window })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }
}

fn redis_err(e: redis::RedisError) -> IngressError {
    IngressError::Dedup(e.to_string())
}

#[async_trait]
impl Dedup for RedisDedup {
    async fn claim(&self, key: &str) -> Result<Claim, IngressError> {
        let mut c = self.conn.clone();
        let k = self.key(key);
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::EX(PENDING_TTL.as_secs()));
        let set: Option<String> = c.set_options(&k, "pending", opts).await.map_err(redis_err)?;
        if set.is_some() {
            return Ok(Claim::New);
        }
        let state: Option<String> = c.get(&k).await.map_err(redis_err)?;
        Ok(match state.as_deref() {
            Some("done") => Claim::Done,
            Some(_) => Claim::InFlight,
            // Expired between the two commands: the earlier holder is gone, so this one may go.
            None => Claim::New,
        })
    }

    async fn confirm(&self, key: &str, window: Option<Duration>) -> Result<(), IngressError> {
        let mut c = self.conn.clone();
        // EX takes whole seconds and refuses 0: round up, at least 1 s.
        let window = window.unwrap_or(self.window);
        let secs = (window.as_secs() + u64::from(window.subsec_nanos() > 0)).max(1);
        c.set_ex::<_, _, ()>(self.key(key), "done", secs).await.map_err(redis_err)
    }

    async fn release(&self, key: &str) {
        let mut c = self.conn.clone();
        if let Err(e) = c.del::<_, ()>(self.key(key)).await {
            tracing::warn!(error = %e, "could not release dedup claim; it expires by itself");
        }
    }
}
