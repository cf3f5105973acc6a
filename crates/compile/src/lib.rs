//! The `.vf` compiler: creator exports of every generation (2021 `ports[]`, 2022–23 `portsV2`,
//! 2024 CMS tables and `programResources`, 2025 v3 steps) → a `.vfr` runtime document
//! `{_version, project, version, programs}` plus [`Diagnostic`]s, then [`flowdm_model::load_vfr`]
//! runs it — so `flowdm compile` writes exactly what `flowdm serve` executes.
//!
//! Layout: [`ports`] (blocks, containers, exits), [`content`] (Slate, tokens, markup),
//! [`expr`] (conditions and assignments), [`names`] (id → name), [`nlu`] (intents and slots),
//! [`cms`] (CMS messages), `steps/` (one module per step family), [`diagnostics`].
//! Source ids are preserved: program ids are diagram ids, line ids are step ids.

pub mod cli;
pub mod cms;
pub mod content;
pub mod diagnostics;
pub mod expr;
mod functions;
pub mod library;
pub mod names;
pub mod nlu;
pub mod ports;
mod steps;

pub use diagnostics::{Counts, Diagnostic, Severity};

use names::Names;
use ports::{Diagram, Exit, Target};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// Which creator generation a file comes from (`spec/vf-format.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Generation {
    /// 2020–21: `ports[]`, no `version._version`.
    V2021,
    /// 2022: `portsV2` appears, `version._version` < 4.
    V2022,
    /// 2023: `version._version` 4.x.
    V2023,
    /// 2024: CMS tables, `version._version` 5–11.
    V2024,
    /// 2025: v3 steps, `version._version` ≥ 12.
    V2025,
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Generation::V2021 => "2021",
            Generation::V2022 => "2022",
            Generation::V2023 => "2023",
            Generation::V2024 => "2024",
            Generation::V2025 => "2025",
        })
    }
}

/// The best guess of a file's generation.
pub fn detect_generation(doc: &Value) -> Generation {
    let version = doc.get("version").unwrap_or(&Value::Null);
    let migration = match version.get("_version") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse::<f64>().ok(),
        _ => None,
    };
    match migration {
        Some(v) if v >= 12.0 => Generation::V2025,
        Some(v) if v >= 5.0 => Generation::V2024,
        Some(v) if v >= 4.0 => Generation::V2023,
        Some(_) => Generation::V2022,
        None => {
            let text_v2 = doc
                .get("diagrams")
                .and_then(Value::as_object)
                .map(|d| {
                    d.values().any(|dg| {
                        dg.get("nodes")
                            .and_then(Value::as_object)
                            .map(|n| n.values().any(|x| x.pointer("/data/portsV2").is_some()))
                            .unwrap_or(false)
                    })
                })
                .unwrap_or(false);
            let typed_diagrams = doc
                .get("diagrams")
                .and_then(Value::as_object)
                .map(|d| {
                    d.values()
                        .any(|dg| dg.get("type").and_then(Value::as_str).is_some())
                })
                .unwrap_or(false);
            if text_v2 || typed_diagrams || doc.get("intents").is_some() {
                Generation::V2022
            } else {
                Generation::V2021
            }
        }
    }
}

/// Why a file could not be compiled at all.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a Voiceflow export: {0}")]
    Invalid(String),
}

/// Per-file figures.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub diagrams: usize,
    pub programs: usize,
    /// Executable creator steps (markup excluded).
    pub steps: usize,
    /// Steps without a warning or error.
    pub clean_steps: usize,
    pub lines: usize,
    pub commands: usize,
}

/// The compiled runtime document and what the compiler found.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub vfr: Value,
    pub diagnostics: Vec<Diagnostic>,
    pub generation: Generation,
    pub stats: Stats,
}

/// Compiler state shared by the step compilers.
pub(crate) struct Cx<'a> {
    pub file: &'a str,
    pub names: Names,
    /// Chat project (Slate prompts) or voice (strings).
    pub chat: bool,
    pub generation: Generation,
    pub diagnostics: Vec<Diagnostic>,
    pub global_commands: Vec<Value>,
    /// Intent names the programs listen to (`surveyorContext.usedIntentsSet`).
    pub used_intents: BTreeSet<String>,
    /// Intents generated for entity captures.
    pub extra_intents: Vec<Value>,
    pub messages: Map<String, Value>,
    pub diagram_ids: HashSet<String>,
    pub diagrams: &'a [Diagram<'a>],
    pub root_id: String,
    /// Slot key → name (for capture intents).
    pub slot_names: Map<String, Value>,
    pub doc: &'a Value,
}

impl Cx<'_> {
    fn push(&mut self, severity: Severity, st: &steps::Step<'_>, reason: String) {
        self.diagnostics.push(Diagnostic {
            severity,
            file: self.file.to_string(),
            diagram: Some(st.dg.id.clone()),
            node: Some(st.id.to_string()),
            step_type: Some(st.ty.to_string()),
            reason,
        });
    }
    pub(crate) fn error(&mut self, st: &steps::Step<'_>, reason: String) {
        self.push(Severity::Error, st, reason);
    }
    pub(crate) fn warn(&mut self, st: &steps::Step<'_>, reason: String) {
        self.push(Severity::Warning, st, reason);
    }
    pub(crate) fn info(&mut self, st: &steps::Step<'_>, reason: String) {
        self.push(Severity::Info, st, reason);
    }
    fn file_diag(&mut self, severity: Severity, diagram: Option<&str>, reason: String) {
        self.diagnostics.push(Diagnostic {
            severity,
            file: self.file.to_string(),
            diagram: diagram.map(str::to_string),
            node: None,
            step_type: None,
            reason,
        });
    }

    /// An intent reference (key or name) as the intent name, recorded as used.
    pub(crate) fn intent(&mut self, st: &steps::Step<'_>, key: &str) -> String {
        let name = match self.names.intent_name(key) {
            Some(n) => n.to_string(),
            None => {
                if !self.names.is_intent_name(key)
                    && !key.starts_with("VF.")
                    && !key.starts_with("AMAZON.")
                {
                    self.warn(st, format!("intent {key:?} is not defined in the export"));
                }
                key.to_string()
            }
        };
        self.used_intents.insert(name.clone());
        name
    }

    /// A variable reference (id or name) as a name.
    pub(crate) fn var(&self, id: &str) -> String {
        self.names.variable(id).to_string()
    }
}

/// A non-empty string field.
fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|x| !x.is_empty())
}

/// The array under `table` (a CMS table of the export, an API body's pairs); empty when absent.
fn rows<'a>(doc: &'a Value, table: &str) -> &'a [Value] {
    doc.get(table)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether output is chat (Slate text) rather than voice (speak strings), like
/// [`flowdm_model::Project::is_chat`].
fn is_chat(doc: &Value) -> bool {
    let project = doc.get("project").unwrap_or(&Value::Null);
    let platform = s(project, "platform").or_else(|| {
        doc.pointer("/version/platformData/platform")
            .and_then(Value::as_str)
    });
    s(project, "type") == Some("chat")
        || matches!(
            platform,
            Some("chatbot" | "webchat" | "whatsapp" | "messenger" | "sms")
        )
}

/// Reads and compiles a `.vf` file (or the `diagrams` of a `.vfr`).
pub fn compile_file(path: &Path) -> Result<Compiled, CompileError> {
    let bytes = std::fs::read(path).map_err(|source| CompileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let doc: Value = serde_json::from_slice(&bytes)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    compile(&doc, &name)
}

/// The root diagram: `version.rootDiagramID`, else the one named `ROOT`, else the first topic.
fn root_diagram(doc: &Value, diagrams: &[Diagram<'_>]) -> Option<String> {
    if let Some(id) = doc
        .pointer("/version/rootDiagramID")
        .and_then(Value::as_str)
    {
        if diagrams.iter().any(|d| d.id == id) {
            return Some(id.to_string());
        }
    }
    diagrams
        .iter()
        .find(|d| d.name == "ROOT")
        .or_else(|| diagrams.iter().find(|d| d.kind.as_deref() == Some("TOPIC")))
        .or_else(|| diagrams.first())
        .map(|d| d.id.clone())
}

/// Compiles a parsed creator export. `file` names the file in diagnostics.
pub fn compile(doc: &Value, file: &str) -> Result<Compiled, CompileError> {
    let version = doc
        .get("version")
        .filter(|v| v.is_object())
        .ok_or_else(|| CompileError::Invalid("no version object".into()))?;
    let version_id = s(version, "_id")
        .ok_or_else(|| CompileError::Invalid("the version has no _id".into()))?
        .to_string();
    let raw_diagrams = doc
        .get("diagrams")
        .and_then(Value::as_object)
        .ok_or_else(|| CompileError::Invalid("no diagrams".into()))?;
    let generation = detect_generation(doc);
    let empty = Map::new();
    let mut diagrams: Vec<Diagram<'_>> = raw_diagrams
        .iter()
        .filter(|(_, d)| d.get("type").and_then(Value::as_str) != Some("TEMPLATE"))
        .map(|(k, d)| Diagram::new(k.clone(), d, &empty))
        .collect();
    // Keep the export's order but put the root first (stable output, root program first).
    let root_id = root_diagram(doc, &diagrams)
        .ok_or_else(|| CompileError::Invalid("no diagram to run".into()))?;
    if let Some(pos) = diagrams.iter().position(|d| d.id == root_id) {
        let root = diagrams.remove(pos);
        diagrams.insert(0, root);
    }
    let names = Names::from_doc(doc);
    let messages = cms::messages(doc, &names);
    let (intents, slots) = nlu::model(doc, &names);
    let slot_names: Map<String, Value> = slots
        .iter()
        .filter_map(|sl| {
            Some((
                s(sl, "key")?.to_string(),
                Value::String(s(sl, "name")?.to_string()),
            ))
        })
        .collect();
    let mut cx = Cx {
        file,
        names,
        chat: is_chat(doc),
        generation,
        diagnostics: Vec::new(),
        global_commands: Vec::new(),
        used_intents: BTreeSet::new(),
        extra_intents: Vec::new(),
        messages,
        diagram_ids: diagrams.iter().map(|d| d.id.clone()).collect(),
        diagrams: &diagrams,
        root_id: root_id.clone(),
        slot_names,
        doc,
    };
    if doc
        .pointer("/version/rootDiagramID")
        .and_then(Value::as_str)
        != Some(root_id.as_str())
    {
        cx.file_diag(
            Severity::Info,
            Some(&root_id),
            "no usable version.rootDiagramID: this diagram is the entry".into(),
        );
    }

    let mut stats = Stats {
        diagrams: diagrams.len(),
        ..Stats::default()
    };
    let mut programs = Map::new();
    let mut all_steps: Vec<(String, String)> = Vec::new();
    for dg in diagrams.iter() {
        let program = compile_diagram(&mut cx, dg, &version_id, &mut all_steps);
        programs.insert(dg.id.clone(), program);
    }
    stats.steps = all_steps.len();
    let flagged: HashSet<(&str, &str)> = cx
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .filter_map(|d| Some((d.diagram.as_deref()?, d.node.as_deref()?)))
        .collect();
    stats.clean_steps = all_steps
        .iter()
        .filter(|(d, n)| !flagged.contains(&(d.as_str(), n.as_str())))
        .count();
    stats.lines = programs
        .values()
        .filter_map(|p| p.get("lines").and_then(Value::as_object))
        .map(Map::len)
        .sum();
    stats.commands = programs
        .values()
        .filter_map(|p| p.get("commands").and_then(Value::as_array))
        .map(Vec::len)
        .sum::<usize>()
        + cx.global_commands.len();
    stats.programs = programs.len() + 1;

    let base = json!({
        "id": version_id, "diagramID": version_id, "versionID": version_id, "name": "Global",
        "startId": "", "lines": {}, "commands": std::mem::take(&mut cx.global_commands), "variables": [],
    });
    programs.insert(version_id.clone(), base);

    let vfr = assemble(
        &mut cx,
        doc,
        version,
        &version_id,
        &root_id,
        intents,
        slots,
        programs,
    );
    Ok(Compiled {
        vfr,
        diagnostics: cx.diagnostics,
        generation,
        stats,
    })
}

fn compile_diagram(
    cx: &mut Cx<'_>,
    dg: &Diagram<'_>,
    version_id: &str,
    all_steps: &mut Vec<(String, String)>,
) -> Value {
    let mut lines = Map::new();
    let mut commands: Vec<Value> = Vec::new();
    let mut start_id = String::new();
    if let Some(start) = dg.start {
        let data = dg
            .node(start)
            .and_then(|n| n.get("data"))
            .unwrap_or(&Value::Null);
        let next = match dg.resolve(start, data, Exit::Next, false) {
            Target::Node(id) => Value::String(id),
            Target::Dangling(id) => {
                cx.file_diag(
                    Severity::Warning,
                    Some(&dg.id),
                    format!("the start links to node {id}, which is not in the diagram"),
                );
                Value::Null
            }
            Target::End => Value::Null,
        };
        lines.insert(
            start.to_string(),
            json!({ "id": start, "type": "start", "nextId": next }),
        );
        start_id = start.to_string();
    }
    for id in dg.steps() {
        let Some(node) = dg.node(id) else { continue };
        let ty = node.get("type").and_then(Value::as_str).unwrap_or("");
        if ports::is_markup(ty) {
            continue;
        }
        all_steps.push((dg.id.clone(), id.to_string()));
        let data = node.get("data").unwrap_or(&Value::Null);
        let st = steps::Step { dg, id, ty, data };
        if let Some(line) = steps::compile(cx, &mut commands, &st) {
            lines.insert(id.to_string(), line);
        }
    }
    let variables: Vec<Value> = dg_variables(cx, dg);
    json!({
        "id": dg.id, "diagramID": dg.id, "versionID": version_id, "name": dg.name,
        "startId": start_id, "lines": lines, "commands": commands, "variables": variables,
    })
}

fn dg_variables(cx: &Cx<'_>, dg: &Diagram<'_>) -> Vec<Value> {
    cx.doc
        .get("diagrams")
        .and_then(|d| d.get(&dg.id))
        .and_then(|d| d.get("variables"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(|v| Value::String(cx.var(v)))
                .collect()
        })
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    cx: &mut Cx<'_>,
    doc: &Value,
    version: &Value,
    version_id: &str,
    root_id: &str,
    mut intents: Vec<Value>,
    slots: Vec<Value>,
    programs: Map<String, Value>,
) -> Value {
    // Global variables: the version's list (names or ids) and the CMS table.
    let mut vars: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let declared = version
        .get("variables")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(|v| cx.var(v))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cms: Vec<String> = cx.names.variable_names().map(str::to_string).collect();
    for v in declared.into_iter().chain(cms) {
        if seen.insert(v.clone()) {
            vars.push(v);
        }
    }
    let mut initial: Map<String, Value> = version
        .pointer("/prototype/context/variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for row in doc
        .get("variables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(name), Some(def)) = (s(row, "name"), row.get("defaultValue")) {
            if !def.is_null() && !initial.contains_key(name) {
                initial.insert(name.to_string(), def.clone());
            }
        }
    }
    intents.append(&mut cx.extra_intents);
    let project = doc.get("project").cloned().unwrap_or_else(|| json!({}));
    let pd = version.get("platformData").unwrap_or(&Value::Null);
    let platform = s(&project, "platform")
        .or_else(|| s(pd, "platform"))
        .unwrap_or("general")
        .to_string();
    let kind = s(&project, "type")
        .map(str::to_string)
        .unwrap_or_else(|| if cx.chat { "chat" } else { "voice" }.to_string());
    let locales = version
        .pointer("/prototype/data/locales")
        .or_else(|| pd.pointer("/settings/locales"))
        .cloned()
        .unwrap_or_else(|| json!(["en-US"]));
    let name = s(&project, "name")
        .or_else(|| s(version, "name"))
        .unwrap_or("")
        .to_string();
    let mut out_version = json!({
        "_id": version_id,
        "projectID": s(version, "projectID").or_else(|| s(&project, "_id")).unwrap_or(version_id),
        "name": s(version, "name").unwrap_or(""),
        "rootDiagramID": root_id,
        "variables": vars,
        "platformData": {
            "settings": pd.get("settings").cloned().unwrap_or_else(|| json!({})),
            "publishing": pd.get("publishing").cloned().unwrap_or_else(|| json!({})),
            "platform": platform,
        },
        "prototype": {
            "type": kind,
            "platform": platform,
            "data": { "name": name, "locales": locales },
            "model": { "intents": intents, "slots": slots },
            "context": {
                "stack": [ { "diagramID": root_id, "storage": {}, "variables": {} } ],
                "variables": initial,
            },
            "surveyorContext": {
                "functionDefinitions": functions::definitions(doc),
                "usedIntentsSet": cx.used_intents.iter().collect::<Vec<_>>(),
                "slotsMap": {}, "extraSlots": [], "extraIntents": [], "platform": platform,
            },
            "settings": {},
        },
    });
    if !cx.messages.is_empty() {
        out_version["programResources"] = json!({ "messages": std::mem::take(&mut cx.messages) });
    }
    if let Some(settings) = version.get("settings").filter(|v| v.is_object()) {
        out_version["settings"] = settings.clone();
    }
    json!({
        "_version": doc.get("_version").cloned().unwrap_or_else(|| json!("1.2")),
        "project": project,
        "version": out_version,
        "programs": programs,
    })
}
