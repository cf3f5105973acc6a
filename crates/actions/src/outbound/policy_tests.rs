//! The classification of addresses and the allow-list.

use super::policy::{classify, Policy, Reason};
use std::net::IpAddr;

fn reason(s: &str) -> Option<Reason> {
    classify(s.parse::<IpAddr>().unwrap()).map(|v| v.reason)
}

#[test]
fn non_public_ipv4_addresses_are_refused_with_their_reason() {
    for (ip, expected) in [
        ("0.0.0.0", Reason::Unspecified),
        ("0.1.2.3", Reason::Unspecified),
        ("10.0.0.1", Reason::Private),
        ("10.255.255.255", Reason::Private),
        ("100.64.0.1", Reason::Shared),
        ("100.127.255.254", Reason::Shared),
        ("127.0.0.1", Reason::Loopback),
        ("127.255.255.254", Reason::Loopback),
        ("169.254.169.254", Reason::LinkLocal),
        ("169.254.0.1", Reason::LinkLocal),
        ("172.16.0.1", Reason::Private),
        ("172.31.255.255", Reason::Private),
        ("192.0.0.8", Reason::Reserved),
        ("192.0.2.1", Reason::Documentation),
        ("192.88.99.1", Reason::Reserved),
        ("192.168.1.1", Reason::Private),
        ("198.18.0.1", Reason::Benchmarking),
        ("198.19.255.255", Reason::Benchmarking),
        ("198.51.100.7", Reason::Documentation),
        ("203.0.113.9", Reason::Documentation),
        ("224.0.0.1", Reason::Multicast),
        ("239.255.255.250", Reason::Multicast),
        ("240.0.0.1", Reason::Reserved),
        ("255.255.255.255", Reason::Broadcast),
    ] {
        assert_eq!(reason(ip), Some(expected), "{ip}");
    }
}

#[test]
fn public_addresses_pass() {
    for ip in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "169.253.255.255",
        "192.169.0.1",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(reason(ip), None, "{ip}");
    }
}

#[test]
fn non_public_ipv6_addresses_are_refused_with_their_reason() {
    for (ip, expected) in [
        ("::", Reason::Unspecified),
        ("::1", Reason::Loopback),
        ("fc00::1", Reason::UniqueLocal),
        ("fd12:3456::1", Reason::UniqueLocal),
        ("fe80::1", Reason::LinkLocal),
        ("febf::1", Reason::LinkLocal),
        ("fec0::1", Reason::UniqueLocal),
        ("ff02::1", Reason::Multicast),
        ("2001:db8::1", Reason::Documentation),
        ("3fff::1", Reason::Documentation),
        ("2001::1", Reason::Reserved),
        ("64:ff9b:1::1", Reason::Reserved),
        ("100::1", Reason::Reserved),
        ("4000::1", Reason::Reserved),
    ] {
        assert_eq!(reason(ip), Some(expected), "{ip}");
    }
}

#[test]
fn ipv6_forms_embedding_ipv4_are_judged_by_it() {
    for (ip, inner, expected) in [
        ("::ffff:127.0.0.1", "127.0.0.1", Reason::Loopback),
        ("::ffff:7f00:1", "127.0.0.1", Reason::Loopback),
        (
            "::ffff:169.254.169.254",
            "169.254.169.254",
            Reason::LinkLocal,
        ),
        ("::ffff:10.1.2.3", "10.1.2.3", Reason::Private),
        ("::127.0.0.1", "127.0.0.1", Reason::Loopback),
        ("::0.0.0.2", "0.0.0.2", Reason::Unspecified),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254", Reason::LinkLocal),
        ("64:ff9b::192.168.0.1", "192.168.0.1", Reason::Private),
        ("2002:7f00:1::", "127.0.0.1", Reason::Loopback),
        ("2002:c0a8:101::1", "192.168.1.1", Reason::Private),
    ] {
        let verdict = classify(ip.parse().unwrap()).unwrap();
        assert_eq!(verdict.reason, expected, "{ip}");
        assert_eq!(verdict.embedded, Some(inner.parse().unwrap()), "{ip}");
    }
}

#[test]
fn the_allow_list_takes_networks_addresses_and_names() {
    let p = Policy::parse(
        " 127.0.0.2/32, 10.1.0.0/16 ,,fd00::/8, 192.168.1.5, [::1], Intranet.Example. ",
    )
    .unwrap();
    let ok = |s: &str| p.check_ip(s.parse().unwrap()).is_ok();
    assert!(ok("127.0.0.2"));
    assert!(!ok("127.0.0.3"));
    assert!(ok("10.1.200.3"));
    assert!(!ok("10.2.0.1"));
    assert!(ok("fd00::5"));
    assert!(ok("192.168.1.5"));
    assert!(!ok("192.168.1.6"));
    assert!(ok("::1"));
    // An IPv4-mapped address matches the IPv4 network.
    assert!(ok("::ffff:127.0.0.2"));
    assert!(ok("8.8.8.8"));
    assert!(p.allows_host("intranet.example"));
    assert!(p.allows_host("INTRANET.example."));
    assert!(!p.allows_host("sub.intranet.example"));
    assert!(!p.is_strict());
    // A host given with host bits set is its network.
    assert!(Policy::parse("10.1.2.3/8")
        .unwrap()
        .check_ip("10.9.9.9".parse().unwrap())
        .is_ok());
}

#[test]
fn bad_allow_list_entries_are_errors_and_empty_is_strict() {
    for bad in ["10.0.0.0/33", "http://x", "a b", "host:80", "*.example"] {
        assert!(Policy::parse(bad).is_err(), "{bad}");
    }
    assert!(Policy::parse("").unwrap().is_strict());
    assert!(Policy::parse(" , ").unwrap().is_strict());
}

#[test]
fn localhost_names_are_refused_unless_allowed() {
    let strict = Policy::strict();
    for name in ["localhost", "LOCALHOST.", "api.localhost"] {
        assert_eq!(
            strict.check_name(name).map_err(|v| v.reason),
            Err(Reason::Loopback),
            "{name}"
        );
    }
    assert!(strict.check_name("example.com").is_ok());
    assert!(Policy::parse("localhost")
        .unwrap()
        .check_name("localhost")
        .is_ok());
}
