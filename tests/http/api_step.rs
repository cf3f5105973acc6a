//! The API step over HTTP: the turn stops for its call, the server performs it through the SSRF
//! guard (to a local test server on 127.0.0.1, allowed with `--allow-outbound`), and the turn
//! goes on with the answer mapped into variables — all within one interact request.

use crate::support::server::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub(crate) use crate::support::gated::{answer_json, read_request};

/// A tiny HTTP server on 127.0.0.1 answering every request with `body` after `delay`; records
/// the requests it saw (head and body).
pub(crate) async fn api_stub(
    body: Value,
    delay: std::time::Duration,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            let body = body.to_string();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut sock).await else {
                    return;
                };
                log.lock().unwrap().push(request);
                tokio::time::sleep(delay).await;
                answer_json(&mut sock, &body).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// A runtime export whose launch sets `city`, says so, calls `{base}/weather`, and reports.
pub(crate) fn weather_agent(base: &str) -> String {
    let text = |msg: &str, next: Value| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": next });
    json!({
        "project": { "_id": "apip", "name": "Weather", "type": "chat", "platform": "webchat", "devVersion": "apiv" },
        "version": { "_id": "apiv", "projectID": "apip", "rootDiagramID": "D", "variables": ["city", "temp"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Weather", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            "apiv": { "id": "apiv", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "set" },
                "set": { "type": "setV2", "sets": [ { "variable": "city", "expression": "'Paris'", "type": "value" } ], "nextId": "look" },
                "look": text("Looking it up…", json!("api")),
                "api": { "type": "integrations", "selected_integration": "Custom API",
                    "action_data": { "url": format!("{base}/weather"), "method": "POST",
                        "params": [ { "key": "city", "val": "{city}" } ],
                        "headers": [ { "key": "X-City", "val": "{city}" } ],
                        "content": "{\"city\": \"{city}\"}", "bodyInputType": "rawInput",
                        "mapping": [ { "path": "response.current.temp", "var": "temp" } ] },
                    "success_id": "ok", "fail_id": "err" },
                "ok": text("It is {temp} degrees in {city}.", Value::Null),
                "err": text("The weather service cannot be reached.", Value::Null)
            } }
        }
    })
    .to_string()
}

#[tokio::test]
async fn an_api_step_calls_out_and_the_turn_goes_on() {
    let (base, seen) = api_stub(json!({ "current": { "temp": "21" } }), Default::default()).await;
    let server = Server::builder()
        .files(&[("weather.vfr", weather_agent(&base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start();
    let u = User::new(&server, "api-user", "apiv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(
        messages(&t),
        ["Looking it up…", "It is 21 degrees in Paris."],
        "{t}"
    );
    assert_eq!(u.state().await["variables"]["temp"], json!(21));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert!(r.starts_with("POST /weather?city=Paris HTTP/1.1"), "{r}");
    assert!(r.to_ascii_lowercase().contains("x-city: paris"), "{r}");
    assert!(
        r.contains("Voiceflow/1.0.0 (+https://voiceflow.com)"),
        "{r}"
    );
    assert!(r.ends_with("{\"city\": \"Paris\"}"), "{r}");
}

#[tokio::test]
async fn without_the_allow_list_loopback_is_refused_and_the_step_fails() {
    let (base, seen) = api_stub(json!({ "current": { "temp": 21 } }), Default::default()).await;
    let server = Server::builder()
        .files(&[("weather.vfr", weather_agent(&base))])
        .start();
    let u = User::new(&server, "api-refused", "apiv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(
        messages(&t),
        ["Looking it up…", "The weather service cannot be reached."],
        "{t}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "a refused address was contacted"
    );
}

/// A corpus export (`../shared/corpus`, read in place) and its version id.
pub(crate) fn corpus_file(file: &str) -> (String, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let version = doc["version"]["_id"].as_str().unwrap().to_string();
    (text, version)
}

/// A corpus export with its API's host pointed at `base`.
pub(crate) fn corpus_agent(file: &str, host: &str, base: &str) -> (String, String) {
    let (text, version) = corpus_file(file);
    (text.replace(host, base), version)
}

#[tokio::test]
async fn a_corpus_agent_calls_its_api_at_launch_and_its_code_uses_the_answer() {
    // The MCP agent's start block: code, API step (GET /api/servers, `servers` → a variable),
    // code (`MCP_Available_Tools = JSON.stringify(MCP_Available_Tools)`), then its AI agent.
    let (base, seen) = api_stub(
        json!({ "servers": [ { "name": "weather" } ] }),
        Default::default(),
    )
    .await;
    let (text, version) = corpus_agent(
        "voiceflow-gallagan__voiceflow-mcp-server-client__MCP_Agent_Apr_1_2025.vf",
        "https://mcp-client.proxy-voiceflow.com",
        &base,
    );
    let server = Server::builder()
        .files(&[("mcp.vf", text)])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start();
    let u = User::new(&server, "mcp-user", &version);
    u.act(json!({ "type": "launch" })).await;
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with("GET /api/servers HTTP/1.1"),
        "{}",
        requests[0]
    );
    assert_eq!(
        u.state().await["variables"]["MCP_Available_Tools"],
        json!(r#"[{"name":"weather"}]"#)
    );
}
