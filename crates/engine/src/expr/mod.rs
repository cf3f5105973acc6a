//! Expressions: the legacy shunting-yard evaluator of `if`/`set` v1 (`spec/dm-api.md` §6.13.1)
//! and its JavaScript value model. JavaScript (`ifV2`/`setV2`/`code`) runs in the sandbox the
//! engine is given (`env::Sandbox`).

pub mod jsvalue;
pub mod legacy;

/// Why a script did not produce a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// The script threw (or would throw in JavaScript), e.g. `ReferenceError: x is not defined`.
    #[error("{0}")]
    Thrown(String),
    /// Not run, e.g. an expression the reference could not insert into its template string.
    #[error("not run: {0}")]
    Unsupported(String),
    /// Time or size limit reached.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// Stopped at the caller's time budget ([`crate::env::ScriptEnv::budget_ms`]), before the
    /// limit: the run is abandoned and the caller runs the turn again without a budget.
    #[error("stopped at the caller's time budget")]
    OverBudget,
}
