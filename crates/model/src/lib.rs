//! The runtime program model: a loaded project (version + project metadata + programs).
//!
//! Node shapes in exports are open-ended, so each node is classified once at load time into a
//! [`NodeKind`] following the reference handler dispatch order (`spec/dm-api.md` §5.6.0). Parts the
//! engine passes through untouched (Slate content, button requests, payloads) stay `serde_json::Value`.

mod action;
mod ai;
mod event;
mod function;
mod library;
mod node;
mod project;
mod vfr;

pub use action::{
    whole, ActionError, Handler, JavaScript, OpenUrl, Parameter, ServerAction, ServerActions,
    Subflow, Webhook, MAX_WEBHOOK_RETRIES,
};
pub use ai::{
    Agent, AiParams, AiResponse, AiSet, AiSetItem, FunctionTool, KbSearch, PathTool, PromptMode,
    PromptSet, PromptSetValue, ResponsePrompt,
};
pub use event::{Command, CommandKind, Event};
pub use function::{
    parse_definitions, Function, FunctionDefinition, FunctionDefinitions, FunctionRef,
};
pub use library::{
    Library, LibraryEntry, LibraryError, LibraryScope, LibrarySource, LibraryVersion,
};
pub use node::{
    Api, ApiRequest, Button, Capture, CaptureV2, CardDef, CardV2, Carousel, Choice, Code,
    CustomAction, Flow, GoTo, GoToNode, If, IfV2, Interaction, Message, Next, NoMatch, NoReply,
    Node, NodeKind, PathDef, Random, Set, SetDef, SetV2, Speak, Start, Stream, Text, Unsupported,
    Visual,
};
pub use project::{Program, Project, ProjectInfo, Settings, VersionInfo};
pub use vfr::{load_vfr, load_vfr_file, LoadError, LoadWarning};

use serde_json::Value;

/// Reads an optional string field (`""` counts as absent).
pub(crate) fn opt_str(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The strings of an optional array (other items skipped; not an array: empty).
pub(crate) fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// JavaScript truthiness of a JSON value.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().map(|f| f != 0.0 && !f.is_nan()).unwrap_or(false),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Truthiness of an optional field (absent = false).
pub(crate) fn field_truthy(v: &Value, key: &str) -> bool {
    v.get(key).map(truthy).unwrap_or(false)
}
