//! Custom actions the server runs itself (`design.md` § Custom actions): an action registered
//! under the name of a custom-action step answers it when the client does not stop on it.
//! Declared as JSON (`actions/*.json` next to the agents, `docs/custom-actions.md`).

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A registered action.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAction {
    pub id: String,
    /// The custom-action step name it answers to.
    pub name: String,
    pub description: String,
    /// `None`: every project of the server; else this project id only.
    pub project_id: Option<String>,
    pub is_active: bool,
    pub version: u64,
    pub handler: Handler,
}

/// How an action runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Handler {
    /// An HTTP call; its answer is mapped into variables and names the path.
    Webhook(Webhook),
    /// JavaScript run in the sandbox with validated parameters; its result names the path.
    JavaScript(JavaScript),
    /// An `open_url` trace for the client, then the step's default path.
    Url(OpenUrl),
    /// A library sub-flow run in the turn (`library.rs`); its end names the path.
    Subflow(Subflow),
}

/// `action_type: "subflow"`: `{entry, inputs, outputs, paths}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subflow {
    /// The library entry's name.
    pub entry: String,
    /// Input key → template (`{{var}}`, `{{payload.x}}`, `{{user.id}}`, …); a template that is
    /// exactly one `{{…}}` keeps the value's JSON type.
    pub inputs: Vec<(String, String)>,
    /// Sub-flow variable → agent variable.
    pub outputs: Vec<(String, String)>,
    /// Sub-flow path → the step's path label (missing: the same name).
    pub paths: Vec<(String, String)>,
}

/// `action_type: "url"`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenUrl {
    /// The URL to open, a template like the webhook's.
    pub url: String,
    /// Where the client should open it (`_blank` by default; `_self` replaces the page).
    pub target: String,
}

/// `action_type: "webhook"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub method: String,
    /// `{{var}}`, `{{user.id}}`, `{{project.id}}`, `{{payload.key}}` replaced.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Body template (sent as is after replacement); none for GET.
    pub body: Option<String>,
    /// A field of the JSON answer (`a.b[0].c`) whose text names the path; else the status
    /// class decides (`status_paths`).
    pub path_field: Option<String>,
    /// Status class (`2xx`, `4xx`, `5xx`) or a status (`404`) → path name; a failed call is
    /// `error`.
    pub status_paths: Vec<(String, String)>,
    /// Answer field → variable.
    pub mappings: Vec<(String, String)>,
    /// This call's timeout in milliseconds (`None`: the server's outbound timeout).
    pub timeout_ms: Option<u64>,
    /// Further attempts after a failure to connect, a timeout, a 429 or a 5xx answer.
    pub retries: u32,
}

/// Most retries a webhook may ask for.
pub const MAX_WEBHOOK_RETRIES: u32 = 5;

/// `action_type: "javascript"`.
#[derive(Debug, Clone, PartialEq)]
pub struct JavaScript {
    /// An ES module: `export default async function main({ params, variables })` returning
    /// `{ event, variables? }`.
    pub code: String,
    pub parameters: Vec<Parameter>,
    /// The events (path names) the code may return.
    pub events: Vec<String>,
}

/// A declared parameter: `{key, type, required, default}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub key: String,
    /// `string`, `number`, `boolean`, `object`, `array` (anything else: any value).
    pub ty: String,
    pub required: bool,
    pub default: Option<Value>,
}

/// Why an action declaration is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("the action has no {0}")]
    Missing(&'static str),
    #[error("unknown action_type {0:?} (webhook, javascript, url, subflow)")]
    UnknownType(String),
    #[error("{field} must be {expected}")]
    Invalid {
        field: &'static str,
        expected: &'static str,
    },
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl ServerAction {
    /// `{id, name, description?, project_id?, is_active?, version?, action_type, config}`.
    pub fn parse(v: &Value) -> Result<ServerAction, ActionError> {
        let name = text(v, "name")
            .filter(|n| !n.is_empty())
            .ok_or(ActionError::Missing("name"))?;
        let config = v.get("config").unwrap_or(&Value::Null);
        let handler = match v.get("action_type").and_then(Value::as_str) {
            Some("webhook") => Handler::Webhook(Webhook {
                method: text(config, "method")
                    .unwrap_or_else(|| "POST".into())
                    .to_uppercase(),
                url: text(config, "url").ok_or(ActionError::Missing("config.url"))?,
                headers: pairs(config.get("headers")),
                body: config
                    .get("body")
                    .map(|b| b.as_str().map_or_else(|| b.to_string(), str::to_string)),
                path_field: text(config, "path_field"),
                status_paths: pairs(config.get("status_paths")),
                mappings: pairs(config.get("mappings")),
                timeout_ms: match config.get("timeout_ms") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_u64().filter(|ms| *ms > 0).ok_or(
                        ActionError::Invalid {
                            field: "config.timeout_ms",
                            expected: "a positive number of milliseconds",
                        },
                    )?),
                },
                retries: match config.get("retries") {
                    None | Some(Value::Null) => 0,
                    Some(v) => v
                        .as_u64()
                        .filter(|n| *n <= u64::from(MAX_WEBHOOK_RETRIES))
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or(ActionError::Invalid {
                            field: "config.retries",
                            expected: "a whole number from 0 to 5",
                        })?,
                },
            }),
            Some("url") => Handler::Url(OpenUrl {
                url: text(config, "url").ok_or(ActionError::Missing("config.url"))?,
                target: text(config, "target").unwrap_or_else(|| "_blank".into()),
            }),
            Some("javascript") => Handler::JavaScript(JavaScript {
                code: text(config, "code").ok_or(ActionError::Missing("config.code"))?,
                parameters: config
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .filter_map(|p| {
                                Some(Parameter {
                                    key: text(p, "key")?,
                                    ty: text(p, "type").unwrap_or_else(|| "string".into()),
                                    required: p
                                        .get("required")
                                        .and_then(Value::as_bool)
                                        .unwrap_or(false),
                                    default: p.get("default").cloned(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                events: config
                    .get("events_schema")
                    .and_then(Value::as_array)
                    .map(|e| {
                        e.iter()
                            .filter_map(|e| e.as_str().or_else(|| e.get("name")?.as_str()))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            Some("subflow") => Handler::Subflow(Subflow {
                entry: text(config, "entry")
                    .filter(|e| !e.is_empty())
                    .ok_or(ActionError::Missing("config.entry"))?,
                inputs: pairs(config.get("inputs")),
                outputs: pairs(config.get("outputs")),
                paths: pairs(config.get("paths")),
            }),
            Some(other) => return Err(ActionError::UnknownType(other.into())),
            None => return Err(ActionError::Missing("action_type")),
        };
        Ok(ServerAction {
            id: text(v, "id").unwrap_or_else(|| name.clone()),
            description: text(v, "description").unwrap_or_default(),
            project_id: text(v, "project_id"),
            is_active: v.get("is_active").and_then(Value::as_bool).unwrap_or(true),
            version: v.get("version").and_then(Value::as_u64).unwrap_or(1),
            name,
            handler,
        })
    }
}

/// The actions of a server, by step name; a project's own action wins over a shared one.
#[derive(Debug, Clone, Default)]
pub struct ServerActions {
    by_name: HashMap<String, Vec<Arc<ServerAction>>>,
}

impl ServerActions {
    pub fn new(actions: Vec<ServerAction>) -> ServerActions {
        let mut by_name: HashMap<String, Vec<Arc<ServerAction>>> = HashMap::new();
        for a in actions {
            by_name.entry(a.name.clone()).or_default().push(Arc::new(a));
        }
        ServerActions { by_name }
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The active action answering `name` in `project_id`.
    pub fn find(&self, project_id: &str, name: &str) -> Option<&Arc<ServerAction>> {
        let candidates = self.by_name.get(name)?;
        let active = || candidates.iter().filter(|a| a.is_active);
        active()
            .find(|a| a.project_id.as_deref() == Some(project_id))
            .or_else(|| active().find(|a| a.project_id.is_none()))
    }
}
