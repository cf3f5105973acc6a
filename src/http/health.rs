//! `GET /health`.

use super::AppState;
use actix_web::{web, HttpResponse};

/// Liveness: text `"<NODE_ENV> Healthy"` like the reference (`production` unless `NODE_ENV` is set).
pub async fn health(data: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{} Healthy", data.environment))
}
