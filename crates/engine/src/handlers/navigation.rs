//! Navigation nodes: start, flow/component, goTo, goToNode, exit, reset, and the `nextId`
//! fallback (§5.6.1, 14–18, 31).

use crate::interpolate::Lookup;
use crate::logs::LogLevel;
use crate::runtime::{Mode, Runtime, Step};
use crate::state::{Frame, NodePtr};
use flowdm_model::{Flow, GoTo, GoToNode, Next, Node, Start};
use serde_json::{json, Map, Value};

impl Runtime<'_, '_> {
    pub(crate) fn handle_start(&mut self, node: &Node, start: &Start) -> Step {
        self.debug(Some("start"), || "beginning flow".into());
        if self.logs_at(LogLevel::Info) {
            let user = self
                .user_id
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Null);
            let version = Value::String(self.project.version.id.clone());
            self.log(LogLevel::Info, "global.conversation_start", || {
                let mut m = Map::new();
                m.insert("userID".into(), user);
                m.insert("versionID".into(), version);
                m
            });
            self.step_log(node, "start", Vec::new);
        }
        Step::Next(start.next.clone())
    }

    pub(crate) fn handle_next(&mut self, node: &Node, next: &Next) -> Step {
        let ty = node.type_name.clone();
        self.debug(Some(&ty), || {
            "could not handle step - redirecting to the next step".into()
        });
        Step::Next(Some(next.next.clone()))
    }

    pub(crate) fn handle_flow(&mut self, node: &Node, flow: &Flow) -> Step {
        let Flow {
            diagram_id,
            inputs,
            outputs,
            next,
        } = flow;
        let Some(diagram_id) = diagram_id else {
            return Step::Next(next.clone());
        };
        let mut child = Frame::new(diagram_id.clone());
        let scope = self.scope();
        for (parent_var, child_var) in inputs {
            // An undefined parent variable stays undefined in the child.
            if let Some(value) = scope.lookup(parent_var) {
                child.variables.insert(child_var.clone(), value.clone());
            }
        }
        if !outputs.is_empty() {
            let map: Vec<Value> = outputs.iter().map(|(p, c)| json!([c, p])).collect();
            child.storage.insert("outputMap".into(), Value::Array(map));
        }
        if let Some(top) = self.top_frame_mut() {
            top.node_id = NodePtr::from_opt(next.as_deref());
        }
        let before = self.flow_ref(self.state.stack.last().map(|f| f.diagram_id.as_str()));
        self.push_frame(child);
        let name = self
            .program(diagram_id)
            .and_then(|p| p.name.clone())
            .unwrap_or_default();
        self.debug(Some("flow"), || format!("entering flow `{name}`"));
        if self.logs_at(LogLevel::Info) {
            let after = self.flow_ref(Some(diagram_id));
            self.step_log(node, "flow", || {
                vec![("flow", json!({ "before": before, "after": after }))]
            });
        }
        Step::Next(None)
    }

    pub(crate) fn handle_goto(&mut self, goto: &GoTo) -> Step {
        let GoTo { request, no_match } = goto;
        if self.mode == Mode::Running {
            self.trace("goto", json!({ "request": request }));
            return Step::Wait;
        }
        if let Some(step) = self.try_commands() {
            return step;
        }
        Step::Next(no_match.clone())
    }

    pub(crate) fn handle_goto_node(&mut self, goto: &GoToNode) -> Step {
        let GoToNode { diagram_id, next } = goto;
        let current = self.state.stack.last().map(|f| f.diagram_id.clone());
        let Some(target) = diagram_id.clone().filter(|d| Some(d) != current.as_ref()) else {
            return Step::Next(next.clone());
        };
        self.path_trace("jump");
        match self.state.stack.iter().position(|f| f.diagram_id == target) {
            Some(index) => self.pop_to(index + 1),
            None => self.pop_to(1),
        }
        let mut frame = Frame::new(target.clone());
        frame.node_id = NodePtr::from_opt(next.as_deref());
        self.push_frame(frame);
        self.debug(Some("goToNode"), || format!("entering flow `{target}`"));
        Step::Next(None)
    }

    pub(crate) fn handle_exit(&mut self, node: &Node) -> Step {
        if let Some(top) = self.top_frame_mut() {
            top.node_id = NodePtr::Null;
        }
        while self
            .state
            .stack
            .last()
            .map(|f| f.node_id.id().is_none())
            .unwrap_or(false)
        {
            self.pop_frame();
        }
        self.exited = true;
        self.trace("end", Value::Null);
        self.debug(Some("exit"), || {
            "exiting session - saving location/resolving stack".into()
        });
        if self.logs_at(LogLevel::Info) {
            let state = if self.logs_at(LogLevel::Verbose) {
                serde_json::to_value(&self.state).unwrap_or(Value::Null)
            } else {
                Value::Null
            };
            self.step_log(node, "exit", || vec![("state", state)]);
        }
        self.end_turn();
        Step::Next(None)
    }

    pub(crate) fn handle_reset(&mut self) -> Step {
        if self.state.stack.len() > 1 {
            self.pop_to(1);
        }
        if let Some(bottom) = self.state.stack.first_mut() {
            bottom.node_id = NodePtr::Unset;
        }
        Step::Next(None)
    }
}

impl Runtime<'_, '_> {
    /// `{name, diagramID}` of a diagram, for flow logs.
    fn flow_ref(&self, diagram_id: Option<&str>) -> Value {
        match diagram_id {
            Some(id) => {
                let name = self.program(id).and_then(|p| p.name.clone());
                json!({ "name": name, "diagramID": id })
            }
            None => Value::Null,
        }
    }
}
