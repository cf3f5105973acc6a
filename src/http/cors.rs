//! CORS for every route (`spec/clients.md` §7 item 3): any origin is reflected with credentials,
//! any method and request header are allowed (the widget asks for `content-type, versionid`, the
//! SDKs also for `authorization, sessionid`), and preflights are answered before routing.

use actix_cors::Cors;

/// Preflight answers may be cached for a day.
pub const MAX_AGE_SECS: usize = 86_400;

pub fn cors() -> Cors {
    Cors::default()
        .allowed_origin_fn(|_origin, _req| true)
        .allow_any_method()
        .allow_any_header()
        .expose_any_header()
        .supports_credentials()
        .max_age(MAX_AGE_SECS)
}
