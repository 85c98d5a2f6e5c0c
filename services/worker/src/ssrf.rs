//! SSRF guard for delivery targets: a target may not reach loopback, private, link-local (and so
//! cloud metadata), CGNAT, multicast or otherwise reserved addresses unless its host or subnet is
//! allow-listed in `[worker] allow_targets`. Names are resolved once, by this resolver, and the
//! connection goes to the vetted addresses only, so a DNS answer cannot change between check and
//! connect (rebinding). Redirects are never followed (see the client in consume.rs).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Default)]
pub struct Guard {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

/// Why an address was refused: the rule's name and how to allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "target address {ip} is {rule}; refused to prevent server-side request forgery. To allow it, add \
     \"{ip}\" (or its subnet, or the host name) to [worker] allow_targets"
)]
pub struct Refused {
    pub ip: IpAddr,
    pub rule: &'static str,
}

impl Guard {
    /// `allow` entries are IP addresses, CIDR subnets or host names (exact, case-insensitive).
    pub fn new(allow: &[String]) -> Self {
        let mut g = Guard::default();
        for a in allow {
            if let Ok(net) = a.parse::<IpNet>() {
                g.nets.push(net);
            } else if let Ok(ip) = a.parse::<IpAddr>() {
                g.nets.push(IpNet::from(ip));
            } else {
                g.hosts.push(a.to_ascii_lowercase());
            }
        }
        g
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_end_matches('.')))
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        match forbidden_rule(ip) {
            Some(rule) if !self.nets.iter().any(|n| n.contains(&ip)) => Err(Refused { ip, rule }),
            _ => Ok(()),
        }
    }
}

/// The rule an address falls under, or None for ordinary public addresses.
pub fn forbidden_rule(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_rule(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_rule(v4),
            None => v6_rule(v6),
        },
    }
}

fn v4_rule(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        [169, 254, ..] => "a link-local address (this includes cloud metadata at 169.254.169.254)",
        [100, b, ..] if (64..128).contains(&b) => "a carrier-grade NAT address",
        _ if ip.is_multicast() => "a multicast address",
        _ if ip.is_broadcast() => "the broadcast address",
        [0, ..] => "an unspecified/\"this network\" address",
        [198, b, ..] if b == 18 || b == 19 => "a benchmarking address",
        [a, ..] if a >= 240 => "a reserved address",
        _ => return None,
    })
}

fn v6_rule(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    Some(match seg {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_multicast() => "a multicast address",
        [s, ..] if s & 0xfe00 == 0xfc00 => {
            "a unique-local (private) address (this includes AWS metadata fd00:ec2::254)"
        }
        [s, ..] if s & 0xffc0 == 0xfe80 => "a link-local address",
        [0x64, 0xff9b, ..] => "a NAT64 address",
        _ => return None,
    })
}

/// A host name whose every address was refused; found in a delivery error's source chain.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {refused}")]
pub struct HostRefused {
    pub host: String,
    pub refused: Refused,
}

/// Resolves names for the delivery client and drops every address the guard refuses.
pub struct GuardedResolver(pub Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if guard.host_allowed(&host) {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let mut refused = None;
            let vetted: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match guard.check(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused = Some(r);
                        false
                    }
                })
                .collect();
            match (vetted.is_empty(), refused) {
                (true, Some(refused)) => Err(Box::new(HostRefused { host, refused }) as _),
                _ => Ok(Box::new(vetted.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_internal_ranges_and_allows_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::",
            "ff02::1",
        ] {
            assert!(forbidden_rule(ip(a)).is_some(), "{a} must be refused");
        }
        for a in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111"] {
            assert_eq!(forbidden_rule(ip(a)), None, "{a} is public");
        }
    }

    #[test]
    fn allow_list_by_address_subnet_or_host() {
        let g = Guard::new(&["127.0.0.1".into(), "10.0.0.0/8".into(), "Internal.Example.com".into()]);
        assert!(g.check(ip("127.0.0.1")).is_ok());
        assert!(g.check(ip("10.9.9.9")).is_ok());
        let refused = g.check(ip("127.0.0.2")).unwrap_err();
        assert_eq!(refused.rule, "a loopback address");
        assert!(refused.to_string().contains("allow_targets"), "{refused}");
        assert!(g.host_allowed("internal.example.com."));
        assert!(!g.host_allowed("example.com"));
    }
}
