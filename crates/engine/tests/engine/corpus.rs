//! Every `.vfr` of `../shared/corpus` loads and runs a launch turn (skipped when the corpus is
//! not beside the checkout).

use crate::common::*;
use serde_json::json;

#[test]
fn every_corpus_vfr_loads_and_launches() {
    let dir = repo_root().join("../shared/corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("corpus not found at {}: skipped", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("vfr"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .vfr in the corpus");
    for path in files {
        let (project, warnings) = flowdm_model::load_vfr_file(&path)
            .unwrap_or_else(|e| panic!("{} failed to load: {e}", path.display()));
        let nodes: usize = project.programs.values().map(|p| p.lines.len()).sum();
        let mut s = Session::new(project).with_config(json!({ "excludeTypes": [] }));
        let out = s.turn_raw(json!({ "type": "launch" }));
        eprintln!(
            "{}: {} programs, {nodes} nodes, {} warnings, launch → {} traces",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            s.project.programs.len(),
            warnings.len(),
            out.trace.len()
        );
        assert!(
            !out.trace.is_empty(),
            "{} produced no traces",
            path.display()
        );
        // A second turn on the resulting state must not panic either.
        s.turn_raw(json!({ "type": "text", "payload": "yes" }));
    }
}
