//! Successful answers: JSON bodies, and the replay of an answer stored under an
//! `Idempotency-Key` (a normal 200 with `Idempotent-Replayed: true`).

use super::errors::ApiError;
use actix_web::body::BoxBody;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

/// A 200 answer of a route.
#[derive(Debug)]
pub enum Answer {
    /// A JSON body (empty: no body).
    Json(Vec<u8>),
    /// The stored body of a request already processed under the same `Idempotency-Key`.
    Replayed(Vec<u8>),
}

impl Answer {
    /// A JSON answer from anything serialisable.
    pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<Answer, ApiError> {
        json_bytes(v).map(Answer::Json)
    }
}

/// A JSON body from anything serialisable.
pub fn json_bytes<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(v)
        .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))
}

fn ok(body: Vec<u8>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if body.is_empty() {
        res.finish()
    } else {
        res.content_type("application/json; charset=utf-8")
            .body(body)
    }
}

impl Responder for Answer {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        match self {
            Answer::Json(body) => ok(body),
            Answer::Replayed(body) => {
                tracing::debug!("idempotent replay");
                let mut res = ok(body);
                res.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
                    actix_web::http::header::HeaderValue::from_static("true"),
                );
                res
            }
        }
    }
}
