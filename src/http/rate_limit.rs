//! Rate limits on the DM routes (`docs/limits.md`; the reference's `versionConsume`,
//! `spec/dm-api.md` §1.2): per API key (`--rate-limit-key`) and per user (`--rate-limit-user`),
//! both off by default, counted in memory or — with `--redis` — in Redis, shared by every
//! server.
//!
//! A middleware ([`RateLimit`]) in front of the limited routes ([`LIMITED_ROUTES`]: the
//! stateful, legacy, stateless, public, widget, streaming, v4 and NLU routes; never health,
//! readiness, the OpenAPI document, the management APIs, a stop's resume or the v4 socket)
//! counts every request before it is handled, whatever its answer; a refused request (429) is
//! not counted in the bucket that refused it. The user's bucket is checked first, then — if
//! it passed — the key's, so a user over its limit does not use up its key's budget. Buckets:
//!
//! * **key**: the `Authorization` value; without one, the `{projectID}` of the path (public
//!   routes), else the version (`{versionID}` or the `versionID` header), else one bucket for
//!   all anonymous requests.
//! * **user**: the project and the `{userID}` of the path (routes without a user in the path
//!   have no user limit). The project is the path's `{projectID}`, else the API key's project,
//!   else the project of the version, else the single loaded project.
//!
//! Buckets are hashed (SHA-256, 128 bits): no key or user id is kept in memory or in Redis.
//! A passing request gets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
//! (of the bucket with the fewest requests left); a refused one the same plus `Retry-After`
//! (seconds, rounded up) and 429 `Too Many Request` (ErrorObject). A limiter that fails (Redis
//! down) lets the request through and logs a warning (fail open).

use super::errors::{iso8601, now_ms, ApiError};
use super::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{
    forward_ready, ResourceDef, Service, ServiceRequest, ServiceResponse, Transform,
};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{web, Error};
use flowdm_store::{RateDecision, RateLimiter};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The routes rate limits apply to (patterns of `super::routes`).
pub const LIMITED_ROUTES: &[&str] = &[
    "/state/user/{userID}/interact",
    "/state/user/{userID}/variables",
    "/state/user/{userID}",
    "/state/{versionID}/user/{userID}/interact",
    "/state/{versionID}/user/{userID}/variables",
    "/state/{versionID}/user/{userID}",
    "/interact",
    "/interact/state",
    "/interact/{versionID}",
    "/interact/{versionID}/state",
    "/public/{projectID}/state/user/{userID}/interact",
    "/public/{projectID}/publishing",
    "/public/{projectID}/transcripts",
    "/feedback/{projectID}/user/{userID}",
    "/v2/public/{projectID}/settings/widget",
    "/v2/public/{projectID}/widget/setup",
    "/v2/public/{projectID}/transcripts/download",
    "/transcripts/end/project/{projectID}/user/{userID}",
    "/v1alpha1/webchat-log/{projectID}",
    "/v2beta1/interact/{projectID}/{tag}/stream",
    "/v2/project/{projectID}/user/{userID}/interact/stream",
    "/v2/public/project/{projectID}/user/{userID}/interact/stream",
    "/v4/project/{projectID}/session",
    "/v4/project/{projectID}/environment/{environmentID}/session",
    "/v4/interact",
    "/v4/interact/stream",
    "/nlu/project/{projectID}/version/{versionID}/inference",
    "/knowledge-base/query",
];

/// Every limited route in one definition: one `RegexSet` match per request, the first
/// matching pattern's parameters.
static LIMITED: LazyLock<ResourceDef> = LazyLock::new(|| ResourceDef::new(LIMITED_ROUTES.to_vec()));

/// The limiters of the server (none: no limit).
#[derive(Clone, Default)]
pub struct RateLimits {
    pub key: Option<Arc<dyn RateLimiter>>,
    pub user: Option<Arc<dyn RateLimiter>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |l: &Option<Arc<dyn RateLimiter>>| {
            l.as_ref()
                .map(|l| format!("{} ({})", l.quota(), l.name()))
                .unwrap_or_else(|| "off".into())
        };
        write!(f, "key {}, user {}", show(&self.key), show(&self.user))
    }
}

impl RateLimits {
    pub fn is_off(&self) -> bool {
        self.key.is_none() && self.user.is_none()
    }
}

/// 128 bits of SHA-256 of `parts`, in hex: the bucket's name.
fn bucket(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The key and user buckets of a request to a limited route (`None`: not limited).
fn buckets(data: &AppState, req: &ServiceRequest) -> Option<(String, Option<String>)> {
    let mut path = actix_web::dev::Path::new(req.path().to_string());
    if !LIMITED.capture_match_info(&mut path) {
        return None;
    }
    let headers = req.headers();
    let auth = header(headers, "authorization");
    let project_param = path.get("projectID").filter(|s| !s.is_empty());
    let version = path
        .get("versionID")
        .filter(|s| !s.is_empty())
        .or_else(|| header(headers, "versionid"));
    let key = match (auth, project_param, version) {
        (Some(a), _, _) => bucket(&["key", a]),
        (None, Some(p), _) => bucket(&["project", p]),
        (None, None, Some(v)) => bucket(&["version", v]),
        (None, None, None) => bucket(&["anonymous"]),
    };
    let user = path.get("userID").map(|user| {
        let registry = data.agents.registry();
        let project = project_param
            .map(str::to_string)
            .or_else(|| auth.and_then(|a| data.keys.lookup(a)).map(str::to_string))
            .or_else(|| {
                version
                    .and_then(|v| registry.resolve_id(v))
                    .map(|a| a.version.project_id.to_string())
            })
            .or_else(|| registry.single_project().map(|e| e.id().to_string()))
            .unwrap_or_default();
        bucket(&["user", &project, user])
    });
    Some((key, user))
}

/// Checks `bucket` with `limiter`; a failing limiter lets the request pass (`None`).
async fn check(
    limiter: Option<&Arc<dyn RateLimiter>>,
    bucket: Option<&str>,
) -> Option<RateDecision> {
    let (limiter, bucket) = (limiter?, bucket?);
    match limiter.check(bucket).await {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, limiter = limiter.name(), "rate limit not checked: the request passes");
            None
        }
    }
}

/// The decision the headers show: a refusal first, else the one with the fewest requests left.
fn shown(a: Option<RateDecision>, b: Option<RateDecision>) -> Option<RateDecision> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if !a.allowed {
            a
        } else if !b.allowed || b.remaining < a.remaining {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    }
}

fn whole_seconds_up(d: Duration) -> u64 {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    ms.div_ceil(1000)
}

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// `X-RateLimit-*` (and `Retry-After` on a refusal) of `d`.
fn set_headers(headers: &mut HeaderMap, d: &RateDecision) {
    headers.insert(LIMIT, HeaderValue::from(d.limit));
    headers.insert(REMAINING, HeaderValue::from(d.remaining));
    let reset_ms = u64::try_from(d.reset_after.as_millis()).unwrap_or(0);
    if let Ok(v) = HeaderValue::from_str(&iso8601(now_ms().saturating_add(reset_ms))) {
        headers.insert(RESET, v);
    }
    if !d.allowed {
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from(whole_seconds_up(d.retry_after).max(1)),
        );
    }
}

/// The rate-limit middleware (wrapped inside the request middleware, so a 429 carries the
/// request id).
pub struct RateLimit;

impl<S, B> Transform<S, ServiceRequest> for RateLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RateLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<RateLimitService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RateLimitService {
            service: Rc::new(service),
        }))
    }
}

pub struct RateLimitService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for RateLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let (limits, buckets) = match req.app_data::<web::Data<AppState>>() {
            Some(data) if !data.rate_limits.is_off() => {
                (Some(data.rate_limits.clone()), buckets(data, &req))
            }
            _ => (None, None),
        };
        Box::pin(async move {
            let (Some(limits), Some((key, user))) = (limits, buckets) else {
                return service.call(req).await.map(|r| r.map_into_left_body());
            };
            // The user first: a request refused for its user does not use its key's budget.
            let by_user = check(limits.user.as_ref(), user.as_deref()).await;
            let by_key = match by_user {
                Some(d) if !d.allowed => None,
                _ => check(limits.key.as_ref(), Some(&key)).await,
            };
            let decision = shown(by_user, by_key);
            if let Some(d) = decision.filter(|d| !d.allowed) {
                let ctx = super::context::RequestCtx::of(req.request());
                tracing::debug!(
                    retry_after_ms = d.retry_after.as_millis() as u64,
                    "rate limited"
                );
                let mut res = ApiError::object(StatusCode::TOO_MANY_REQUESTS, "Too Many Request")
                    .render(Some(ctx.id()));
                set_headers(res.headers_mut(), &d);
                return Ok(req.into_response(res).map_into_right_body());
            }
            let mut res = service.call(req).await?;
            if let Some(d) = decision {
                set_headers(res.headers_mut(), &d);
            }
            Ok(res.map_into_left_body())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hide_their_parts() {
        let b = bucket(&["key", "VF.DM.x.secret"]);
        assert_eq!(b.len(), 32);
        assert!(!b.contains("secret"));
        assert_ne!(bucket(&["ab", "c"]), bucket(&["a", "bc"]));
    }

    #[test]
    fn the_refusal_or_the_tightest_bucket_is_shown() {
        let d = |allowed, remaining| RateDecision {
            allowed,
            limit: 5,
            remaining,
            retry_after: Duration::ZERO,
            reset_after: Duration::ZERO,
        };
        assert_eq!(shown(Some(d(true, 3)), Some(d(true, 1))), Some(d(true, 1)));
        assert_eq!(
            shown(Some(d(true, 0)), Some(d(false, 0))),
            Some(d(false, 0))
        );
        assert_eq!(shown(None, Some(d(true, 2))), Some(d(true, 2)));
        assert_eq!(shown(None, None), None);
        assert_eq!(whole_seconds_up(Duration::from_millis(29_001)), 30);
    }

    #[test]
    fn every_limited_route_is_a_route() {
        // The patterns must be those `super::routes` registers (same strings).
        let src = include_str!("mod.rs");
        for p in LIMITED_ROUTES {
            assert!(
                src.contains(&format!("\"{p}\"")),
                "{p} is not registered in http::routes"
            );
        }
    }
}
