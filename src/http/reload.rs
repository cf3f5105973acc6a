//! `POST /admin/reload` (`docs/reload.md`): reads the agents' folder, the custom actions'
//! and the library's files again, with the admin key. The agents' folder is also watched
//! (`crate::agents::watch`); this route is for deployments that copy files without events
//! (some network file systems) or want the report.

use super::manage::{admin, success, ManageError};
use super::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// Reloads and answers the report: `{agents: {loaded, unchanged, failed, removed, retired},
/// registry: "reloaded" | <error>}`. A folder that cannot be read is a 500 and changes
/// nothing.
pub async fn reload(
    req: HttpRequest,
    data: web::Data<AppState>,
) -> Result<HttpResponse, ManageError> {
    admin(&req, &data)?;
    let agents = data.agents.clone();
    let failed = |message: String| {
        ManageError::new(StatusCode::INTERNAL_SERVER_ERROR, "reload_failed", message)
    };
    let report = web::block(move || agents.reload())
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e| failed(format!("the agents' folder cannot be read: {e}")))?;
    let registry = match data.live.reload_files().await {
        Ok(()) => json!("reloaded"),
        Err(e) => json!(format!("not read: {e}")),
    };
    Ok(success(
        StatusCode::OK,
        json!({ "agents": report, "registry": registry }),
    ))
}
