//! Events (what a request must look like to take a path) and commands (stack listeners).

use serde_json::Value;

/// An event a request can match (`spec/dm-api.md` §2.3, §5.5).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `{type:"intent", intent, mappings}`: matches intent requests by name.
    Intent {
        intent: String,
        /// `[{slot, variable}]`; `None` = every entity maps to a same-named variable.
        mappings: Option<Vec<(String, String)>>,
    },
    /// Any other event: matches requests whose `type` is exactly this.
    General(String),
    /// Unusable event (e.g. Alexa event, or no type): never matches.
    Never,
}

impl Event {
    pub fn parse(v: &Value) -> Event {
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        if ty == "intent" {
            let Some(intent) = v.get("intent").and_then(Value::as_str) else {
                return Event::Never;
            };
            let mappings = v.get("mappings").and_then(Value::as_array).map(|arr| {
                arr.iter()
                    .filter_map(|m| {
                        let slot = m.get("slot").and_then(Value::as_str)?;
                        let var = m.get("variable").and_then(Value::as_str)?;
                        Some((slot.to_string(), var.to_string()))
                    })
                    .collect()
            });
            Event::Intent {
                intent: intent.to_string(),
                mappings,
            }
        } else if ty.is_empty() {
            Event::Never
        } else {
            Event::General(ty.to_string())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Jump,
    Push,
}

/// A stack listener (`program.commands`).
#[derive(Debug, Clone)]
pub struct Command {
    pub kind: CommandKind,
    pub event: Event,
    pub next_id: Option<String>,
    pub diagram_id: Option<String>,
}

impl Command {
    pub fn parse(v: &Value) -> Option<Command> {
        let kind = match v.get("type").and_then(Value::as_str) {
            Some("jump") => CommandKind::Jump,
            Some("push") => CommandKind::Push,
            _ => return None,
        };
        let event = Event::parse(v.get("event")?);
        Some(Command {
            kind,
            event,
            next_id: super::opt_str(v, "nextID").or_else(|| super::opt_str(v, "nextId")),
            diagram_id: super::opt_str(v, "diagramID"),
        })
    }
}
