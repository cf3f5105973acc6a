//! The library of reusable sub-flows, declared in `--library-dir` (default `library/`, next to
//! the agents so it lives in git): every `*.json` / `*.yaml` file holds one entry version or a
//! list of them (`crate::declarations`)
//! (`flowdm_model::LibraryEntry::parse`); `config.file` names a `.vf` export in the same folder
//! (or `config.source` holds one inline), compiled with `flowdm_compile::library::compile_entry`.
//! Several versions of one entry may be declared. A file or an entry that does not load is
//! logged and skipped; a missing directory means an empty library
//! (`docs/custom-actions.md` § Library sub-flows).

use flowdm_model::{Library, LibraryEntry, LibrarySource, LibraryVersion};
use serde_json::Value;
use std::path::Path;

/// Why one entry did not load.
#[derive(Debug, thiserror::Error)]
pub enum LibraryLoadError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error(transparent)]
    Entry(#[from] flowdm_model::LibraryError),
}

fn read_export(path: &Path) -> Result<Value, LibraryLoadError> {
    crate::declarations::read_document(path).map_err(|reason| LibraryLoadError::Read {
        path: path.display().to_string(),
        reason,
    })
}

/// One declared entry version, its export read (relative to `dir`) and compiled.
pub fn load_entry(dir: &Path, raw: &Value) -> Result<LibraryVersion, LibraryLoadError> {
    let entry = LibraryEntry::parse(raw)?;
    let export = match &entry.source {
        LibrarySource::File(file) => read_export(&dir.join(file))?,
        LibrarySource::Inline(source) => source.clone(),
    };
    Ok(flowdm_compile::library::compile_entry(entry, &export)?)
}

/// A stored entry version (`/api/library`: the export inline in `config.source`) compiled.
pub fn compile_record(raw: &Value) -> Result<LibraryVersion, LibraryLoadError> {
    let entry = LibraryEntry::parse(raw)?;
    let export = match &entry.source {
        LibrarySource::Inline(source) => source.clone(),
        LibrarySource::File(_) => {
            return Err(flowdm_model::LibraryError::Invalid(
                "config.file",
                "a stored entry carries its export in config.source".into(),
            )
            .into())
        }
    };
    Ok(flowdm_compile::library::compile_entry(entry, &export)?)
}

/// The library of `dir`, files in name order.
pub fn load(dir: &Path) -> Library {
    let mut versions = Vec::new();
    for (path, raw) in crate::declarations::read(dir, "library entry") {
        match load_entry(dir, &raw) {
            Ok(v) => {
                tracing::info!(file = %path.display(), name = %v.entry.name, version = v.entry.version, programs = v.programs.len(), "library entry loaded");
                versions.push(v);
            }
            Err(error) => {
                tracing::error!(file = %path.display(), %error, "library entry not loaded");
            }
        }
    }
    Library::new(versions)
}

#[cfg(test)]
mod tests {
    use super::load;
    use serde_json::json;

    fn examples() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/library")
    }

    #[test]
    fn the_example_entry_loads_and_bad_files_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(
            examples().join("confirm-order.vf"),
            dir.path().join("confirm-order.vf"),
        )
        .expect("copy");
        let entry: serde_json::Value = serde_json::from_slice(
            &std::fs::read(examples().join("confirm-order.json")).expect("read"),
        )
        .expect("json");
        let mut v2 = entry.clone();
        v2["version"] = json!(2);
        let mut draft = entry.clone();
        draft["version"] = json!(3);
        draft["scope"] = json!("draft");
        let mut missing = entry.clone();
        missing["config"]["diagram"] = json!("Nope");
        missing["version"] = json!(4);
        std::fs::write(
            dir.path().join("a.json"),
            json!([entry, v2, draft, missing]).to_string(),
        )
        .expect("write");
        std::fs::write(dir.path().join("b.json"), "{").expect("write");
        let lib = load(dir.path());
        let latest = lib.latest_shared("confirm-order", "any").expect("latest");
        assert_eq!(latest.entry.version, 2);
        assert_eq!(latest.start, "lib:confirm-order@2:64d4d0000000000000000002");
        // The component only: the agent's Home topic and the base program are not reachable.
        assert_eq!(latest.programs.len(), 1);
        assert!(lib.program(&latest.start).is_some());
        assert!(lib.version("confirm-order", 3, "any").is_some());
        assert!(lib.version("confirm-order", 4, "any").is_none());
    }
}
