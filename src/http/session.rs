//! Session transactions for the handlers: the lock wait and idempotent retries.
//!
//! [`begin_session`] locks a session for one read-modify-write, waiting at most
//! `limits.lock_timeout` (`--lock-wait-ms`; past it: 409). [`commit_session`] stores the new
//! state together with the response, so that a retry carrying the same `Idempotency-Key`
//! header on the same session gets that response back (status 200, header
//! `Idempotent-Replayed: true`) instead of running again: [`Answer::Replayed`], a normal
//! success. A key reused for a different request (another method, path, query, `versionID` or
//! body) is refused with 422. The key and the request's fingerprint come with the
//! [`RequestCtx`].

use super::conditional::{etag_of, Preconditions, Tagged};
use super::context::{Fingerprint, RequestCtx};
use super::errors::ApiError;
use super::response::Answer;
use super::state::AppState;
use crate::engine::State;
use crate::store::{BeginOptions, Begun, SessionKey, SessionTxn};
use actix_web::http::StatusCode;
use std::future::Future;

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
fn replay(stored: &[u8], fingerprint: Fingerprint) -> Result<Vec<u8>, ApiError> {
    let parsed = stored
        .strip_prefix(RECORD_TAG)
        .filter(|rest| rest.len() >= 17 && rest[16] == b'\n')
        .and_then(|rest| {
            let fp = std::str::from_utf8(&rest[..16]).ok()?;
            Some((u64::from_str_radix(fp, 16).ok()?, &rest[17..]))
        });
    match parsed {
        Some((fp, body)) if fp == fingerprint.0 => Ok(body.to_vec()),
        Some(_) => Err(ApiError::object(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was already used for a different request on this session",
        )),
        None => Err(ApiError::internal(
            "stored idempotent response is unreadable",
        )),
    }
}

/// Begins a session transaction, waiting at most `limits.lock_timeout` for the lock (409
/// after it). A request already processed under the same `Idempotency-Key` gets
/// [`Begun::Replay`] with the body answered then.
async fn begin_session(
    state: &AppState,
    idem: Option<(String, Fingerprint)>,
    key: &SessionKey,
) -> Result<Begun, ApiError> {
    let opts = BeginOptions {
        wait: state.limits.lock_timeout,
        idempotency_key: idem.as_ref().map(|(k, _)| k.as_str()),
    };
    match state.store.begin(key, opts).await? {
        Begun::Replay(stored) => {
            let fingerprint = idem.map(|(_, f)| f).unwrap_or_default();
            replay(&stored, fingerprint).map(Begun::Replay)
        }
        begun => Ok(begun),
    }
}

/// Stores `new_state` (`None`: deletes the session) and releases the lock; with an
/// `Idempotency-Key`, `response` (the body answered with 200) is stored with it.
async fn commit_session(
    state: &AppState,
    fingerprint: Option<Fingerprint>,
    mut txn: SessionTxn,
    new_state: Option<State>,
    response: &[u8],
) -> Result<(), ApiError> {
    if txn.idempotency_key.is_some() {
        if let Some(fingerprint) = fingerprint {
            txn.response = Some(record(fingerprint, response));
        }
    }
    state.store.commit(txn, new_state).await?;
    Ok(())
}

/// One read-modify-write of a stored session, under its lock: `change` gets the stored state
/// (if any) and gives the new state (`None`: delete) and the response body; both are committed
/// together. A replayed request answers the stored body instead. When `change` fails, nothing
/// is committed: the stored state stays as it was.
pub async fn write_session<Change>(
    state: &AppState,
    ctx: &RequestCtx,
    key: &SessionKey,
    change: impl FnOnce(Option<State>) -> Change,
) -> Result<Answer, ApiError>
where
    Change: Future<Output = Result<(Option<State>, Vec<u8>), ApiError>>,
{
    let change = |stored| async { change(stored).await.map(|(s, body)| (s, body, true)) };
    write_session_keyed(state, ctx.idempotency()?, key, change).await
}

/// [`write_session`] under the request's `If-Match` / `If-None-Match` (`pre`, checked on the
/// state read under the lock: 412 and nothing changed when one fails), answering the new
/// state's `ETag` (`super::conditional`).
pub async fn write_session_conditional<Change>(
    state: &AppState,
    ctx: &RequestCtx,
    key: &SessionKey,
    pre: &Preconditions,
    change: impl FnOnce(Option<State>) -> Change,
) -> Result<Tagged, ApiError>
where
    Change: Future<Output = Result<(Option<State>, Vec<u8>), ApiError>>,
{
    let change = |stored| async { change(stored).await.map(|(s, body)| (s, body, true)) };
    let conditions = WriteConditions {
        pre: Some(pre),
        tag: true,
    };
    write_session_if(state, ctx.idempotency()?, key, conditions, change).await
}

/// [`write_session`] with the idempotency key and fingerprint given (a resume naming a stop
/// uses one derived from the stop, `super::stops`) instead of the request's header; `change`
/// also says whether the response is to be kept under the key (`false`: committed without a
/// record, so the key stays free).
pub async fn write_session_keyed<Change>(
    state: &AppState,
    idem: Option<(String, Fingerprint)>,
    key: &SessionKey,
    change: impl FnOnce(Option<State>) -> Change,
) -> Result<Answer, ApiError>
where
    Change: Future<Output = Result<(Option<State>, Vec<u8>, bool), ApiError>>,
{
    write_session_if(state, idem, key, WriteConditions::default(), change)
        .await
        .map(|t| t.answer)
}

/// What a write checks before `change` runs, and whether it answers the new state's tag.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteConditions<'a> {
    /// `If-Match` / `If-None-Match`, checked on the stored state under the lock.
    pub pre: Option<&'a Preconditions>,
    /// Compute the committed state's `ETag` (none for a deleted session or a replay, whose
    /// record keeps only the body).
    pub tag: bool,
}

/// [`write_session_keyed`] with [`WriteConditions`].
pub async fn write_session_if<Change>(
    state: &AppState,
    idem: Option<(String, Fingerprint)>,
    key: &SessionKey,
    conditions: WriteConditions<'_>,
    change: impl FnOnce(Option<State>) -> Change,
) -> Result<Tagged, ApiError>
where
    Change: Future<Output = Result<(Option<State>, Vec<u8>, bool), ApiError>>,
{
    let fingerprint = idem.as_ref().map(|(_, f)| *f);
    let mut txn = match begin_session(state, idem, key).await? {
        Begun::Txn(txn) => txn,
        Begun::Replay(body) => return Ok(Tagged::untagged(Answer::Replayed(body))),
    };
    let stored = txn.state.take();
    if let Some(pre) = conditions.pre {
        // Refused: the transaction is dropped, its lock released, nothing written.
        pre.check(stored.as_ref())?;
    }
    let running = change(stored);
    let (new_state, body, record) = keep_lock(state, &mut txn, running).await?;
    if !record {
        txn.idempotency_key = None;
    }
    let etag = match (&new_state, conditions.tag) {
        (Some(s), true) => Some(etag_of(s)?),
        _ => None,
    };
    commit_session(state, fingerprint, txn, new_state, &body).await?;
    Ok(Tagged {
        answer: Answer::Json(body),
        etag,
    })
}

/// Awaits `running` while renewing the transaction's lock as often as the store asks (a turn
/// waiting on a 20 s API call must not lose its commit to the lock's expiry). A failed renewal
/// is logged; the commit then reports the conflict.
async fn keep_lock<T>(
    state: &AppState,
    txn: &mut SessionTxn,
    running: impl Future<Output = T>,
) -> T {
    let Some(every) = state.store.renew_every().filter(|d| !d.is_zero()) else {
        return running.await;
    };
    tokio::pin!(running);
    loop {
        tokio::select! {
            out = &mut running => return out,
            _ = tokio::time::sleep(every) => {
                if let Err(e) = state.store.renew(txn).await {
                    tracing::warn!(error = %e, "could not renew the session lock");
                }
            }
        }
    }
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
            Ok(body) => assert_eq!(body, b"[1,2]"),
            Err(e) => panic!("{e:?}"),
        }
        match replay(&r, b) {
            Err(ApiError::Object { status, .. }) => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(replay(b"junk", a), Err(ApiError::Object { .. })));
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
