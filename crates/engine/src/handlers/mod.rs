//! Node handlers, one module per node family, dispatched in the reference order (§5.6.0).

mod agent;
mod ai;
mod api;
mod custom;
mod function;
mod input;
mod logic;
mod navigation;
mod output;
mod prompts;
mod server_action;
mod subflow;
mod unsupported;

use super::runtime::{Mode, Runtime, Step};

/// A call to the outside world on this run: its outcome, or the turn stops for it (the effect
/// is pending and the turn runs again with its result, `docs/effects.md`).
pub(crate) enum Call<T> {
    Done(Result<T, String>),
    Pending,
}

impl Runtime<'_, '_> {
    /// A step's call: its result from the effect log (read by `read`, e.g.
    /// `EffectResult::into_llm`), or the turn stops for the effect `make` builds.
    pub(crate) fn effect_call<T>(
        &mut self,
        read: fn(crate::effects::EffectResult) -> Result<T, String>,
        make: impl FnOnce(&Self) -> crate::effects::Effect,
    ) -> Call<T> {
        match self.take_effect_result() {
            Some(result) => Call::Done(read(result)),
            None => {
                let effect = make(self);
                self.suspend(effect);
                Call::Pending
            }
        }
    }
}
use flowdm_model::{Node, NodeKind};

impl Runtime<'_, '_> {
    /// Runs the handler of `node`'s kind. The match is exhaustive: a new kind must pick one.
    pub(crate) fn handle(&mut self, node: &Node) -> Step {
        let requested = self.mode == Mode::Request && self.request.is_some();
        // One-shot: an intent arriving at a fresh stack's start node.
        if let NodeKind::Start(start) = &node.kind {
            if requested
                && self.stack_is_shallow()
                && self.request.as_ref().map(|r| r.is_intent()) == Some(true)
            {
                self.block_trace(node);
                if let Some(step) = self.try_commands() {
                    return step;
                }
                return Step::Next(start.next.clone());
            }
        }
        if let NodeKind::Unhandled = node.kind {
            return Step::Unhandled;
        }
        // Preliminary: a request reaching a node that does not take input.
        if requested && !node.handles_input() {
            self.block_trace(node);
            return self.try_commands().unwrap_or(Step::Wait);
        }
        self.block_trace(node);
        match &node.kind {
            // output.rs
            NodeKind::Speak(n) => self.handle_speak(node, n),
            NodeKind::Text(n) => self.handle_text(node, n),
            NodeKind::Visual(n) => self.handle_visual(n),
            NodeKind::Message(n) => self.handle_message(n),
            NodeKind::CardV2(n) => self.handle_card_v2(n),
            NodeKind::Carousel(n) => self.handle_carousel(n),
            // input.rs
            NodeKind::Interaction(n) => self.handle_interaction(n),
            NodeKind::CaptureV2(n) => self.handle_capture_v2(node, n),
            NodeKind::Capture(n) => self.handle_capture(n),
            // logic.rs
            NodeKind::If(n) => self.handle_if(node, n),
            NodeKind::IfV2(n) => self.handle_if_v2(node, n),
            NodeKind::Set(n) => self.handle_set(node, n),
            NodeKind::SetV2(n) => self.handle_set_v2(node, n),
            NodeKind::Random(n) => self.handle_random(node, n),
            NodeKind::Code(n) => self.handle_code(node, n),
            // navigation.rs
            NodeKind::Start(n) => self.handle_start(node, n),
            NodeKind::Flow(n) => self.handle_flow(node, n),
            NodeKind::GoTo(n) => self.handle_goto(n),
            NodeKind::GoToNode(n) => self.handle_goto_node(n),
            NodeKind::Exit => self.handle_exit(node),
            NodeKind::Reset => self.handle_reset(),
            NodeKind::Next(n) => self.handle_next(node, n),
            // custom.rs
            NodeKind::CustomAction(action) => self.handle_custom_action(action),
            NodeKind::ChannelAction(action) => self.handle_channel_action(action),
            // ai.rs
            NodeKind::AiSet(n) => self.handle_ai_set(node, n),
            NodeKind::AiResponse(n) => self.handle_ai_response(node, n),
            NodeKind::ResponsePrompt(n) => self.handle_response_prompt(node, n),
            NodeKind::KbSearch(n) => self.handle_kb_search(node, n),
            NodeKind::PromptSet(n) => self.handle_prompt_set(node, n),
            // agent.rs
            NodeKind::Agent(n) => self.handle_agent(node, n),
            // api.rs, function/
            NodeKind::Api(n) => self.handle_api(node, n),
            NodeKind::Function(n) => self.handle_function(node, n),
            // unsupported.rs
            NodeKind::Unsupported(n) => self.handle_unsupported(node, n),
            NodeKind::Stream(n) => self.handle_unsupported(node, n),
            NodeKind::Unhandled => Step::Unhandled,
        }
    }

    fn stack_is_shallow(&self) -> bool {
        self.state.stack.len() <= 2
    }
}
