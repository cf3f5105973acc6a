//! The three error body shapes of the reference (`spec/dm-api.md` §1.8):
//!
//! * **ErrorObject** — `{"code":401,"status":"Unauthorized","dateTime":"…","timestamp":…,"data":"Auth Key Required"}`
//! * **Validation** — `{"errors":{"<field>":{"message":"…"}}}` (always 400)
//! * **VoiceflowError** — `{"name":"verror","message":"…","requestID":"…"}`

use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

/// An error answered to the client, in one of the reference's three shapes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// ErrorObject shape.
    #[error("{message}")]
    Object { status: StatusCode, message: String },
    /// VoiceflowError shape.
    #[error("{message}")]
    Verror { status: StatusCode, message: String },
    /// Validation shape, 400; one entry per failing field.
    #[error("invalid request: {}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join(", "))]
    Validation(Vec<(String, String)>),
    /// Plain-text body (the reference's `Forbidden: Invalid Origin`, `response timeout`).
    #[error("{message}")]
    Text { status: StatusCode, message: String },
}

impl ApiError {
    pub fn object(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Object {
            status,
            message: message.into(),
        }
    }
    pub fn verror(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Verror {
            status,
            message: message.into(),
        }
    }
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![(field.into(), message.into())])
    }
    pub fn bad_request_verror(message: impl Into<String>) -> ApiError {
        ApiError::verror(StatusCode::BAD_REQUEST, message)
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::object(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    /// `413` for a body over the limit (body-parser's message).
    pub fn too_large() -> ApiError {
        ApiError::verror(StatusCode::PAYLOAD_TOO_LARGE, "request entity too large")
    }

    /// A streamed turn whose client went away before an effect (nobody sees it: the turn is
    /// dropped without commit, `docs/streaming.md`). 499, nginx's "client closed request".
    pub fn cancelled() -> ApiError {
        let status = StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::object(status, "client closed the stream; the turn was dropped")
    }

    /// The message, for logs.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match e {
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::LockTimeout { .. } | StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            StoreError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::object(status, e.to_string())
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (JavaScript `Date.prototype.toISOString`) for epoch milliseconds.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

impl ApiError {
    /// The JSON body of this error; `request_id` is the VoiceflowError's `requestID`.
    pub fn body(&self, request_id: Option<&str>) -> Value {
        match self {
            ApiError::Object { status, message } => {
                let ms = now_ms();
                json!({
                    "code": status.as_u16(),
                    "status": reason(*status),
                    "dateTime": iso8601(ms),
                    "timestamp": ms,
                    "data": message,
                })
            }
            ApiError::Verror { message, .. } => {
                let mut o = Map::new();
                o.insert("name".into(), "verror".into());
                o.insert("message".into(), message.clone().into());
                if let Some(id) = request_id {
                    o.insert("requestID".into(), id.into());
                }
                Value::Object(o)
            }
            ApiError::Validation(fields) => {
                let mut errors = Map::new();
                for (field, message) in fields {
                    if !errors.contains_key(field) {
                        errors.insert(field.clone(), json!({ "message": message }));
                    }
                }
                json!({ "errors": errors })
            }
            ApiError::Text { message, .. } => Value::String(message.clone()),
        }
    }

    /// The response for this error in a request with id `request_id` (the request middleware
    /// renders every `ApiError` this way, with its request's id).
    pub fn render(&self, request_id: Option<&str>) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Text { message, .. } => HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(message.clone()),
            _ => HttpResponse::build(status).json(self.body(request_id)),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Object { status, .. }
            | ApiError::Verror { status, .. }
            | ApiError::Text { status, .. } => *status,
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Without its request (the middleware renders it again with the request id).
    fn error_response(&self) -> HttpResponse {
        self.render(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_658_502_175_882), "2022-07-22T15:02:55.882Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn shapes() {
        let e = ApiError::object(StatusCode::UNAUTHORIZED, "Auth Key Required");
        let b = e.body(None);
        assert_eq!(b["code"], 401);
        assert_eq!(b["status"], "Unauthorized");
        assert_eq!(b["data"], "Auth Key Required");
        assert!(b["dateTime"].as_str().is_some_and(|s| s.ends_with('Z')));
        let v = ApiError::validation("config.tts", "must be boolean").body(None);
        assert_eq!(
            v,
            json!({"errors": {"config.tts": {"message": "must be boolean"}}})
        );
        let vf = ApiError::bad_request_verror("Cannot resolve version alias").body(Some("r1"));
        assert_eq!(
            vf,
            json!({"name": "verror", "message": "Cannot resolve version alias", "requestID": "r1"})
        );
    }
}
