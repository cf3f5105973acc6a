//! Without an allow-list: every spelling of loopback is refused before any connection.

use crate::servers::{client, ip, send, serve, Answer};
use flowdm_actions::outbound::{BodyKind, OutboundError, OutboundRequest, Reason, Url};

/// What the URL parser makes of the odd spellings: most become plain 127.0.0.1.
#[test]
fn the_url_parser_normalises_numeric_hosts() {
    for (spelling, host) in [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("[::ffff:127.0.0.1]", "[::ffff:7f00:1]"),
        ("[::ffff:7f00:1]", "[::ffff:7f00:1]"),
        ("LOCALHOST", "localhost"),
    ] {
        let url = Url::parse(&format!("http://{spelling}:1/")).unwrap();
        assert_eq!(url.host_str(), Some(host), "{spelling}");
    }
}

#[tokio::test]
async fn every_spelling_of_loopback_is_refused_and_nothing_connects() {
    let canary = serve(ip("127.0.0.1"), 0, Answer::Echo).await.unwrap();
    let port = canary.port();
    let client = client("");
    for host in [
        "localhost",
        "LocalHost.",
        "api.localhost",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "0.0.0.0",
        "0",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[::1]",
        "[::]",
    ] {
        let url = format!("http://{host}:{port}/x?k=secret");
        match send(&client, OutboundRequest::get(&url)).await {
            Err(OutboundError::Refused(r)) => {
                assert!(
                    matches!(r.verdict.reason, Reason::Loopback | Reason::Unspecified),
                    "{host}: {r}"
                );
                let message = OutboundError::Refused(r).to_string();
                assert!(!message.contains("secret"), "{message}");
            }
            other => panic!("{host}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(canary.hits(), 0, "the canary saw a connection");
}

#[tokio::test]
async fn ipv6_loopback_is_refused_and_nothing_connects() {
    // Not every container has ::1; without it the test above covers the literal.
    let Ok(canary) = serve(ip("::1"), 0, Answer::Echo).await else {
        return;
    };
    let result = send(&client(""), OutboundRequest::get(canary.url("/"))).await;
    assert!(
        matches!(result, Err(OutboundError::Refused(_))),
        "{result:?}"
    );
    assert_eq!(canary.hits(), 0);
}

#[tokio::test]
async fn only_http_and_https_urls_are_sent() {
    let canary = serve(ip("127.0.0.1"), 0, Answer::Echo).await.unwrap();
    let client = client("127.0.0.1/32");
    for url in [
        format!("ftp://127.0.0.1:{}/", canary.port()),
        "file:///etc/passwd".to_string(),
        format!("gopher://127.0.0.1:{}/", canary.port()),
        "not a url".to_string(),
        "/relative".to_string(),
    ] {
        let result = send(&client, OutboundRequest::get(&url)).await;
        assert!(
            matches!(result, Err(OutboundError::BadUrl(_))),
            "{url}: {result:?}"
        );
    }
    assert_eq!(canary.hits(), 0);
}

#[tokio::test]
async fn a_request_body_over_the_cap_is_not_sent() {
    let canary = serve(ip("127.0.0.1"), 0, Answer::Echo).await.unwrap();
    let client = client("127.0.0.1/32");
    let request = OutboundRequest::post(canary.url("/")).body(vec![b'a'; 1024 * 1024 + 1]);
    match send(&client, request).await {
        Err(OutboundError::TooLarge { body, limit }) => {
            assert_eq!(body, BodyKind::Request);
            assert_eq!(limit, 1024 * 1024);
        }
        other => panic!("expected too large, got {other:?}"),
    }
    assert_eq!(canary.hits(), 0);
}
