//! Response cap and timeout.

use crate::servers::{client, config, ip, send, serve, Answer};
use flowdm_actions::outbound::{BodyKind, OutboundClient, OutboundError, OutboundRequest};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_response_over_the_cap_is_cut_off() {
    let client = client("127.0.0.2/32");
    for length in [true, false] {
        let server = serve(
            ip("127.0.0.2"),
            0,
            Answer::Big {
                bytes: 2 * 1024 * 1024,
                length,
            },
        )
        .await
        .unwrap();
        match send(&client, OutboundRequest::get(server.url("/"))).await {
            Err(OutboundError::TooLarge { body, limit }) => {
                assert_eq!(body, BodyKind::Response);
                assert_eq!(limit, 1024 * 1024);
            }
            other => panic!("length {length}: expected too large, got {other:?}"),
        }
    }
    // Exactly at the cap is fine.
    let server = serve(
        ip("127.0.0.2"),
        0,
        Answer::Big {
            bytes: 1024 * 1024,
            length: false,
        },
    )
    .await
    .unwrap();
    let response = send(&client, OutboundRequest::get(server.url("/")))
        .await
        .unwrap();
    assert_eq!(response.body.len(), 1024 * 1024);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = serve(ip("127.0.0.2"), 0, Answer::Silent).await.unwrap();
    let client = OutboundClient::new(config("127.0.0.2/32")).unwrap();
    let started = Instant::now();
    let request = OutboundRequest::get(server.url("/")).timeout(Duration::from_millis(300));
    match send(&client, request).await {
        Err(OutboundError::Timeout(t)) => assert_eq!(t, Duration::from_millis(300)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(server.hits(), 1);
}
