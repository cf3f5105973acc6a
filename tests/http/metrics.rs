//! `GET /metrics` after a scripted conversation: the counters' exact values, the histograms'
//! counts, and no user id in any label (`docs/observability.md`).

use crate::api_step::{api_stub, weather_agent};
use crate::support::custom_actions::{js_pay, pay_agent};
use crate::support::server::*;
use reqwest::Method;
use serde_json::json;

/// The value of the sample `name{labels}` (labels as written, in order), if present.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|v| v.trim().parse::<f64>().unwrap())
}

/// The sum of every sample of `name` whose labels contain `part`.
fn total(text: &str, name: &str, part: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(part))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(server: &Server) -> String {
    let r = send(Method::GET, &server.url("/metrics"), &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    r.text
}

const PAYMENT_USER: &str = "ada.lovelace@example.com";
const WEATHER_USER: &str = "weather-user-7731";
const PAY_USER: &str = "payer-4410";

#[tokio::test]
async fn a_scripted_conversation_is_counted() {
    let (base, _seen) = api_stub(json!({ "current": { "temp": "21" } }), Default::default()).await;
    let actions = tempfile::tempdir().unwrap();
    let mut js = js_pay("R-1");
    js["project_id"] = json!("sap");
    std::fs::write(actions.path().join("pay.json"), js.to_string()).unwrap();
    let server = Server::builder()
        .files(&[
            ("weather.vfr", weather_agent(&base)),
            ("pay.vfr", pay_agent()),
        ])
        .with_example("payment.vf")
        .args(&[
            "--allow-outbound",
            "127.0.0.1/32",
            "--actions-dir",
            actions.path().to_str().unwrap(),
        ])
        .start();

    // The payment agent: a launch, an understood text, a text understood as None, a button.
    let u = User::new(&server, PAYMENT_USER, PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    let t = u.act(json!({"type": "text", "payload": "help"})).await;
    assert_eq!(t[0], json!({"type": "path", "payload": {"path": "push"}}));
    let t = u.act(json!({"type": "text", "payload": "maybe"})).await;
    assert_eq!(
        t[0],
        json!({"type": "path", "payload": {"path": "reprompt"}})
    );
    u.act(json!({"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25", "actions": []}}))
        .await;
    // An API step (one HTTP effect against the local stub).
    let w = User::new(&server, WEATHER_USER, "apiv");
    let t = w.act(json!({"type": "launch"})).await;
    assert_eq!(messages(&t)[1], "It is 21 degrees in Paris.");
    // A JavaScript custom action the server runs (its answer names a path).
    let p = User::new(&server, PAY_USER, "sav");
    let t = p.act(json!({"type": "launch"})).await;
    assert_eq!(messages(&t), ["Paid, receipt R-1."]);
    // The NLU route, and a request that matches no route.
    let r = send(
        Method::GET,
        &server.url(&format!(
            "/nlu/project/{PAYMENT_PROJECT}/version/{PAYMENT_VERSION}/inference?query=help"
        )),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        Method::GET,
        &server.url(&format!("/nowhere/{PAY_USER}")),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 404);

    let text = scrape(&server).await;
    let interact = "route=\"/state/user/{userID}/interact\",method=\"POST\",status=\"200\"";
    assert_eq!(
        sample(&text, "flowdm_http_requests_total", interact),
        Some(6.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_http_requests_total",
            "route=\"unmatched\",method=\"GET\",status=\"404\""
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_http_request_duration_seconds_count",
            "route=\"/state/user/{userID}/interact\",method=\"POST\""
        ),
        Some(6.0)
    );
    // Six turns, all of the stateful routes.
    assert_eq!(
        sample(
            &text,
            "flowdm_turn_duration_seconds_count",
            "route_kind=\"state\""
        ),
        Some(6.0),
        "{text}"
    );
    assert!(
        total(&text, "flowdm_engine_runs_total", "") >= 7.0,
        "{text}"
    );
    // Effects: the API step's call.
    assert_eq!(
        sample(&text, "flowdm_effects_total", "kind=\"api\",outcome=\"ok\""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_effect_duration_seconds_count",
            "kind=\"api\""
        ),
        Some(1.0)
    );
    // NLU: "help" (an intent) and "maybe" (None) in turns; "help" on the inference route.
    assert_eq!(
        sample(
            &text,
            "flowdm_nlu_predictions_total",
            "source=\"turn\",outcome=\"intent\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_nlu_predictions_total",
            "source=\"turn\",outcome=\"none\""
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_nlu_predictions_total",
            "source=\"inference\",outcome=\"intent\""
        ),
        Some(1.0)
    );
    let confidences = sample(&text, "flowdm_nlu_confidence_count", "source=\"turn\"").unwrap();
    assert!((1.0..=2.0).contains(&confidences), "{text}");
    assert_eq!(
        sample(
            &text,
            "flowdm_nlu_confidence_bucket",
            "le=\"+Inf\",source=\"turn\""
        ),
        Some(confidences)
    );
    // The custom action the server ran (the payment agent's own "Pay Credit Card" step is the
    // client's: that action is registered for project `sap` only).
    assert_eq!(
        sample(
            &text,
            "flowdm_custom_actions_total",
            "handler=\"javascript\",result=\"path\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(total(&text, "flowdm_custom_actions_total", ""), 1.0);
    // The store: a begin and a commit per turn, nothing refused.
    assert_eq!(
        sample(
            &text,
            "flowdm_store_operations_total",
            "store=\"memory\",op=\"begin\",outcome=\"ok\""
        ),
        Some(6.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_store_operations_total",
            "store=\"memory\",op=\"commit\",outcome=\"ok\""
        ),
        Some(6.0)
    );
    assert!(
        total(
            &text,
            "flowdm_store_operation_duration_seconds_count",
            "op=\"begin\""
        ) >= 6.0
    );
    assert_eq!(total(&text, "flowdm_session_conflicts_total", ""), 0.0);
    assert_eq!(total(&text, "flowdm_store_errors_total", ""), 0.0);
    // Three users had a turn.
    assert_eq!(
        sample(&text, "flowdm_active_sessions", ""),
        Some(3.0),
        "{text}"
    );
    // No user id, project id or raw path in any label.
    for secret in [
        PAYMENT_USER,
        WEATHER_USER,
        PAY_USER,
        PAYMENT_PROJECT,
        "/nowhere",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
    // Every metric has its HELP and TYPE, counters named by their samples (format 0.0.4).
    assert!(text.contains("# TYPE flowdm_http_requests_total counter\n"));
    assert!(text.contains("# TYPE flowdm_turn_duration_seconds histogram\n"));
    assert!(text.contains("# TYPE flowdm_active_sessions gauge\n"));
    assert!(!text.contains("# EOF"));

    // A second scrape counts the first one.
    let again = scrape(&server).await;
    assert_eq!(
        sample(
            &again,
            "flowdm_http_requests_total",
            "route=\"/metrics\",method=\"GET\",status=\"200\""
        ),
        Some(1.0)
    );
    // OpenMetrics when asked for.
    let r = send(
        Method::GET,
        &server.url("/metrics"),
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
        None,
    )
    .await;
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(r.text.ends_with("# EOF\n"), "{}", r.text);
}

#[tokio::test]
async fn a_busy_session_is_a_conflict() {
    // A turn waits 500 ms on its API call while holding the session; another turn of the same
    // user waits 50 ms for the lock, then gets 409.
    let (base, _seen) = api_stub(
        json!({ "current": { "temp": "21" } }),
        std::time::Duration::from_millis(500),
    )
    .await;
    let server = Server::builder()
        .files(&[("weather.vfr", weather_agent(&base))])
        .args(&["--allow-outbound", "127.0.0.1/32", "--lock-wait-ms", "50"])
        .start();
    let u = User::new(&server, "busy-user", "apiv");
    let launch = json!({"action": {"type": "launch"}});
    let slow = u.post("/interact", &launch);
    let busy = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        u.post("/interact", &launch).await
    };
    let (slow, busy) = tokio::join!(slow, busy);
    assert_eq!(slow.status, 200, "{}", slow.text);
    assert_eq!(busy.status, 409, "{}", busy.text);
    let text = scrape(&server).await;
    assert_eq!(
        sample(
            &text,
            "flowdm_session_conflicts_total",
            "reason=\"lock_timeout\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_store_operations_total",
            "store=\"memory\",op=\"begin\",outcome=\"lock_timeout\""
        ),
        Some(1.0)
    );
    assert_eq!(
        total(&text, "flowdm_http_requests_total", "status=\"409\""),
        1.0
    );
}

#[tokio::test]
async fn no_metrics_turns_the_route_off() {
    let server = Server::builder().arg("--no-metrics").start();
    let r = send(Method::GET, &server.url("/metrics"), &[], None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn an_unreachable_redis_is_counted_as_store_errors_and_503s() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let redis = format!("redis://127.0.0.1:{port}");
    let server = Server::builder()
        .args(&["--redis", redis.as_str(), "--redis-timeout-ms", "300"])
        .start();
    let u = User::new(&server, "redis-down-user", PAYMENT_VERSION);
    let r = u
        .post("/interact", &json!({"action": {"type": "launch"}}))
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    let text = scrape(&server).await;
    assert_eq!(
        sample(
            &text,
            "flowdm_http_requests_total",
            "route=\"/state/user/{userID}/interact\",method=\"POST\",status=\"503\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "flowdm_store_operations_total",
            "store=\"redis\",op=\"begin\",outcome=\"unavailable\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "flowdm_store_errors_total", "store=\"redis\""),
        Some(1.0)
    );
    assert!(!text.contains("redis-down-user"));
}
