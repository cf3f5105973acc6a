//! Event matching (§2.3) and stack commands (global / flow-level listeners, §6.16).

use super::interpolate::number;
use super::request::Request;
use super::runtime::{Runtime, Step};
use super::state::{Frame, NodePtr};
use flowdm_model::{Command, CommandKind, Event, Project};
use serde_json::Value;

/// Whether `request` matches `event` (§2.3). `diagram_id` restricts intent matching when both
/// the request and the listener name a diagram.
pub(crate) fn event_matches(event: &Event, request: &Request, diagram_id: Option<&str>) -> bool {
    match event {
        Event::Intent { intent, .. } => {
            if request.intent_name() != Some(intent.as_str()) {
                return false;
            }
            match (request.get("diagramID").and_then(Value::as_str), diagram_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
        }
        Event::General(ty) => request.ty() != "intent" && request.ty() == ty,
        Event::Never => false,
    }
}

/// A captured entity value as stored in a variable: numeric strings become numbers unless they
/// start with `0`.
pub(crate) fn entity_value(v: &Value) -> Value {
    if let Value::String(s) = v {
        let t = s.trim();
        if !t.is_empty() && !t.starts_with('0') {
            if let Ok(f) = t.parse::<f64>() {
                if f.is_finite() {
                    return number(f);
                }
            }
        }
    }
    v.clone()
}

/// The entities of a request that carry a value: `(name, value as stored in a variable)`.
pub(crate) fn filled_entities(request: &Request) -> impl Iterator<Item = (&str, Value)> {
    request.entities().iter().filter_map(|entity| {
        let name = entity.get("name").and_then(Value::as_str)?;
        let value = entity.get("value").filter(|v| flowdm_model::truthy(v))?;
        Some((name, entity_value(value)))
    })
}

/// The first command on `stack` (top frame first) that matches `request`, with the index of
/// the frame that owns it.
pub(crate) fn find_command(
    project: &Project,
    library: &flowdm_model::Library,
    stack: &[Frame],
    request: &Request,
) -> Option<(usize, Command)> {
    for (index, frame) in stack.iter().enumerate().rev() {
        let program = project
            .program(&frame.diagram_id)
            .or_else(|| library.program(&frame.diagram_id));
        let Some(program) = program else {
            continue;
        };
        for cmd in &program.commands {
            let diagram = cmd
                .diagram_id
                .as_deref()
                .or(Some(frame.diagram_id.as_str()));
            if event_matches(&cmd.event, request, diagram) {
                return Some((index, cmd.clone()));
            }
        }
    }
    None
}

impl Runtime<'_, '_> {
    /// Copies a matched intent's entities into variables using the event's mappings.
    pub(crate) fn apply_mappings(&mut self, event: &Event) {
        let Event::Intent { mappings, .. } = event else {
            return;
        };
        let Some(request) = self.request.clone() else {
            return;
        };
        for (name, value) in filled_entities(&request) {
            match mappings {
                Some(m) => {
                    for (_, var) in m.iter().filter(|(slot, _)| slot == name) {
                        self.set_var(var, value.clone());
                    }
                }
                None => self.set_var(name, value),
            }
        }
    }

    /// The first command on the stack (top frame first) that matches the request.
    fn find_command(&self) -> Option<(usize, Command)> {
        let request = self.request.as_ref()?;
        find_command(self.project, &self.library, &self.state.stack, request)
    }

    /// Executes a matching stack command, if any (the "command handler").
    pub(crate) fn try_commands(&mut self) -> Option<Step> {
        let (index, cmd) = self.find_command()?;
        self.apply_mappings(&cmd.event);
        Some(self.execute_command(index, &cmd))
    }

    fn execute_command(&mut self, index: usize, cmd: &Command) -> Step {
        match cmd.kind {
            CommandKind::Jump => {
                self.path_trace("jump");
                self.pop_to(index + 1);
                let top_diagram = self.state.stack.last().map(|f| f.diagram_id.clone());
                if let Some(d) = &cmd.diagram_id {
                    if top_diagram.as_deref() != Some(d.as_str()) {
                        self.push_frame(Frame::new(d.clone()));
                    }
                }
                if let Some(top) = self.top_frame_mut() {
                    top.node_id = NodePtr::from_opt(cmd.next_id.as_deref());
                }
                self.debug(None, || "matched command **jump** - jumping to node".into());
                Step::Next(None)
            }
            CommandKind::Push => {
                let Some(d) = &cmd.diagram_id else {
                    self.debug(None, || "push command without diagramID ignored".into());
                    return Step::Next(None);
                };
                self.path_trace("push");
                if let Some(top) = self.top_frame_mut() {
                    top.storage
                        .insert("calledCommand".into(), Value::Bool(true));
                }
                self.push_frame(Frame::new(d.clone()));
                self.debug(None, || {
                    "matched command **push** - adding command flow".into()
                });
                Step::Next(None)
            }
        }
    }
}
