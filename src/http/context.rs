//! The per-request context: the request id (the `x-request-id` header and the `requestID` of
//! VoiceflowError bodies), the `Idempotency-Key` with the request's fingerprint, and — once
//! resolved — the project and user, for the logs. The request middleware creates it and puts
//! it in the request's extensions; handlers take it as an argument ([`RequestCtx`] is an
//! extractor) and pass it on explicitly.

use super::errors::ApiError;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::future::{ready, Ready};
use std::rc::Rc;

/// The header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// FNV-1a, 64 bits: a fingerprint that is the same in every process and every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub(crate) u64);

impl Default for Fingerprint {
    fn default() -> Fingerprint {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    pub fn mix(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// The `Idempotency-Key` of a request.
#[derive(Debug, Clone)]
pub enum IdempotencyHeader {
    /// A valid key and the request's fingerprint so far (method, path, query, `versionID`,
    /// then the body).
    Key {
        key: String,
        fingerprint: Fingerprint,
    },
    /// The header was present but unusable (why).
    Invalid(&'static str),
}

impl IdempotencyHeader {
    /// Reads the header: `None` when absent.
    pub fn read(req: &ServiceRequest) -> Option<IdempotencyHeader> {
        let value = req.headers().get(IDEMPOTENCY_KEY)?;
        let Ok(key) = value.to_str() else {
            return Some(IdempotencyHeader::Invalid("must be visible ASCII"));
        };
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
            return Some(IdempotencyHeader::Invalid("must be 1 to 255 characters"));
        }
        if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Some(IdempotencyHeader::Invalid(
                "must be visible ASCII without spaces",
            ));
        }
        Some(IdempotencyHeader::Key {
            key: key.to_string(),
            fingerprint: route_fingerprint(req),
        })
    }
}

/// The fingerprint of a request without its body: method, path, query, `versionID`.
pub fn route_fingerprint(req: &ServiceRequest) -> Fingerprint {
    let mut fingerprint = Fingerprint::default();
    fingerprint.mix(req.method().as_str().as_bytes());
    fingerprint.mix(req.path().as_bytes());
    fingerprint.mix(req.query_string().as_bytes());
    let version = req.headers().get("versionid").map(|v| v.as_bytes());
    fingerprint.mix(version.unwrap_or(b""));
    fingerprint
}

#[derive(Debug, Default)]
struct Inner {
    id: String,
    idempotency: RefCell<Option<IdempotencyHeader>>,
    /// [`route_fingerprint`] of the request.
    route: Option<Fingerprint>,
    project: RefCell<Option<String>>,
    /// The user id, never logged as is.
    user: RefCell<Option<String>>,
    /// Its [`user_hash`], once computed.
    user_hash: RefCell<Option<String>>,
    /// The matched route's pattern, once recorded ([`RequestCtx::record_route`]).
    route_pattern: Cell<Option<&'static str>>,
    /// The kind of the matched route (`crate::metrics::route_kind`), for the turn metrics.
    route_kind: Cell<&'static str>,
}

/// How a user id appears in logs: the first 16 hex digits of its SHA-256 (a user id may be an
/// email address; the hash still lets an operator follow one user: `docs/observability.md`).
pub fn user_hash(user_id: &str) -> String {
    hex::encode(&Sha256::digest(user_id.as_bytes())[..8])
}

/// What is known about the request being handled. Cheap to clone (one worker thread owns it).
#[derive(Debug, Clone, Default)]
pub struct RequestCtx(Rc<Inner>);

impl RequestCtx {
    pub fn new(
        id: String,
        idempotency: Option<IdempotencyHeader>,
        route: Fingerprint,
    ) -> RequestCtx {
        RequestCtx(Rc::new(Inner {
            id,
            idempotency: RefCell::new(idempotency),
            route: Some(route),
            ..Inner::default()
        }))
    }

    /// The request id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Records the resolved project (for the span and the logs).
    pub fn record_project(&self, project_id: &str, version_id: &str) {
        let span = tracing::Span::current();
        span.record("project", tracing::field::display(project_id));
        span.record("version", tracing::field::display(version_id));
        *self.0.project.borrow_mut() = Some(project_id.to_string());
    }

    /// Records the user (for the span and the logs: as its [`user_hash`], never as is; hashed
    /// here only when the span is recorded, else when a log line asks for it).
    pub fn record_user(&self, user_id: &str) {
        let span = tracing::Span::current();
        let hash = if span.is_disabled() {
            None
        } else {
            let hash = user_hash(user_id);
            span.record("user", tracing::field::display(&hash));
            Some(hash)
        };
        *self.0.user.borrow_mut() = Some(user_id.to_string());
        *self.0.user_hash.borrow_mut() = hash;
    }

    /// The resolved project, if any.
    pub fn project(&self) -> String {
        self.0.project.borrow().clone().unwrap_or_default()
    }

    /// The user's [`user_hash`], if any (what the logs show).
    pub fn user_hash(&self) -> String {
        if let Some(hash) = self.0.user_hash.borrow().as_ref() {
            return hash.clone();
        }
        self.0
            .user
            .borrow()
            .as_deref()
            .map(user_hash)
            .unwrap_or_default()
    }

    /// Records the kind of the request's route (the socket's turns; else
    /// [`RequestCtx::record_route`]).
    pub fn set_route_kind(&self, kind: &'static str) {
        self.0.route_kind.set(kind);
    }

    /// Records the pattern of the route `req` matched (for the span, its kind for the turn
    /// metrics), once: after routing, finding it is a lookup, not a search.
    pub fn record_route(&self, req: &HttpRequest) {
        if self.0.route_pattern.get().is_some() {
            return;
        }
        if let Some(pattern) = req.match_pattern() {
            let pattern = crate::metrics::intern(&pattern);
            tracing::Span::current().record("route", tracing::field::display(pattern));
            self.set_route_kind(crate::metrics::route_kind(pattern));
            self.0.route_pattern.set(Some(pattern));
        }
    }

    /// The matched route's pattern, if recorded.
    pub fn route_pattern(&self) -> Option<&'static str> {
        self.0.route_pattern.get()
    }

    /// The kind of the request's route (`other` when none was recorded).
    pub fn route_kind(&self) -> &'static str {
        match self.0.route_kind.get() {
            "" => "other",
            kind => kind,
        }
    }

    /// Adds the body's bytes to the request's fingerprint (the JSON body extractor).
    pub fn mix_body(&self, body: &[u8]) {
        if let Some(IdempotencyHeader::Key { fingerprint, .. }) =
            self.0.idempotency.borrow_mut().as_mut()
        {
            fingerprint.mix(body);
        }
    }

    /// The request's fingerprint without its body ([`route_fingerprint`]).
    pub fn route(&self) -> Fingerprint {
        self.0.route.unwrap_or_default()
    }

    /// The request's key and fingerprint; 400 for an unusable header.
    pub fn idempotency(&self) -> Result<Option<(String, Fingerprint)>, ApiError> {
        match self.0.idempotency.borrow().clone() {
            None => Ok(None),
            Some(IdempotencyHeader::Key { key, fingerprint }) => Ok(Some((key, fingerprint))),
            Some(IdempotencyHeader::Invalid(why)) => {
                Err(ApiError::validation("Idempotency-Key", why))
            }
        }
    }

    /// The context the middleware attached to `req` (a fresh one outside the middleware).
    pub fn of(req: &HttpRequest) -> RequestCtx {
        req.extensions()
            .get::<RequestCtx>()
            .cloned()
            .unwrap_or_default()
    }
}

impl FromRequest for RequestCtx {
    type Error = ApiError;
    type Future = Ready<Result<RequestCtx, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = RequestCtx::of(req);
        ctx.record_route(req);
        ready(Ok(ctx))
    }
}
