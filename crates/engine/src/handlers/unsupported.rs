//! Nodes that need services flowdm does not have yet (Custom API, AI, functions, audio
//! streams). Each says so in a `debug` trace and follows its failure or default port.

use crate::runtime::{Runtime, Step};
use flowdm_model::{Node, NodeKind};

impl Runtime<'_, '_> {
    pub(crate) fn handle_unsupported(&mut self, node: &Node) -> Step {
        let (reason, next) = match &node.kind {
            NodeKind::Api { fail, .. } => (
                "API steps are not supported yet - following the fail path",
                fail.clone(),
            ),
            NodeKind::AiSet { next } => (
                "AI steps need an AI provider, none is configured",
                next.clone(),
            ),
            NodeKind::AiResponse { next, else_id } => (
                "AI steps need an AI provider, none is configured",
                else_id.clone().or_else(|| next.clone()),
            ),
            NodeKind::Function { next } => (
                "function steps are not supported - following the default path",
                next.clone(),
            ),
            NodeKind::Unsupported { next } => {
                ("this step is not supported by flowdm yet", next.clone())
            }
            NodeKind::Stream { next } => ("audio streams are not supported", next.clone()),
            _ => return Step::Unhandled,
        };
        let ty = node.type_name.clone();
        self.debug(Some(&ty), || reason.to_string());
        Step::Next(next)
    }
}
