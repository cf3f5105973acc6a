//! Expressions: the legacy shunting-yard evaluator of `if`/`set` v1 (`spec/dm-api.md` §6.13.1)
//! and a minimal JavaScript evaluator for `ifV2`/`setV2`/`code` until the sandbox lands.

pub mod js;
pub mod jsvalue;
pub mod legacy;

pub use js::MiniJs;

/// Why a script did not produce a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// The script threw (or would throw in JavaScript), e.g. `ReferenceError: x is not defined`.
    #[error("{0}")]
    Thrown(String),
    /// Valid JavaScript the built-in evaluator does not support; never guessed.
    #[error("unsupported by the built-in JavaScript evaluator: {0}")]
    Unsupported(String),
    /// Time or size limit reached.
    #[error("limit exceeded: {0}")]
    Limit(String),
}
