//! A library entry's `.vf` export compiled into sub-flow programs (`docs/custom-actions.md`
//! § Library sub-flows): the named component or topic and every program reachable from it, each
//! under a namespaced id `lib:<name>@<version>:<diagramID>` so that they never clash with an
//! agent's programs and every frame of a running sub-flow names its version.

use flowdm_model::{load_vfr, LibraryEntry, LibraryError, LibraryVersion, Program};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Compiles `export` (the entry's `.vf`) into the entry's programs.
pub fn compile_entry(entry: LibraryEntry, export: &Value) -> Result<LibraryVersion, LibraryError> {
    compile_entry_with_diagnostics(entry, export).map(|(v, _)| v)
}

/// [`compile_entry`] with the compiler's findings on the export (`/api/library/{id}/test`).
pub fn compile_entry_with_diagnostics(
    entry: LibraryEntry,
    export: &Value,
) -> Result<(LibraryVersion, Vec<crate::Diagnostic>), LibraryError> {
    let file = format!("library:{}", entry.name);
    let compiled =
        crate::compile(export, &file).map_err(|e| LibraryError::Compile(e.to_string()))?;
    let diagnostics = compiled.diagnostics;
    let mut vfr = compiled.vfr;
    let version_id = vfr
        .pointer("/version/_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let programs = vfr
        .get("programs")
        .and_then(Value::as_object)
        .ok_or_else(|| LibraryError::Compile("no programs".into()))?;
    // The start: a program id, else a program (component/topic) name.
    let start = programs
        .get(&entry.diagram)
        .map(|_| entry.diagram.clone())
        .or_else(|| {
            programs
                .iter()
                .find(|(_, p)| p.get("name").and_then(Value::as_str) == Some(&entry.diagram))
                .map(|(k, _)| k.clone())
        })
        .filter(|k| *k != version_id)
        .ok_or_else(|| {
            let mut known: Vec<String> = programs
                .iter()
                .filter(|(k, _)| **k != version_id)
                .map(|(k, p)| match p.get("name").and_then(Value::as_str) {
                    Some(n) => format!("{n:?} ({k})"),
                    None => k.clone(),
                })
                .collect();
            known.sort();
            LibraryError::NoDiagram {
                diagram: entry.diagram.clone(),
                known: known.join(", "),
            }
        })?;
    let prefix = entry.program_prefix();
    let ids: HashMap<String, String> = programs
        .keys()
        .filter(|k| **k != version_id)
        .map(|k| (k.clone(), format!("{prefix}{k}")))
        .collect();
    // Every diagram reference (component steps, jumps, commands) becomes the namespaced id.
    rename(&mut vfr, &ids);
    if let Some(Value::Object(programs)) = vfr.get_mut("programs") {
        let renamed: Map<String, Value> = std::mem::take(programs)
            .into_iter()
            .map(|(k, p)| (ids.get(&k).cloned().unwrap_or(k), p))
            .collect();
        *programs = renamed;
    }
    let start = ids.get(&start).cloned().unwrap_or(start);
    let reachable = reachable(&vfr, &start, &ids);
    let (project, _) = load_vfr(&vfr).map_err(|e| LibraryError::Compile(e.to_string()))?;
    let programs: HashMap<String, Arc<Program>> = project
        .programs
        .into_iter()
        .filter(|(k, _)| reachable.contains(k))
        .collect();
    Ok((
        LibraryVersion {
            entry,
            start,
            programs,
        },
        diagnostics,
    ))
}

/// Every string equal to a diagram id replaced by its namespaced id (object keys too, except
/// the top-level program map, renamed by the caller).
fn rename(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(new) = ids.get(s.as_str()) {
                *s = new.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, ids)),
        Value::Object(map) => map.values_mut().for_each(|i| rename(i, ids)),
        _ => {}
    }
}

/// The namespaced programs reachable from `start` (any string naming another program).
fn reachable(vfr: &Value, start: &str, ids: &HashMap<String, String>) -> HashSet<String> {
    let known: HashSet<&str> = ids.values().map(String::as_str).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(p) = vfr.get("programs").and_then(|ps| ps.get(&id)) {
            let mut found = Vec::new();
            strings(p, &known, &mut found);
            todo.extend(found.into_iter().filter(|f| !seen.contains(f)));
        }
    }
    seen
}

fn strings(v: &Value, known: &HashSet<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s) if known.contains(s.as_str()) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, known, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, known, out)),
        _ => {}
    }
}
