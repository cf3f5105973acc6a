//! Which addresses an outbound request may reach: every address that is not public (private,
//! loopback, link-local, shared, multicast, reserved, documentation …) is refused, IPv6 forms
//! that embed an IPv4 address are judged by that address, and an operator allow-list of networks
//! and host names overrides the refusal.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `0.0.0.0/8`, `::/128`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`, and the `localhost` names.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `169.254/16` (the cloud metadata address 169.254.169.254 included), `fe80::/10`.
    LinkLocal,
    /// `100.64/10` (carrier-grade NAT).
    Shared,
    /// `fc00::/7` (unique local), `fec0::/10` (deprecated site-local).
    UniqueLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18/15`.
    Benchmarking,
    /// Everything else that is special-purpose or unassigned (`240/4`, `192.0.0/24`,
    /// `192.88.99/24`, IPv6 outside `2000::/3`, `2001::/23`, local-use NAT64 …).
    Reserved,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Unspecified => "unspecified address",
            Reason::Loopback => "loopback",
            Reason::Private => "private network",
            Reason::LinkLocal => "link-local (cloud metadata included)",
            Reason::Shared => "shared address space (CGNAT)",
            Reason::UniqueLocal => "unique local (IPv6 private)",
            Reason::Multicast => "multicast",
            Reason::Broadcast => "broadcast",
            Reason::Documentation => "documentation range",
            Reason::Benchmarking => "benchmarking range",
            Reason::Reserved => "reserved range",
        })
    }
}

/// An address that is not public: why, and the IPv4 address it embeds when that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    /// Set when an IPv6 address was judged by the IPv4 address inside it (mapped, compatible,
    /// NAT64, 6to4).
    pub embedded: Option<Ipv4Addr>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            Some(v4) => write!(f, "{} (embedded IPv4 {v4})", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(a: u16, b: u16, c: u16, d: u16, len: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0), len)
}

/// IPv4 special-purpose ranges (IANA registry), first match wins.
const V4_REFUSED: [(Ipv4Net, Reason); 15] = [
    (v4(0, 0, 0, 0, 8), Reason::Unspecified),
    (v4(10, 0, 0, 0, 8), Reason::Private),
    (v4(100, 64, 0, 0, 10), Reason::Shared),
    (v4(127, 0, 0, 0, 8), Reason::Loopback),
    (v4(169, 254, 0, 0, 16), Reason::LinkLocal),
    (v4(172, 16, 0, 0, 12), Reason::Private),
    (v4(192, 0, 0, 0, 24), Reason::Reserved),
    (v4(192, 0, 2, 0, 24), Reason::Documentation),
    (v4(192, 88, 99, 0, 24), Reason::Reserved),
    (v4(192, 168, 0, 0, 16), Reason::Private),
    (v4(198, 18, 0, 0, 15), Reason::Benchmarking),
    (v4(198, 51, 100, 0, 24), Reason::Documentation),
    (v4(203, 0, 113, 0, 24), Reason::Documentation),
    (v4(224, 0, 0, 0, 4), Reason::Multicast),
    (v4(240, 0, 0, 0, 4), Reason::Reserved),
];

/// IPv6 ranges refused outright (the embedded-IPv4 forms are handled before), first match wins.
const V6_REFUSED: [(Ipv6Net, Reason); 8] = [
    (v6(0xfc00, 0, 0, 0, 7), Reason::UniqueLocal),
    (v6(0xfe80, 0, 0, 0, 10), Reason::LinkLocal),
    (v6(0xfec0, 0, 0, 0, 10), Reason::UniqueLocal),
    (v6(0xff00, 0, 0, 0, 8), Reason::Multicast),
    (v6(0x2001, 0x0db8, 0, 0, 32), Reason::Documentation),
    (v6(0x3fff, 0, 0, 0, 20), Reason::Documentation),
    // IETF protocol assignments: Teredo, benchmarking, ORCHID …
    (v6(0x2001, 0, 0, 0, 23), Reason::Reserved),
    (v6(0x0064, 0xff9b, 0x0001, 0, 48), Reason::Reserved),
];

/// The only IPv6 space assigned for global unicast.
const V6_GLOBAL_UNICAST: Ipv6Net = v6(0x2000, 0, 0, 0, 3);
const V6_MAPPED: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96);
const V6_COMPATIBLE: Ipv6Net = v6(0, 0, 0, 0, 96);
const V6_NAT64: Ipv6Net = v6(0x0064, 0xff9b, 0, 0, 96);
const V6_6TO4: Ipv6Net = v6(0x2002, 0, 0, 0, 16);

/// Why `ip` is not a public address (`None`: it is).
pub fn classify(ip: IpAddr) -> Option<Verdict> {
    match ip {
        IpAddr::V4(a) => classify_v4(a).map(|reason| Verdict {
            reason,
            embedded: None,
        }),
        IpAddr::V6(a) => classify_v6(a),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Reason> {
    if ip == Ipv4Addr::BROADCAST {
        return Some(Reason::Broadcast);
    }
    V4_REFUSED
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, reason)| *reason)
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if V6_MAPPED.contains(&ip) || V6_NAT64.contains(&ip) {
        Some(low)
    } else if V6_COMPATIBLE.contains(&ip)
        && ip != Ipv6Addr::UNSPECIFIED
        && ip != Ipv6Addr::LOCALHOST
    {
        // `::a.b.c.d` (deprecated IPv4-compatible); `::` and `::1` are themselves.
        Some(low)
    } else if V6_6TO4.contains(&ip) {
        Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]))
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Verdict> {
    let plain = |reason| {
        Some(Verdict {
            reason,
            embedded: None,
        })
    };
    if ip == Ipv6Addr::UNSPECIFIED {
        return plain(Reason::Unspecified);
    }
    if ip == Ipv6Addr::LOCALHOST {
        return plain(Reason::Loopback);
    }
    if let Some(inner) = embedded_v4(ip) {
        return classify_v4(inner).map(|reason| Verdict {
            reason,
            embedded: Some(inner),
        });
    }
    if let Some((_, reason)) = V6_REFUSED.iter().find(|(net, _)| net.contains(&ip)) {
        return plain(*reason);
    }
    if !V6_GLOBAL_UNICAST.contains(&ip) {
        return plain(Reason::Reserved);
    }
    None
}

/// An allow-list entry that is neither a network, an address nor a host name.
#[derive(Debug, thiserror::Error)]
#[error("allow-list entry {0:?} is neither a CIDR network, an IP address nor a host name")]
pub struct AllowListError(pub String);

/// The operator's exceptions: networks (`10.1.0.0/16`, `127.0.0.1`) and host names
/// (`intranet.example`, matched exactly, case-insensitively) that may be reached even though
/// they are not public. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

/// A host name as compared: lower case, without a final dot.
fn normalise_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Policy {
    /// No exceptions: only public addresses.
    pub fn strict() -> Policy {
        Policy::default()
    }

    /// A comma-separated allow-list (`--allow-outbound`); blank entries are skipped.
    pub fn parse(list: &str) -> Result<Policy, AllowListError> {
        Policy::from_entries(list.split(','))
    }

    /// An allow-list from its entries; blank entries are skipped.
    pub fn from_entries<I, S>(entries: I) -> Result<Policy, AllowListError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut policy = Policy::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if is_host_name(&normalise_host(entry)) {
                policy.hosts.push(normalise_host(entry));
            } else {
                return Err(AllowListError(entry.to_string()));
            }
        }
        Ok(policy)
    }

    /// Whether the allow-list is empty.
    pub fn is_strict(&self) -> bool {
        self.nets.is_empty() && self.hosts.is_empty()
    }

    /// The host name is on the allow-list (then any address it resolves to may be reached).
    pub fn allows_host(&self, host: &str) -> bool {
        let host = normalise_host(host);
        self.hosts.contains(&host)
    }

    /// The address is in an allowed network (an IPv6 form embedding an IPv4 address also
    /// matches by that address).
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let inner = match ip {
            IpAddr::V6(a) => embedded_v4(a).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.nets
            .iter()
            .any(|net| net.contains(&ip) || inner.is_some_and(|i| net.contains(&i)))
    }

    /// `Err(verdict)` when `ip` may not be reached: it is not public and not allowed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Verdict> {
        match classify(ip) {
            Some(verdict) if !self.allows_ip(ip) => Err(verdict),
            _ => Ok(()),
        }
    }

    /// `Err` when the host name itself is refused before any lookup: `localhost` and the
    /// `*.localhost` names, unless allowed.
    pub fn check_name(&self, host: &str) -> Result<(), Verdict> {
        let name = normalise_host(host);
        let local = name == "localhost" || name.ends_with(".localhost");
        if local && !self.allows_host(&name) {
            return Err(Verdict {
                reason: Reason::Loopback,
                embedded: None,
            });
        }
        Ok(())
    }
}
