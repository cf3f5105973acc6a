//! A library of reusable sub-flows (`docs/custom-actions.md` § Library sub-flows): a `.vf`
//! component or topic registered once, used from any agent by a `subflow` custom action.
//! Entries have versions and a scope; a step uses the latest `shared` version of its entry, and a
//! session keeps the version it started with (the version is part of every program id).

use super::action::Parameter;
use super::Program;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Who may use a library version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryScope {
    /// Being worked on: never chosen by a step.
    Draft,
    /// Used by steps (the latest shared version wins).
    Shared,
}

/// Where a library entry's flow comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum LibrarySource {
    /// A `.vf` file, relative to the library folder.
    File(String),
    /// A whole `.vf` export inline.
    Inline(Value),
}

/// One version of a library entry, as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryEntry {
    pub id: String,
    /// What `subflow` actions name (`config.entry`).
    pub name: String,
    pub description: String,
    /// `None`: every project; else this project only.
    pub project_id: Option<String>,
    pub scope: LibraryScope,
    pub version: u64,
    pub source: LibrarySource,
    /// The component or topic that starts the sub-flow: its name or diagram id in the export.
    pub diagram: String,
    /// Declared inputs, set as the sub-flow frame's local variables.
    pub inputs: Vec<Parameter>,
    /// Sub-flow variables the caller may map back.
    pub outputs: Vec<String>,
    /// Path names the sub-flow may end on.
    pub paths: Vec<String>,
    /// The sub-flow variable naming the path taken (default `path`).
    pub path_variable: String,
}

/// Why a library entry is refused (the field named).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LibraryError {
    #[error("the library entry has no {0}")]
    Missing(&'static str),
    #[error("the library entry's {0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("diagram {diagram:?} is not a component or topic of the export (has: {known})")]
    NoDiagram { diagram: String, known: String },
    #[error("the export does not compile: {0}")]
    Compile(String),
}

impl LibraryError {
    /// The field the error is about (for an API's 400 answer).
    pub fn field(&self) -> &str {
        match self {
            LibraryError::Missing("config.file or config.source") => "config.source",
            LibraryError::Missing(f) | LibraryError::Invalid(f, _) => f,
            LibraryError::NoDiagram { .. } => "config.diagram",
            LibraryError::Compile(_) => "config.source",
        }
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(v: Option<&Value>, field: &'static str) -> Result<Vec<String>, LibraryError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| LibraryError::Invalid(field, format!("{i} is not a string")))
            })
            .collect(),
        Some(other) => Err(LibraryError::Invalid(
            field,
            format!("{other} is not a list"),
        )),
    }
}

/// `[{key, type, required, default}]`.
pub(crate) fn parameters(
    v: Option<&Value>,
    field: &'static str,
) -> Result<Vec<Parameter>, LibraryError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(LibraryError::Invalid(
                field,
                format!("{other} is not a list"),
            ))
        }
    };
    items
        .iter()
        .map(|p| {
            Ok(Parameter {
                key: text(p, "key")
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| LibraryError::Invalid(field, format!("{p} has no key")))?,
                ty: text(p, "type").unwrap_or_else(|| "string".into()),
                required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                default: p.get("default").cloned(),
            })
        })
        .collect()
}

impl LibraryEntry {
    /// `{id?, name, description?, project_id?, scope?, version?, config: {file | source,
    /// diagram, inputs?, outputs?, paths?, path_variable?}}`.
    pub fn parse(v: &Value) -> Result<LibraryEntry, LibraryError> {
        let name = text(v, "name")
            .filter(|n| !n.is_empty())
            .ok_or(LibraryError::Missing("name"))?;
        let scope = match v.get("scope") {
            None | Some(Value::Null) => LibraryScope::Shared,
            Some(Value::String(s)) if s == "shared" => LibraryScope::Shared,
            Some(Value::String(s)) if s == "draft" => LibraryScope::Draft,
            Some(other) => {
                return Err(LibraryError::Invalid(
                    "scope",
                    format!("{other} (draft, shared)"),
                ))
            }
        };
        let version = match v.get("version") {
            None | Some(Value::Null) => 1,
            Some(n) => n
                .as_u64()
                .ok_or_else(|| LibraryError::Invalid("version", format!("{n} is not a number")))?,
        };
        let project_id = match v.get("project_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(LibraryError::Invalid(
                    "project_id",
                    format!("{other} is not a string"),
                ))
            }
        };
        let config = match v.get("config") {
            Some(c @ Value::Object(_)) => c,
            _ => return Err(LibraryError::Missing("config")),
        };
        let source = match (config.get("file"), config.get("source")) {
            (Some(Value::String(f)), _) if !f.is_empty() => LibrarySource::File(f.clone()),
            (_, Some(s @ Value::Object(_))) => LibrarySource::Inline(s.clone()),
            (Some(f), _) => {
                return Err(LibraryError::Invalid(
                    "config.file",
                    format!("{f} is not a file name"),
                ))
            }
            (None, Some(s)) => {
                return Err(LibraryError::Invalid(
                    "config.source",
                    format!("{s} is not an export object"),
                ))
            }
            (None, None) => return Err(LibraryError::Missing("config.file or config.source")),
        };
        Ok(LibraryEntry {
            id: text(v, "id").unwrap_or_else(|| format!("{name}@{version}")),
            description: text(v, "description").unwrap_or_default(),
            project_id,
            scope,
            version,
            source,
            diagram: text(config, "diagram")
                .filter(|d| !d.is_empty())
                .ok_or(LibraryError::Missing("config.diagram"))?,
            inputs: parameters(config.get("inputs"), "config.inputs")?,
            outputs: strings(config.get("outputs"), "config.outputs")?,
            paths: strings(config.get("paths"), "config.paths")?,
            path_variable: text(config, "path_variable")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "path".into()),
            name,
        })
    }

    /// The declaration as JSON (what [`LibraryEntry::parse`] reads).
    pub fn to_json(&self) -> Value {
        let mut config = Map::new();
        match &self.source {
            LibrarySource::File(f) => config.insert("file".into(), json!(f)),
            LibrarySource::Inline(s) => config.insert("source".into(), s.clone()),
        };
        config.insert("diagram".into(), json!(self.diagram));
        config.insert(
            "inputs".into(),
            self.inputs
                .iter()
                .map(|p| {
                    let mut o = json!({ "key": p.key, "type": p.ty, "required": p.required });
                    if let Some(d) = &p.default {
                        o["default"] = d.clone();
                    }
                    o
                })
                .collect(),
        );
        config.insert("outputs".into(), json!(self.outputs));
        config.insert("paths".into(), json!(self.paths));
        config.insert("path_variable".into(), json!(self.path_variable));
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "project_id": self.project_id,
            "scope": match self.scope { LibraryScope::Draft => "draft", LibraryScope::Shared => "shared" },
            "version": self.version,
            "config": config,
        })
    }

    /// The prefix of this version's program ids: `lib:<name>@<version>:`.
    pub fn program_prefix(&self) -> String {
        format!("lib:{}@{}:", self.name, self.version)
    }
}

/// One compiled version of an entry: its programs under namespaced ids.
#[derive(Debug, Clone)]
pub struct LibraryVersion {
    pub entry: LibraryEntry,
    /// The program the sub-flow starts in (`lib:<name>@<version>:<diagramID>`).
    pub start: String,
    pub programs: HashMap<String, Arc<Program>>,
}

/// Every loaded version of every library entry.
#[derive(Debug, Clone, Default)]
pub struct Library {
    by_name: HashMap<String, Vec<Arc<LibraryVersion>>>,
    programs: HashMap<String, Arc<Program>>,
}

impl Library {
    /// A version declared twice (same name and version: their program ids would clash) keeps
    /// the first.
    pub fn new(versions: Vec<LibraryVersion>) -> Library {
        Library::from_shared(versions.into_iter().map(Arc::new))
    }

    /// [`Library::new`] of versions already shared (a server's cache of compiled versions).
    pub fn from_shared(versions: impl IntoIterator<Item = Arc<LibraryVersion>>) -> Library {
        let mut lib = Library::default();
        for v in versions {
            let list = lib.by_name.entry(v.entry.name.clone()).or_default();
            if list.iter().any(|o| o.entry.version == v.entry.version) {
                continue;
            }
            for (id, p) in &v.programs {
                lib.programs.insert(id.clone(), p.clone());
            }
            list.push(v);
        }
        lib
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every loaded version, by name then version.
    pub fn versions(&self) -> impl Iterator<Item = &Arc<LibraryVersion>> {
        self.by_name.values().flatten()
    }

    /// The versions of `name`.
    fn visible(&self, name: &str) -> &[Arc<LibraryVersion>] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The highest shared version of `name` that `project_id` sees.
    pub fn latest_shared(&self, name: &str, project_id: &str) -> Option<&Arc<LibraryVersion>> {
        self.visible(name)
            .iter()
            .filter(|v| sees(v, project_id) && v.entry.scope == LibraryScope::Shared)
            .max_by_key(|v| v.entry.version)
    }

    /// Version `version` of `name` that `project_id` sees (any scope: a pinned version stays
    /// usable).
    pub fn version(
        &self,
        name: &str,
        version: u64,
        project_id: &str,
    ) -> Option<&Arc<LibraryVersion>> {
        self.visible(name)
            .iter()
            .find(|v| sees(v, project_id) && v.entry.version == version)
    }

    /// A library program by its namespaced id.
    pub fn program(&self, id: &str) -> Option<&Arc<Program>> {
        if self.programs.is_empty() {
            return None;
        }
        self.programs.get(id)
    }
}

fn sees(v: &LibraryVersion, project_id: &str) -> bool {
    v.entry.project_id.is_none() || v.entry.project_id.as_deref() == Some(project_id)
}
