//! The configured API keys. Keys have the form `VF.DM.<keyID>.<secret>` and map to one project.
//! They come from a JSON keys file (`--keys FILE` / `FLOWDM_KEYS`) and/or the environment
//! (`FLOWDM_API_KEYS="VF.DM.k1.s1=<projectID>,…"`). Secrets are compared in constant time and never
//! logged. With no key configured the server is open: any client may use every project.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use subtle::ConstantTimeEq;

/// One configured key.
#[derive(Clone)]
struct ApiKey {
    secret: Vec<u8>,
    project_id: String,
}

/// The configured API keys, by key id.
#[derive(Clone, Default)]
pub struct Keys {
    by_id: HashMap<String, ApiKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("Keys")
            .field("count", &self.by_id.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("cannot read keys file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("keys file {path} is not valid: {message}")]
    Format { path: String, message: String },
    #[error("invalid API key entry #{index}: {message}")]
    Entry { index: usize, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: Vec<KeyFileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileEntry {
    key: String,
    #[serde(rename = "projectID")]
    project_id: String,
    /// Free text for humans (who uses the key); ignored.
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

/// Splits `[Bearer |ApiKey ]VF.[DM.]<keyID>.<secret>` into key id and secret (the reference's
/// key lookup: prefixes stripped, then `VF.` and `DM.`, then split on the first `.`).
fn split_key(raw: &str) -> Option<(&str, &str)> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("ApiKey "))
        .unwrap_or(raw)
        .trim();
    let rest = raw.strip_prefix("VF.")?;
    let rest = rest.strip_prefix("DM.").unwrap_or(rest);
    let (id, secret) = rest.split_once('.')?;
    if id.is_empty() || secret.is_empty() {
        return None;
    }
    Some((id, secret))
}

impl Keys {
    pub fn new() -> Keys {
        Keys::default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Adds `key` (`VF.DM.<keyID>.<secret>`) for `project_id`; a second key with the same key id
    /// replaces the first.
    pub fn add(&mut self, key: &str, project_id: &str) -> Result<(), String> {
        let (id, secret) = split_key(key)
            .ok_or_else(|| "a key must look like VF.DM.<keyID>.<secret>".to_string())?;
        if project_id.trim().is_empty() {
            return Err(format!("key {id} has no project id"));
        }
        self.by_id.insert(
            id.to_string(),
            ApiKey {
                secret: secret.as_bytes().to_vec(),
                project_id: project_id.trim().to_string(),
            },
        );
        Ok(())
    }

    /// Reads a JSON keys file: `{"keys":[{"key":"VF.DM.<keyID>.<secret>","projectID":"…","name":"optional"}]}`.
    pub fn load_file(&mut self, path: &Path) -> Result<(), KeysError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeysError::Io {
            path: p.clone(),
            source,
        })?;
        let file: KeysFile = serde_json::from_str(&text).map_err(|e| KeysError::Format {
            path: p.clone(),
            message: e.to_string(),
        })?;
        for (i, entry) in file.keys.iter().enumerate() {
            self.add(&entry.key, &entry.project_id)
                .map_err(|message| KeysError::Entry {
                    index: i + 1,
                    message,
                })?;
        }
        Ok(())
    }

    /// Reads `VF.DM.k1.s1=<projectID>,VF.DM.k2.s2=<projectID>` (commas or whitespace between).
    pub fn parse_list(&mut self, list: &str) -> Result<(), KeysError> {
        let entries = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty());
        for (i, entry) in entries.enumerate() {
            let (key, project) = entry.split_once('=').ok_or_else(|| KeysError::Entry {
                index: i + 1,
                message: "expected VF.DM.<keyID>.<secret>=<projectID>".into(),
            })?;
            self.add(key, project).map_err(|message| KeysError::Entry {
                index: i + 1,
                message,
            })?;
        }
        Ok(())
    }

    /// The project a key grants, comparing the secret in constant time.
    pub fn lookup(&self, raw: &str) -> Option<&str> {
        let (id, secret) = split_key(raw)?;
        let key = self.by_id.get(id)?;
        let same_len = key.secret.len() == secret.len();
        // Compare equal-length buffers so the time does not depend on where they differ.
        let ok = if same_len {
            key.secret.as_slice().ct_eq(secret.as_bytes()).into()
        } else {
            false
        };
        ok.then_some(key.project_id.as_str())
    }

    /// (key id, project id) pairs, for start-up checks (no secrets).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_id
            .iter()
            .map(|(id, k)| (id.as_str(), k.project_id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms() {
        assert_eq!(split_key("VF.DM.k1.s1"), Some(("k1", "s1")));
        assert_eq!(split_key("Bearer VF.DM.k1.s1"), Some(("k1", "s1")));
        assert_eq!(split_key("ApiKey VF.DM.k1.s.x"), Some(("k1", "s.x")));
        assert_eq!(split_key("VF.k1.s1"), Some(("k1", "s1")));
        assert_eq!(split_key("VF.DM.k1"), None);
        assert_eq!(split_key("VF.DM..s"), None);
        assert_eq!(split_key("hello"), None);
    }

    #[test]
    fn lookup_compares_secrets() {
        let mut k = Keys::new();
        k.parse_list("VF.DM.k1.secret1=p1, VF.DM.k2.secret2=p2")
            .expect("parse");
        assert_eq!(k.len(), 2);
        assert_eq!(k.lookup("VF.DM.k1.secret1"), Some("p1"));
        assert_eq!(k.lookup("VF.DM.k2.secret2"), Some("p2"));
        assert_eq!(k.lookup("VF.DM.k1.secret2"), None);
        assert_eq!(k.lookup("VF.DM.k1.secret"), None);
        assert_eq!(k.lookup("VF.DM.k3.secret1"), None);
        assert!(k.parse_list("VF.DM.k1.s").is_err());
        assert!(!format!("{k:?}").contains("secret"));
    }

    #[test]
    fn keys_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys.json");
        std::fs::write(
            &path,
            r#"{"keys":[{"key":"VF.DM.a.b","projectID":"p","name":"ci"}]}"#,
        )
        .expect("write");
        let mut k = Keys::new();
        k.load_file(&path).expect("load");
        assert_eq!(k.lookup("VF.DM.a.b"), Some("p"));
        std::fs::write(&path, r#"{"keys":[{"key":"nope","projectID":"p"}]}"#).expect("write");
        assert!(Keys::new().load_file(&path).is_err());
        std::fs::write(&path, r#"{"key":[]}"#).expect("write");
        assert!(Keys::new().load_file(&path).is_err());
    }
}
