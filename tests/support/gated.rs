//! A gated stub API (answers each request only once the test lets it through) and an agent
//! that calls it twice: turns held in flight for as long as a test needs (streaming, socket,
//! shutdown tests).

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Reads one HTTP request from `sock`: the head, then as much body as Content-Length says
/// (`None`: the connection failed first).
pub async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = vec![0u8; 65536];
    let mut got = 0;
    loop {
        let n = sock.read(&mut buf[got..]).await.ok()?;
        if n == 0 {
            break;
        }
        got += n;
        let text = String::from_utf8_lossy(&buf[..got]).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if got >= end + 4 + len {
                break;
            }
        }
    }
    Some(String::from_utf8_lossy(&buf[..got]).to_string())
}

/// Answers `body` as a 200 JSON response and closes.
pub async fn answer_json(sock: &mut tokio::net::TcpStream, body: &str) {
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        body.len(),
        body
    );
    let _ = sock.write_all(answer.as_bytes()).await;
}

/// A stub HTTP server on 127.0.0.1 that answers `body` to every request, each only once the
/// test has added a permit; counts the requests it received.
pub async fn gated_stub(body: Value) -> (String, Arc<Semaphore>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let hits = Arc::new(AtomicUsize::new(0));
    let (g, h) = (gate.clone(), hits.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (gate, hits, body) = (g.clone(), h.clone(), body.to_string());
            tokio::spawn(async move {
                if read_request(&mut sock).await.is_none() {
                    return;
                }
                hits.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.unwrap().forget();
                answer_json(&mut sock, &body).await;
            });
        }
    });
    (format!("http://{addr}"), gate, hits)
}

/// Waits until the stub has received `n` requests (the server sends the traces before it
/// performs the effect, so the request may still be on its way).
pub async fn wait_hits(hits: &AtomicUsize, n: usize) {
    while hits.load(Ordering::SeqCst) < n {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// An agent saying `one`, calling `{base}/a`, saying `two`, calling `{base}/b`, saying `three`.
pub fn two_calls_agent(base: &str) -> String {
    let text = |msg: &str, next: Value| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": next });
    let call = |path: &str, var: &str, next: &str| {
        json!({ "type": "integrations", "selected_integration": "Custom API",
        "action_data": { "url": format!("{base}/{path}"), "method": "GET", "params": [], "headers": [],
            "mapping": [ { "path": "response.v", "var": var } ] },
        "success_id": next, "fail_id": next })
    };
    json!({
        "project": { "_id": "twop", "name": "Two", "type": "chat", "platform": "webchat", "devVersion": "twov" },
        "version": { "_id": "twov", "projectID": "twop", "rootDiagramID": "D", "variables": ["a", "b"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Two", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            "twov": { "id": "twov", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "one" },
                "one": text("one", json!("a")),
                "a": call("a", "a", "two"),
                "two": text("two", json!("b")),
                "b": call("b", "b", "three"),
                "three": text("three", Value::Null)
            } }
        }
    })
    .to_string()
}

/// A `launch` of `user` on the agent of [`two_calls_agent`] at the server `base`.
pub async fn launch_two(base: String, user: &str) -> crate::support::server::Resp {
    crate::support::server::send(
        reqwest::Method::POST,
        &format!("{base}/state/user/{user}/interact"),
        &[("versionID", "twov")],
        Some(&json!({"action": {"type": "launch"}})),
    )
    .await
}
