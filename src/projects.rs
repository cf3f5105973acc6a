//! The project registry: every agent file of the diagrams directory, loaded once at start-up,
//! looked up by version id, by project id and by the `development` / `production` aliases.
//!
//! One agent file holds one version of one project. Several files may hold different versions of
//! the same project (for example a development and a production export); they then share the
//! project's sessions, exactly like the reference (`spec/dm-api.md` §1.3).

use crate::compile::{self, CompileError, Severity};
use crate::engine::Agent;
use crate::model::{load_vfr, load_vfr_file, LoadError, LoadWarning, Project, ProjectInfo};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an agent file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A `.vf` creator export that could not be compiled at all.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// A file type the server does not load.
    #[error("unsupported file type {0:?}: agents are .vf creator exports or .vfr runtime exports")]
    Unsupported(String),
    #[error("version {version} is already loaded from {first}")]
    DuplicateVersion { version: String, first: String },
}

/// File extensions the directory scan considers agents (anything else is skipped silently).
pub const AGENT_EXTENSIONS: [&str; 2] = ["vfr", "vf"];

/// Loads one agent file, choosing the loader by extension: `.vfr` runtime exports are loaded
/// as they are, `.vf` creator exports are compiled first ([`crate::compile`]); every compiler
/// diagnostic of warning or error severity comes back as a load warning naming file, diagram,
/// node and step type.
pub fn load_agent(path: &Path) -> Result<(Project, Vec<LoadWarning>), AgentError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "vfr" => Ok(load_vfr_file(path)?),
        "vf" => {
            let compiled = compile::compile_file(path)?;
            let (project, mut warnings) = load_vfr(&compiled.vfr)?;
            warnings.extend(
                compiled
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity >= Severity::Warning)
                    .map(|d| LoadWarning(d.to_string())),
            );
            Ok((project, warnings))
        }
        other => Err(AgentError::Unsupported(format!(".{other}"))),
    }
}

/// Whether `path` names an agent file (`*.vf`, `*.vfr`, any case).
pub fn is_agent_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AGENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The agent files (`*.vf`, `*.vfr`, any case) of `dir`, in file-name order.
pub fn agent_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_agent_file(p))
        .collect();
    paths.sort();
    Ok(paths)
}

/// An agent file that failed to load.
#[derive(Debug)]
pub struct LoadFailure {
    pub path: PathBuf,
    pub error: AgentError,
}

/// A file that loaded, with what the loader tolerated.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub project_id: String,
    pub version_id: String,
    pub warnings: Vec<LoadWarning>,
}

/// The outcome of scanning a directory.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub loaded: Vec<Loaded>,
    pub failed: Vec<LoadFailure>,
}

/// All versions of one project.
#[derive(Debug, Clone)]
pub struct ProjectEntry {
    /// Project metadata (`apiPrivacy`, `devVersion`, `liveVersion`, …) of the first file loaded.
    pub info: ProjectInfo,
    /// Loaded versions in file-name order.
    pub versions: Vec<Arc<Agent>>,
}

/// Why an alias could not be resolved (reference messages, `spec/dm-api.md` §1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AliasError {
    #[error("Voiceflow project was not published to production")]
    NotPublished,
    #[error("Unable to resolve version alias")]
    NoDevVersion,
    #[error("Could not resolve project with version ID {0}")]
    VersionNotLoaded(String),
}

/// A version alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alias {
    Development,
    Production,
}

impl Alias {
    pub fn parse(s: &str) -> Option<Alias> {
        match s {
            "development" => Some(Alias::Development),
            "production" => Some(Alias::Production),
            _ => None,
        }
    }
}

impl ProjectEntry {
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub fn is_public(&self) -> bool {
        self.info.api_privacy.as_deref() == Some("public")
    }

    /// The loaded version with this id.
    pub fn version(&self, id: &str) -> Option<&Arc<Agent>> {
        self.versions.iter().find(|p| p.version.id == id)
    }

    /// `production` → `liveVersion`, `development` → `devVersion`.
    ///
    /// Like the reference serving a local file, a project with a single loaded version resolves a
    /// `devVersion` that is missing or not loaded to that version; `production` still needs a
    /// `liveVersion`.
    pub fn alias(&self, alias: Alias) -> Result<&Arc<Agent>, AliasError> {
        let wanted = match alias {
            Alias::Production => self
                .info
                .live_version
                .as_deref()
                .ok_or(AliasError::NotPublished)?,
            Alias::Development => match self.info.dev_version.as_deref() {
                Some(v) => v,
                None if self.versions.len() == 1 => return Ok(&self.versions[0]),
                None => return Err(AliasError::NoDevVersion),
            },
        };
        match self.version(wanted) {
            Some(p) => Ok(p),
            None if self.versions.len() == 1 => Ok(&self.versions[0]),
            None => Err(AliasError::VersionNotLoaded(wanted.to_string())),
        }
    }

    /// An environment: `development` / `production` (as [`ProjectEntry::alias`]) or a loaded
    /// version id ([`AliasError::VersionNotLoaded`] when it is not one).
    pub fn environment(&self, environment: &str) -> Result<&Arc<Agent>, AliasError> {
        match Alias::parse(environment) {
            Some(alias) => self.alias(alias),
            None => self
                .version(environment)
                .ok_or_else(|| AliasError::VersionNotLoaded(environment.to_string())),
        }
    }

    /// The version used when a request names the project rather than a version: the development
    /// version when it is loaded, else the first loaded one.
    pub fn default_version(&self) -> &Arc<Agent> {
        self.alias(Alias::Development).unwrap_or(&self.versions[0])
    }
}

/// Every loaded project, by project id and by version id.
#[derive(Debug, Default)]
pub struct Registry {
    /// The custom actions the server runs, given to every agent.
    actions: Arc<flowdm_model::ServerActions>,
    /// The library of sub-flows, given to every agent.
    library: Arc<flowdm_model::Library>,
    /// Word vectors for every agent's classifier.
    vectors: Option<Arc<flowdm_nlu::vectors::WordVectors>>,
    projects: HashMap<String, Arc<ProjectEntry>>,
    versions: HashMap<String, (Arc<Agent>, PathBuf)>,
    /// Project ids in load order.
    order: Vec<String>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// An empty registry whose agents get these custom actions and library.
    pub fn with(
        actions: Arc<flowdm_model::ServerActions>,
        library: Arc<flowdm_model::Library>,
    ) -> Registry {
        Registry {
            actions,
            library,
            ..Registry::new()
        }
    }

    /// This registry with word vectors for its agents' classifiers.
    pub fn with_vectors(
        mut self,
        vectors: Option<Arc<flowdm_nlu::vectors::WordVectors>>,
    ) -> Registry {
        self.vectors = vectors;
        self
    }

    /// The agent of a loaded version (its NLU trained), with this registry's custom actions,
    /// library and word vectors; not added.
    pub fn agent(&self, project: Project) -> Arc<Agent> {
        Arc::new(Agent {
            actions: self.actions.clone(),
            library: self.library.clone(),
            ..Agent::with_vectors(project, self.vectors.as_ref())
        })
    }

    /// Adds a loaded version. A version id already present is refused.
    pub fn insert(&mut self, project: Project, path: &Path) -> Result<Arc<Agent>, AgentError> {
        if let Some((_, first)) = self.versions.get(&project.version.id) {
            return Err(AgentError::DuplicateVersion {
                version: project.version.id.clone(),
                first: first.display().to_string(),
            });
        }
        let project = self.agent(project);
        self.insert_agent(project.clone(), path)?;
        Ok(project)
    }

    /// Adds an agent built by [`Registry::agent`] (or kept from an earlier registry). A version
    /// id already present is refused.
    pub fn insert_agent(&mut self, project: Arc<Agent>, path: &Path) -> Result<(), AgentError> {
        if let Some((_, first)) = self.versions.get(&project.version.id) {
            return Err(AgentError::DuplicateVersion {
                version: project.version.id.clone(),
                first: first.display().to_string(),
            });
        }
        // Sessions are namespaced by the version's project id (the reference's `attachProjectID`).
        let pid = project.version.project_id.clone();
        let entry = self.projects.entry(pid.clone()).or_insert_with(|| {
            self.order.push(pid.clone());
            let mut info = project.info.clone();
            info.id = pid.clone();
            Arc::new(ProjectEntry {
                info,
                versions: Vec::new(),
            })
        });
        Arc::make_mut(entry).versions.push(project.clone());
        self.versions.insert(
            project.version.id.clone(),
            (project.clone(), path.to_path_buf()),
        );
        Ok(())
    }

    /// Loads every agent file (`*.vfr`, `*.vf`) of `dir` in file-name order. Files that fail are
    /// reported and skipped; other files (README, …) are ignored. Only an unreadable directory is
    /// an error.
    pub fn load_dir(dir: &Path) -> std::io::Result<(Registry, LoadReport)> {
        Registry::load_dir_with(dir, Arc::default())
    }

    /// [`Registry::load_dir`], every agent given the server's custom `actions`.
    pub fn load_dir_with(
        dir: &Path,
        actions: Arc<flowdm_model::ServerActions>,
    ) -> std::io::Result<(Registry, LoadReport)> {
        Registry::load_dir_with_library(dir, actions, Arc::default())
    }

    /// [`Registry::load_dir_with`], every agent also given the server's library of sub-flows.
    pub fn load_dir_with_library(
        dir: &Path,
        actions: Arc<flowdm_model::ServerActions>,
        library: Arc<flowdm_model::Library>,
    ) -> std::io::Result<(Registry, LoadReport)> {
        let paths = agent_files(dir)?;
        let mut registry = Registry {
            actions,
            library,
            ..Registry::new()
        };
        let mut report = LoadReport::default();
        for path in paths {
            match load_agent(&path).and_then(|(p, w)| registry.insert(p, &path).map(|p| (p, w))) {
                Ok((p, warnings)) => report.loaded.push(Loaded {
                    path,
                    project_id: p.version.project_id.clone(),
                    version_id: p.version.id.clone(),
                    warnings,
                }),
                Err(error) => report.failed.push(LoadFailure { path, error }),
            }
        }
        Ok((registry, report))
    }

    pub fn project(&self, id: &str) -> Option<&Arc<ProjectEntry>> {
        self.projects.get(id)
    }

    pub fn version(&self, id: &str) -> Option<&Arc<Agent>> {
        self.versions.get(id).map(|(p, _)| p)
    }

    /// A version id, or a project id (→ its default version).
    pub fn resolve_id(&self, id: &str) -> Option<&Arc<Agent>> {
        self.version(id)
            .or_else(|| self.project(id).map(|p| p.default_version()))
    }

    /// Projects in load order.
    pub fn projects(&self) -> impl Iterator<Item = &ProjectEntry> {
        self.order
            .iter()
            .filter_map(|id| self.projects.get(id).map(|e| &**e))
    }

    /// The only project, when exactly one is loaded.
    pub fn single_project(&self) -> Option<&ProjectEntry> {
        if self.projects.len() == 1 {
            self.projects.values().next().map(|e| &**e)
        } else {
            None
        }
    }

    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    pub fn version_count(&self) -> usize {
        self.versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagrams() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("diagrams")
    }

    #[test]
    fn loads_the_example_agents_and_skips_the_readme() {
        let (reg, report) = Registry::load_dir(&diagrams()).expect("dir");
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(reg.project_count(), 3);
        let pay = reg.project("64a1f0000000000000000001").expect("payment");
        assert!(pay.is_public());
        assert_eq!(
            pay.alias(Alias::Production).map(|p| p.version.id.as_str()),
            Ok("64a1f0000000000000000002")
        );
        assert!(reg.version("64b2f0000000000000000002").is_some());
        assert_eq!(
            reg.resolve_id("64c3f0000000000000000001")
                .map(|p| p.version.id.as_str()),
            Some("64c3f0000000000000000002")
        );
        assert!(reg.resolve_id("nope").is_none());
        assert!(reg.single_project().is_none());
    }

    #[test]
    fn reports_bad_and_unsupported_files_and_duplicates() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::copy(diagrams().join("payment.vf"), dir.path().join("a.vf")).expect("copy");
        std::fs::copy(diagrams().join("payment.vf"), dir.path().join("b.vf")).expect("copy");
        std::fs::write(dir.path().join("broken.vfr"), "{ not json").expect("write");
        std::fs::write(dir.path().join("new.vf"), "{}").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "hello").expect("write");
        let (reg, report) = Registry::load_dir(dir.path()).expect("dir");
        assert_eq!(reg.project_count(), 1);
        assert!(reg.single_project().is_some());
        let failed: Vec<String> = report
            .failed
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                    f.error
                )
            })
            .collect();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert!(
            failed[0].starts_with("b.vf: version 64a1f0000000000000000002 is already loaded"),
            "{failed:?}"
        );
        assert!(
            failed[1].starts_with("broken.vfr: invalid JSON"),
            "{failed:?}"
        );
        assert!(
            failed[2].starts_with("new.vf: not a Voiceflow export"),
            "{failed:?}"
        );
    }
}
