//! Node handlers, one module per node family, dispatched in the reference order (§5.6.0).

mod custom;
mod input;
mod logic;
mod navigation;
mod output;
mod prompts;
mod unsupported;

use super::runtime::{Mode, Runtime, Step};
use flowdm_model::{Node, NodeKind};

impl Runtime<'_, '_> {
    /// Runs the first handler that claims `node`.
    pub(crate) fn handle(&mut self, node: &Node) -> Step {
        let requested = self.mode == Mode::Request && self.request.is_some();
        // One-shot: an intent arriving at a fresh stack's start node.
        if requested && matches!(node.kind, NodeKind::Start { .. }) && self.stack_is_shallow() {
            if let Some(true) = self.request.as_ref().map(|r| r.is_intent()) {
                self.block_trace(node);
                if let Some(step) = self.try_commands() {
                    return step;
                }
                if let NodeKind::Start { next } = &node.kind {
                    return Step::Next(next.clone());
                }
            }
        }
        // Preliminary: a request reaching a node that does not take input.
        if requested && !node.handles_input() && !matches!(node.kind, NodeKind::Unhandled) {
            self.block_trace(node);
            return self.try_commands().unwrap_or(Step::Wait);
        }
        if matches!(node.kind, NodeKind::Unhandled) {
            return Step::Unhandled;
        }
        self.block_trace(node);
        match &node.kind {
            NodeKind::Speak { .. }
            | NodeKind::Text { .. }
            | NodeKind::Visual { .. }
            | NodeKind::Message { .. } => self.handle_output(node),
            NodeKind::CardV2 { .. } | NodeKind::Carousel { .. } => self.handle_card(node),
            NodeKind::Interaction { .. } => self.handle_interaction(node),
            NodeKind::CaptureV2 { .. } | NodeKind::Capture { .. } => self.handle_capture(node),
            NodeKind::If { .. }
            | NodeKind::IfV2 { .. }
            | NodeKind::Set { .. }
            | NodeKind::SetV2 { .. }
            | NodeKind::Random { .. }
            | NodeKind::Code { .. } => self.handle_logic(node),
            NodeKind::Start { .. }
            | NodeKind::Flow { .. }
            | NodeKind::GoTo { .. }
            | NodeKind::GoToNode { .. }
            | NodeKind::Exit
            | NodeKind::Reset
            | NodeKind::Next { .. } => self.handle_navigation(node),
            NodeKind::CustomAction(action) => self.handle_custom_action(action),
            NodeKind::ChannelAction(action) => {
                let name = action
                    .payload
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .to_string();
                self.debug(Some("channel_action"), || format!("__{name}__ - entered"));
                self.handle_custom_action(action)
            }
            NodeKind::Api { .. }
            | NodeKind::AiSet { .. }
            | NodeKind::AiResponse { .. }
            | NodeKind::Function { .. }
            | NodeKind::Unsupported { .. }
            | NodeKind::Stream { .. } => self.handle_unsupported(node),
            NodeKind::Unhandled => Step::Unhandled,
        }
    }

    fn stack_is_shallow(&self) -> bool {
        self.state.stack.len() <= 2
    }
}
