//! `/api/library`: the management API of the library of sub-flows (`docs/custom-actions.md`
//! § Library sub-flows). The routes every kind shares are [`super::registry_api`]'s, over this
//! [`Managed`] implementation (kind `"library"`, files of `--library-dir`); here the rules of
//! library entries and the `test` route.
//!
//! A record version is an entry version (each create, PATCH and rollback writes one, with its own
//! `scope`); the export travels inline in `config.source` (`config.file` is for `--library-dir`
//! alone: 400); every version written must compile (400 naming `config.source`,
//! `config.diagram`, …); a name is unique in every scope (the programs of a version are named
//! `lib:<name>@<version>:…`) and cannot change.

use super::manage::{self, admin, success, ManageError};
use super::registry_api::{find, Answer, Body, IdPath, Managed};
use super::state::AppState;
use crate::live_registry::{LiveRegistry, LIBRARY};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use flowdm_model::{LibraryEntry, LibraryError, LibrarySource};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// One version of a library entry as the API keeps it: the entry and its timestamps.
pub struct Entry {
    entry: LibraryEntry,
    created_at: Value,
    updated_at: Value,
}

fn invalid(e: &LibraryError) -> ManageError {
    ManageError::invalid(e.field().to_string(), e.to_string())
}

fn no_file() -> ManageError {
    ManageError::invalid(
        "config.file",
        "an entry given through the API carries its export inline in config.source (config.file is for --library-dir)",
    )
}

/// The entry compiled (on the blocking pool), with the compiler's findings; `dir` reads a file
/// entry's `config.file`.
async fn compiled(
    entry: LibraryEntry,
    dir: Option<PathBuf>,
) -> Result<(flowdm_model::LibraryVersion, Vec<Value>), ManageError> {
    let job = move || {
        let export = match (&entry.source, dir) {
            (LibrarySource::Inline(s), _) => s.clone(),
            (LibrarySource::File(f), Some(dir)) => std::fs::read(dir.join(f))
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                .map_err(|reason| ManageError::invalid("config.file", reason))?,
            (LibrarySource::File(_), None) => return Err(no_file()),
        };
        let (version, diagnostics) =
            flowdm_compile::library::compile_entry_with_diagnostics(entry, &export)
                .map_err(|e| invalid(&e))?;
        let diagnostics = diagnostics
            .iter()
            .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
            .collect();
        Ok((version, diagnostics))
    };
    tokio::task::spawn_blocking(job).await.map_err(|panic| {
        tracing::error!(%panic, "compiling a library entry panicked");
        ManageError::invalid("config.source", "the export could not be compiled")
    })?
}

/// What [`LibraryEntry::parse`] reads leniently (a file's mistakes default), checked for the
/// API: each field of its JSON type, an id usable in a path, input types from the list.
fn check_types(doc: &Value) -> Result<(), ManageError> {
    let kind = |v: Option<&Value>, field: &str, ok: fn(&Value) -> bool, what: &str| match v {
        None | Some(Value::Null) => Ok(()),
        Some(x) if ok(x) => Ok(()),
        Some(_) => Err(ManageError::invalid(
            field,
            format!("{field} must be {what}"),
        )),
    };
    if !doc.is_object() {
        return Err(ManageError::invalid(
            "body",
            "a library entry is a JSON object",
        ));
    }
    for f in ["id", "name", "description", "created_at", "updated_at"] {
        kind(doc.get(f), f, Value::is_string, "a string")?;
    }
    if let Some(id) = doc.get("id").and_then(Value::as_str) {
        if id.is_empty() || id.len() > 200 || id.contains(['/', '?', '#']) {
            return Err(ManageError::invalid(
                "id",
                "id must be 1-200 characters without '/', '?' or '#'",
            ));
        }
    }
    let config = doc.get("config");
    kind(
        config.and_then(|c| c.get("path_variable")),
        "config.path_variable",
        Value::is_string,
        "a string",
    )?;
    let inputs = config
        .and_then(|c| c.get("inputs"))
        .and_then(Value::as_array);
    for p in inputs.into_iter().flatten() {
        kind(
            p.get("type"),
            "config.inputs",
            |t| {
                matches!(
                    t.as_str(),
                    Some("string" | "number" | "boolean" | "object" | "array")
                )
            },
            "string, number, boolean, object or array (type)",
        )?;
        kind(
            p.get("required"),
            "config.inputs",
            Value::is_boolean,
            "a boolean (required)",
        )?;
    }
    Ok(())
}

impl Managed for Entry {
    const KIND: &'static str = LIBRARY;
    const WHAT: &'static str = "library entry";
    const ID_PREFIX: &'static str = "lib";
    const FILES: &'static str = "--library-dir";
    const NAME_IN_EVERY_SCOPE: bool = true;

    fn parse(doc: &Value) -> Result<Entry, ManageError> {
        check_types(doc)?;
        Ok(Entry {
            entry: LibraryEntry::parse(doc).map_err(|e| invalid(&e))?,
            created_at: doc.get("created_at").cloned().unwrap_or(Value::Null),
            updated_at: doc.get("updated_at").cloned().unwrap_or(Value::Null),
        })
    }

    fn to_json(&self) -> Value {
        let mut v = self.entry.to_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("created_at".into(), self.created_at.clone());
            o.insert("updated_at".into(), self.updated_at.clone());
        }
        v
    }

    fn id(&self) -> &str {
        &self.entry.id
    }

    fn name(&self) -> &str {
        &self.entry.name
    }

    fn project_id(&self) -> Option<&str> {
        self.entry.project_id.as_deref()
    }

    fn files(live: &LiveRegistry) -> Vec<Value> {
        live.files()
            .library
            .iter()
            .map(|v| v.entry.to_json())
            .collect()
    }

    /// The name is what `subflow` actions name and part of every program id: it cannot change.
    fn patch_current(current: &Value, changes: &Map<String, Value>) -> Result<(), ManageError> {
        match changes.get("name") {
            Some(n) if Some(n) != current.get("name") => Err(ManageError::invalid(
                "name",
                "the name of a library entry cannot change (clone it under the new name)",
            )),
            _ => Ok(()),
        }
    }

    /// The export inline, and it compiles.
    async fn admit(self) -> Result<Entry, ManageError> {
        if let LibrarySource::File(_) = self.entry.source {
            return Err(no_file());
        }
        compiled(self.entry.clone(), None).await?;
        Ok(self)
    }
}

/// `POST /api/library/{id}/test` `{…fields to try}?`: the entry (its current version, with the
/// body's fields over it as a PATCH would: `config`'s merged) compiled; nothing stored.
/// `{start, programs, inputs, outputs, paths, diagnostics}`.
pub async fn test(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let changes = manage::object(body)?;
    if changes
        .get("config")
        .and_then(|c| c.get("file"))
        .is_some_and(|f| !f.is_null())
    {
        return Err(no_file());
    }
    let current = find::<Entry>(&data, &path.id).await?;
    let is_file = current.get("source").and_then(Value::as_str) == Some("file");
    let mut doc = match current {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in changes {
        match (k.as_str(), v, doc.get_mut("config")) {
            ("config", Value::Object(new), Some(Value::Object(old))) => {
                for (ck, cv) in new {
                    if cv.is_null() {
                        old.remove(&ck);
                    } else {
                        old.insert(ck, cv);
                    }
                }
            }
            ("id" | "version" | "source" | "created_at" | "updated_at", _, _) => {}
            (_, v, _) => {
                doc.insert(k, v);
            }
        }
    }
    let entry = Entry::parse(&Value::Object(doc))?.entry;
    let dir = is_file.then(|| data.live.library_dir.clone());
    let (version, diagnostics) = compiled(entry, dir).await?;
    let mut programs: Vec<&String> = version.programs.keys().collect();
    programs.sort();
    let inputs = version
        .entry
        .to_json()
        .pointer("/config/inputs")
        .cloned()
        .unwrap_or_else(|| json!([]));
    Ok(success(
        StatusCode::OK,
        json!({
            "start": version.start,
            "programs": programs,
            "inputs": inputs,
            "outputs": version.entry.outputs,
            "paths": version.entry.paths,
            "diagnostics": diagnostics,
        }),
    ))
}
