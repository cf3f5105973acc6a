//! What a turn runs on: a loaded project and the language understanding trained from it.

use flowdm_model::{Library, Project, ServerActions};
use flowdm_nlu::vectors::WordVectors;
use flowdm_nlu::Nlu;
use std::ops::Deref;
use std::sync::Arc;

/// One loaded agent version: its programs ([`Project`]) and its NLU, built once at load.
#[derive(Debug, Clone)]
pub struct Agent {
    pub project: Project,
    /// Text → intent and entities for this version, and its interaction model as typed data
    /// (`spec/dm-api.md` §8).
    pub nlu: Nlu,
    /// The custom actions the server runs itself (`handlers/server_action.rs`); empty: every
    /// custom action is the client's.
    pub actions: Arc<ServerActions>,
    /// The library of sub-flows `subflow` actions run (`handlers/subflow.rs`).
    pub library: Arc<Library>,
}

impl Agent {
    /// Builds (trains) the agent's NLU from the project's interaction model.
    pub fn new(project: Project) -> Agent {
        Agent::with_vectors(project, None)
    }

    /// [`Agent::new`] with word vectors for the classifier (`flowdm_nlu::vectors`).
    pub fn with_vectors(project: Project, vectors: Option<&Arc<WordVectors>>) -> Agent {
        let nlu = Nlu::for_version(&project.version, vectors);
        Agent {
            project,
            nlu,
            actions: Arc::default(),
            library: Arc::default(),
        }
    }
}

impl From<Project> for Agent {
    fn from(project: Project) -> Agent {
        Agent::new(project)
    }
}

/// An agent reads as its project (`agent.version`, `agent.program(id)`).
impl Deref for Agent {
    type Target = Project;
    fn deref(&self) -> &Project {
        &self.project
    }
}
