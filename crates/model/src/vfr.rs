//! Loader for the `.vfr` runtime export `{version, project, programs}` (`spec/dm-api.md` §5.1).

use super::{
    opt_str, string_list, Command, Node, Program, Project, ProjectInfo, Settings, VersionInfo,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("[invalid VFR] {0}")]
    Invalid(String),
}

/// Something tolerated while loading that a user should know about.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadWarning(pub String);

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn load_vfr_file(path: &Path) -> Result<(Project, Vec<LoadWarning>), LoadError> {
    let text = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&text)?;
    load_vfr(&value)
}

fn parse_program(key: &str, p: &Value) -> Program {
    let lines = p
        .get("lines")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(id, n)| (id.clone(), Node::from_value(id, n)))
                .collect()
        })
        .unwrap_or_default();
    let commands_raw: Vec<Value> = p
        .get("commands")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Program {
        id: key.to_string(),
        name: opt_str(p, "name"),
        start_id: opt_str(p, "startId"),
        lines,
        commands: commands_raw.iter().filter_map(Command::parse).collect(),
        commands_raw,
        variables: string_list(p.get("variables")),
    }
}

/// A confidence threshold in (0, 1].
fn confidence(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|c| *c > 0.0 && *c <= 1.0)
}

/// §8.2 step 2: `version.settings.intentClassification` of type `nlu` wins over the legacy
/// `platformData.settings.intentConfidence`.
fn intent_confidence(version_settings: Option<&Value>, platform_settings: &Value) -> Option<f64> {
    let classification = version_settings.and_then(|s| s.get("intentClassification"));
    let nlu = classification
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("nlu"))
        .and_then(|c| confidence(c.get("params").and_then(|p| p.get("confidence"))));
    nlu.or_else(|| confidence(platform_settings.get("intentConfidence")))
}

/// The prompt of a `generative` global no-match (platform data, else the version's settings).
fn generative_no_match(
    platform_settings: &Value,
    version_settings: Option<&Value>,
) -> Option<crate::AiParams> {
    [
        platform_settings.get("globalNoMatch"),
        version_settings.and_then(|v| v.get("globalNoMatch")),
    ]
    .into_iter()
    .flatten()
    .find(|g| g.get("type").and_then(Value::as_str) == Some("generative"))
    .map(|g| crate::AiParams::from_json(g.get("prompt").unwrap_or(&Value::Null)))
}

fn parse_settings(platform_data: &Value, version_settings: Option<&Value>) -> Settings {
    let s = platform_data
        .get("settings")
        .cloned()
        .unwrap_or(Value::Null);
    Settings {
        global_no_match: s
            .get("globalNoMatch")
            .and_then(|g| g.get("prompt"))
            .cloned(),
        generative_no_match: generative_no_match(&s, version_settings),
        global_no_reply: s
            .get("globalNoReply")
            .and_then(|g| g.get("prompt"))
            .cloned(),
        global_no_reply_delay: s
            .get("globalNoReply")
            .and_then(|g| g.get("delay"))
            .and_then(Value::as_f64),
        message_delay_ms: s
            .get("messageDelay")
            .and_then(|g| g.get("durationMilliseconds"))
            .and_then(Value::as_f64),
        default_voice: opt_str(&s, "defaultVoice"),
        intent_confidence: intent_confidence(version_settings, &s),
        llm_classification: version_settings
            .and_then(|v| v.get("intentClassification"))
            .filter(|c| matches!(c.get("type").and_then(Value::as_str), Some("llm" | "rag")))
            .map(|c| crate::AiParams::from_json(c.get("params").unwrap_or(&Value::Null))),
    }
}

/// Loads a `.vfr` document. Missing optional pieces are treated as empty; a missing base program
/// or root diagram id is tolerated (older exports lack them) and reported as a warning.
pub fn load_vfr(doc: &Value) -> Result<(Project, Vec<LoadWarning>), LoadError> {
    let mut warnings = Vec::new();
    let version = doc
        .get("version")
        .filter(|v| v.is_object())
        .ok_or_else(|| LoadError::Invalid("missing version object".into()))?;
    let programs_raw = doc
        .get("programs")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| LoadError::Invalid("no programs included".into()))?;
    let version_id =
        opt_str(version, "_id").ok_or_else(|| LoadError::Invalid("version has no _id".into()))?;
    let project_raw = doc.get("project").cloned().unwrap_or(Value::Null);

    let programs: HashMap<String, Arc<Program>> = programs_raw
        .iter()
        .map(|(k, p)| (k.clone(), Arc::new(parse_program(k, p))))
        .collect();
    if !programs.contains_key(&version_id) {
        warnings.push(LoadWarning(format!(
            "missing base program {version_id}: no global commands"
        )));
    }

    let prototype = version.get("prototype").cloned().unwrap_or(Value::Null);
    let root_diagram_id = match opt_str(version, "rootDiagramID") {
        Some(id) => id,
        None => {
            let mut candidates: Vec<&String> =
                programs.keys().filter(|k| **k != version_id).collect();
            candidates.sort();
            let root = programs
                .values()
                .find(|p| p.id != version_id && p.name.as_deref() == Some("ROOT"))
                .map(|p| &p.id)
                .or_else(|| candidates.first().copied())
                .cloned()
                .ok_or_else(|| LoadError::Invalid("no rootDiagramID and no program".into()))?;
            warnings.push(LoadWarning(format!(
                "no rootDiagramID: using program {root}"
            )));
            root
        }
    };
    if !programs.contains_key(&root_diagram_id)
        && prototype
            .get("context")
            .and_then(|c| c.get("stack"))
            .is_none()
    {
        return Err(LoadError::Invalid(format!(
            "root diagram {root_diagram_id} has no program"
        )));
    }

    let platform_data = version.get("platformData").cloned().unwrap_or(Value::Null);
    let info = ProjectInfo {
        id: opt_str(&project_raw, "_id")
            .or_else(|| opt_str(version, "projectID"))
            .unwrap_or_else(|| version_id.clone()),
        name: opt_str(&project_raw, "name")
            .or_else(|| prototype.get("data").and_then(|d| opt_str(d, "name")))
            .unwrap_or_default(),
        dev_version: opt_str(&project_raw, "devVersion"),
        live_version: opt_str(&project_raw, "liveVersion"),
        api_privacy: opt_str(&project_raw, "apiPrivacy"),
        kind: opt_str(&project_raw, "type").or_else(|| opt_str(&prototype, "type")),
        platform: opt_str(&project_raw, "platform"),
        ai_playground: project_raw
            .pointer("/aiAssistSettings/aiPlayground")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let version_info = VersionInfo {
        id: version_id.clone(),
        project_id: opt_str(version, "projectID").unwrap_or_else(|| info.id.clone()),
        root_diagram_id,
        variables: string_list(version.get("variables")),
        settings: parse_settings(&platform_data, version.get("settings")),
        platform: opt_str(&prototype, "platform").or_else(|| info.platform.clone()),
        locales: string_list(prototype.get("data").and_then(|d| d.get("locales"))),
        model: prototype.get("model").filter(|m| m.is_object()).cloned(),
        context: prototype.get("context").cloned().unwrap_or(Value::Null),
        used_intents: prototype
            .get("surveyorContext")
            .and_then(|s| s.get("usedIntentsSet"))
            .filter(|u| u.is_array())
            .map(|u| string_list(Some(u))),
        publishing: platform_data
            .get("publishing")
            .cloned()
            .unwrap_or(Value::Null),
        widget: version
            .get("settings")
            .and_then(|s| s.get("widget"))
            .cloned()
            .unwrap_or(Value::Null),
        messages: version
            .get("programResources")
            .and_then(|r| r.get("messages"))
            .cloned()
            .unwrap_or(Value::Null),
        functions: crate::parse_definitions(
            prototype
                .get("surveyorContext")
                .and_then(|s| s.get("functionDefinitions")),
        ),
    };
    Ok((
        Project {
            info,
            version: version_info,
            programs,
        },
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::intent_confidence;
    use serde_json::json;

    #[test]
    fn intent_confidence_prefers_version_settings() {
        let legacy = json!({"intentConfidence": 0.4});
        let nlu = json!({"intentClassification": {"type": "nlu", "params": {"confidence": 0.8}}});
        let llm = json!({"intentClassification": {"type": "llm", "params": {"model": "x"}}});
        assert_eq!(intent_confidence(Some(&nlu), &legacy), Some(0.8));
        assert_eq!(intent_confidence(Some(&llm), &legacy), Some(0.4));
        assert_eq!(intent_confidence(None, &legacy), Some(0.4));
        assert_eq!(
            intent_confidence(None, &json!({"intentConfidence": 7})),
            None
        );
        assert_eq!(intent_confidence(None, &json!({})), None);
    }
}
