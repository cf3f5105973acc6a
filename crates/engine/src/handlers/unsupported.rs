//! Nodes that need services flowdm does not have yet (AI, audio streams). Each says so in a
//! `debug` trace and follows its failure or default port.

use crate::runtime::{Runtime, Step};
use flowdm_model::{AiResponse, AiSet, Node, Stream, Unsupported};

/// A node kind flowdm skips: why, and where it goes instead.
pub(crate) trait Skipped {
    fn reason(&self) -> &'static str;
    fn next(&self) -> Option<String>;
}

impl Skipped for AiSet {
    fn reason(&self) -> &'static str {
        "AI steps need an AI provider, none is configured"
    }
    fn next(&self) -> Option<String> {
        self.next.clone()
    }
}

impl Skipped for AiResponse {
    fn reason(&self) -> &'static str {
        "AI steps need an AI provider, none is configured"
    }
    fn next(&self) -> Option<String> {
        self.else_id.clone().or_else(|| self.next.clone())
    }
}

impl Skipped for Unsupported {
    fn reason(&self) -> &'static str {
        "this step is not supported by flowdm yet"
    }
    fn next(&self) -> Option<String> {
        self.next.clone()
    }
}

impl Skipped for Stream {
    fn reason(&self) -> &'static str {
        "audio streams are not supported"
    }
    fn next(&self) -> Option<String> {
        self.next.clone()
    }
}

impl Runtime<'_, '_> {
    pub(crate) fn handle_unsupported(&mut self, node: &Node, skipped: &impl Skipped) -> Step {
        let reason = skipped.reason();
        let ty = node.type_name.clone();
        self.debug(Some(&ty), || reason.to_string());
        Step::Next(skipped.next())
    }
}
