//! Custom actions the server runs itself, declared in `--actions-dir`: a webhook to a local
//! test server answers the step unless the client stops on it.

use crate::api_step::api_stub;
use crate::support::custom_actions::pay_agent;
use crate::support::server::*;
use serde_json::{json, Value};

/// The server `builder` makes, with the actions of `dir` and loopback calls allowed (the
/// tests' payment services are local stubs).
fn with_actions(builder: ServerBuilder, dir: &std::path::Path) -> Server {
    builder
        .args(&[
            "--actions-dir",
            dir.to_str().unwrap(),
            "--allow-outbound",
            "127.0.0.1/32",
        ])
        .start()
}

fn action(base: &str) -> Value {
    json!({ "id": "pay", "name": "Pay Credit Card", "action_type": "webhook", "config": {
        "url": format!("{base}/charge"), "body": "{\"amount\": {{payload.amount}}, \"user\": \"{{user.id}}\"}",
        "path_field": "status", "mappings": { "receipt": "receipt" } } })
}

#[tokio::test]
async fn a_registered_webhook_answers_the_custom_action() {
    let (base, seen) = api_stub(
        json!({ "status": "success", "receipt": "R-9" }),
        Default::default(),
    )
    .await;
    let actions = tempfile::tempdir().unwrap();
    std::fs::write(actions.path().join("pay.json"), action(&base).to_string()).unwrap();
    std::fs::write(actions.path().join("broken.json"), "{ not json").unwrap();
    let server = with_actions(
        Server::builder().files(&[("pay.vfr", pay_agent())]),
        actions.path(),
    );
    let u = User::new(&server, "payer", "sav");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["Paid, receipt R-9."], "{t}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("POST /charge HTTP/1.1"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].ends_with(r#"{"amount": 25, "user": "payer"}"#),
        "{}",
        requests[0]
    );

    // A client that stops on the action still gets it, and resumes it.
    let u = User::new(&server, "stopper", "sav");
    let t = normalize(
        u.interact_body(json!({ "action": { "type": "launch" }, "config": { "stopTypes": ["Pay Credit Card"] } }))
            .await,
    );
    assert_eq!(types(&t), ["Pay Credit Card"], "{t}");
    assert_eq!(seen.lock().unwrap().len(), 1, "the server did not call");
    let t = u.act(json!({ "type": "pending" })).await;
    assert_eq!(messages(&t), ["Payment pending."]);
}

#[tokio::test]
async fn the_example_payment_action_charges_the_shipped_payment_agent() {
    // examples/actions/pay-credit-card.json, its payment service a local stub.
    let (base, seen) = api_stub(json!({ "status": "success" }), Default::default()).await;
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/actions/pay-credit-card.json"),
    )
    .unwrap()
    .replace("http://127.0.0.1:8787", &base);
    let actions = tempfile::tempdir().unwrap();
    std::fs::write(actions.path().join("pay.json"), example).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/actions/open-ticket.json"),
        actions.path().join("ticket.json"),
    )
    .unwrap();
    let server = with_actions(Server::builder().with_example("payment.vf"), actions.path());
    let u = User::new(&server, "shopper", "64a1f0000000000000000002");
    u.act(json!({ "type": "launch" })).await;
    let t = u
        .act(json!({ "type": "path-64a1b0000000000000000001", "payload": { "label": "Pay $25" } }))
        .await;
    assert!(
        messages(&t)
            .iter()
            .any(|m| m == "Payment of $25 received. Thank you!"),
        "{t}"
    );
    let requests = seen.lock().unwrap().clone();
    assert!(
        requests[0].ends_with(r#"{"amount": 25, "user": "shopper"}"#),
        "{}",
        requests[0]
    );
}

/// A payment service that answers 503 to its first `failures` calls, then `{"status":
/// "success"}` after `delay`; and how many calls it got.
fn flaky_service(
    failures: usize,
    delay: std::time::Duration,
) -> (
    crate::support::stub_server::StubServer,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use actix_web::{web, App, HttpResponse};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = crate::support::stub_server::StubServer::start(2, move || {
        let calls = counted.clone();
        App::new().route(
            "/charge",
            web::post().to(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < failures {
                        return HttpResponse::ServiceUnavailable().finish();
                    }
                    actix_web::rt::time::sleep(delay).await;
                    HttpResponse::Ok().json(json!({ "status": "success", "receipt": "R-2" }))
                }
            }),
        )
    });
    (server, calls)
}

#[tokio::test]
async fn a_webhook_is_retried_and_bounded_by_its_timeout() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    let (flaky, calls) = flaky_service(2, Duration::ZERO);
    let (slow, slow_calls) = flaky_service(0, Duration::from_secs(3));
    let actions = tempfile::tempdir().unwrap();
    let declare = |name: &str, project: &str, base: &str, extra: Value| {
        let mut a = action(base);
        a["id"] = json!(name);
        a["project_id"] = json!(project);
        a["config"]["status_paths"] = json!({ "5xx": "pending" });
        for (k, v) in extra.as_object().unwrap() {
            a["config"][k] = v.clone();
        }
        std::fs::write(actions.path().join(format!("{name}.json")), a.to_string()).unwrap();
    };
    // Three projects answer the same step with three declarations of the action.
    declare(
        "retried",
        "p-retried",
        &flaky.origin,
        json!({ "retries": 2 }),
    );
    declare("once", "p-once", &flaky.origin, json!({}));
    declare("slow", "p-slow", &slow.origin, json!({ "timeout_ms": 300 }));
    let agent = |project: &str| {
        pay_agent()
            .replace("\"sap\"", &format!("\"{project}\""))
            .replace("\"sav\"", &format!("\"{project}-v\""))
    };
    let server = with_actions(
        Server::builder().files(&[
            ("retried.vfr", agent("p-retried")),
            ("once.vfr", agent("p-once")),
            ("slow.vfr", agent("p-slow")),
        ]),
        actions.path(),
    );

    // Two 503s, then the answer: the third attempt pays.
    let t = User::new(&server, "u", "p-retried-v")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["Paid, receipt R-2."], "{t}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Without retries the first answer counts: a 503 names `pending`.
    calls.store(0, Ordering::SeqCst);
    let t = User::new(&server, "u", "p-once-v")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["Payment pending."], "{t}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A service slower than the action's timeout fails the call (`error`, not a path of the
    // step: the default path) long before the server's own 10 s outbound timeout.
    let started = std::time::Instant::now();
    let t = User::new(&server, "u", "p-slow-v")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["Payment pending."], "{t}");
    assert_eq!(slow_calls.load(Ordering::SeqCst), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the call was cut at its timeout"
    );
}

#[tokio::test]
async fn refused_addresses_and_javascript_limits_take_the_default_path() {
    // Without `--allow-outbound`, a webhook to a loopback service is refused by the guard: no
    // call, the default path, and a debug trace that says why.
    let (base, seen) = api_stub(json!({ "status": "success" }), Default::default()).await;
    let actions = tempfile::tempdir().unwrap();
    std::fs::write(actions.path().join("pay.json"), action(&base).to_string()).unwrap();
    let server = Server::builder()
        .files(&[("pay.vfr", pay_agent())])
        .args(&["--actions-dir", actions.path().to_str().unwrap()])
        .start();
    let u = User::new(&server, "guarded", "sav");
    let t = u
        .interact_body(json!({ "action": { "type": "launch" }, "config": { "excludeTypes": ["block", "flow"] } }))
        .await;
    assert_eq!(messages(&t), ["Payment pending."], "{t}");
    assert!(t.to_string().contains("webhook failed"), "{t}");
    assert!(seen.lock().unwrap().is_empty(), "the guard sent nothing");

    // A JavaScript action that never returns is stopped at the sandbox's time limit.
    let spin = json!({ "id": "spin", "name": "Pay Credit Card", "action_type": "javascript", "config": {
        "code": "export default async function main() { while (true) {} }", "events_schema": ["success"] } });
    std::fs::write(actions.path().join("pay.json"), spin.to_string()).unwrap();
    let server = Server::builder()
        .files(&[("pay.vfr", pay_agent())])
        .args(&["--actions-dir", actions.path().to_str().unwrap()])
        .start();
    let u = User::new(&server, "spinner", "sav");
    let t = u
        .interact_body(json!({ "action": { "type": "launch" }, "config": { "excludeTypes": ["block", "flow"] } }))
        .await;
    assert_eq!(messages(&t), ["Payment pending."], "{t}");
    assert!(
        t.to_string()
            .contains("server action \\\"Pay Credit Card\\\" failed"),
        "{t}"
    );
}
