//! The registry: named JSON records of a *kind* (`"actions"` for custom actions, `"library"` for
//! library sub-flows), keyed by id, with every version kept so a record can be rolled back
//! (`docs/custom-actions.md` § Persistence).
//!
//! A record is a JSON object with at least `id` (string), `name` (string), `project_id` (a
//! string, or null/absent for every project) and `version` (set by the store). The store checks
//! nothing else: the caller validates (`flowdm_model::ServerAction::parse` for actions).
//!
//! [`RegistryStore`] is object safe and asynchronous like [`crate::SessionStore`]:
//! [`MemoryRegistry`] (tests, the in-memory mode without a database), [`RedbRegistry`] (an
//! embedded database file, the no-Redis mode) and [`RedisRegistry`] (a server run with Redis).
//! Every change bumps a store-wide *generation*, which servers sharing the store poll to learn
//! that their snapshot is stale.

mod memory;
mod redb;
mod redis;

pub use self::memory::MemoryRegistry;
pub use self::redb::RedbRegistry;
pub use self::redis::RedisRegistry;

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// Why a registry operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The backend cannot be reached or failed (HTTP 503); nothing was changed.
    #[error("registry store unavailable: {0}")]
    Unavailable(String),
    /// Another record of the same kind has this name in the same scope (HTTP 409).
    #[error("a record named {name:?} already exists in this scope (id {id:?})")]
    NameTaken { name: String, id: String },
    /// A record with this id already exists (create; HTTP 409).
    #[error("a record with id {0:?} already exists")]
    IdTaken(String),
    /// The record changed since it was read (an update raced another one; HTTP 409).
    #[error("the record changed meanwhile (now version {current}); read it again")]
    Stale { current: u64 },
    /// No record of this id (HTTP 404).
    #[error("no record with id {0:?}")]
    NotFound(String),
    /// The record is not a JSON object with a string `id` and `name`.
    #[error("invalid record: {0}")]
    Invalid(String),
}

pub type RegistryFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'a>>;

/// Persisted records of several kinds, with their history.
pub trait RegistryStore: Send + Sync {
    /// `memory`, `redb`, `redis`.
    fn name(&self) -> &'static str;
    /// The current version of every record of `kind`, ordered by id.
    fn list<'a>(&'a self, kind: &'a str) -> RegistryFuture<'a, Vec<Value>>;
    /// The current version of one record.
    fn get<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Option<Value>>;
    /// Writes `record` (its `id` says which) as version `expected + 1`: `expected` 0 creates it
    /// (refused when the id exists: [`RegistryError::IdTaken`]); else the current version must
    /// be `expected` ([`RegistryError::Stale`], [`RegistryError::NotFound`]). Refused when
    /// another record of the kind has the same `name` and `project_id`
    /// ([`RegistryError::NameTaken`]). The version is appended to the record's history and the
    /// stored record (its `version` set) returned.
    fn put<'a>(&'a self, kind: &'a str, record: Value, expected: u64) -> RegistryFuture<'a, Value>;
    /// Removes a record and its history; `false` when there was none.
    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, bool>;
    /// Every version of a record, oldest first (empty: no such record).
    fn history<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Vec<Value>>;
    /// One version of a record.
    fn get_version<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        version: u64,
    ) -> RegistryFuture<'a, Option<Value>>;
    /// A number that changes with every change of any record (polled by servers sharing the
    /// store).
    fn generation(&self) -> RegistryFuture<'_, u64>;
}

/// The `(id, name, project_id)` of a record, or why it is no record.
pub(crate) fn identity(record: &Value) -> Result<(String, String, Option<String>), RegistryError> {
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RegistryError::Invalid("no id".into()))?;
    let name = record
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RegistryError::Invalid("no name".into()))?;
    let scope = record
        .get("project_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((id.into(), name.into(), scope))
}

fn version_of(record: &Value) -> u64 {
    record.get("version").and_then(Value::as_u64).unwrap_or(0)
}

/// The check and the new record of a put, shared by the backends that hold the records in
/// Rust: `current` is the stored record of the id, `others` every record of the kind.
pub(crate) fn checked_put<'a>(
    mut record: Value,
    expected: u64,
    current: Option<&Value>,
    others: impl Iterator<Item = &'a Value>,
) -> Result<Value, RegistryError> {
    let (id, name, scope) = identity(&record)?;
    match (expected, current) {
        (0, Some(_)) => return Err(RegistryError::IdTaken(id)),
        (0, None) => {}
        (_, None) => return Err(RegistryError::NotFound(id)),
        (e, Some(cur)) if version_of(cur) != e => {
            return Err(RegistryError::Stale {
                current: version_of(cur),
            })
        }
        _ => {}
    }
    for other in others {
        if let Ok((oid, oname, oscope)) = identity(other) {
            if oid != id && oname == name && oscope == scope {
                return Err(RegistryError::NameTaken { name, id: oid });
            }
        }
    }
    if let Some(obj) = record.as_object_mut() {
        obj.insert("version".into(), Value::from(expected + 1));
    }
    Ok(record)
}
