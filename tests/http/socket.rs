//! The v4 socket.io channel at `/v4/interact/socket` (src/socket/, docs/clients.md § "The v4
//! socket"), spoken here at the wire level — engine.io v4 packets over a WebSocket — by a small
//! client of the test's own; `tests/clients/sdk-runtime-socket.mjs` runs the real
//! `@voiceflow/sdk-runtime` 1.69.1 client against the same server.

use crate::support::server::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A socket.io client of the default namespace over the WebSocket transport.
pub(crate) struct Io {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Io {
    pub(crate) async fn connect(server: &Server) -> Io {
        let url = server
            .url("/v4/interact/socket/?EIO=4&transport=websocket")
            .replacen("http://", "ws://", 1);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
        let mut io = Io { ws };
        let open = io.packet().await;
        assert!(open.starts_with('0'), "engine.io open: {open}");
        io.ws.send(Message::text("40")).await.expect("connect");
        let connected = io.packet().await;
        assert!(
            connected.starts_with("40"),
            "socket.io connect: {connected}"
        );
        io
    }

    /// The next engine.io packet (pings answered on the way).
    pub(crate) async fn packet(&mut self) -> String {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a packet within 10 s")
                .expect("open")
                .expect("frame");
            if let Message::Text(t) = msg {
                if t.as_str() == "2" {
                    self.ws.send(Message::text("3")).await.expect("pong");
                    continue;
                }
                return t.to_string();
            }
        }
    }

    pub(crate) async fn emit(&mut self, event: &str, data: Option<Value>) {
        let args = match data {
            Some(d) => json!([event, d]),
            None => json!([event]),
        };
        self.ws
            .send(Message::text(format!("42{args}")))
            .await
            .expect("emit");
    }

    /// The next event: (name, data).
    pub(crate) async fn event(&mut self) -> (String, Value) {
        let p = self.packet().await;
        let body = p.strip_prefix("42").unwrap_or_else(|| panic!("event: {p}"));
        let v: Value = serde_json::from_str(body).expect("event JSON");
        (
            v[0].as_str().expect("name").to_string(),
            v.get(1).cloned().unwrap_or(Value::Null),
        )
    }

    /// The events of one turn, up to and including the `action` event that ends it.
    async fn turn(&mut self, action: Value) -> (Vec<(String, Value)>, Value) {
        self.emit("action", Some(json!({"action": action, "config": {}})))
            .await;
        let mut events = Vec::new();
        loop {
            let (name, data) = self.event().await;
            if name == "action" {
                return (events, data);
            }
            events.push((name, data));
        }
    }

    /// `start` then, without a key, `session-key-update`: the session key.
    async fn start(&mut self, user: &str, key: Option<&str>) -> (Value, Option<String>) {
        self.start_in(PAYMENT_PROJECT, user, key).await
    }

    pub(crate) async fn start_in(
        &mut self,
        project: &str,
        user: &str,
        key: Option<&str>,
    ) -> (Value, Option<String>) {
        let mut body = json!({"userID": user, "projectID": project, "environmentID": "development",
            "config": {"completionEvents": true, "audioEncoding": "pcm", "modality": "chat"}});
        if let Some(k) = key {
            body["sessionKey"] = json!(k);
            body["lastReceivedAt"] = json!(u64::MAX / 2);
        }
        self.emit("start", Some(body)).await;
        let (name, started) = self.event().await;
        assert_eq!(name, "start", "{started}");
        if started["newSessionRequired"] == json!(false) {
            return (started, None);
        }
        self.emit("session-key-update", None).await;
        let (name, k) = self.event().await;
        assert_eq!(name, "session-key-update", "{k}");
        (
            started,
            Some(k["sessionKey"].as_str().expect("key").to_string()),
        )
    }
}

fn trace_types(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(name, d)| {
            assert_eq!(name, "trace");
            d["trace"]["type"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_conversation_over_the_socket_with_a_stop_and_its_resume() {
    let server = Server::start();
    let mut io = Io::connect(&server).await;
    let (started, key) = io.start("socket-user", None).await;
    assert_eq!(started["versionID"], json!(PAYMENT_VERSION));
    assert_eq!(started["newSessionRequired"], json!(true));
    assert!(key.expect("a key").starts_with("vf4."));

    let (events, end) = io.turn(json!({"type": "launch"})).await;
    assert_eq!(end, json!({"status": "completed"}));
    assert_eq!(trace_types(&events), ["text", "text", "choice", "no-reply"]);
    // One turnID for the turn, one handleID per trace.
    let turn = &events[0].1["trace"]["turnID"];
    assert!(turn.is_string());
    assert!(events.iter().all(|(_, d)| &d["trace"]["turnID"] == turn));
    let handles: std::collections::HashSet<String> = events
        .iter()
        .map(|(_, d)| d["trace"]["handleID"].to_string())
        .collect();
    assert_eq!(handles.len(), 4);
    let (events, end) = io
        .turn(json!({"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25"}}))
        .await;
    assert_eq!(end["status"], "completed");
    assert_eq!(trace_types(&events), ["path", "Pay Credit Card"]);
    let (events, _) = io.turn(json!({"type": "success"})).await;
    let said: Vec<&str> = events
        .iter()
        .filter_map(|(_, d)| d["trace"]["payload"]["message"].as_str())
        .collect();
    assert_eq!(said, ["Payment of $25 received. Thank you!"]);
    // The HTTP API sees the same session.
    let st = User::new(&server, "socket-user", PAYMENT_VERSION)
        .state()
        .await;
    assert!(st["stack"].is_array(), "{st}");

    // `end` ends the session: completed, then session-ended; the key no longer starts.
    io.emit("action", Some(json!({"action": {"type": "end"}})))
        .await;
    assert_eq!(
        io.event().await,
        ("action".into(), json!({"status": "completed"}))
    );
    assert_eq!(io.event().await.0, "session-ended");
    let (name, rejected) = io.turn(json!({"type": "launch"})).await;
    assert!(name.is_empty());
    assert_eq!(rejected["status"], "rejected");
}

#[tokio::test]
async fn a_reconnect_with_the_current_key_keeps_the_session_and_a_stale_key_does_not() {
    let server = Server::start();
    let mut io = Io::connect(&server).await;
    let (_, key) = io.start("socket-reconnect", None).await;
    let key = key.expect("key");
    let (events, _) = io.turn(json!({"type": "launch"})).await;
    assert_eq!(events.len(), 4);
    drop(io);

    // A client that reconnects having received nothing since before the turn gets it replayed.
    let mut io = Io::connect(&server).await;
    io.emit("start", Some(json!({"userID": "socket-reconnect", "projectID": PAYMENT_PROJECT, "sessionKey": key, "lastReceivedAt": 1}))).await;
    assert_eq!(io.event().await.0, "start");
    let (name, replay) = io.event().await;
    assert_eq!(name, "replay");
    let replayed: Vec<&str> = replay["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert_eq!(replayed, ["text", "text", "choice", "no-reply"]);
    drop(io);

    // A new connection with the key: no new session needed, the conversation goes on (and a
    // client that got everything is replayed nothing).
    let mut io = Io::connect(&server).await;
    let (started, none) = io.start("socket-reconnect", Some(&key)).await;
    assert_eq!(started["newSessionRequired"], json!(false));
    assert!(none.is_none());
    let (events, _) = io
        .turn(json!({"type": "path-64a1b0000000000000000001", "payload": {"label": "Pay $25"}}))
        .await;
    assert_eq!(trace_types(&events), ["path", "Pay Credit Card"]);

    // Another start of the same user's session replaces the key: the first connection's next
    // turn is rejected and its session ended.
    let mut other = Io::connect(&server).await;
    let (_, new_key) = other.start("socket-reconnect", None).await;
    assert!(new_key.is_some_and(|k| k != key));
    let (events, end) = io.turn(json!({"type": "success"})).await;
    assert!(events.is_empty());
    assert_eq!(end["status"], "rejected");
    assert_eq!(io.event().await.0, "session-ended");

    // And the old key is stale on a new connection.
    let mut late = Io::connect(&server).await;
    late.emit(
        "start",
        Some(
            json!({"userID": "socket-reconnect", "projectID": PAYMENT_PROJECT, "sessionKey": key}),
        ),
    )
    .await;
    let (name, started) = late.event().await;
    assert_eq!(name, "start");
    assert_eq!(started["newSessionRequired"], json!(true));
}

#[tokio::test]
async fn a_new_key_gets_no_replay_of_the_previous_keys_turn() {
    let server = Server::start();
    let mut io = Io::connect(&server).await;
    let (_, first) = io.start("socket-replay-new-key", None).await;
    assert!(first.is_some());
    let (events, _) = io.turn(json!({"type": "launch"})).await;
    assert_eq!(events.len(), 4);
    // A new session (a new key) after that turn.
    io.emit("session-key-update", None).await;
    let (name, k) = io.event().await;
    assert_eq!(name, "session-key-update", "{k}");
    let key = k["sessionKey"].as_str().expect("key").to_string();
    drop(io);

    // Reconnecting with the new key, having received nothing: no replay of the first key's
    // turn (the next events are the new turn's traces).
    let mut io = Io::connect(&server).await;
    io.emit("start", Some(json!({"userID": "socket-replay-new-key", "projectID": PAYMENT_PROJECT, "sessionKey": key, "lastReceivedAt": 1}))).await;
    let (name, started) = io.event().await;
    assert_eq!(name, "start");
    assert_eq!(started["newSessionRequired"], json!(false));
    let (events, end) = io.turn(json!({"type": "launch"})).await;
    assert_eq!(end["status"], "completed");
    assert_eq!(trace_types(&events), ["text", "text", "choice", "no-reply"]);
}

#[tokio::test]
async fn bad_starts_and_actions_get_clear_errors_and_change_nothing() {
    let server = Server::start();
    let mut io = Io::connect(&server).await;
    // An action before any session.
    let (events, end) = io.turn(json!({"type": "launch"})).await;
    assert!(events.is_empty());
    assert_eq!(end["status"], "rejected");
    assert_eq!(end["error"]["code"], 401);
    // Unknown project, missing user.
    io.emit("start", Some(json!({"userID": "u", "projectID": "nope"})))
        .await;
    let (name, e) = io.event().await;
    assert_eq!(
        (name.as_str(), &e["code"]),
        ("exception", &json!(404)),
        "{e}"
    );
    io.emit("start", Some(json!({"projectID": PAYMENT_PROJECT})))
        .await;
    let (name, e) = io.event().await;
    assert_eq!(
        (name.as_str(), &e["code"]),
        ("exception", &json!(400)),
        "{e}"
    );
    // A bad action is rejected with the validator's message; the session is untouched.
    let (_, key) = io.start("socket-bad", None).await;
    assert!(key.is_some());
    let before = User::new(&server, "socket-bad", PAYMENT_VERSION)
        .state()
        .await;
    let (events, end) = io.turn(json!({"type": 7})).await;
    assert!(events.is_empty());
    assert_eq!(end["status"], "rejected");
    assert_eq!(end["error"]["code"], 400, "{end}");
    let after = User::new(&server, "socket-bad", PAYMENT_VERSION)
        .state()
        .await;
    assert_eq!(before, after);
    // cancel with nothing running.
    io.emit("cancel", None).await;
    assert_eq!(
        io.event().await,
        ("cancel".into(), json!({"success": false}))
    );
}

#[tokio::test]
async fn the_polling_transport_answers_the_handshake() {
    let server = Server::start();
    let r = send(
        reqwest::Method::GET,
        &server.url("/v4/interact/socket/?EIO=4&transport=polling"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with('0'), "{}", r.text);
    let open: Value = serde_json::from_str(&r.text[1..]).expect("open packet");
    assert!(open["sid"].is_string());
    assert!(open["upgrades"]
        .as_array()
        .is_some_and(|u| u.contains(&json!("websocket"))));
}

#[tokio::test]
async fn cancel_stops_the_running_turn_before_its_next_effect_and_commits_nothing() {
    use crate::streaming::{gated_stub, two_calls_agent, wait_hits};
    use std::sync::atomic::Ordering;
    let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let server = Server::builder()
        .files(&[("two.vfr", two_calls_agent(&base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start();
    let mut io = Io::connect(&server).await;
    io.start_in("twop", "canceller", None).await;
    let before = User::new(&server, "canceller", "twov").state().await;
    io.emit("action", Some(json!({"action": {"type": "launch"}})))
        .await;
    let (name, first) = io.event().await;
    assert_eq!(
        (name.as_str(), &first["trace"]["payload"]["message"]),
        ("trace", &json!("one"))
    );
    wait_hits(&hits, 1).await;
    io.emit("cancel", None).await;
    assert_eq!(
        io.event().await,
        ("cancel".into(), json!({"success": true}))
    );
    gate.add_permits(100);
    let (name, end) = io.event().await;
    assert_eq!(name, "action");
    assert_eq!(end["status"], "rejected", "{end}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the second call is never made"
    );
    let after = User::new(&server, "canceller", "twov").state().await;
    assert_eq!(before, after, "nothing committed");
    // The connection goes on.
    let (events, end) = io.turn(json!({"type": "launch"})).await;
    assert_eq!(end["status"], "completed");
    let said: Vec<&str> = events
        .iter()
        .filter_map(|(_, d)| d["trace"]["payload"]["message"].as_str())
        .collect();
    assert_eq!(said, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_polling_body_over_the_body_limit_is_413() {
    let server = Server::builder().args(&["--body-limit", "1024"]).start();
    let r = send(
        reqwest::Method::GET,
        &server.url("/v4/interact/socket/?EIO=4&transport=polling"),
        &[],
        None,
    )
    .await;
    let open: Value = serde_json::from_str(&r.text[1..]).expect("open packet");
    let sid = open["sid"].as_str().expect("sid");
    let url = server.url(&format!(
        "/v4/interact/socket/?EIO=4&transport=polling&sid={sid}"
    ));
    let r = send_raw(reqwest::Method::POST, &url, &[], vec![b'4'; 4096]).await;
    assert_eq!(r.status, 413, "{}", r.text);
    // Within the limit, the packet is taken.
    let r = send_raw(reqwest::Method::POST, &url, &[], b"40".to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
