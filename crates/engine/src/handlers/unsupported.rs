//! Nodes that need services flowdm does not have yet (AI agents, audio streams). Each says so in a
//! `debug` trace and follows its failure or default port.

use crate::runtime::{Runtime, Step};
use flowdm_model::{Node, Stream, Unsupported};

/// A node kind flowdm skips: why, and where it goes instead.
pub(crate) trait Skipped {
    fn reason(&self) -> &'static str;
    fn next(&self) -> Option<String>;
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
