//! Resuming a client-handled stop (`docs/custom-actions.md` § "Resuming a stop"): the stop's id
//! and resume token in the trace, a resume naming the stop applied once (sequential and
//! concurrent duplicates answered the same bytes), an unknown stop refused, the
//! server-to-server resume and the client's next request, the deadline path.

use crate::support::server::*;
use crate::support::stops::*;
use serde_json::{json, Value};

fn server() -> Server {
    Server::builder()
        .files(&[("stops.vfr", stops_agent())])
        .start()
}

fn stop_id(trace: &Value) -> String {
    trace["stopID"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_stop_carries_its_id_and_a_server_resume() {
    let s = server();
    let trace = launch_stop(&s, "u:1").await;
    let id = stop_id(&trace);
    assert_eq!(id.len(), 16);
    assert_eq!(
        trace["resume"]["url"],
        json!(format!(
            "/state/{STOPS_VERSION}/user/u%3A1/stops/{id}/resume"
        ))
    );
    let token = trace["resume"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    // The state keeps the pending stop with the token's hash, never the token.
    let r = send(
        reqwest::Method::GET,
        &s.url("/state/user/u:1"),
        &[("versionID", STOPS_VERSION)],
        None,
    )
    .await;
    let pending = &r.json()["storage"]["flowdm:stops"]["pending"];
    assert_eq!(pending["id"], json!(id));
    assert_eq!(pending["action"], json!("Pay"));
    assert_eq!(pending["tokenHash"].as_str().unwrap().len(), 64);
    assert!(!r.text.contains(token));
}

#[tokio::test]
async fn a_duplicate_resume_answers_the_same_bytes_and_runs_once() {
    let s = server();
    let id = stop_id(&launch_stop(&s, "dup").await);
    let first = interact(&s, "dup", &resume_body(&id)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(messages(&first.json()), ["Paid 1."]);
    // Retried, even with another body: the same answer, nothing run again.
    let again = interact(&s, "dup", &resume_body(&id)).await;
    assert_eq!((again.status, &again.text), (200, &first.text));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = json!({ "action": { "type": "timeout", "payload": { "stopID": id } } });
    assert_eq!(interact(&s, "dup", &other).await.text, first.text);
    assert_eq!(paid_count(&s, "dup").await, json!(1));
    // A stop this session never made: 409, nothing changed.
    let before = paid_count(&s, "dup").await;
    let r = interact(&s, "dup", &resume_body("0123456789abcdef")).await;
    assert_error_object(&r, 409, "stop 0123456789abcdef is not the stop this session waits on and was not resumed; nothing was changed");
    assert_eq!(paid_count(&s, "dup").await, before);
    // A plain resume without an id keeps the reference's behaviour.
    let id2 = stop_id(&launch_stop(&s, "dup").await);
    let plain = interact(&s, "dup", &json!({ "action": { "type": "success" } })).await;
    assert_eq!(messages(&plain.json()), ["Paid 2."]);
    // Naming that stop afterwards runs nothing either.
    let late = interact(&s, "dup", &resume_body(&id2)).await;
    assert_eq!(late.status, 200, "{}", late.text);
    assert_eq!(late.json(), json!([]));
    assert_eq!(paid_count(&s, "dup").await, json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_resumes_apply_once() {
    let s = server();
    let id = stop_id(&launch_stop(&s, "racer").await);
    let url = s.url("/state/user/racer/interact");
    let body = resume_body(&id).to_string();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (url, body) = (url.clone(), body.clone());
            tokio::spawn(async move {
                let r = client()
                    .post(url)
                    .header("versionID", STOPS_VERSION)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let first = answers[0].clone();
    assert_eq!(first.0, 200, "{}", first.1);
    assert!(answers.iter().all(|a| *a == first), "{answers:?}");
    assert_eq!(
        messages(&serde_json::from_str(&first.1).unwrap()),
        ["Paid 1."]
    );
    assert_eq!(paid_count(&s, "racer").await, json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_resume_runs_once_and_the_client_sees_the_continuation() {
    let s = server();
    let trace = launch_stop(&s, "hook").await;
    let id = stop_id(&trace);
    let url = trace["resume"]["url"].as_str().unwrap().to_string();
    let token = trace["resume"]["token"].as_str().unwrap().to_string();
    let event = json!({ "type": "success" });
    assert_error_object(
        &server_resume(&s, &url, None, &event).await,
        401,
        "a stop's resume needs Authorization: Bearer <the stop's resume token>",
    );
    assert_error_object(
        &server_resume(&s, &url, Some("nope"), &event).await,
        403,
        "wrong resume token for this stop",
    );
    let unknown = url.replace(&id, "0123456789abcdef");
    assert_eq!(
        server_resume(&s, &unknown, Some(&token), &event)
            .await
            .status,
        404
    );
    assert_eq!(paid_count(&s, "hook").await, json!(0));

    // Concurrent duplicates (a retried payment callback): applied once, one answer.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (url, token, event) = (url.clone(), token.clone(), event.clone());
            let s = s.url(&url);
            tokio::spawn(async move {
                let r = client()
                    .post(s)
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(event.to_string())
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    let answer: Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(
        answer,
        json!({ "status": "resumed", "stopID": id, "event": "success", "by": "server" })
    );
    assert_eq!(paid_count(&s, "hook").await, json!(1));

    // The client resumes the same stop: it gets the continuation, nothing runs again; and a
    // retry of that gets the same bytes.
    let mine = interact(&s, "hook", &resume_body(&id)).await;
    assert_eq!(messages(&mine.json()), ["Paid 1."], "{}", mine.text);
    assert_eq!(
        interact(&s, "hook", &resume_body(&id)).await.text,
        mine.text
    );
    assert_eq!(paid_count(&s, "hook").await, json!(1));
}

#[tokio::test]
async fn the_next_plain_request_gets_the_server_resumes_traces_first() {
    let s = server();
    let trace = launch_stop(&s, "next").await;
    let url = trace["resume"]["url"].as_str().unwrap();
    let token = trace["resume"]["token"].as_str().unwrap();
    let r = server_resume(&s, url, Some(token), &json!({ "type": "success" })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = interact(&s, "next", &json!({ "action": { "type": "launch" } })).await;
    let traces = r.json();
    assert_eq!(messages(&traces), ["Paid 1."]);
    let types = types(&traces);
    assert_eq!(types.first().map(String::as_str), Some("text"), "{traces}");
    assert_eq!(types.last().map(String::as_str), Some("Pay"), "{traces}");
    // Delivered once.
    let r = interact(&s, "next", &json!({ "action": { "type": "launch" } })).await;
    assert!(messages(&r.json()).is_empty(), "{}", r.text);
}

#[tokio::test]
async fn a_stop_past_its_deadline_resumes_on_its_path_at_the_next_request() {
    let s = server();
    let launch = json!({ "action": { "type": "launch" },
        "config": { "stopDeadline": { "seconds": 0, "path": "timed out" } } });
    let r = interact(&s, "late", &launch).await;
    let id = stop_id(trace_of(&r.json(), "Pay"));
    // The client's resume comes after the deadline: answered by the deadline path.
    let r = interact(&s, "late", &resume_body(&id)).await;
    assert_eq!(messages(&r.json()), ["Too late."], "{}", r.text);
    assert_eq!(paid_count(&s, "late").await, json!(0));
    // A deadline not reached: the stop resumes as usual.
    let launch = json!({ "action": { "type": "launch" },
        "config": { "stopDeadline": { "seconds": 3600, "path": "timeout" } } });
    let id = stop_id(trace_of(&interact(&s, "late", &launch).await.json(), "Pay"));
    let r = interact(&s, "late", &resume_body(&id)).await;
    assert_eq!(messages(&r.json()), ["Paid 1."]);
    // A malformed deadline is refused before anything runs.
    let bad = json!({ "action": { "type": "launch" }, "config": { "stopDeadline": { "seconds": -1, "path": "x" } } });
    assert_validation(
        &interact(&s, "late", &bad).await,
        "config.stopDeadline.seconds",
    );
}

#[tokio::test]
async fn the_resume_route_answers_only_documented_statuses() {
    let s = server();
    let trace = launch_stop(&s, "doc").await;
    let url = trace["resume"]["url"].as_str().unwrap();
    let token = trace["resume"]["token"].as_str();
    let documented = documented_statuses("/state/{versionID}/user/{userID}/stops/{stopID}/resume");
    let cases = [
        (None, json!({ "type": "success" }), 401),
        (Some("x"), json!({ "type": "success" }), 403),
        (token, json!({ "type": "" }), 400),
        (token, json!({ "type": "success", "extra": 1 }), 400),
        (token, json!({ "type": "success", "payload": "text" }), 400),
        (token, json!({ "type": "success" }), 200),
    ];
    for (token, body, status) in cases {
        let r = server_resume(&s, url, token, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(documented.contains(&status), "{status} is not documented");
    }
    let unloaded = url.replace(STOPS_VERSION, "000000000000000000000000");
    let r = server_resume(&s, &unloaded, token, &json!({ "type": "success" })).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(paid_count(&s, "doc").await, json!(1));
}

#[tokio::test]
async fn a_request_that_does_not_resume_the_stop_is_not_its_answer() {
    let s = server();
    let trace = launch_stop(&s, "act").await;
    let id = stop_id(&trace);
    let url = trace["resume"]["url"].as_str().unwrap();
    let token = trace["resume"]["token"].as_str();
    // `action` requests run nothing: the stop stays pending, nothing is recorded for it.
    let noop = json!({ "action": { "type": "action", "payload": { "stopID": id } } });
    assert_eq!(interact(&s, "act", &noop).await.status, 200);
    let r = server_resume(&s, url, token, &json!({ "type": "action" })).await;
    assert_error_object(
        &r,
        409,
        &format!("stop {id} did not resume on this event; nothing was changed"),
    );
    let r = interact(&s, "act", &resume_body(&id)).await;
    assert_eq!(messages(&r.json()), ["Paid 1."], "{}", r.text);
    assert_eq!(paid_count(&s, "act").await, json!(1));
}
