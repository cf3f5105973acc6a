//! A project folder → its documents: every supported file under it (recursively, without
//! following symbolic links, hidden files and folders skipped), its text extracted. A file that
//! cannot be read, is not supported, is over the size cap or has no text is skipped with a
//! warning naming it and why: one bad file never stops the others.

use crate::extract::{extract, Format};
use crate::KbError;
use std::path::{Path, PathBuf};

/// Size caps of one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A larger file is skipped (with a warning).
    pub max_file_bytes: u64,
    /// Chunks past this many are dropped (with a warning): the index of one project stays
    /// bounded in RAM whatever is put in its folder.
    pub max_chunks: usize,
    /// Folders deeper than this under the project folder are not read.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 20 * 1024 * 1024,
            max_chunks: 100_000,
            max_depth: 16,
        }
    }
}

/// One document of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// A stable hash of `source` (16 hex digits): the same file keeps its id across reloads
    /// and restarts.
    pub id: String,
    /// The path relative to the project folder, `/`-separated.
    pub source: String,
    pub text: String,
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
pub fn stable_id(source: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The documents of the folder `dir`, sorted by `source` (so chunk order, and ties between
/// equal scores, do not depend on the file system's listing order).
pub fn load_documents(dir: &Path, limits: &Limits) -> Result<Vec<Document>, KbError> {
    let mut files = Vec::new();
    walk(dir, 0, limits, &mut files).map_err(|source| KbError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    files.sort();
    let mut docs = Vec::new();
    for path in files {
        if let Some(doc) = load_file(dir, &path, limits) {
            docs.push(doc);
        }
    }
    Ok(docs)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.ends_with('~'))
}

/// Every regular file under `dir`. Only the top folder's listing failing is an error; a
/// sub-folder that cannot be listed is skipped with a warning.
fn walk(dir: &Path, depth: usize, limits: &Limits, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(e) => e,
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "knowledge base: folder entry skipped");
                continue;
            }
        };
        let path = entry.path();
        if is_hidden(&path) {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            tracing::warn!(file = %path.display(), "knowledge base: file skipped: cannot read its type");
            continue;
        };
        if kind.is_dir() {
            if depth + 1 > limits.max_depth {
                tracing::warn!(dir = %path.display(), max_depth = limits.max_depth, "knowledge base: folder skipped: too deep");
            } else if let Err(error) = walk(&path, depth + 1, limits, out) {
                tracing::warn!(dir = %path.display(), %error, "knowledge base: folder skipped: cannot be read");
            }
        } else if kind.is_file() {
            out.push(path);
        } else {
            tracing::warn!(file = %path.display(), "knowledge base: file skipped: not a regular file (symbolic links are not followed)");
        }
    }
    Ok(())
}

/// `path` relative to `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// One file's document, or `None` (and a warning saying why).
pub fn load_file(root: &Path, path: &Path, limits: &Limits) -> Option<Document> {
    let source = relative(root, path);
    let Some(format) = Format::of(path) else {
        tracing::warn!(file = %path.display(), "knowledge base: file skipped: unsupported format (.txt, .md, .html, .htm, .pdf are read)");
        return None;
    };
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "knowledge base: file skipped: cannot be read");
            return None;
        }
    };
    if size > limits.max_file_bytes {
        tracing::warn!(file = %path.display(), bytes = size, max_bytes = limits.max_file_bytes, "knowledge base: file skipped: over the size cap");
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "knowledge base: file skipped: cannot be read");
            return None;
        }
    };
    let text = match extract(format, &bytes) {
        Ok(t) => t,
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "knowledge base: file skipped");
            return None;
        }
    };
    if text.trim().is_empty() {
        tracing::warn!(file = %path.display(), "knowledge base: file skipped: no text");
        return None;
    }
    Some(Document {
        id: stable_id(&source),
        source,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(stable_id(""), "cbf29ce484222325");
        assert_eq!(stable_id("a.txt"), stable_id("a.txt"));
        assert_ne!(stable_id("a.txt"), stable_id("b.txt"));
    }

    #[test]
    fn loads_each_format_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("a.txt"), "plain text about shipping").unwrap();
        std::fs::write(root.join("sub/b.md"), "# Returns\n\nthirty days").unwrap();
        std::fs::write(
            root.join("sub/deeper/c.html"),
            "<h1>Warranty</h1><script>hidden()</script><p>two years</p>",
        )
        .unwrap();
        std::fs::write(root.join("d.docx"), "binary").unwrap();
        std::fs::write(root.join("e.pdf"), "%PDF-1.4 broken").unwrap();
        std::fs::write(root.join(".hidden.txt"), "secret").unwrap();
        std::fs::write(root.join("empty.txt"), "   \n").unwrap();
        let docs = load_documents(root, &Limits::default()).unwrap();
        let sources: Vec<&str> = docs.iter().map(|d| d.source.as_str()).collect();
        assert_eq!(sources, ["a.txt", "sub/b.md", "sub/deeper/c.html"]);
        assert!(docs[2].text.contains("two years") && !docs[2].text.contains("hidden"));
        assert_eq!(docs[1].id, stable_id("sub/b.md"));
    }

    #[test]
    fn files_over_the_cap_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.txt"), "x".repeat(2000)).unwrap();
        std::fs::write(dir.path().join("small.txt"), "small").unwrap();
        let limits = Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        };
        let docs = load_documents(dir.path(), &limits).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].source, "small.txt");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_documents(&dir.path().join("nope"), &Limits::default()).is_err());
    }
}
