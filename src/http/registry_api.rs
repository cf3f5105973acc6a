//! The routes every registry kind shares (`/api/custom-actions`, `/api/library`;
//! `docs/custom-actions.md` § Management API): list, get, create, PATCH, delete, versions,
//! rollback and clone, generic over [`Managed`] (one implementation per kind: the record's
//! validator, its file declarations, its own rules). Behind the admin key ([`manage::admin`]);
//! every answer in the management envelope. Records declared in files are listed and readable but
//! read-only (409 `read_only`), and no stored record may take a file record's id or its name in
//! its scope. Every change rebuilds the live snapshot, so the next turn uses it.

use super::errors::ApiError;
use super::limits::JsonBody;
use super::manage::{self, admin, success, ManageError};
use super::state::AppState;
use crate::live_registry::LiveRegistry;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::future::Future;

pub type Body = Result<JsonBody, ApiError>;
pub type Answer = Result<HttpResponse, ManageError>;

/// Fields a PATCH or a create cannot set (the store and the server keep them).
const KEPT: [&str; 4] = ["version", "created_at", "updated_at", "source"];

/// A kind of record managed through the API.
pub trait Managed: Sized {
    /// The registry store's kind.
    const KIND: &'static str;
    /// What one record is called in messages (`custom action`).
    const WHAT: &'static str;
    /// The prefix of generated ids.
    const ID_PREFIX: &'static str;
    /// The option whose folder declares read-only records (`--actions-dir`).
    const FILES: &'static str;
    /// A name is unique in every scope, not only in its own project.
    const NAME_IN_EVERY_SCOPE: bool = false;

    /// The one validator (files, API, store); 400 naming the field.
    fn parse(doc: &Value) -> Result<Self, ManageError>;
    /// [`Managed::parse`]'s inverse: the record stored.
    fn to_json(&self) -> Value;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn project_id(&self) -> Option<&str>;
    /// Every file declaration (a version each) as JSON.
    fn files(live: &LiveRegistry) -> Vec<Value>;
    /// A PATCH's changes checked before anything is read; `true`: `config`'s fields merge
    /// (else a given `config` replaces the stored one).
    fn patch_rules(_changes: &Map<String, Value>) -> Result<bool, ManageError> {
        Ok(true)
    }
    /// A PATCH's changes checked against the current record.
    fn patch_current(_current: &Value, _changes: &Map<String, Value>) -> Result<(), ManageError> {
        Ok(())
    }
    /// Checks a record about to be written through the API needs beyond parsing.
    fn admit(self) -> impl Future<Output = Result<Self, ManageError>> {
        async { Ok(self) }
    }
}

#[derive(Debug, Deserialize)]
pub struct IdPath {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    project_id: Option<String>,
}

fn with_source(mut v: Value, source: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("source".into(), Value::String(source.into()));
    }
    v
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn version_of(v: &Value) -> u64 {
    v.get("version").and_then(Value::as_u64).unwrap_or(0)
}

/// A positive whole number (`3` or `3.0`, within the model's range: [`flowdm_model::whole`]).
pub fn positive(v: &Value) -> Option<u64> {
    flowdm_model::whole(v)
        .filter(|n| *n > 0)
        .and_then(|n| u64::try_from(n).ok())
}

/// The file declarations of `id`, oldest version first (empty: no file record).
fn file_versions<T: Managed>(data: &AppState, id: &str) -> Vec<Value> {
    let mut all: Vec<Value> = T::files(&data.live)
        .into_iter()
        .filter(|v| str_of(v, "id") == id)
        .collect();
    all.sort_by_key(version_of);
    all
}

/// The current declaration of the file record `id` (its highest version; the first of equals).
fn file_record<T: Managed>(data: &AppState, id: &str) -> Option<Value> {
    let all = file_versions::<T>(data, id);
    let top = all.iter().map(version_of).max()?;
    all.into_iter().find(|v| version_of(v) == top)
}

fn read_only<T: Managed>(id: &str) -> ManageError {
    ManageError::new(
        StatusCode::CONFLICT,
        "read_only",
        format!(
            "the {} {id:?} is declared in {}: change its file instead",
            T::WHAT,
            T::FILES
        ),
    )
}

fn duplicate_name(message: String) -> ManageError {
    ManageError {
        field: Some("name".into()),
        ..ManageError::new(StatusCode::CONFLICT, "duplicate_name", message)
    }
}

/// A stored record may not take a file record's id, nor its name in the same scope (every
/// scope for [`Managed::NAME_IN_EVERY_SCOPE`]).
fn against_files<T: Managed>(data: &AppState, item: &T) -> Result<(), ManageError> {
    for f in T::files(&data.live) {
        let (id, name) = (str_of(&f, "id"), str_of(&f, "name"));
        if id == item.id() {
            return Err(ManageError {
                field: Some("id".into()),
                ..ManageError::new(
                    StatusCode::CONFLICT,
                    "duplicate_id",
                    format!("the id {:?} belongs to a {} of {}", id, T::WHAT, T::FILES),
                )
            });
        }
        let scope = f.get("project_id").and_then(Value::as_str);
        if name == item.name() && (T::NAME_IN_EVERY_SCOPE || scope == item.project_id()) {
            return Err(duplicate_name(format!(
                "a {} of {} is named {:?} in this scope (id {:?})",
                T::WHAT,
                T::FILES,
                name,
                id
            )));
        }
    }
    Ok(())
}

/// Rebuilds the live snapshot after a change (a failure is logged: the ~1 s poll retries).
async fn changed(data: &AppState) {
    if let Err(error) = data.live.reload().await {
        tracing::warn!(%error, "registry snapshot not rebuilt after a change");
    }
}

/// The stored record of `id`, or `None` (a file record, or nothing).
async fn stored<T: Managed>(data: &AppState, id: &str) -> Result<Option<Value>, ManageError> {
    Ok(data.live.store.get(T::KIND, id).await?)
}

/// The record of `id`, stored or declared in a file, as JSON with its `source`.
pub async fn find<T: Managed>(data: &AppState, id: &str) -> Result<Value, ManageError> {
    if let Some(f) = file_record::<T>(data, id) {
        return Ok(with_source(f, "file"));
    }
    match stored::<T>(data, id).await? {
        Some(v) => Ok(with_source(v, "api")),
        None => Err(ManageError::not_found(T::WHAT, id)),
    }
}

/// Writes `item` as version `expected + 1` and rebuilds the snapshot.
async fn put<T: Managed>(data: &AppState, item: T, expected: u64) -> Result<Value, ManageError> {
    against_files(data, &item)?;
    if T::NAME_IN_EVERY_SCOPE {
        for other in data.live.store.list(T::KIND).await? {
            if str_of(&other, "name") == item.name() && str_of(&other, "id") != item.id() {
                return Err(duplicate_name(format!(
                    "a {} is already named {:?} (id {:?}): names are unique in every scope",
                    T::WHAT,
                    item.name(),
                    str_of(&other, "id")
                )));
            }
        }
    }
    let item = item.admit().await?;
    let stored = data
        .live
        .store
        .put(T::KIND, item.to_json(), expected)
        .await?;
    changed(data).await;
    Ok(with_source(stored, "api"))
}

/// `GET /api/…[?project_id=]`: every record (file and stored); with `project_id`, those that
/// apply to it (its own and the shared ones). By `display_order`, then name.
pub async fn list<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Answer {
    admin(&req, &data)?;
    let mut all: Vec<Value> = Vec::new();
    for f in T::files(&data.live) {
        let id = str_of(&f, "id").to_string();
        match all.iter_mut().find(|v| str_of(v, "id") == id) {
            Some(v) if version_of(&f) > version_of(v) => *v = with_source(f, "file"),
            Some(_) => {}
            None => all.push(with_source(f, "file")),
        }
    }
    let files: Vec<String> = all.iter().map(|v| str_of(v, "id").to_string()).collect();
    for v in data.live.store.list(T::KIND).await? {
        if !files.iter().any(|f| f == str_of(&v, "id")) {
            all.push(with_source(v, "api"));
        }
    }
    if let Some(p) = q.project_id.as_deref() {
        all.retain(|v| match v.get("project_id") {
            Some(Value::String(s)) => s == p,
            _ => true,
        });
    }
    let key = |v: &Value| {
        (
            v.get("display_order").and_then(Value::as_i64).unwrap_or(0),
            str_of(v, "name").to_string(),
            str_of(v, "id").to_string(),
        )
    };
    all.sort_by_key(key);
    Ok(success(StatusCode::OK, Value::Array(all)))
}

/// `GET /api/…/{id}`.
pub async fn get<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> Answer {
    admin(&req, &data)?;
    Ok(success(StatusCode::OK, find::<T>(&data, &path.id).await?))
}

/// `POST /api/…`: 201 with the stored record (version 1).
pub async fn create<T: Managed>(req: HttpRequest, data: web::Data<AppState>, body: Body) -> Answer {
    admin(&req, &data)?;
    let mut doc = manage::object(body)?;
    for k in KEPT {
        doc.remove(k);
    }
    if doc.get("id").is_none_or(Value::is_null) {
        doc.insert("id".into(), Value::String(manage::new_id(T::ID_PREFIX)));
    }
    let now = manage::now();
    doc.insert("created_at".into(), Value::String(now.clone()));
    doc.insert("updated_at".into(), Value::String(now));
    let item = T::parse(&Value::Object(doc))?;
    Ok(success(StatusCode::CREATED, put(&data, item, 0).await?))
}

/// `PATCH /api/…/{id}`: the given top-level fields replace the stored ones, `config`'s fields
/// are merged (a `null` removes one) unless [`Managed::patch_rules`] says otherwise; validated
/// again; a new version. A `version` in the body is the one the change was made on (409
/// `conflict` when it is no longer the current one).
pub async fn patch<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let changes = manage::object(body)?;
    let merge_config = T::patch_rules(&changes)?;
    if file_record::<T>(&data, &path.id).is_some() {
        return Err(read_only::<T>(&path.id));
    }
    let current = stored::<T>(&data, &path.id)
        .await?
        .ok_or_else(|| ManageError::not_found(T::WHAT, &path.id))?;
    T::patch_current(&current, &changes)?;
    let current_version = version_of(&current);
    let expected = match changes.get("version") {
        None | Some(Value::Null) => current_version,
        Some(v) => positive(v)
            .ok_or_else(|| ManageError::invalid("version", "version must be a positive integer"))?,
    };
    let mut doc = match current {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in changes {
        if KEPT.contains(&k.as_str()) {
            continue;
        }
        if k == "id" && v.as_str() != Some(path.id.as_str()) {
            return Err(ManageError::invalid(
                "id",
                format!("the id of a {} cannot change", T::WHAT),
            ));
        }
        match (k.as_str(), v, doc.get_mut("config")) {
            ("config", Value::Object(new), Some(Value::Object(old))) if merge_config => {
                for (ck, cv) in new {
                    if cv.is_null() {
                        old.remove(&ck);
                    } else {
                        old.insert(ck, cv);
                    }
                }
            }
            (_, v, _) => {
                doc.insert(k, v);
            }
        }
    }
    doc.insert("updated_at".into(), Value::String(manage::now()));
    let item = T::parse(&Value::Object(doc))?;
    Ok(success(StatusCode::OK, put(&data, item, expected).await?))
}

/// `DELETE /api/…/{id}`: the record and its versions.
pub async fn delete<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> Answer {
    admin(&req, &data)?;
    if file_record::<T>(&data, &path.id).is_some() {
        return Err(read_only::<T>(&path.id));
    }
    if !data.live.store.delete(T::KIND, &path.id).await? {
        return Err(ManageError::not_found(T::WHAT, &path.id));
    }
    changed(&data).await;
    Ok(success(
        StatusCode::OK,
        json!({ "id": path.id, "deleted": true }),
    ))
}

/// `GET /api/…/{id}/versions`: every version, oldest first (a file record: its declarations).
pub async fn versions<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
) -> Answer {
    admin(&req, &data)?;
    let files = file_versions::<T>(&data, &path.id);
    if !files.is_empty() {
        let all = files.into_iter().map(|v| with_source(v, "file")).collect();
        return Ok(success(StatusCode::OK, Value::Array(all)));
    }
    let all = data.live.store.history(T::KIND, &path.id).await?;
    if all.is_empty() {
        return Err(ManageError::not_found(T::WHAT, &path.id));
    }
    let all = all.into_iter().map(|v| with_source(v, "api")).collect();
    Ok(success(StatusCode::OK, Value::Array(all)))
}

/// `POST /api/…/{id}/rollback` `{version}`: a new version equal to that one.
pub async fn rollback<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let version = body
        .get("version")
        .and_then(positive)
        .ok_or_else(|| ManageError::invalid("version", "version must be a positive integer"))?;
    if file_record::<T>(&data, &path.id).is_some() {
        return Err(read_only::<T>(&path.id));
    }
    let current = stored::<T>(&data, &path.id)
        .await?
        .ok_or_else(|| ManageError::not_found(T::WHAT, &path.id))?;
    let mut old = data
        .live
        .store
        .get_version(T::KIND, &path.id, version)
        .await?
        // A 400 naming the field: the record exists (a 404 would say it does not).
        .ok_or_else(|| {
            ManageError::invalid(
                "version",
                format!("the {} {:?} has no version {version}", T::WHAT, path.id),
            )
        })?;
    if let Some(o) = old.as_object_mut() {
        o.insert(
            "created_at".into(),
            current.get("created_at").cloned().unwrap_or(Value::Null),
        );
        o.insert("updated_at".into(), Value::String(manage::now()));
    }
    let item = T::parse(&old)?;
    Ok(success(
        StatusCode::OK,
        put(&data, item, version_of(&current)).await?,
    ))
}

/// `POST /api/…/{id}/clone` `{name?, project_id?}`: 201 with a new record (a new id, version 1;
/// default name `<name> (copy)`, default scope the original's).
pub async fn clone<T: Managed>(
    req: HttpRequest,
    data: web::Data<AppState>,
    path: web::Path<IdPath>,
    body: Body,
) -> Answer {
    admin(&req, &data)?;
    let body = manage::object(body)?;
    let source = T::parse(&find::<T>(&data, &path.id).await?)?;
    let mut doc = source.to_json();
    let name = match body.get("name") {
        None | Some(Value::Null) => format!("{} (copy)", source.name()),
        Some(Value::String(n)) => n.clone(),
        Some(_) => return Err(ManageError::invalid("name", "name must be a string")),
    };
    let now = manage::now();
    if let Some(o) = doc.as_object_mut() {
        o.insert("id".into(), Value::String(manage::new_id(T::ID_PREFIX)));
        o.insert("name".into(), Value::String(name));
        o.insert("created_at".into(), Value::String(now.clone()));
        o.insert("updated_at".into(), Value::String(now));
        if let Some(p) = body.get("project_id") {
            o.insert("project_id".into(), p.clone());
        }
    }
    let item = T::parse(&doc)?;
    Ok(success(StatusCode::CREATED, put(&data, item, 0).await?))
}

/// The shared routes of a kind under `base`: `GET/POST base`, `GET/PATCH/DELETE base/{id}`,
/// `GET base/{id}/versions`, `POST base/{id}/rollback`, `POST base/{id}/clone`.
pub fn routes<T: Managed + 'static>(base: &'static str) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let one = format!("{base}/{{id}}");
        cfg.route(base, web::get().to(list::<T>))
            .route(base, web::post().to(create::<T>))
            .route(&one, web::get().to(get::<T>))
            .route(&one, web::patch().to(patch::<T>))
            .route(&one, web::delete().to(delete::<T>))
            .route(&format!("{one}/versions"), web::get().to(versions::<T>))
            .route(&format!("{one}/rollback"), web::post().to(rollback::<T>))
            .route(&format!("{one}/clone"), web::post().to(clone::<T>));
    }
}
