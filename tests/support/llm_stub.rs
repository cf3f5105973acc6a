//! A deterministic stand-in for an OpenAI-compatible API on 127.0.0.1 (port 0), for the tests
//! of the AI provider: `POST /v1/chat/completions` and `POST /v1/embeddings`.
//!
//! * the reply is chosen by rules (`reply_when`, `tool_call_when`) matched, in the order set,
//!   against the last user message, then the system prompt; a conversation that ends with a
//!   tool result is answered `stub: tool said <result>` (text rules may match that result);
//!   otherwise `stub: <last user message>`;
//! * usage tokens are word counts (every message's content for the prompt, the reply for the
//!   completion); `stream: true` answers one SSE chunk per word, then `[DONE]`;
//! * embeddings are the word-hash vectors of `embeddings_stub::embed`;
//! * faults: `fail_next(n, status)`, `delay(ms)`, `malformed_next(n)`;
//! * every request's body and `Authorization` header is recorded (`requests()`).

use super::embeddings_stub::embed;
use super::stub_server::StubServer;
use actix_web::{web, App, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a rule answers.
#[derive(Debug, Clone)]
enum Reply {
    Text(String),
    Tool { name: String, arguments: String },
}

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<(String, Reply)>>,
    /// (requests left to fail, status).
    fail: Mutex<(usize, u16)>,
    malformed: Mutex<usize>,
    delay_ms: Mutex<u64>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running stub; stopped on drop.
pub struct LlmStub {
    /// `http://127.0.0.1:PORT/v1`.
    pub base: String,
    shared: Arc<Shared>,
    _server: StubServer,
}

fn words(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

fn text_of(m: &Value) -> &str {
    m["content"].as_str().unwrap_or("")
}

/// The reply to a chat `body`: a rule's, or the default.
fn choose(shared: &Shared, body: &Value) -> Reply {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(text_of)
        .unwrap_or("");
    let system = messages
        .first()
        .filter(|m| m["role"] == "system")
        .map(text_of)
        .unwrap_or("");
    let rules = shared.rules.lock().unwrap().clone();
    if let Some(tool) = messages.last().filter(|m| m["role"] == "tool") {
        let result = text_of(tool);
        return rules
            .iter()
            .find(|(needle, r)| matches!(r, Reply::Text(_)) && result.contains(needle.as_str()))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Reply::Text(format!("stub: tool said {result}")));
    }
    for text in [last_user, system] {
        if let Some((_, r)) = rules.iter().find(|(n, _)| text.contains(n.as_str())) {
            return r.clone();
        }
    }
    Reply::Text(format!("stub: {last_user}"))
}

fn record(shared: &Shared, req: &HttpRequest, body: &Value) {
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    shared.requests.lock().unwrap().push(Recorded {
        path: req.path().to_string(),
        body: body.clone(),
        authorization,
    });
}

/// The injected fault for this request, if any (after the delay). A 401 echoes the
/// `Authorization` header received, as real providers echo (part of) a rejected key.
async fn fault(shared: &Shared, req: &HttpRequest) -> Option<HttpResponse> {
    let delay = *shared.delay_ms.lock().unwrap();
    if delay > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
    }
    {
        let mut fail = shared.fail.lock().unwrap();
        if fail.0 > 0 {
            fail.0 -= 1;
            let status = actix_web::http::StatusCode::from_u16(fail.1).unwrap();
            let message = match req.headers().get("authorization") {
                Some(auth) if fail.1 == 401 => {
                    format!(
                        "Incorrect API key provided: {}",
                        auth.to_str().unwrap_or("")
                    )
                }
                _ => format!("stub failure {}", fail.1),
            };
            return Some(
                HttpResponse::build(status)
                    .json(json!({ "error": { "message": message, "type": "stub" } })),
            );
        }
    }
    let mut malformed = shared.malformed.lock().unwrap();
    if *malformed > 0 {
        *malformed -= 1;
        return Some(
            HttpResponse::Ok()
                .json(json!({ "object": "chat.completion", "choices": [ { "index": 0 } ] })),
        );
    }
    None
}

async fn chat(req: HttpRequest, body: web::Json<Value>, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, &req, &body);
    if let Some(answer) = fault(&shared, &req).await {
        return answer;
    }
    let reply = choose(&shared, &body);
    let prompt_tokens: u32 = body["messages"]
        .as_array()
        .map(|m| m.iter().map(|m| words(text_of(m))).sum())
        .unwrap_or(0);
    let model = body["model"].clone();
    let (content, calls, completion_tokens) = match &reply {
        Reply::Text(t) => (json!(t), None, words(t)),
        Reply::Tool { name, arguments } => (
            Value::Null,
            Some(
                json!([{ "id": "call_1", "type": "function", "function": { "name": name, "arguments": arguments } }]),
            ),
            words(arguments),
        ),
    };
    let usage = json!({ "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens });
    if body["stream"] != json!(true) {
        let mut message = json!({ "role": "assistant", "content": content });
        if let Some(calls) = calls {
            message["tool_calls"] = calls;
        }
        return HttpResponse::Ok().json(json!({ "id": "chatcmpl-stub", "object": "chat.completion",
            "model": model, "choices": [ { "index": 0, "message": message, "finish_reason": "stop" } ],
            "usage": usage }));
    }
    let chunk = |delta: Value| {
        let c = json!({ "id": "chatcmpl-stub", "object": "chat.completion.chunk", "model": model,
            "choices": [ { "index": 0, "delta": delta } ] });
        format!("data: {c}\n\n")
    };
    let mut sse = chunk(json!({ "role": "assistant" }));
    match &reply {
        Reply::Text(t) => {
            for word in t.split_inclusive(' ') {
                sse.push_str(&chunk(json!({ "content": word })));
            }
        }
        Reply::Tool { name, arguments } => {
            sse.push_str(&chunk(
                json!({ "tool_calls": [ { "index": 0, "id": "call_1", "type": "function",
                "function": { "name": name, "arguments": "" } } ] }),
            ));
            let (a, b) = arguments.split_at(arguments.len() / 2);
            for part in [a, b] {
                sse.push_str(&chunk(
                    json!({ "tool_calls": [ { "index": 0, "function": { "arguments": part } } ] }),
                ));
            }
        }
    }
    if body["stream_options"]["include_usage"] == json!(true) {
        let c = json!({ "id": "chatcmpl-stub", "object": "chat.completion.chunk", "model": model,
            "choices": [], "usage": usage });
        sse.push_str(&format!("data: {c}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .body(sse)
}

async fn embeddings(
    req: HttpRequest,
    body: web::Json<Value>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    record(&shared, &req, &body);
    if let Some(answer) = fault(&shared, &req).await {
        return answer;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            return HttpResponse::BadRequest()
                .json(json!({ "error": { "message": "input must be text" } }))
        }
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": embed(t) }))
        .collect();
    let tokens: u32 = inputs.iter().map(|t| words(t)).sum();
    HttpResponse::Ok().json(
        json!({ "object": "list", "model": body["model"], "data": data,
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens } }),
    )
}

impl LlmStub {
    pub fn start() -> LlmStub {
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = StubServer::start(2, move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(4 * 1024 * 1024))
                .route("/v1/chat/completions", web::post().to(chat))
                .route("/v1/embeddings", web::post().to(embeddings))
        });
        LlmStub {
            base: format!("{}/v1", server.origin),
            shared,
            _server: server,
        }
    }

    /// Answers `reply` when the last user message (or else the system prompt) contains `needle`.
    pub fn reply_when(&self, needle: &str, reply: &str) {
        let rule = (needle.to_string(), Reply::Text(reply.to_string()));
        self.shared.rules.lock().unwrap().push(rule);
    }

    /// Answers a call of tool `name` with `arguments` (JSON text) on the same condition.
    pub fn tool_call_when(&self, needle: &str, name: &str, arguments: &str) {
        let reply = Reply::Tool {
            name: name.to_string(),
            arguments: arguments.to_string(),
        };
        self.shared
            .rules
            .lock()
            .unwrap()
            .push((needle.to_string(), reply));
    }

    /// The next `n` requests answer HTTP `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        *self.shared.fail.lock().unwrap() = (n, status);
    }

    /// The next `n` requests answer 200 with a completion without `message`.
    pub fn malformed_next(&self, n: usize) {
        *self.shared.malformed.lock().unwrap() = n;
    }

    /// Every answer waits `ms` first (0: none).
    pub fn delay(&self, ms: u64) {
        *self.shared.delay_ms.lock().unwrap() = ms;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}
