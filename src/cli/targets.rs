//! `config check` warnings for static targets that the SSRF guard would refuse at delivery time
//! (their events would go straight to the dead-letter topic).
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use hookbus_core::config::Config;
use hookbus_worker::ssrf::Guard;
use url::{Host, Url};

/// How long a target's host name may take to resolve before it is left unchecked.
const RESOLVE_LIMIT: Duration = Duration::from_secs(2);

/// One message per subscription whose target resolves to an address the guard refuses; each says
/// which rule refuses it and names `[worker] allow_targets`.
pub fn refused_targets(config: &Config) -> Vec<String> {
    let guard = Guard::new(&config.worker.allow_targets);
    let mut out = Vec::new();
    for (name, sub) in &config.subscriptions {
        // Unparsable targets are reported by validation; templated ones are checked per event.
        let Ok(url) = Url::parse(&sub.target) else { continue };
        let port = url.port_or_known_default().unwrap_or(80);
        let ips: Vec<IpAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![ip.into()],
            Some(Host::Ipv6(ip)) => vec![ip.into()],
            Some(Host::Domain(host)) if guard.host_allowed(host) => continue,
            Some(Host::Domain(host)) => resolve(host, port),
            None => continue,
        };
        if let Some(refused) = ips.into_iter().find_map(|ip| guard.check(ip).err()) {
            out.push(format!("subscriptions.{name}.target {}: {refused}", sub.target));
        }
    }
    out
}

/// The host's addresses, or none when it does not resolve in time (DNS may be unavailable where
/// the check runs; the worker resolves again at delivery).
fn resolve(host: &str, port: u16) -> Vec<IpAddr> {
    let (tx, rx) = mpsc::channel();
    let target = (host.to_owned(), port);
    std::thread::spawn(move || {
        let addrs = target.to_socket_addrs().map(|a| a.map(|s| s.ip()).collect::<Vec<_>>()).unwrap_or_default();
        let _ = tx.send(addrs);
    });
    rx.recv_timeout(RESOLVE_LIMIT).unwrap_or_default()
}
