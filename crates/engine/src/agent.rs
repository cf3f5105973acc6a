//! What a turn runs on: a loaded project and the language understanding trained from it.

use flowdm_model::Project;
use flowdm_nlu::model::NluModel;
use flowdm_nlu::IntentIndex;
use std::ops::Deref;

/// One loaded agent version: its programs ([`Project`]) and its NLU, built once at load.
#[derive(Debug, Clone)]
pub struct Agent {
    pub project: Project,
    /// Text → intent for this version (`spec/dm-api.md` §8).
    pub nlu: IntentIndex,
    /// The interaction model as typed data (`prototype.model`): the dialog manager's intents,
    /// slots, prompts and synonyms.
    pub model: NluModel,
}

impl Agent {
    /// Builds the agent's NLU from the project's interaction model.
    pub fn new(project: Project) -> Agent {
        let nlu = IntentIndex::for_version(&project.version);
        let model = NluModel::from_value(project.version.model.as_ref());
        Agent {
            project,
            nlu,
            model,
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
