//! A loaded project: the version being run, project metadata and its programs.

use super::{Command, Node};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A program: one diagram (flow/component/topic) compiled into nodes.
#[derive(Debug, Clone)]
pub struct Program {
    pub id: String,
    pub name: Option<String>,
    pub start_id: Option<String>,
    pub lines: HashMap<String, Node>,
    pub commands: Vec<Command>,
    /// Commands exactly as exported (persisted in frames).
    pub commands_raw: Vec<Value>,
    /// Flow-local variable names.
    pub variables: Vec<String>,
}

impl Program {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.lines.get(id)
    }
}

/// Settings the engine reads from `version.platformData.settings`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `globalNoMatch.prompt`: `None` = not configured (default message).
    pub global_no_match: Option<Value>,
    /// The model parameters of a `generative` global no-match (`{system, model, …}`).
    pub generative_no_match: Option<crate::AiParams>,
    /// `globalNoReply.prompt`.
    pub global_no_reply: Option<Value>,
    /// `globalNoReply.delay` (seconds).
    pub global_no_reply_delay: Option<f64>,
    /// `messageDelay.durationMilliseconds`.
    pub message_delay_ms: Option<f64>,
    pub default_voice: Option<String>,
    /// NLU confidence threshold: `version.settings.intentClassification` (`{type:"nlu",
    /// params:{confidence}}`) when valid, else `platformData.settings.intentConfidence`
    /// (`spec/dm-api.md` §8.2 step 2); `None` = the default (0.6).
    pub intent_confidence: Option<f64>,
    /// `intentClassification` of type `llm` or `rag`: the AI provider chooses the intent among
    /// the classifier's best candidates, with these model parameters.
    pub llm_classification: Option<crate::AiParams>,
}

/// The fields of the version object the runtime reads (`spec/dm-api.md` §5.2).
#[derive(Debug, Clone, Default)]
pub struct VersionInfo {
    pub id: String,
    pub project_id: String,
    pub root_diagram_id: String,
    pub variables: Vec<String>,
    pub settings: Settings,
    pub platform: Option<String>,
    pub locales: Vec<String>,
    /// `prototype.model` (`{intents, slots}`), if rendered.
    pub model: Option<Value>,
    /// `prototype.context`: initial state template.
    pub context: Value,
    /// `prototype.surveyorContext.usedIntentsSet` (intent keys or names), if present.
    pub used_intents: Option<Vec<String>>,
    /// `platformData.publishing` (served to the web widget).
    pub publishing: Value,
    /// `settings.widget` (the newer web chat's widget settings, served by
    /// `/v2/public/{projectID}/settings/widget`), `Null` when the export has none.
    pub widget: Value,
    /// `programResources.messages` (CMS responses).
    pub messages: Value,
    /// `prototype.surveyorContext.functionDefinitions` (function steps).
    pub functions: crate::FunctionDefinitions,
}

/// The fields of the project object the runtime reads (§5.3).
#[derive(Debug, Clone, Default)]
pub struct ProjectInfo {
    pub id: String,
    pub name: String,
    pub dev_version: Option<String>,
    pub live_version: Option<String>,
    pub api_privacy: Option<String>,
    pub kind: Option<String>,
    pub platform: Option<String>,
    /// `aiAssistSettings.aiPlayground`: after the no-match prompts, the knowledge base (then a
    /// generative global no-match) answers.
    pub ai_playground: bool,
}

/// Everything needed to run turns of one agent version.
#[derive(Debug, Clone)]
pub struct Project {
    pub info: ProjectInfo,
    pub version: VersionInfo,
    pub programs: HashMap<String, Arc<Program>>,
}

impl Project {
    pub fn program(&self, diagram_id: &str) -> Option<&Arc<Program>> {
        self.programs.get(diagram_id)
    }

    /// The base program (keyed by the version id) holding the global commands.
    pub fn base_program(&self) -> Option<&Arc<Program>> {
        self.programs.get(&self.version.id)
    }

    /// Chat projects render prompts as Slate text; voice projects as speak.
    pub fn is_chat(&self) -> bool {
        self.info.kind.as_deref() == Some("chat")
            || self.info.platform.as_deref() == Some("chatbot")
            || (self.info.kind.is_none()
                && matches!(
                    self.version.platform.as_deref(),
                    Some("webchat" | "chatbot")
                ))
    }

    /// Default no-reply delay in seconds by platform.
    pub fn default_no_reply_delay(&self) -> f64 {
        match self.version.platform.as_deref() {
            Some("alexa" | "google") => 8.0,
            Some("df-es") => 5.0,
            _ => 10.0,
        }
    }
}
