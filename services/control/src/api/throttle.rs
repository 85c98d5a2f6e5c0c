//! Failed sign-ins and bearer tokens, counted per client address: after `[admin]
//! auth_failures_per_minute` failures in a minute, that address is refused with 429 and
//! Retry-After until the minute is over, whether its next token is right or not, so guessing a token
//! costs a minute per handful of guesses. Successful requests are never counted.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Request;

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; expired windows are dropped first when the map is full, so a
/// flood from many addresses cannot grow memory without bound.
const MAX_ADDRESSES: usize = 10_000;

pub struct AuthThrottle {
    /// Failures allowed per address and minute; 0 turns the throttle off.
    limit: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthThrottle {
    pub fn new(limit: u32) -> Self {
        Self { limit, windows: Mutex::new(HashMap::new()) }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `ip` must wait before it may try again, if it has used up its failures.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let (start, failures) = *self.windows().get(&ip)?;
        let end = start + WINDOW;
        (failures >= self.limit && now < end).then(|| end - now)
    }

    /// Counts one failed attempt of `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        if self.limit == 0 {
            return;
        }
        let mut w = self.windows();
        if w.len() >= MAX_ADDRESSES && !w.contains_key(&ip) {
            w.retain(|_, (start, _)| now < *start + WINDOW);
            if w.len() >= MAX_ADDRESSES {
                // Still full of live windows: forget an arbitrary one rather than grow.
                if let Some(k) = w.keys().next().copied() {
                    w.remove(&k);
                }
            }
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 == self.limit {
            tracing::warn!(client = %ip, failures = entry.1, "admin authentication failures; refusing this address for a minute");
        }
    }
}

/// The client's address as the admin listener saw it (unspecified when served without one, e.g.
/// in-process tests: they all share one window).
pub fn client_ip<B>(req: &Request<B>) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_minute_is_over() {
        let t = AuthThrottle::new(3);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        for i in 0..2 {
            t.failed(a, t0 + Duration::from_secs(i));
            assert_eq!(t.blocked(a, t0 + Duration::from_secs(i)), None, "failure {i} is under the limit");
        }
        t.failed(a, t0 + Duration::from_secs(10));
        assert_eq!(t.blocked(a, t0 + Duration::from_secs(10)), Some(Duration::from_secs(50)));
        assert_eq!(t.blocked(b, t0 + Duration::from_secs(10)), None, "other addresses are not affected");
        assert_eq!(t.blocked(a, t0 + WINDOW), None, "a new minute");
        t.failed(a, t0 + WINDOW);
        assert_eq!(t.blocked(a, t0 + WINDOW), None, "the new window starts from one failure");
    }

    #[test]
    fn zero_turns_it_off_and_memory_stays_bounded() {
        let off = AuthThrottle::new(0);
        let ip = IpAddr::from([10, 0, 0, 1]);
        let t0 = Instant::now();
        for _ in 0..100 {
            off.failed(ip, t0);
        }
        assert_eq!(off.blocked(ip, t0), None);
        let on = AuthThrottle::new(1);
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            on.failed(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(on.windows().len() <= MAX_ADDRESSES);
    }
}
