//! With an allow-list: the allowed address is reached, nothing else is — not through a second
//! DNS answer, not through a redirect.

use crate::servers::{client, config, ip, pair, send, serve, Answer, Scripted};
use flowdm_actions::outbound::{OutboundClient, OutboundError, OutboundRequest, Reason};
use std::net::SocketAddr;

#[tokio::test]
async fn an_allowed_address_is_reached_with_the_default_user_agent() {
    let server = serve(ip("127.0.0.2"), 0, Answer::Echo).await.unwrap();
    let client = client("127.0.0.2/32");
    let response = send(&client, OutboundRequest::get(server.url("/hello")))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(response.remote.map(|a| a.ip()), Some(ip("127.0.0.2")));
    let head = String::from_utf8_lossy(&response.body).to_lowercase();
    assert!(head.starts_with("get /hello http/1.1"), "{head}");
    assert!(
        head.contains("user-agent: voiceflow/1.0.0 (+https://voiceflow.com)"),
        "{head}"
    );

    let own = OutboundRequest::get(server.url("/"))
        .try_header("User-Agent", "mine/2")
        .unwrap();
    let head = String::from_utf8_lossy(&send(&client, own).await.unwrap().body).to_lowercase();
    assert!(head.contains("user-agent: mine/2"), "{head}");
    assert!(!head.contains("voiceflow"), "{head}");

    // The neighbour of the allowed address is not allowed.
    let other = serve(ip("127.0.0.3"), 0, Answer::Echo).await.unwrap();
    let result = send(&client, OutboundRequest::get(other.url("/"))).await;
    assert!(
        matches!(result, Err(OutboundError::Refused(_))),
        "{result:?}"
    );
    assert_eq!(other.hits(), 0);
}

#[tokio::test]
async fn dns_rebinding_cannot_reach_the_second_answer() {
    let (server, canary) = pair("127.0.0.2", Answer::Echo, "127.0.0.3").await;
    let lookup = Scripted::new("127.0.0.2", "127.0.0.3");
    let url = format!("http://rebind.test:{}/", server.port());
    let first = OutboundClient::with_lookup(config("127.0.0.2/32"), lookup.clone()).unwrap();
    let response = send(&first, OutboundRequest::get(&url)).await.unwrap();
    assert_eq!(
        response.remote,
        Some(SocketAddr::new(ip("127.0.0.2"), server.port()))
    );
    assert_eq!(lookup.lookups(), 1, "the name was looked up more than once");

    // A new connection means a new lookup, which now answers the refused address.
    let second = OutboundClient::with_lookup(config("127.0.0.2/32"), lookup.clone()).unwrap();
    match send(&second, OutboundRequest::get(&url)).await {
        Err(OutboundError::Refused(r)) => {
            assert_eq!(r.host, "rebind.test");
            assert_eq!(r.address, Some(ip("127.0.0.3")));
            assert_eq!(r.verdict.reason, Reason::Loopback);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(server.hits(), 1);
    assert_eq!(canary.hits(), 0, "the rebound address was contacted");
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_not_followed() {
    let (server, canary) = pair("127.0.0.2", Answer::Echo, "127.0.0.3").await;
    let port = server.port();
    drop(server);
    for (target, refused) in [
        (format!("http://127.0.0.3:{port}/"), Some(ip("127.0.0.3"))),
        (format!("http://localhost:{port}/"), None),
        (
            format!("http://[::ffff:127.0.0.3]:{port}/"),
            Some(ip("::ffff:127.0.0.3")),
        ),
        (format!("http://rebind.test:{port}/"), Some(ip("127.0.0.3"))),
    ] {
        let redirector = serve(ip("127.0.0.2"), 0, Answer::Redirect(target.clone()))
            .await
            .unwrap();
        // The scripted resolver answers the refused address for any name.
        let lookup = Scripted::new("127.0.0.3", "127.0.0.3");
        let client = OutboundClient::with_lookup(config("127.0.0.2/32"), lookup).unwrap();
        match send(&client, OutboundRequest::get(redirector.url("/"))).await {
            Err(OutboundError::Refused(r)) => assert_eq!(r.address, refused, "{target}: {r}"),
            other => panic!("{target}: expected a refusal, got {other:?}"),
        }
        assert_eq!(redirector.hits(), 1);
    }
    assert_eq!(canary.hits(), 0, "a redirect reached the canary");
}

#[tokio::test]
async fn allowed_redirects_are_followed_and_other_schemes_are_not() {
    let target = serve(ip("127.0.0.2"), 0, Answer::Echo).await.unwrap();
    let redirector = serve(ip("127.0.0.2"), 0, Answer::Redirect(target.url("/there")))
        .await
        .unwrap();
    let client = client("127.0.0.2/32");
    let response = send(&client, OutboundRequest::get(redirector.url("/")))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&response.body).starts_with("GET /there "));

    let to_file = serve(
        ip("127.0.0.2"),
        0,
        Answer::Redirect("file:///etc/passwd".into()),
    )
    .await
    .unwrap();
    // Not followed: reqwest hands back the 3xx itself (or our policy would refuse it).
    let result = send(&client, OutboundRequest::get(to_file.url("/"))).await;
    assert!(
        matches!(&result, Ok(r) if r.status.as_u16() == 302)
            || matches!(result, Err(OutboundError::BadUrl(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_allowed_host_name_may_resolve_to_any_address() {
    let server = serve(ip("127.0.0.3"), 0, Answer::Echo).await.unwrap();
    let lookup = Scripted::new("127.0.0.3", "127.0.0.3");
    let client = OutboundClient::with_lookup(config("intranet.test"), lookup.clone()).unwrap();
    let url = format!("http://Intranet.Test:{}/", server.port());
    let response = send(&client, OutboundRequest::get(&url)).await.unwrap();
    assert_eq!(response.status.as_u16(), 200);
    // Another name with the same address is still refused.
    let url = format!("http://other.test:{}/", server.port());
    let result = send(&client, OutboundRequest::get(&url)).await;
    assert!(
        matches!(result, Err(OutboundError::Refused(_))),
        "{result:?}"
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn the_system_resolver_is_vetted_too() {
    let server = serve(ip("127.0.0.1"), 0, Answer::Echo).await.unwrap();
    let url = format!("http://localhost:{}/", server.port());
    // Allowing the address does not allow the name: `localhost` is refused before any lookup.
    let result = send(&client("127.0.0.1/32"), OutboundRequest::get(&url)).await;
    assert!(
        matches!(result, Err(OutboundError::Refused(_))),
        "{result:?}"
    );
    assert_eq!(server.hits(), 0);
    // Allowing the name lets the system resolver's answer through.
    let response = send(&client("localhost"), OutboundRequest::get(&url))
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(server.hits(), 1);
}
