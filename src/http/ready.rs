//! `GET /ready`: readiness — whether the session store answers (Redis `PING` within the Redis
//! timeout). `/health` stays liveness only.

use super::errors::ApiError;
use super::AppState;
use actix_web::{web, HttpResponse};

/// 200 `{"status":"ready","store":"redis"}`, or 503 ErrorObject
/// `session store unavailable: …` while the store cannot be reached.
pub async fn ready(data: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    data.store.ready().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": "ready",
        "store": data.store.name(),
    })))
}
