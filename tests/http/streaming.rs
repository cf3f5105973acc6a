//! The streaming interact routes (Server-Sent Events, `docs/streaming.md`): framing and event
//! order, the `/v2beta1` route's errors and state merge, traces sent before an effect completes
//! (a stub that holds its answer until the test has read the first event), completion events
//! against the LLM stub, and a client that leaves mid-turn.

use crate::ai_steps::agent_server;
use crate::api_step::{api_stub, weather_agent};
pub(crate) use crate::support::gated::{gated_stub, two_calls_agent, wait_hits};
use crate::support::llm_stub::LlmStub;
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One parsed event.
#[derive(Debug)]
struct Event {
    name: String,
    id: Option<String>,
    data: Value,
}

/// Reads a `text/event-stream` body event by event; keeps everything it read.
struct Sse {
    resp: reqwest::Response,
    buf: String,
    raw: String,
}

impl Sse {
    async fn open(url: &str, body: Value) -> Sse {
        let resp = client()
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Sse {
            resp,
            buf: String::new(),
            raw: String::new(),
        }
    }

    /// The next named event (comments and the `retry:` hint skipped); `None` at the end.
    async fn next(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if let Some(name) = name {
                    let data = serde_json::from_str(&data).unwrap_or(Value::Null);
                    return Some(Event { name, id, data });
                }
            }
            let chunk = self.resp.chunk().await.unwrap()?;
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            self.raw.push_str(&text);
            self.buf.push_str(&text);
        }
    }

    /// Reads until the raw stream contains `needle` (comments included).
    async fn read_until(&mut self, needle: &str) {
        while !self.raw.contains(needle) {
            let chunk = self.resp.chunk().await.unwrap().expect("the stream ended");
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            self.raw.push_str(&text);
            self.buf.push_str(&text);
        }
    }

    async fn rest(&mut self) -> Vec<Event> {
        let mut all = Vec::new();
        while let Some(e) = self.next().await {
            all.push(e);
        }
        all
    }
}

fn weather_server(base: &str) -> Server {
    Server::builder()
        .files(&[("weather.vfr", weather_agent(base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start()
}

fn message(e: &Event) -> Option<&str> {
    e.data["payload"]["message"].as_str()
}

#[tokio::test]
async fn v2beta1_streams_every_trace_then_the_state_then_end() {
    let (base, _) = api_stub(json!({ "current": { "temp": "21" } }), Default::default()).await;
    let server = weather_server(&base);
    let body = json!({ "action": { "type": "launch" }, "session": { "sessionID": "s1", "userID": "u1" },
        "state": { "variables": { "extra": { "a": 1 } } }, "config": { "tts": false } });
    let mut sse = Sse::open(
        &server.url("/v2beta1/interact/apip/development/stream"),
        body,
    )
    .await;
    let events = sse.rest().await;
    assert!(sse.raw.starts_with("retry: 2000\n\n"), "{}", sse.raw);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    let n = names.len();
    assert!(n >= 4, "{names:?}");
    assert!(names[..n - 2].iter().all(|n| *n == "trace"), "{names:?}");
    assert_eq!(names[n - 2..], ["state", "end"]);
    let traces: Vec<&Value> = events[..n - 2]
        .iter()
        .map(|e| {
            assert_eq!(e.data["type"], "trace");
            assert!(e.id.is_none());
            &e.data["trace"]
        })
        .collect();
    // Before any filtering: block / flow traces are streamed too.
    assert!(traces.iter().any(|t| t["type"] == "block"), "{traces:?}");
    let texts: Vec<&str> = traces
        .iter()
        .filter(|t| t["type"] == "text")
        .map(|t| t["payload"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Looking it up…", "It is 21 degrees in Paris."]);
    let state = &events[n - 2].data;
    assert_eq!(state["type"], "state");
    assert_eq!(state["state"]["variables"]["temp"], json!(21));
    assert_eq!(state["state"]["variables"]["extra"], json!({ "a": 1 }));
    assert_eq!(events[n - 1].data, json!({ "type": "end" }));
    // The session key is the project and userID + sessionID.
    let u = User::new(&server, "u1s1", "apiv");
    assert_eq!(u.state().await["variables"]["temp"], json!(21));
}

#[tokio::test]
async fn v2beta1_refuses_bad_tags_and_bodies() {
    let server = weather_server("http://127.0.0.1:9");
    let ok =
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "u" } });
    let post = |path: &str, body: &Value| {
        let url = server.url(path);
        let body = body.clone();
        async move { send(Method::POST, &url, &[], Some(&body)).await }
    };
    let r = post("/v2beta1/interact/apip/nope/stream", &ok).await;
    assert_verror(&r, 400, "Invalid project version tag");
    let r = post(
        "/v2beta1/interact/apip/0123456789abcdef01234567/stream",
        &ok,
    )
    .await;
    assert_verror(&r, 400, "Invalid project version tag");
    let r = post("/v2beta1/interact/apip/production/stream", &ok).await;
    assert_verror(&r, 400, "Cannot resolve project version");
    let r = post("/v2beta1/interact/nobody/development/stream", &ok).await;
    assert_verror(&r, 400, "Cannot resolve project version");
    for bad in [
        json!({ "action": { "type": "launch" } }),
        json!({ "action": { "type": "launch" }, "session": { "userID": "u" } }),
        json!({ "action": { "type": "launch" }, "session": { "sessionID": 1, "userID": "u" } }),
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "u", "x": 1 } }),
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "u" }, "extra": 1 }),
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "u" }, "state": 3 }),
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "u" }, "state": null }),
        json!({ "action": null, "session": { "sessionID": "s", "userID": "u" } }),
    ] {
        let r = post("/v2beta1/interact/apip/development/stream", &bad).await;
        assert_eq!(r.status, 400, "{bad} → {}", r.text);
    }
}

#[tokio::test]
async fn the_first_text_arrives_before_the_effect_completes() {
    let (base, gate, hits) = gated_stub(json!({ "current": { "temp": "18" } })).await;
    let server = weather_server(&base);
    let url = server.url("/v2/project/apip/user/early/interact/stream");
    let mut sse = Sse::open(&url, json!({ "action": { "type": "launch" } })).await;
    // The stub holds its answer: the text before the API step comes first anyway.
    let first = sse.next().await.unwrap();
    assert_eq!(first.name, "trace");
    assert_eq!(first.id.as_deref(), Some("1"));
    assert_eq!(message(&first), Some("Looking it up…"), "{:?}", first);
    wait_hits(&hits, 1).await;
    gate.add_permits(1);
    let rest = sse.rest().await;
    let texts: Vec<&str> = rest.iter().filter_map(message).collect();
    assert_eq!(texts, ["It is 18 degrees in Paris."]);
    let last = rest.last().unwrap();
    assert_eq!(last.name, "end");
    // No `state` without `?state=true`; v2 traces are the traces themselves (default filter).
    assert!(rest.iter().all(|e| e.name != "state"));
    assert!(rest.iter().all(|e| e.data["type"] != "block"));
    let ids: Vec<u64> = std::iter::once(&first)
        .chain(rest.iter())
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    let u = User::new(&server, "early", "apiv");
    assert_eq!(u.state().await["variables"]["temp"], json!(18));
}

#[tokio::test]
async fn v2_merges_variables_and_returns_the_state_when_asked() {
    let (base, _) = api_stub(json!({ "current": { "temp": "5" } }), Default::default()).await;
    let server = weather_server(&base);
    let url =
        server.url("/v2/project/apip/user/vars/interact/stream?environment=development&state=true");
    let body = json!({ "action": { "type": "launch" }, "variables": { "mood": "fine" } });
    let events = Sse::open(&url, body).await.rest().await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[names.len() - 2..], ["state", "end"], "{names:?}");
    let state = &events[names.len() - 2].data["state"];
    assert_eq!(state["variables"]["mood"], "fine");
    assert_eq!(state["variables"]["temp"], json!(5));
    // Bad body or environment: an ordinary error answer, nothing streamed.
    let r = send(Method::POST, &url, &[], Some(&json!({ "session": {} }))).await;
    assert_eq!(r.status, 400);
    let bad_flag = server.url("/v2/project/apip/user/vars/interact/stream?state=yes");
    let r = send(Method::POST, &bad_flag, &[], Some(&json!({}))).await;
    assert_validation(&r, "state");
    let r = send(Method::POST, &url, &[], Some(&json!({ "variables": null }))).await;
    assert_eq!(r.status, 400);
    let bad_env = server.url("/v2/project/apip/user/vars/interact/stream?environment=nope");
    let r = send(Method::POST, &bad_env, &[], Some(&json!({}))).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn ai_text_streams_as_completion_events_when_asked() {
    let stub = LlmStub::start();
    stub.reply_when("wizard", "Greetings, Ada!");
    let text = json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": "(done)" } ] } ] } ], "nextId": null });
    let agent = json!({
        "project": { "_id": "aip", "name": "Wizard", "type": "chat", "platform": "webchat", "devVersion": "aiv", "apiPrivacy": "public" },
        "version": { "_id": "aiv", "projectID": "aip", "rootDiagramID": "D", "variables": ["name"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Wizard", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": { "name": "Ada" } } } },
        "programs": {
            "aiv": { "id": "aiv", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "ai" },
                "ai": { "type": "generative", "prompt": "Greet {name} as a wizard would.", "system": "You are a wizard.",
                    "mode": "memory_prompt", "model": "gpt-4o", "temperature": 0.5, "maxTokens": 60, "nextId": "after" },
                "after": text
            } }
        }
    })
    .to_string();
    let server = agent_server("wizard.vfr", agent, &stub, &[]);
    let launch = json!({ "action": { "type": "launch" } });
    // Public route, completion events on.
    let url = server.url("/v2/public/project/aip/user/w1/interact/stream?completion_events=true");
    let events = Sse::open(&url, launch.clone()).await.rest().await;
    let completion: Vec<&Value> = events
        .iter()
        .filter(|e| e.data["type"] == "completion")
        .map(|e| &e.data["payload"])
        .collect();
    assert_eq!(completion.len(), 3, "{events:?}");
    assert_eq!(completion[0]["state"], "start");
    assert_eq!(
        completion[1],
        &json!({ "state": "content", "content": "Greetings, Ada!" })
    );
    assert_eq!(completion[2], &json!({ "state": "end" }));
    let texts: Vec<&str> = events.iter().filter_map(message).collect();
    assert_eq!(texts, ["(done)"], "the AI text is not also sent whole");
    assert_eq!(events.last().unwrap().name, "end");
    // Without the option the AI text is an ordinary text trace.
    let url = server.url("/v2/public/project/aip/user/w2/interact/stream");
    let events = Sse::open(&url, launch).await.rest().await;
    assert!(events.iter().all(|e| e.data["type"] != "completion"));
    let texts: Vec<&str> = events.iter().filter_map(message).collect();
    assert_eq!(texts, ["Greetings, Ada!", "(done)"]);
}

#[tokio::test]
async fn a_client_that_leaves_mid_turn_leaves_the_session_whole_or_untouched() {
    let (base, gate, hits) = gated_stub(json!({ "v": "x" })).await;
    let server = Server::builder()
        .files(&[("two.vfr", two_calls_agent(&base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start();
    // A raw client, so that it can leave abruptly (a reset, as a closed browser tab would).
    let addr = server.url("").trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = json!({ "action": { "type": "launch" } }).to_string();
    let head = format!(
        "POST /v2/project/twop/user/leaver/interact/stream HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("\"one\"") {
        let n = sock.read(&mut buf).await.unwrap();
        assert!(n > 0, "{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    wait_hits(&hits, 1).await;
    sock.set_zero_linger().unwrap();
    drop(sock);
    // Let every call through from now on.
    gate.add_permits(100);
    // PATCH takes the session's lock: it answers once the dropped turn has ended one way or
    // the other, with the state as it was left.
    let u = User::new(&server, "leaver", "twov");
    let r = u.raw(Method::PATCH, "/variables", Some(&json!({}))).await;
    assert_eq!(r.status, 200);
    let state = r.json();
    let hits = hits.load(Ordering::SeqCst);
    if state["variables"].get("a").is_some() {
        // Committed whole: both calls made, the turn ran to its end.
        assert_eq!(state["variables"]["a"], "x", "{state}");
        assert_eq!(state["variables"]["b"], "x", "{state}");
        assert_eq!(hits, 2);
    } else {
        // Dropped whole: nothing stored, and the second call was never made.
        assert_eq!(state["variables"], json!({}), "{state}");
        assert_eq!(state["stack"], json!([]), "{state}");
        assert_eq!(hits, 1);
    }
    // The session is usable afterwards.
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["one", "two", "three"], "{t}");
}

#[test]
fn the_streaming_routes_document_their_statuses() {
    for (path, statuses) in [
        (
            "/v2beta1/interact/{projectID}/{tag}/stream",
            &[200, 400, 401, 409, 413][..],
        ),
        (
            "/v2/project/{projectID}/user/{userID}/interact/stream",
            &[200, 400, 401, 404, 409],
        ),
        (
            "/v2/public/project/{projectID}/user/{userID}/interact/stream",
            &[200, 400, 401, 403, 404, 409],
        ),
    ] {
        let documented = documented_statuses(path);
        for s in statuses {
            assert!(documented.contains(s), "{path}: {s} not in {documented:?}");
        }
    }
}

#[tokio::test]
async fn an_idle_stream_gets_keep_alive_comments() {
    let (base, gate, _) = gated_stub(json!({ "current": { "temp": "9" } })).await;
    let server = Server::builder()
        .files(&[("weather.vfr", weather_agent(&base))])
        .args(&[
            "--allow-outbound",
            "127.0.0.1/32",
            "--sse-keep-alive-ms",
            "20",
        ])
        .start();
    let url = server.url("/v2beta1/interact/apip/development/stream");
    let body =
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "k", "userID": "u" } });
    let mut sse = Sse::open(&url, body).await;
    // While the stub holds the API call, the stream stays open with comments only.
    sse.read_until(": keep-alive\n\n").await;
    gate.add_permits(1);
    let events = sse.rest().await;
    assert_eq!(events.last().unwrap().name, "end");
    let texts: Vec<&str> = events
        .iter()
        .filter(|e| e.data["trace"]["type"] == "text")
        .filter_map(|e| e.data["trace"]["payload"]["message"].as_str())
        .collect();
    assert_eq!(texts, ["Looking it up…", "It is 9 degrees in Paris."]);
}

#[tokio::test]
async fn with_keys_the_streams_need_a_key_of_the_project() {
    let server = Server::builder().test_keys_file().start();
    let beta = server.url(&format!(
        "/v2beta1/interact/{PAYMENT_PROJECT}/{PAYMENT_VERSION}/stream"
    ));
    let v2 = server.url(&format!(
        "/v2/project/{PAYMENT_PROJECT}/user/k/interact/stream"
    ));
    let beta_body =
        json!({ "action": { "type": "launch" }, "session": { "sessionID": "s", "userID": "k" } });
    let v2_body = json!({ "action": { "type": "launch" } });
    for (url, body) in [(&beta, &beta_body), (&v2, &v2_body)] {
        let r = send(Method::POST, url, &[], Some(body)).await;
        assert_error_object(&r, 401, "Auth Key Required");
        let r = send(
            Method::POST,
            url,
            &[("authorization", HANDOFF_KEY)],
            Some(body),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
        let r = send(Method::POST, url, &[("authorization", PAY_KEY)], Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("event: end\n"), "{}", r.text);
    }
}

#[tokio::test]
async fn v2beta1_leaves_out_the_traces_made_outside_the_runtime() {
    // §1.6: the dialog manager's `entity-filling` and its prompt, and the NLU's intent debug
    // trace, are made outside the runtime: the classic route returns them, the beta stream not.
    let (text, _) = crate::api_step::corpus_file("voiceflow__nlu-testing-example__NLU_test_v1.vf");
    let server = Server::builder().files(&[("nlu.vf", text)]).start();
    let url = server.url("/v2beta1/interact/6302919c28c872000870fe2e/development/stream");
    let beta = |action: Value| json!({ "action": action, "session": { "sessionID": "s", "userID": "beta" } });
    Sse::open(&url, beta(json!({ "type": "launch" })))
        .await
        .rest()
        .await;
    let order = json!({ "type": "intent", "payload": { "intent": { "name": "order_pizza" }, "entities": [] } });
    let events = Sse::open(&url, beta(order.clone())).await.rest().await;
    let types: Vec<&str> = events
        .iter()
        .filter(|e| e.name == "trace")
        .map(|e| e.data["trace"]["type"].as_str().unwrap_or(""))
        .collect();
    assert!(!types.contains(&"entity-filling"), "{types:?}");
    assert!(!types.contains(&"text"), "{types:?}");
    assert!(!types.contains(&"debug"), "{types:?}");
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[names.len() - 2..], ["state", "end"]);
    // The same turn on the classic route (another user) has them.
    let u = User::new(&server, "classic", "6302919c28c872000870fe2f");
    u.act(json!({ "type": "launch" })).await;
    let t = u.act(order).await;
    assert_eq!(messages(&t), ["What type?"]);
    assert!(
        crate::support::traces::types(&t).contains(&"entity-filling".to_string()),
        "{t}"
    );
}
