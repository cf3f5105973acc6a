//! Request limits: the JSON body extractor (1 MB by default → 413; malformed JSON → 400), the
//! per-session lock wait, and query parameters of the interact routes (`spec/dm-api.md` §1.9).

use super::errors::ApiError;
use super::state::AppState;
use actix_web::{dev, web, FromRequest, HttpRequest};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// After a body over the limit, read (and drop) at most this much more so the client can read
/// the 413 instead of seeing a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Server limits (defaults: [`crate::config::defaults`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_bytes: usize,
    pub lock_timeout: Duration,
    pub request_timeout: Duration,
    /// How long a turn may run on the HTTP worker before it moves to the blocking pool (zero:
    /// every turn runs there); see `super::turn`.
    pub inline_turn: Duration,
    /// Silence after which a Server-Sent Events stream gets a keep-alive comment
    /// (`docs/streaming.md`).
    pub keep_alive: Duration,
}

/// A request body parsed as JSON: empty body → `{}` (like express' `json()`), top-level
/// primitives refused (strict mode), over the limit → 413.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.limits.body_bytes)
            .unwrap_or(crate::config::defaults::BODY_LIMIT);
        let ctx = super::context::RequestCtx::of(req);
        let payload = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let payload = payload
                .await
                .map_err(|e| ApiError::bad_request_verror(e.to_string()))?;
            let bytes = read_limited(payload, limit).await?;
            ctx.mix_body(&bytes);
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// The body, up to `limit` bytes (over it: 413, after draining a little more so the client
/// reads the answer).
pub(crate) async fn read_limited(payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    use actix_web::body::{BodyStream, MessageBody};
    let mut stream = Box::pin(BodyStream::new(payload));
    let mut body: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let bytes = chunk
            .map_err(|e| ApiError::bad_request_verror(format!("cannot read request body: {e}")))?;
        seen = seen.saturating_add(bytes.len());
        if seen > limit {
            if seen > DRAIN_LIMIT {
                return Err(ApiError::too_large());
            }
            body = Vec::new();
            continue;
        }
        body.extend_from_slice(&bytes);
    }
    if seen > limit {
        return Err(ApiError::too_large());
    }
    Ok(body)
}

/// Parses a JSON body. Like body-parser, an empty body is `{}`, only JSON's whitespace (space,
/// tab, LF, CR) may precede the value, and the value must be an object or an array; a body of
/// whitespace only is refused (body-parser's strict mode finds no first character), and so is
/// any other byte (a form feed, say).
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    let Some(start) = start else {
        return Err(ApiError::bad_request_verror(
            "Unexpected end of JSON input".to_string(),
        ));
    };
    if !matches!(bytes[start], b'{' | b'[') {
        let shown =
            String::from_utf8_lossy(&bytes[start..(start + 1).min(bytes.len())]).to_string();
        return Err(ApiError::bad_request_verror(format!(
            "Unexpected token {shown} in JSON at position {start}"
        )));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request_verror(format!("Invalid JSON body: {e}")))
}

use crate::engine::LogLevel;

/// Query parameters of the interact routes.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractQuery {
    pub verbose: bool,
    pub logs: LogLevel,
    pub locale: Option<String>,
}

/// express-validator's non-strict `toBoolean`: everything but `""`, `"0"` and `"false"` is true.
fn to_boolean(s: &str) -> bool {
    !(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false"))
}

/// Parses and validates `verbose`, `logs` and `locale`; unknown parameters are ignored.
pub fn interact_query(req: &HttpRequest) -> Result<InteractQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::validation("query", e.to_string()))?
        .into_inner();
    let mut q = InteractQuery {
        verbose: false,
        logs: LogLevel::Off,
        locale: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "verbose" => q.verbose = to_boolean(&v),
            "logs" => {
                q.logs = LogLevel::parse(&v)
                    .ok_or_else(|| ApiError::validation("logs", "Invalid value"))?
            }
            "locale" => q.locale = Some(v),
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn json_bodies() {
        assert_eq!(parse_json(b"").ok(), Some(serde_json::json!({})));
        // Schemathesis found a whitespace-only body accepted as `{}`; body-parser refuses it.
        assert!(parse_json(b"  \n").is_err());
        assert!(parse_json(b"\n").is_err());
        assert_eq!(
            parse_json(b"{\"a\":1}").ok(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(parse_json(b"[1]").ok(), Some(serde_json::json!([1])));
        assert!(parse_json(b"{\"a\":").is_err());
        assert!(parse_json(b"\"str\"").is_err());
        assert!(parse_json(b"12").is_err());
        assert!(parse_json(b"\x0c").is_err());
        assert!(parse_json(b" \t\r\n\x0b{}").is_err());
    }

    #[test]
    fn query() {
        let q =
            |s: &str| interact_query(&TestRequest::with_uri(&format!("/x?{s}")).to_http_request());
        assert_eq!(q("verbose=true").map(|q| q.verbose).ok(), Some(true));
        assert_eq!(q("verbose=1").map(|q| q.verbose).ok(), Some(true));
        assert_eq!(q("verbose=false").map(|q| q.verbose).ok(), Some(false));
        assert_eq!(q("verbose=0").map(|q| q.verbose).ok(), Some(false));
        assert_eq!(q("verbose").map(|q| q.verbose).ok(), Some(false));
        assert_eq!(q("logs=off").map(|q| q.logs).ok(), Some(LogLevel::Off));
        assert_eq!(q("logs=true").map(|q| q.logs).ok(), Some(LogLevel::Info));
        assert_eq!(
            q("logs=verbose").map(|q| q.logs).ok(),
            Some(LogLevel::Verbose)
        );
        assert!(q("logs=loud").is_err());
        assert_eq!(
            q("locale=fr-FR&other=1").map(|q| q.locale).ok(),
            Some(Some("fr-FR".to_string()))
        );
    }
}
