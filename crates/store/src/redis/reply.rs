//! Redis errors as store errors, and the replies of the store's pipelines.

use crate::StoreError;
use redis::{RedisError, Value as RValue};

/// A readable reason for a Redis error, without any URL (it may hold a password).
pub(super) fn describe(e: &RedisError) -> String {
    let text = e.to_string();
    if text.contains("://") {
        format!("{:?} error", e.kind())
    } else {
        text
    }
}

/// Whether the connection that gave `e` should be thrown away.
pub(super) fn is_broken(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

pub(super) fn unavailable(e: &RedisError) -> StoreError {
    StoreError::Unavailable(format!("Redis error: {}", describe(e)))
}

pub(super) fn pool_error(e: deadpool_redis::PoolError) -> StoreError {
    use deadpool_redis::PoolError;
    let why = match e {
        PoolError::Timeout(_) => "connecting timed out".to_string(),
        PoolError::Backend(e) => {
            let t = e.to_string();
            if t.contains("://") {
                "connection failed".into()
            } else {
                t
            }
        }
        PoolError::Closed => "the pool is closed".into(),
        other => other.to_string(),
    };
    StoreError::Unavailable(format!("cannot connect to Redis: {why}"))
}

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(super) fn bytes(v: RValue) -> Option<Vec<u8>> {
    match v {
        RValue::BulkString(b) => Some(b),
        RValue::SimpleString(s) => Some(s.into_bytes()),
        RValue::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// The first server error among pipeline replies.
pub(super) fn server_error(replies: &[RValue]) -> Option<RedisError> {
    replies.iter().find_map(|r| match r {
        RValue::ServerError(e) => Some(RedisError::from(e.clone())),
        _ => None,
    })
}

pub(super) fn is_noscript(e: &RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

/// What the begin pipeline answered.
pub(super) enum BeginReply {
    /// The idempotency record; `locked`: the lock was taken too (to release).
    Replay {
        response: Vec<u8>,
        locked: bool,
    },
    Locked {
        version: String,
        data: Option<Vec<u8>>,
    },
    Busy,
}

pub(super) fn parse_begin(
    replies: Vec<RValue>,
    with_record: bool,
) -> Result<BeginReply, StoreError> {
    if let Some(e) = server_error(&replies) {
        return Err(unavailable(&e));
    }
    let mut it = replies.into_iter();
    let record = if with_record {
        it.next().and_then(bytes)
    } else {
        None
    };
    let locked = matches!(it.next(), Some(RValue::Okay | RValue::SimpleString(_)));
    if let Some(response) = record {
        return Ok(BeginReply::Replay { response, locked });
    }
    if !locked {
        return Ok(BeginReply::Busy);
    }
    let version = it
        .next()
        .and_then(bytes)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|| "0".into());
    Ok(BeginReply::Locked {
        version,
        data: it.next().and_then(bytes),
    })
}
