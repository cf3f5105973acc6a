//! The DM API over HTTP (actix-web): the app factory, the request middleware (request id, span,
//! timeout), and the server. One module per resource:
//!
//! | module | routes |
//! |---|---|
//! | [`interact`] | `POST /state/user/{userID}/interact`, `GET/PUT/DELETE/POST /state/user/{userID}`, `PATCH /state/user/{userID}/variables`, and the legacy `/state/{versionID}/user/{userID}/…` forms |
//! | [`stateless`] | `POST /interact[/{versionID}]`, `GET /interact[/{versionID}]/state` |
//! | [`public`] | `POST /public/{projectID}/state/user/{userID}/interact`, `GET /public/{projectID}/publishing` |
//! | [`widget`] | `GET /v2/public/{projectID}/settings/widget`, `POST /v2/public/{projectID}/widget/setup`, `POST /v2/public/{projectID}/transcripts/download`, `POST /transcripts/end/project/{projectID}/user/{userID}`, `POST /v1alpha1/webchat-log/{projectID}` (the newer web chat; settings from [`widget_settings`]) |
//! | `crate::socket` | `GET\|POST /v4/interact/socket/` (socket.io, the v4 socket) |
//! | [`v4`] | `POST /v4/project/{projectID}[/environment/{environmentID}]/session`, `POST /v4/interact[/stream]` (session keys) |
//! | [`stream`] | `POST /v2beta1/interact/{projectID}/{tag}/stream`, `POST /v2[/public]/project/{projectID}/user/{userID}/interact/stream` (Server-Sent Events, [`sse`]) |
//! | [`nlu`] | `GET /nlu/project/{projectID}/version/{versionID}/inference` |
//! | [`knowledge_base`] | `POST /knowledge-base/query` |
//! | [`transcripts`] | `POST /public/{projectID}/transcripts`, `POST /feedback/{projectID}/user/{userID}` |
//! | [`custom_actions`] | `/api/custom-actions[/{id}[/versions\|rollback\|clone\|test\|execute]]` (the admin key; [`manage`]: the envelope; [`registry_api`]: the routes every kind shares) |
//! | [`library_api`] | `/api/library[/{id}[/versions\|rollback\|clone\|test]]` (the same) |
//! | [`chat`] | `GET /` (the agents), `GET /chat/{projectID}` (a page with the web chat widget), `GET /chat/assets/widget.js`, `GET /chat/assets/extensions.js` |
//! | [`health`], [`ready`], [`openapi`] | `GET /health` (liveness), `GET /ready` (the session store answers), `GET /openapi.yaml` |
//! | [`metrics`] | `GET /metrics` (Prometheus; `crate::metrics`, `docs/observability.md`) |
//!
//! Shared by the handlers (no handler imports another): [`state`] (the application state),
//! [`context`] (request id, user, `Idempotency-Key`: an extractor), [`turn`] (the turn service:
//! the engine off the async workers, a turn on a stored session), [`session`] (lock wait,
//! idempotent replays), [`response`] (answers), [`paths`], [`auth`] (version aliases),
//! [`keys`] (the API keys),
//! [`errors`] (the three error shapes), [`cors`], [`limits`] (body size, query), [`validate`]
//! (bodies), [`rate_limit`] (the rate-limit middleware), [`conditional`] (`ETag`, `If-Match`,
//! `If-None-Match` of the state routes).

pub mod auth;
pub mod chat;
use crate::socket::bridge as socket;
pub mod conditional;
pub mod context;
pub mod cors;
pub mod custom_actions;
pub mod errors;
pub mod health;
pub mod interact;
pub mod keys;
pub mod knowledge_base;
pub mod library_api;
pub mod limits;
pub mod manage;
pub mod metrics;
pub mod nlu;
pub mod openapi;
pub mod paths;
pub mod public;
pub mod rate_limit;
pub mod ready;
pub mod registry_api;
pub mod reload;
pub mod response;
pub mod session;
pub mod sse;
pub mod state;
pub mod stateless;
pub mod stops;
pub mod stream;
pub mod transcripts;
pub mod turn;
pub mod v4;
pub mod validate;
pub mod widget;
pub mod widget_settings;

pub use state::AppState;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use context::{IdempotencyHeader, RequestCtx};
use errors::ApiError;
use std::cell::RefCell;
use std::time::Instant;
use tracing::Instrument;

thread_local! {
    static ID_RNG: RefCell<rand::rngs::SmallRng> = RefCell::new(rand::SeedableRng::from_entropy());
}

/// A short random request id (like the reference's shortid `ud2uASDNx`).
pub fn new_request_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    ID_RNG.with(|r| {
        let mut r = r.borrow_mut();
        (0..10)
            .map(|_| ALPHABET[r.gen_range(0..ALPHABET.len())] as char)
            .collect()
    })
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Unknown routes: 404 ErrorObject (express would answer `Cannot POST /x` as HTML).
async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::object(
        StatusCode::NOT_FOUND,
        format!("Cannot {} {}", req.method(), req.path()),
    ))
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(ready::ready))
        .route("/openapi.yaml", web::get().to(openapi::openapi))
        // The chat pages (the real web chat widget against this server; docs/clients.md).
        .route("/", web::get().to(chat::index))
        .route("/chat/assets/widget.js", web::get().to(chat::widget_bundle))
        .route(
            "/chat/assets/extensions.js",
            web::get().to(chat::extensions),
        )
        .route("/chat/{projectID}", web::get().to(chat::chat_page))
        .route("/metrics", web::get().to(metrics::metrics))
        // Stateful API.
        .route(
            "/state/user/{userID}/interact",
            web::post().to(interact::interact),
        )
        .route(
            "/state/user/{userID}/variables",
            web::patch().to(interact::patch_variables),
        )
        .route("/state/user/{userID}", web::get().to(interact::get_state))
        .route("/state/user/{userID}", web::put().to(interact::put_state))
        .route(
            "/state/user/{userID}",
            web::delete().to(interact::delete_state),
        )
        .route(
            "/state/user/{userID}",
            web::post().to(interact::reset_state),
        )
        // Legacy 1.0.0 forms: versionID from the path.
        .route(
            "/state/{versionID}/user/{userID}/interact",
            web::post().to(interact::interact),
        )
        .route(
            "/state/{versionID}/user/{userID}/variables",
            web::patch().to(interact::patch_variables),
        )
        .route(
            "/state/{versionID}/user/{userID}",
            web::get().to(interact::get_state),
        )
        .route(
            "/state/{versionID}/user/{userID}",
            web::put().to(interact::put_state),
        )
        .route(
            "/state/{versionID}/user/{userID}",
            web::delete().to(interact::delete_state),
        )
        .route(
            "/state/{versionID}/user/{userID}",
            web::post().to(interact::reset_state),
        )
        // A stop's server-to-server resume (authorised by the stop's token, docs/custom-actions.md).
        .route(
            "/state/{versionID}/user/{userID}/stops/{stopID}/resume",
            web::post().to(stops::resume),
        )
        // Stateless API.
        // The v4 session API (`docs/clients.md`).
        .route(
            "/v4/project/{projectID}/session",
            web::post().to(v4::start_session),
        )
        .route(
            "/v4/project/{projectID}/environment/{environmentID}/session",
            web::post().to(v4::start_session),
        )
        .route("/v4/interact", web::post().to(v4::interact))
        .route("/v4/interact/stream", web::post().to(v4::interact_stream))
        // The v4 socket.io channel (src/socket/, docs/clients.md).
        .route("/v4/interact/socket", web::get().to(socket::handle))
        .route("/v4/interact/socket", web::post().to(socket::handle))
        .route("/v4/interact/socket/", web::get().to(socket::handle))
        .route("/v4/interact/socket/", web::post().to(socket::handle))
        .route("/interact", web::post().to(stateless::interact))
        .route("/interact/state", web::get().to(stateless::initial_state))
        .route("/interact/{versionID}", web::post().to(stateless::interact))
        .route(
            "/interact/{versionID}/state",
            web::get().to(stateless::initial_state),
        )
        // Public API (web widget).
        .route(
            "/public/{projectID}/state/user/{userID}/interact",
            web::post().to(public::interact),
        )
        .route(
            "/public/{projectID}/publishing",
            web::get().to(public::publishing),
        )
        .route(
            "/public/{projectID}/transcripts",
            web::post().to(transcripts::upsert_transcript),
        )
        .route(
            "/feedback/{projectID}/user/{userID}",
            web::post().to(transcripts::feedback),
        )
        // The newer web chat (sdk-runtime 1.69.1, widget-next; docs/clients.md).
        .route(
            "/v2/public/{projectID}/settings/widget",
            web::get().to(widget::settings),
        )
        .route(
            "/v2/public/{projectID}/widget/setup",
            web::post().to(widget::setup),
        )
        .route(
            "/v2/public/{projectID}/transcripts/download",
            web::post().to(widget::download_transcript),
        )
        .route(
            "/transcripts/end/project/{projectID}/user/{userID}",
            web::post().to(widget::end_transcript),
        )
        .route(
            "/v1alpha1/webchat-log/{projectID}",
            web::post().to(widget::webchat_log),
        )
        // Streaming interact (Server-Sent Events, docs/streaming.md).
        .route(
            "/v2beta1/interact/{projectID}/{tag}/stream",
            web::post().to(stream::beta),
        )
        .route(
            "/v2/project/{projectID}/user/{userID}/interact/stream",
            web::post().to(stream::v2),
        )
        .route(
            "/v2/public/project/{projectID}/user/{userID}/interact/stream",
            web::post().to(stream::v2_public),
        )
        // NLU prediction only (no session).
        .route(
            "/nlu/project/{projectID}/version/{versionID}/inference",
            web::get().to(nlu::inference),
        )
        // Management API of custom actions (docs/custom-actions.md).
        .configure(registry_api::routes::<flowdm_model::ServerAction>(
            "/api/custom-actions",
        ))
        .route(
            "/api/custom-actions/{id}/test",
            web::post().to(custom_actions::test),
        )
        .route(
            "/api/custom-actions/{id}/execute",
            web::post().to(custom_actions::execute),
        )
        // Management API of the library of sub-flows (docs/custom-actions.md).
        .configure(registry_api::routes::<library_api::Entry>("/api/library"))
        .route("/api/library/{id}/test", web::post().to(library_api::test))
        // Hot reload of agents, actions and library (docs/reload.md).
        .route("/admin/reload", web::post().to(reload::reload))
        // Knowledge base (docs/knowledge-base.md).
        .route(
            "/knowledge-base/query",
            web::post().to(knowledge_base::query),
        );
}

/// The application: routes, request middleware (id, span, timeout) and CORS around everything.
pub fn app(
    data: web::Data<AppState>,
    socket: web::Data<crate::socket::SocketChannel>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let timeout = data.limits.request_timeout;
    let metrics = data.metrics.clone();
    App::new()
        .app_data(data)
        .app_data(socket)
        .configure(routes)
        .default_service(web::to(not_found))
        // Inside the request middleware: a 429 carries the request id.
        .wrap(rate_limit::RateLimit)
        .wrap_fn(move |req, srv| {
            let id = new_request_id();
            let method = req.method().clone();
            // The route's pattern (recorded once routed, `RequestCtx::record_route`), never the
            // path: paths carry user ids and keys.
            let span = tracing::info_span!(
                "request",
                id = %id,
                method = %method,
                route = tracing::field::Empty,
                project = tracing::field::Empty,
                version = tracing::field::Empty,
                user = tracing::field::Empty,
            );
            let started = Instant::now();
            let ctx = RequestCtx::new(
                id.clone(),
                IdempotencyHeader::read(&req),
                context::route_fingerprint(&req),
            );
            req.extensions_mut().insert(ctx.clone());
            let fut = span.in_scope(|| srv.call(req));
            let header_id = HeaderValue::from_str(&id).ok();
            let metrics = metrics.clone();
            let handled = async move {
                // The route's pattern for the metrics (`unmatched` for none).
                let answered = |route: Option<&'static str>, status: StatusCode| {
                    let route = route.unwrap_or(crate::metrics::UNMATCHED);
                    metrics.request(route, method.as_str(), status.as_u16(), started.elapsed());
                };
                let enabled = metrics.enabled();
                let res = match tokio::time::timeout(timeout, fut).await {
                    Ok(Ok(res)) => res.map_into_boxed_body(),
                    Ok(Err(e)) => {
                        answered(ctx.route_pattern(), e.as_response_error().status_code());
                        return Err(e);
                    }
                    Err(_) => {
                        tracing::warn!(timeout_ms = timeout.as_millis() as u64, "response timeout");
                        answered(ctx.route_pattern(), StatusCode::REQUEST_TIMEOUT);
                        let body = HttpResponse::RequestTimeout()
                            .content_type("text/plain")
                            .body("response timeout");
                        return Err(actix_web::error::InternalError::from_response(
                            "response timeout",
                            body,
                        )
                        .into());
                    }
                };
                let mut res = render_error(res, &ctx);
                if enabled {
                    let route = ctx.route_pattern().or_else(|| {
                        let pattern = res.request().match_pattern()?;
                        Some(crate::metrics::intern(&pattern))
                    });
                    answered(route, res.status());
                }
                tracing::debug!(
                    status = res.status().as_u16(),
                    micros = started.elapsed().as_micros() as u64,
                    "done"
                );
                if let Some(v) = header_id {
                    res.headers_mut().insert(X_REQUEST_ID, v);
                }
                Ok(res)
            }
            .instrument(span);
            handled
        })
        .wrap(cors::cors())
}

/// Renders an [`ApiError`] answer again with its request's id (the VoiceflowError's
/// `requestID`), and logs server errors with the request's id, project and hashed user (also
/// when the per-request span, at INFO level, is filtered out).
fn render_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    ctx: &RequestCtx,
) -> ServiceResponse<actix_web::body::BoxBody> {
    let rendered = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(|e| {
            let status = e.status_code();
            if status.is_server_error() {
                tracing::warn!(request_id = %ctx.id(), project = %ctx.project(), user = %ctx.user_hash(), status = status.as_u16(), error = %e, "request failed");
            } else {
                tracing::debug!(status = status.as_u16(), error = %e, "request rejected");
            }
            e.render(Some(ctx.id()))
        });
    match rendered {
        Some(new) => res.into_response(new),
        None => res.map_into_boxed_body(),
    }
}
