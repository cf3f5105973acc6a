//! Conditional writes on the state routes (`docs/limits.md`): `ETag` on GET and on the answers
//! of interact and of the writes, `If-Match` on PUT / PATCH / DELETE / reset (412, nothing
//! changed), `If-None-Match: *` on PUT (create only), weak and malformed tags.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

fn etag(r: &Resp) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.text))
        .to_string()
}

/// `GET` of the session: the state and its ETag (`None`: no session).
async fn get(u: &User<'_>) -> (Value, Option<String>) {
    let r = u.raw(Method::GET, "", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    (r.json(), r.header("etag").map(str::to_string))
}

fn put_body(name: &str) -> Value {
    json!({
        "stack": [{"diagramID": "64a1d0000000000000000001", "storage": {}}],
        "storage": {},
        "variables": {"name": name}
    })
}

/// A request on the user's state route with extra headers.
async fn with(
    u: &User<'_>,
    method: Method,
    suffix: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let url = u.server.url(&format!("/state/user/{}{}", u.id, suffix));
    let mut h: Vec<(&str, &str)> = u
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    h.extend_from_slice(headers);
    send(method, &url, &h, body).await
}

fn assert_412(r: &Resp) {
    assert_eq!(r.status, 412, "{}", r.text);
    let b = r.json();
    assert_eq!(b["code"], 412, "{b}");
    assert_eq!(b["status"], "Precondition Failed");
    assert!(
        b["data"].as_str().unwrap().contains("nothing was changed"),
        "{b}"
    );
}

#[tokio::test]
async fn interact_answers_the_etag_the_next_get_shows() {
    let server = Server::start();
    let u = User::new(&server, "cond-interact", PAYMENT_VERSION);
    let (state, tag) = get(&u).await;
    assert_eq!((state, tag), (json!({}), None), "no session, no tag");

    let r = u
        .post("/interact", &json!({"action": {"type": "launch"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t1 = etag(&r);
    assert!(
        t1.starts_with('"') && t1.ends_with('"') && t1.len() == 34,
        "{t1}"
    );
    assert_eq!(get(&u).await.1.as_deref(), Some(t1.as_str()));
    // The same state read twice: the same tag.
    assert_eq!(get(&u).await.1.as_deref(), Some(t1.as_str()));

    let r = u
        .post(
            "/interact?verbose=true",
            &json!({"action": {"type": "text", "payload": "hello"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t2 = etag(&r);
    assert_ne!(t1, t2, "a turn changes the state");
    let (state, tag) = get(&u).await;
    assert_eq!(tag.as_deref(), Some(t2.as_str()));
    assert_eq!(state, r.json()["state"]);

    // The legacy form shows the same tag.
    let legacy = server.url(&format!("/state/{PAYMENT_VERSION}/user/cond-interact"));
    let r = send(Method::GET, &legacy, &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), t2);

    // The public interact answers a tag too.
    let url = server.url(&format!(
        "/public/{PAYMENT_PROJECT}/state/user/cond-interact/interact"
    ));
    let r = send(
        Method::POST,
        &url,
        &[],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(Some(etag(&r)), get(&u).await.1);
}

#[tokio::test]
async fn put_if_match() {
    let server = Server::start();
    let u = User::new(&server, "cond-put", PAYMENT_VERSION);
    // No session: any If-Match fails (also `*`), nothing is created.
    for h in ["*", "\"0123\""] {
        let r = with(
            &u,
            Method::PUT,
            "",
            &[("if-match", h)],
            Some(&put_body("a")),
        )
        .await;
        assert_412(&r);
        assert_eq!(get(&u).await, (json!({}), None));
    }
    let r = with(&u, Method::PUT, "", &[], Some(&put_body("a"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ta = etag(&r);
    assert_eq!(get(&u).await.1.as_deref(), Some(ta.as_str()));

    // Matching tag (among others): replaced, new tag answered.
    let list = format!("\"other\", {ta}");
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-match", list.as_str())],
        Some(&put_body("b")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), put_body("b"), "the body is echoed");
    let tb = etag(&r);
    assert_ne!(ta, tb);
    let (state, tag) = get(&u).await;
    assert_eq!(tag.as_deref(), Some(tb.as_str()));
    assert_eq!(state["variables"]["name"], "b");

    // The old tag: 412, state unchanged (a second admin tool that read before the first wrote).
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-match", ta.as_str())],
        Some(&put_body("c")),
    )
    .await;
    assert_412(&r);
    assert!(
        r.json()["data"].as_str().unwrap().contains(&tb),
        "{}",
        r.text
    );
    assert_eq!(get(&u).await, (state.clone(), Some(tb.clone())));

    // A weak tag never matches (strong comparison).
    let weak = format!("W/{tb}");
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-match", weak.as_str())],
        Some(&put_body("c")),
    )
    .await;
    assert_412(&r);
    assert_eq!(get(&u).await, (state.clone(), Some(tb.clone())));

    // `*` matches any existing session.
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-match", "*")],
        Some(&put_body("d")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(get(&u).await.0["variables"]["name"], "d");
}

#[tokio::test]
async fn put_if_none_match_creates_only() {
    let server = Server::start();
    let u = User::new(&server, "cond-create", PAYMENT_VERSION);
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-none-match", "*")],
        Some(&put_body("first")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = etag(&r);
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-none-match", "*")],
        Some(&put_body("second")),
    )
    .await;
    assert_412(&r);
    let (state, tag) = get(&u).await;
    assert_eq!(state["variables"]["name"], "first");
    assert_eq!(tag, Some(t));
}

#[tokio::test]
async fn patch_delete_reset_if_match() {
    let server = Server::start();
    let u = User::new(&server, "cond-writes", PAYMENT_VERSION);
    let r = with(&u, Method::PUT, "", &[], Some(&put_body("x"))).await;
    let t0 = etag(&r);
    let stale = "\"ffffffffffffffffffffffffffffffff\"";

    // PATCH …/variables
    let patch = json!({"amount": 3});
    let r = with(
        &u,
        Method::PATCH,
        "/variables",
        &[("if-match", stale)],
        Some(&patch),
    )
    .await;
    assert_412(&r);
    assert_eq!(get(&u).await.1.as_deref(), Some(t0.as_str()));
    let r = with(
        &u,
        Method::PATCH,
        "/variables",
        &[("if-match", t0.as_str())],
        Some(&patch),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t1 = etag(&r);
    let (state, tag) = get(&u).await;
    assert_eq!(tag.as_deref(), Some(t1.as_str()));
    assert_eq!(state["variables"]["amount"], 3);
    assert_eq!(state, r.json());

    // reset (POST /state/user/{userID})
    let r = with(&u, Method::POST, "", &[("if-match", t0.as_str())], None).await;
    assert_412(&r);
    assert_eq!(get(&u).await, (state.clone(), Some(t1.clone())));
    let r = with(&u, Method::POST, "", &[("if-match", t1.as_str())], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t2 = etag(&r);
    assert_eq!(get(&u).await.1.as_deref(), Some(t2.as_str()));

    // DELETE
    let r = with(&u, Method::DELETE, "", &[("if-match", t1.as_str())], None).await;
    assert_412(&r);
    assert_eq!(get(&u).await.1.as_deref(), Some(t2.as_str()));
    let r = with(&u, Method::DELETE, "", &[("if-match", t2.as_str())], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), None, "a deleted session has no tag");
    assert_eq!(get(&u).await, (json!({}), None));
    // Gone: If-Match fails, also `*`.
    let r = with(&u, Method::DELETE, "", &[("if-match", "*")], None).await;
    assert_412(&r);
}

#[tokio::test]
async fn legacy_routes_and_malformed_headers() {
    let server = Server::start();
    let url = server.url(&format!("/state/{PAYMENT_VERSION}/user/cond-legacy"));
    let r = send(Method::PUT, &url, &[], Some(&put_body("l"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = etag(&r);
    let r = send(
        Method::PUT,
        &url,
        &[("if-match", "\"nope\"")],
        Some(&put_body("m")),
    )
    .await;
    assert_412(&r);
    let r = send(
        Method::PUT,
        &url,
        &[("if-match", t.as_str())],
        Some(&put_body("m")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let vars = send(
        Method::PATCH,
        &format!("{url}/variables"),
        &[("if-match", t.as_str())],
        Some(&json!({"a": 1})),
    )
    .await;
    assert_412(&vars);

    // Malformed: 400 (Validation shape), nothing changed.
    let u = User::new(&server, "cond-legacy", PAYMENT_VERSION);
    let before = get(&u).await;
    for (h, v) in [
        ("if-match", "abc"),
        ("if-match", "\"a"),
        ("if-none-match", "*, \"a\""),
        ("if-match", "w/\"a\""),
    ] {
        let r = with(&u, Method::PUT, "", &[(h, v)], Some(&put_body("bad"))).await;
        assert_validation(
            &r,
            if h == "if-match" {
                "If-Match"
            } else {
                "If-None-Match"
            },
        );
        let r = with(&u, Method::DELETE, "", &[(h, v)], None).await;
        assert_eq!(r.status, 400, "{h}: {v} -> {}", r.text);
    }
    assert_eq!(get(&u).await, before);
    // An empty value is an empty list: If-Match matches nothing (412), If-None-Match everything.
    assert_412(&with(&u, Method::DELETE, "", &[("if-match", "")], None).await);
    let r = with(
        &u,
        Method::PUT,
        "",
        &[("if-none-match", "")],
        Some(&put_body("e")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_replayed_write_is_not_refused_by_its_own_change() {
    // A retry (same Idempotency-Key) of a conditional PUT that went through gets its answer
    // back, although the tag it carried no longer matches.
    let server = Server::start();
    let u = User::new(&server, "cond-idem", PAYMENT_VERSION);
    let r = with(&u, Method::PUT, "", &[], Some(&put_body("v1"))).await;
    let t = etag(&r);
    let h = [("if-match", t.as_str()), ("idempotency-key", "cond-idem-1")];
    let first = with(&u, Method::PUT, "", &h, Some(&put_body("v2"))).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = with(&u, Method::PUT, "", &h, Some(&put_body("v2"))).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_with_one_tag_one_wins() {
    // Eight admin tools read the same tag and write at once: the check runs under the session
    // lock, so exactly one write goes through and the others change nothing.
    let server = Server::start();
    let u = User::new(&server, "cond-race", PAYMENT_VERSION);
    let r = with(&u, Method::PUT, "", &[], Some(&put_body("start"))).await;
    let t = etag(&r);
    let url = server.url("/state/user/cond-race");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (url, t) = (url.clone(), t.clone());
            tokio::spawn(async move {
                let h = [("versionID", PAYMENT_VERSION), ("if-match", t.as_str())];
                let r = send(Method::PUT, &url, &h, Some(&put_body(&format!("w{i}")))).await;
                (i, r)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (i, r) = task.await.unwrap();
        match r.status {
            200 => winners.push((i, etag(&r))),
            _ => assert_412(&r),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (i, tag) = &winners[0];
    let (state, now) = get(&u).await;
    assert_eq!(state["variables"]["name"], format!("w{i}"));
    assert_eq!(now.as_ref(), Some(tag));
}
