//! What the management APIs share (`/api/custom-actions`, later `/api/library`;
//! `docs/custom-actions.md` § Management API): the admin key check, the envelope
//! (`{"status":"success","data":…}` / `{"status":"error","error":{"code","message","field"?}}`),
//! the body, and the registry store's errors as answers.

use super::errors::ApiError;
use super::limits::JsonBody;
use super::state::AppState;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use flowdm_store::RegistryError;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

/// An error of a management API, in its envelope.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ManageError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ManageError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ManageError {
        ManageError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 400 about one field of the body.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ManageError {
        ManageError {
            field: Some(field.into()),
            ..ManageError::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    pub fn not_found(what: &str, id: &str) -> ManageError {
        ManageError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with id {id:?}"),
        )
    }
}

impl ResponseError for ManageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(f) = &self.field {
            error["field"] = Value::String(f.clone());
        }
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), error = %self.message, "management API request failed");
        }
        HttpResponse::build(self.status).json(json!({ "status": "error", "error": error }))
    }
}

impl From<RegistryError> for ManageError {
    fn from(e: RegistryError) -> ManageError {
        let message = e.to_string();
        match e {
            RegistryError::Unavailable(_) => {
                ManageError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            RegistryError::NameTaken { .. } => ManageError {
                field: Some("name".into()),
                ..ManageError::new(StatusCode::CONFLICT, "duplicate_name", message)
            },
            RegistryError::IdTaken(_) => ManageError {
                field: Some("id".into()),
                ..ManageError::new(StatusCode::CONFLICT, "duplicate_id", message)
            },
            RegistryError::Stale { .. } => {
                ManageError::new(StatusCode::CONFLICT, "conflict", message)
            }
            RegistryError::NotFound(_) => {
                ManageError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            RegistryError::Invalid(_) => ManageError::invalid("body", message),
        }
    }
}

/// An error of the DM API's helpers (body reading, sessions) in the envelope.
impl From<ApiError> for ManageError {
    fn from(e: ApiError) -> ManageError {
        let status = e.status_code();
        let code = match status.as_u16() {
            413 => "payload_too_large",
            400 => "invalid",
            404 => "not_found",
            409 => "conflict",
            503 => "unavailable",
            _ if status.is_server_error() => "internal",
            _ => "error",
        };
        ManageError::new(status, code, e.message())
    }
}

/// `{"status":"success","data":…}` with `status`.
pub fn success(status: StatusCode, data: Value) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "status": "success", "data": data }))
}

const ENABLE: &str = "the management API is disabled: start the server with --admin-key <key> (or FLOWDM_ADMIN_KEY) and send it as `Authorization: Bearer <key>`";

/// The request carries the admin key (`Authorization: Bearer <key>` or the bare key). None sent
/// or a wrong one: 401 (without a configured key, its message says how to enable the API); a
/// credential sent while no key is configured: 403 `admin_api_disabled`; a DM API key
/// (`VF.DM.…`), valid or not: 403.
pub fn admin(req: &HttpRequest, data: &AppState) -> Result<(), ManageError> {
    let sent = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let sent = match sent.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => sent[7..].trim(),
        _ => sent,
    };
    if sent.is_empty() {
        let message = match data.admin_key {
            Some(_) => "the admin key is required: `Authorization: Bearer <key>`",
            None => ENABLE,
        };
        return Err(ManageError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message,
        ));
    }
    let Some(expected) = &data.admin_key else {
        return Err(ManageError::new(
            StatusCode::FORBIDDEN,
            "admin_api_disabled",
            ENABLE,
        ));
    };
    if sent.starts_with("VF.DM.") {
        return Err(ManageError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a Dialog Manager API key cannot use the management API: send the admin key",
        ));
    }
    if bool::from(sent.as_bytes().ct_eq(expected.0.as_bytes())) {
        Ok(())
    } else {
        Err(ManageError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong admin key",
        ))
    }
}

/// The body as a JSON object (after the admin check: an unauthorised request learns nothing).
pub fn object(
    body: Result<JsonBody, ApiError>,
) -> Result<serde_json::Map<String, Value>, ManageError> {
    match body?.0 {
        Value::Object(m) => Ok(m),
        _ => Err(ManageError::invalid(
            "body",
            "the body must be a JSON object",
        )),
    }
}

/// RFC 3339 now (UTC, milliseconds).
pub fn now() -> String {
    super::errors::iso8601(super::errors::now_ms())
}

/// A new record id: a prefix and 16 random hex digits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}
