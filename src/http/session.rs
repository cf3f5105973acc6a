//! Session transactions for the handlers: the lock wait and idempotent retries.
//!
//! [`begin_session`] locks a session for one read-modify-write, waiting at most
//! `limits.lock_timeout` (`--lock-wait-ms`; past it: 409). [`commit_session`] stores the new
//! state together with the response, so that a retry carrying the same `Idempotency-Key`
//! header on the same session gets that response back (status 200, header
//! `Idempotent-Replayed: true`) instead of running again. A key reused for a different request
//! (another method, path, query, `versionID` or body) is refused with 422.
//!
//! The header is read by the request middleware into the request context
//! ([`super::errors::RequestCtx`]), with a fingerprint of the request that the JSON body
//! extractor completes with the body's bytes.

use super::errors::{ApiError, REQUEST};
use super::AppState;
use crate::engine::State;
use crate::store::{BeginOptions, Begun, SessionKey, SessionTxn};
use actix_web::http::StatusCode;

/// The header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// FNV-1a, 64 bits: a fingerprint that is the same in every process and every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

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

/// The `Idempotency-Key` of a request, as read by the middleware.
#[derive(Debug, Clone)]
pub enum IdempotencyHeader {
    /// A valid key and the request's fingerprint so far.
    Key {
        key: String,
        fingerprint: Fingerprint,
    },
    /// The header was present but unusable (why).
    Invalid(&'static str),
}

/// Reads the header (middleware): `None` when absent.
pub fn read_header(req: &actix_web::dev::ServiceRequest) -> Option<IdempotencyHeader> {
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
    let mut fingerprint = Fingerprint::default();
    fingerprint.mix(req.method().as_str().as_bytes());
    fingerprint.mix(req.path().as_bytes());
    fingerprint.mix(req.query_string().as_bytes());
    let version = req.headers().get("versionid").map(|v| v.as_bytes());
    fingerprint.mix(version.unwrap_or(b""));
    Some(IdempotencyHeader::Key {
        key: key.to_string(),
        fingerprint,
    })
}

/// Adds the body's bytes to the current request's fingerprint (JSON body extractor).
pub fn mix_body(body: &[u8]) {
    let _ = REQUEST.try_with(|r| {
        if let Some(IdempotencyHeader::Key { fingerprint, .. }) =
            r.idempotency.borrow_mut().as_mut()
        {
            fingerprint.mix(body);
        }
    });
}

/// The current request's key and fingerprint; 400 for an unusable header.
fn current() -> Result<Option<(String, Fingerprint)>, ApiError> {
    let header = REQUEST
        .try_with(|r| r.idempotency.borrow().clone())
        .ok()
        .flatten();
    match header {
        None => Ok(None),
        Some(IdempotencyHeader::Key { key, fingerprint }) => Ok(Some((key, fingerprint))),
        Some(IdempotencyHeader::Invalid(why)) => Err(ApiError::validation("Idempotency-Key", why)),
    }
}

const RECORD_TAG: &[u8] = b"flowdm-replay-1 ";

/// What is stored under an idempotency key: the fingerprint and the response body.
fn record(fingerprint: Fingerprint, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(RECORD_TAG.len() + 17 + body.len());
    r.extend_from_slice(RECORD_TAG);
    r.extend_from_slice(format!("{:016x}\n", fingerprint.0).as_bytes());
    r.extend_from_slice(body);
    r
}

/// The stored response for this request, or 422 when the key was used for another request.
fn replay(stored: &[u8], fingerprint: Fingerprint) -> ApiError {
    let parsed = stored
        .strip_prefix(RECORD_TAG)
        .filter(|rest| rest.len() >= 17 && rest[16] == b'\n')
        .and_then(|rest| {
            let fp = std::str::from_utf8(&rest[..16]).ok()?;
            Some((u64::from_str_radix(fp, 16).ok()?, &rest[17..]))
        });
    match parsed {
        Some((fp, body)) if fp == fingerprint.0 => ApiError::Replay(body.to_vec()),
        Some(_) => ApiError::object(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was already used for a different request on this session",
        ),
        None => ApiError::internal("stored idempotent response is unreadable"),
    }
}

/// Begins a session transaction, waiting at most `limits.lock_timeout` for the lock (409
/// after it). With an `Idempotency-Key` already processed on this session, answers the stored
/// response instead (as [`ApiError::Replay`], so handlers return it with `?`).
pub async fn begin_session(state: &AppState, key: &SessionKey) -> Result<SessionTxn, ApiError> {
    let idem = current()?;
    let opts = BeginOptions {
        wait: state.limits.lock_timeout,
        idempotency_key: idem.as_ref().map(|(k, _)| k.as_str()),
    };
    match state.store.begin(key, opts).await? {
        Begun::Txn(txn) => Ok(txn),
        Begun::Replay(stored) => {
            let fingerprint = idem.map(|(_, f)| f).unwrap_or_default();
            Err(replay(&stored, fingerprint))
        }
    }
}

/// Stores `new_state` (`None`: deletes the session) and releases the lock; with an
/// `Idempotency-Key`, `response` (the body answered with 200) is stored with it.
pub async fn commit_session(
    state: &AppState,
    mut txn: SessionTxn,
    new_state: Option<State>,
    response: &[u8],
) -> Result<(), ApiError> {
    if txn.idempotency_key.is_some() {
        if let Ok(Some((_, fingerprint))) = current() {
            txn.response = Some(record(fingerprint, response));
        }
    }
    state.store.commit(txn, new_state).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_check_the_fingerprint() {
        let mut a = Fingerprint::default();
        a.mix(b"POST");
        a.mix(b"/state/user/u/interact");
        let mut b = Fingerprint::default();
        b.mix(b"POST");
        b.mix(b"/state/user/u/interac");
        assert_ne!(a, b);
        let r = record(a, b"[1,2]");
        match replay(&r, a) {
            ApiError::Replay(body) => assert_eq!(body, b"[1,2]"),
            e => panic!("{e:?}"),
        }
        match replay(&r, b) {
            ApiError::Object { status, .. } => assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY),
            e => panic!("{e:?}"),
        }
        assert!(matches!(replay(b"junk", a), ApiError::Object { .. }));
    }

    #[test]
    fn fnv_is_stable() {
        // FNV-1a of "a" and the separator: the value must never change between builds, since
        // records written by one build are read by the next.
        let mut f = Fingerprint::default();
        f.mix(b"a");
        assert_eq!(f, Fingerprint(0x089b_c907_b544_c769));
    }
}
