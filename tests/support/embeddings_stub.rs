//! A stand-in for an OpenAI-compatible embeddings API on 127.0.0.1 (port 0), for the tests of
//! the NLU's optional provider: `POST /v1/embeddings` `{model, input}` →
//! `{data: [{embedding, index}]}`. Its vectors are deterministic: each word, after a small table
//! of synonyms maps it to a concept ("purchase" → "buy"), is hashed into one of 64 dimensions, so
//! texts sharing words or concepts are close — and texts sharing only synonyms, which the local
//! classifier cannot know about, are close too. It can be told to fail (500) or to be slow, and
//! records the `Authorization` headers it saw.

use super::stub_server::StubServer;
use actix_web::{web, App, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DIMS: usize = 64;

/// How the stub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Ok = 0,
    /// HTTP 500.
    Fail = 1,
    /// Answers after 3 s.
    Slow = 2,
    /// 200 with a body that is not the OpenAI shape.
    Garbage = 3,
}

#[derive(Default)]
struct Shared {
    mode: AtomicU8,
    requests: AtomicUsize,
    auth: Mutex<Vec<Option<String>>>,
}

/// A running stub; stopped on drop.
pub struct EmbeddingsStub {
    pub base: String,
    shared: Arc<Shared>,
    _server: StubServer,
}

/// Word → concept: what a real embeddings model knows and a bag of words does not.
const CONCEPTS: [(&str, &str); 8] = [
    ("purchase", "buy"),
    ("acquire", "buy"),
    ("nourishment", "food"),
    ("meal", "food"),
    ("abort", "cancel"),
    ("terminate", "cancel"),
    ("scrap", "cancel"),
    ("grub", "food"),
];

/// The stub's vector of `text` (not normalised: the server normalises).
pub fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; DIMS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        let concept = CONCEPTS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, c)| *c)
            .unwrap_or(word.as_str());
        // FNV-1a.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in concept.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        v[(h % DIMS as u64) as usize] += 1.0;
    }
    v
}

async fn embeddings(
    req: HttpRequest,
    body: web::Json<Value>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    shared.auth.lock().unwrap().push(auth);
    match shared.mode.load(Ordering::SeqCst) {
        1 => return HttpResponse::InternalServerError().body("upstream exploded"),
        2 => actix_web::rt::time::sleep(Duration::from_secs(3)).await,
        3 => return HttpResponse::Ok().json(json!({ "object": "list", "data": "nope" })),
        _ => {}
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => return HttpResponse::BadRequest().body("input must be a string or an array"),
    };
    // Reversed, so the server has to use `index`.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": embed(t) }))
        .collect();
    HttpResponse::Ok().json(json!({ "object": "list", "model": body["model"], "data": data }))
}

impl EmbeddingsStub {
    pub fn start() -> EmbeddingsStub {
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = StubServer::start(1, move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/embeddings", web::post().to(embeddings))
        });
        EmbeddingsStub {
            base: format!("{}/v1", server.origin),
            shared,
            _server: server,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The `Authorization` header of every request so far.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.shared.auth.lock().unwrap().clone()
    }
}

/// A base URL where nothing listens (a port just freed).
pub fn closed_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/v1")
}
