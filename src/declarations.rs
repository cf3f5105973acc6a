//! Declaration folders (`--actions-dir`, `--library-dir`, next to the agents so they live in
//! git): every `*.json`, `*.yaml` or `*.yml` file holds one declaration or a list of them, read
//! into the JSON model the API and the store share (YAML with `yaml_serde`). A file that cannot
//! be read or parsed is logged and skipped; a missing folder declares nothing.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Whether `path` is a declaration file (by its extension).
fn is_declaration(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

/// The document of a JSON or YAML file (YAML for `.yaml` / `.yml`).
pub fn read_document(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => yaml_serde::from_slice(&bytes).map_err(|e| e.to_string()),
        _ => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
    }
}

/// Every declaration of `dir` with its file, files in name order; `what` names them in the
/// logs of a file that does not parse.
pub fn read(dir: &Path, what: &str) -> Vec<(PathBuf, Value)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_declaration(p))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        match read_document(&path) {
            Ok(Value::Array(list)) => out.extend(list.into_iter().map(|d| (path.clone(), d))),
            Ok(one) => out.push((path, one)),
            Err(error) => tracing::error!(file = %path.display(), %error, "{what} not loaded"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::read;
    use serde_json::json;

    #[test]
    fn json_and_yaml_files_hold_one_declaration_or_a_list() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"[{"name": "A"}, {"name": "B"}]"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.yaml"),
            "name: C\nconfig:\n  url: https://example.com/{{user.id}}\n  retries: 2\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("c.yml"), "- name: D\n- name: E\n").unwrap();
        std::fs::write(dir.path().join("d.json"), "{ not json").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "name: F").unwrap();
        let got: Vec<_> = read(dir.path(), "test")
            .into_iter()
            .map(|(p, d)| (p.file_name().unwrap().to_str().unwrap().to_string(), d))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a.json".into(), json!({ "name": "A" })),
                ("a.json".into(), json!({ "name": "B" })),
                (
                    "b.yaml".into(),
                    json!({ "name": "C", "config": { "url": "https://example.com/{{user.id}}", "retries": 2 } })
                ),
                ("c.yml".into(), json!({ "name": "D" })),
                ("c.yml".into(), json!({ "name": "E" })),
            ]
        );
        assert!(read(&dir.path().join("absent"), "test").is_empty());
    }
}
