//! Where evaluations run: on the caller's thread, on a fresh stack segment when the caller's
//! remaining stack is small.
//!
//! The parser and evaluator recurse (depth-limited to [`super::parser::MAX_DEPTH`]); debug builds
//! use large frames. `stacker` checks the remaining stack (a few nanoseconds) and only allocates a
//! new segment when less than [`RED_ZONE`] is left, so the usual call costs nothing extra.

use super::R;

/// Stack an evaluation may need at the deepest allowed nesting (debug builds), with margin.
const RED_ZONE: usize = 1024 * 1024;
/// Size of a fresh segment when the caller's stack is short.
const STACK_SIZE: usize = 8 * 1024 * 1024;

/// Runs `f` with at least [`RED_ZONE`] of stack available.
pub fn on_big_stack<T>(f: impl FnOnce() -> R<T>) -> R<T> {
    stacker::maybe_grow(RED_ZONE, STACK_SIZE, f)
}
