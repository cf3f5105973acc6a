//! Rate limits in memory (`docs/limits.md`): per API key and per user, 429 with the
//! reference's ErrorObject, `Retry-After` and `X-RateLimit-*`, other buckets unaffected,
//! recovery, routes that are never limited, off by default. Quotas are small with long windows
//! (2 per 60 s: the third request is refused however slow the machine).

use crate::support::server::*;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

async fn launch(server: &Server, user: &str, headers: &[(&str, &str)]) -> Resp {
    send(
        Method::POST,
        &server.url(&format!("/state/user/{user}/interact")),
        headers,
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await
}

fn assert_429(r: &Resp, limit: &str) {
    assert_eq!(r.status, 429, "{}", r.text);
    let b = r.json();
    assert_eq!(b["code"], 429);
    assert_eq!(b["status"], "Too Many Requests");
    assert_eq!(b["data"], "Too Many Request");
    assert!(b["dateTime"].is_string() && b["timestamp"].is_u64(), "{b}");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    assert_eq!(r.header("x-ratelimit-limit"), Some(limit));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r
        .header("x-ratelimit-reset")
        .is_some_and(|v| v.ends_with('Z')));
    assert!(r.header("x-request-id").is_some());
}

#[tokio::test]
async fn per_api_key() {
    let server = Server::builder()
        .test_keys_file()
        .args(&["--rate-limit-key", "2/60"])
        .start();
    let pay = [("authorization", PAY_KEY), ("versionID", PAYMENT_VERSION)];
    for (i, remaining) in ["1", "0"].iter().enumerate() {
        let r = launch(&server, &format!("k{i}"), &pay).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), Some("2"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some(*remaining));
        assert!(r.header("x-ratelimit-reset").is_some());
        assert_eq!(r.header("retry-after"), None);
    }
    // The key's third request, on any route and for any user: 429, nothing run.
    let r = launch(&server, "k9", &pay).await;
    assert_429(&r, "2");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let r = send(Method::GET, &server.url("/state/user/k9"), &pay, None).await;
    assert_429(&r, "2");
    // Refused requests consume nothing, so it stays refused (not longer) and k9 never ran.
    // Another key is not affected.
    let other = [
        ("authorization", HANDOFF_KEY),
        ("versionID", HANDOFF_VERSION),
    ];
    let r = launch(&server, "k9", &other).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("1"));
    // Rejected requests count: a wrong key's 401s use its bucket.
    let bad = [
        ("authorization", "VF.DM.nope.nope"),
        ("versionID", PAYMENT_VERSION),
    ];
    assert_eq!(launch(&server, "x", &bad).await.status, 401);
    assert_eq!(launch(&server, "x", &bad).await.status, 401);
    assert_429(&launch(&server, "x", &bad).await, "2");
    // Health, readiness and the OpenAPI document are never limited.
    for path in ["/health", "/ready", "/openapi.yaml"] {
        for _ in 0..3 {
            let r = send(Method::GET, &server.url(path), &pay, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert_eq!(r.header("x-ratelimit-limit"), None, "{path}");
        }
    }
}

#[tokio::test]
async fn per_user() {
    let server = Server::builder()
        .args(&["--rate-limit-user", "2/60"])
        .start();
    let v = [("versionID", PAYMENT_VERSION)];
    let u = User::new(&server, "busy-user", PAYMENT_VERSION);
    assert_eq!(
        u.post("/interact", &json!({"action": {"type": "launch"}}))
            .await
            .status,
        200
    );
    let r = u.raw(Method::GET, "", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    let r = u
        .post("/interact", &json!({"action": {"type": "launch"}}))
        .await;
    assert_429(&r, "2");
    // The legacy form and the public route name the same user of the same project.
    let legacy = server.url(&format!("/state/{PAYMENT_VERSION}/user/busy-user"));
    assert_429(&send(Method::GET, &legacy, &[], None).await, "2");
    let public = server.url(&format!(
        "/public/{PAYMENT_PROJECT}/state/user/busy-user/interact"
    ));
    assert_429(
        &send(
            Method::POST,
            &public,
            &[],
            Some(&json!({"action": {"type": "launch"}})),
        )
        .await,
        "2",
    );
    // Other users are not affected; routes without a user in the path have no user limit.
    for user in ["calm-1", "calm-2"] {
        assert_eq!(launch(&server, user, &v).await.status, 200, "{user}");
    }
    for _ in 0..3 {
        let r = send(Method::GET, &server.url("/interact/state"), &v, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), None);
    }
    // The same user id in another project is another bucket.
    let other = User::new(&server, "busy-user", HANDOFF_VERSION);
    assert_eq!(other.raw(Method::GET, "", None).await.status, 200);
}

#[tokio::test]
async fn a_bucket_recovers_after_its_window() {
    let server = Server::builder().args(&["--rate-limit-key", "1/2"]).start();
    let url = server.url("/interact/state");
    let h = [("versionID", PAYMENT_VERSION)];
    assert_eq!(send(Method::GET, &url, &h, None).await.status, 200);
    let r = send(Method::GET, &url, &h, None).await;
    assert_429(&r, "1");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry <= 2, "{retry}");
    tokio::time::sleep(Duration::from_millis(retry * 1000 + 100)).await;
    let r = send(Method::GET, &url, &h, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn off_by_default_and_bad_values_refused() {
    let server = Server::start();
    for _ in 0..30 {
        let r = send(
            Method::GET,
            &server.url("/interact/state"),
            &[("versionID", PAYMENT_VERSION)],
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), None);
    }
    for bad in ["abc", "0/60", "5/0", "5"] {
        assert!(
            flowdm::cli::ServeArgs::parse_args(["--rate-limit-user", bad]).is_err(),
            "{bad}"
        );
    }
    let c = flowdm::cli::ServeArgs::parse_args([
        "--rate-limit-key",
        "500/60",
        "--rate-limit-user",
        "off",
    ])
    .unwrap()
    .into_config();
    assert_eq!(
        c.rate_limits
            .key
            .map(|q| (q.limit.get(), q.window.as_secs())),
        Some((500, 60))
    );
    assert_eq!(c.rate_limits.user, None);
    assert_eq!(
        flowdm::cli::ServeArgs::parse_args(Vec::<String>::new())
            .unwrap()
            .into_config()
            .rate_limits,
        flowdm::config::RateLimitConfig::default()
    );
}
