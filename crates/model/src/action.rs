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
    /// An icon name or URL for a UI (not used by the server).
    pub icon: Option<String>,
    /// Order in a UI's list (smaller first; not used by the server).
    pub display_order: i64,
    /// RFC 3339 instants set by the management API (`None` for a file's action).
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// `action_type` as declared (the [`Handler`]'s kind).
    pub action_type: String,
    /// `config` as declared, kept whole so [`ServerAction::to_json`] gives back every field,
    /// those the handler does not read included.
    pub config: Value,
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
    /// A field of the wrong type or value: `field` names it (`config.url`, `is_active`).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl ActionError {
    /// The field the error is about (for an API's 400 answer).
    pub fn field(&self) -> &str {
        match self {
            ActionError::Missing(f) => f,
            ActionError::UnknownType(_) => "action_type",
            ActionError::Invalid { field, .. } => field,
        }
    }
}

/// A whole number within ±(2^31 − 1), also when written `3.0` (JSON tools do; in that range
/// the decimal is read exactly). Shared by the management API's numbers (`version`).
pub fn whole(v: &Value) -> Option<i64> {
    const MAX: i64 = i32::MAX as i64;
    v.as_i64()
        .or_else(|| {
            let f = v.as_f64()?;
            // The range check keeps the cast exact.
            (f.fract() == 0.0 && f.abs() <= MAX as f64).then_some(f as i64)
        })
        .filter(|n| n.abs() <= MAX)
}

fn invalid(field: &str, reason: &str) -> ActionError {
    ActionError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The JSON type a top-level field must have when present and not null.
fn check_type(
    v: &Value,
    field: &str,
    ok: fn(&Value) -> bool,
    what: &str,
) -> Result<(), ActionError> {
    match v.get(field) {
        Some(Value::Null) | None => Ok(()),
        Some(x) if ok(x) => Ok(()),
        Some(_) => Err(invalid(field, &format!("must be {what}"))),
    }
}

/// Every declared field of the right JSON type (`config`'s own fields are checked by its kind).
fn check_types(v: &Value) -> Result<(), ActionError> {
    if !v.is_object() {
        return Err(invalid("body", "an action is a JSON object"));
    }
    for f in [
        "id",
        "name",
        "description",
        "project_id",
        "icon",
        "action_type",
        "created_at",
        "updated_at",
    ] {
        check_type(v, f, Value::is_string, "a string")?;
    }
    check_type(v, "is_active", Value::is_boolean, "true or false")?;
    check_type(
        v,
        "version",
        |x| whole(x).is_some_and(|n| n > 0),
        "a positive integer",
    )?;
    check_type(v, "display_order", |x| whole(x).is_some(), "an integer")?;
    check_type(v, "config", Value::is_object, "an object")?;
    let config = v.get("config").unwrap_or(&Value::Null);
    for f in [
        "method",
        "url",
        "body",
        "path_field",
        "code",
        "target",
        "entry",
    ] {
        if let Some(x) = config.get(f) {
            if !(x.is_string() || f == "body") {
                return Err(invalid(&format!("config.{f}"), "must be a string"));
            }
        }
    }
    for f in [
        "headers",
        "status_paths",
        "mappings",
        "inputs",
        "outputs",
        "paths",
    ] {
        if let Some(x) = config.get(f) {
            if !x.is_object() {
                return Err(invalid(&format!("config.{f}"), "must be an object"));
            }
        }
    }
    for f in ["parameters", "events_schema"] {
        if let Some(x) = config.get(f) {
            if !x.is_array() {
                return Err(invalid(&format!("config.{f}"), "must be an array"));
            }
        }
    }
    Ok(())
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
    /// The one validator of an action, for files, the management API and the registry store:
    /// an error names the field that is wrong ([`ActionError::field`]).
    pub fn parse(v: &Value) -> Result<ServerAction, ActionError> {
        check_types(v)?;
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
                    Some(v) => Some(
                        whole(v)
                            .and_then(|ms| u64::try_from(ms).ok())
                            .filter(|ms| *ms > 0)
                            .ok_or_else(|| {
                                invalid(
                                    "config.timeout_ms",
                                    "must be a positive number of milliseconds",
                                )
                            })?,
                    ),
                },
                retries: match config.get("retries") {
                    None | Some(Value::Null) => 0,
                    Some(v) => whole(v)
                        .and_then(|n| u64::try_from(n).ok())
                        .filter(|n| *n <= u64::from(MAX_WEBHOOK_RETRIES))
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            invalid("config.retries", "must be a whole number from 0 to 5")
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
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            if id.is_empty() || id.len() > 200 || id.contains(['/', '?', '#']) {
                return Err(invalid(
                    "id",
                    "must be 1-200 characters without '/', '?' or '#'",
                ));
            }
        }
        Ok(ServerAction {
            id: text(v, "id").unwrap_or_else(|| name.clone()),
            description: text(v, "description").unwrap_or_default(),
            project_id: text(v, "project_id"),
            is_active: v.get("is_active").and_then(Value::as_bool).unwrap_or(true),
            version: v
                .get("version")
                .and_then(whole)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(1),
            icon: text(v, "icon"),
            display_order: v.get("display_order").and_then(whole).unwrap_or(0),
            created_at: text(v, "created_at"),
            updated_at: text(v, "updated_at"),
            action_type: text(v, "action_type").unwrap_or_default(),
            config: config.clone(),
            name,
            handler,
        })
    }

    /// The inverse of [`ServerAction::parse`]: the JSON the API answers, the files and the
    /// registry store hold (`parse(&a.to_json()) == a`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "project_id": self.project_id,
            "icon": self.icon,
            "display_order": self.display_order,
            "is_active": self.is_active,
            "version": self.version,
            "action_type": self.action_type,
            "config": self.config,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
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

    /// Every action (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ServerAction>> {
        self.by_name.values().flatten()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn to_json_is_the_inverse_of_parse_and_keeps_unknown_config_fields() {
        let raw = json!({ "id": "pay", "name": "Pay", "description": "d", "project_id": "p",
            "icon": "card", "display_order": -2, "is_active": false, "version": 4,
            "action_type": "webhook", "config": { "url": "http://x", "retries": 3 },
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": null });
        let a = ServerAction::parse(&raw).unwrap();
        assert_eq!(a.to_json(), raw);
        assert_eq!(ServerAction::parse(&a.to_json()).unwrap(), a);
    }

    #[test]
    fn errors_name_the_field() {
        let field = |v: Value| ServerAction::parse(&v).unwrap_err().field().to_string();
        let ok = json!({ "name": "A", "action_type": "javascript", "config": { "code": "x" } });
        assert!(ServerAction::parse(&ok).is_ok());
        let with = |k: &str, v: Value| {
            let mut o = ok.clone();
            o[k] = v;
            o
        };
        assert_eq!(field(with("display_order", json!(1.5))), "display_order");
        assert_eq!(field(with("project_id", json!(3))), "project_id");
        assert_eq!(field(with("config", json!([]))), "config");
        assert_eq!(field(with("config", json!({ "code": 1 }))), "config.code");
        assert_eq!(field(with("config", json!({}))), "config.code");
        assert_eq!(field(with("action_type", json!("x"))), "action_type");
        assert_eq!(field(json!([])), "body");
    }
}
