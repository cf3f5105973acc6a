//! `GET /openapi.yaml`: the OpenAPI 3.1 document of every route served, embedded at build time
//! from the repository's `openapi.yaml`.

use actix_web::HttpResponse;

pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
