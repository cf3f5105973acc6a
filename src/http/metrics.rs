//! `GET /metrics`: the server's metrics (`crate::metrics`, `docs/observability.md`) in the
//! Prometheus text format 0.0.4, or in the OpenMetrics text format when the scraper asks for it
//! (`Accept: application/openmetrics-text`, as Prometheus does). Served without authentication;
//! `--no-metrics` turns it off (404, like an unknown route).

use super::errors::ApiError;
use super::AppState;
use actix_web::http::header::ACCEPT;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The Prometheus text format's content type.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The OpenMetrics text format's content type.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(
    req: HttpRequest,
    data: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !data.metrics.enabled() {
        return Err(ApiError::object(
            StatusCode::NOT_FOUND,
            "Cannot GET /metrics",
        ));
    }
    let openmetrics = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let text = data
        .metrics
        .encode(openmetrics)
        .map_err(|_| ApiError::internal("the metrics could not be encoded"))?;
    Ok(HttpResponse::Ok()
        .content_type(if openmetrics {
            OPENMETRICS_TEXT
        } else {
            PROMETHEUS_TEXT
        })
        .body(text))
}
