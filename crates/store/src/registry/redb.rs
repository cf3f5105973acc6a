//! The registry in an embedded database file (`redb`): the no-Redis mode
//! (`--registry-db`, `docs/custom-actions.md`). One write transaction per change, so the checks
//! of a put and its write are atomic; the file survives restarts. Calls run on tokio's blocking
//! pool.

use super::{checked_put, identity, RegistryError, RegistryFuture, RegistryStore};
use redb::{Database, ReadableTable, TableDefinition};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// `kind \0 id` → the current record (JSON).
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
/// `kind \0 id \0 version (20 digits)` → that version (JSON).
const HISTORY: TableDefinition<&str, &[u8]> = TableDefinition::new("history");
/// `generation` → the change counter.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub struct RedbRegistry {
    db: Arc<Database>,
}

impl std::fmt::Debug for RedbRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbRegistry")
    }
}

fn fail(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unavailable(e.to_string())
}

fn record_key(kind: &str, id: &str) -> String {
    format!("{kind}\0{id}")
}

fn history_key(kind: &str, id: &str, version: u64) -> String {
    format!("{kind}\0{id}\0{version:020}")
}

fn decode(bytes: &[u8]) -> Result<Value, RegistryError> {
    serde_json::from_slice(bytes).map_err(fail)
}

/// Every value whose key starts with `prefix` (which ends with `\0`), in key order.
fn scan(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<Vec<Value>, RegistryError> {
    let end = format!("{}\u{1}", &prefix[..prefix.len() - 1]);
    let mut out = Vec::new();
    for entry in table.range(prefix..end.as_str()).map_err(fail)? {
        let (_, v) = entry.map_err(fail)?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

impl RedbRegistry {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<RedbRegistry, RegistryError> {
        let db = Database::create(path).map_err(fail)?;
        let txn = db.begin_write().map_err(fail)?;
        {
            txn.open_table(RECORDS).map_err(fail)?;
            txn.open_table(HISTORY).map_err(fail)?;
            txn.open_table(META).map_err(fail)?;
        }
        txn.commit().map_err(fail)?;
        Ok(RedbRegistry { db: Arc::new(db) })
    }

    fn blocking<'a, T: Send + 'static>(
        &'a self,
        f: impl FnOnce(&Database) -> Result<T, RegistryError> + Send + 'static,
    ) -> RegistryFuture<'a, T> {
        let db = self.db.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&db))
                .await
                .map_err(fail)?
        })
    }
}

fn bump(txn: &redb::WriteTransaction) -> Result<(), RegistryError> {
    let mut meta = txn.open_table(META).map_err(fail)?;
    let g = meta
        .get("generation")
        .map_err(fail)?
        .map(|g| g.value())
        .unwrap_or(0);
    meta.insert("generation", g + 1).map_err(fail)?;
    Ok(())
}

impl RegistryStore for RedbRegistry {
    fn name(&self) -> &'static str {
        "redb"
    }

    fn list<'a>(&'a self, kind: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        let prefix = format!("{kind}\0");
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(RECORDS).map_err(fail)?;
            scan(&table, &prefix)
        })
    }

    fn get<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Option<Value>> {
        let key = record_key(kind, id);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(RECORDS).map_err(fail)?;
            let got = table.get(key.as_str()).map_err(fail)?;
            got.map(|v| decode(v.value())).transpose()
        })
    }

    fn put<'a>(&'a self, kind: &'a str, record: Value, expected: u64) -> RegistryFuture<'a, Value> {
        let kind = kind.to_string();
        self.blocking(move |db| {
            let (id, _, _) = identity(&record)?;
            let txn = db.begin_write().map_err(fail)?;
            let stored = {
                let mut records = txn.open_table(RECORDS).map_err(fail)?;
                let all = scan(&records, &format!("{kind}\0"))?;
                let current = all
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()));
                let stored = checked_put(record, expected, current, all.iter())?;
                let bytes = serde_json::to_vec(&stored).map_err(fail)?;
                records
                    .insert(record_key(&kind, &id).as_str(), bytes.as_slice())
                    .map_err(fail)?;
                let mut history = txn.open_table(HISTORY).map_err(fail)?;
                history
                    .insert(
                        history_key(&kind, &id, expected + 1).as_str(),
                        bytes.as_slice(),
                    )
                    .map_err(fail)?;
                stored
            };
            bump(&txn)?;
            txn.commit().map_err(fail)?;
            Ok(stored)
        })
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, bool> {
        let key = record_key(kind, id);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(fail)?;
            let existed = {
                let mut records = txn.open_table(RECORDS).map_err(fail)?;
                let existed = records.remove(key.as_str()).map_err(fail)?.is_some();
                let mut history = txn.open_table(HISTORY).map_err(fail)?;
                let start = format!("{key}\0");
                let end = format!("{key}\u{1}");
                let keys: Vec<String> = history
                    .range(start.as_str()..end.as_str())
                    .map_err(fail)?
                    .filter_map(|e| e.ok().map(|(k, _)| k.value().to_string()))
                    .collect();
                for k in keys {
                    history.remove(k.as_str()).map_err(fail)?;
                }
                existed
            };
            if existed {
                bump(&txn)?;
            }
            txn.commit().map_err(fail)?;
            Ok(existed)
        })
    }

    fn history<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        let prefix = format!("{}\0", record_key(kind, id));
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(HISTORY).map_err(fail)?;
            scan(&table, &prefix)
        })
    }

    fn get_version<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        version: u64,
    ) -> RegistryFuture<'a, Option<Value>> {
        let key = history_key(kind, id, version);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(HISTORY).map_err(fail)?;
            let got = table.get(key.as_str()).map_err(fail)?;
            got.map(|v| decode(v.value())).transpose()
        })
    }

    fn generation(&self) -> RegistryFuture<'_, u64> {
        self.blocking(|db| {
            let txn = db.begin_read().map_err(fail)?;
            let meta = txn.open_table(META).map_err(fail)?;
            let g = meta.get("generation").map_err(fail)?.map(|g| g.value());
            Ok(g.unwrap_or(0))
        })
    }
}
