//! Diagnostics: everything the compiler could not translate faithfully, with where and why.

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, behaviour is as designed (e.g. an unreachable diagram).
    Info,
    /// Compiled, but flowdm does not run it like Voiceflow would (AI, KB, remote functions,
    /// Alexa-only steps, unresolved references): the node follows its default/fail/else port.
    Warning,
    /// Not translated at all (unknown step type, broken data): the node routes on to its
    /// default port, or the whole file failed.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding: file, diagram, node, step type and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// Diagram id (`None` for file-level findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagram: Option<String>,
    /// Node (step) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Creator step type (`captureV2`, `kb-search`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    pub reason: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.file)?;
        if let Some(d) = &self.diagram {
            write!(f, " diagram {d}")?;
        }
        if let Some(n) = &self.node {
            write!(f, " node {n}")?;
        }
        if let Some(t) = &self.step_type {
            write!(f, " ({t})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Counts {
        let mut c = Counts::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Info => c.infos += 1,
            }
        }
        c
    }
}
