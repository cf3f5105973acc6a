//! The engine: runs one turn of a project given state, request, config, clock and randomness.
//! It does no I/O; everything from outside comes through [`env::Env`].

mod action_run;
mod agent;
mod commands;
mod dm;
pub mod effects;
pub mod env;
pub mod expr;
mod handlers;
pub mod interpolate;
pub mod knowledge;
mod llm_nlu;
pub mod logs;
mod query;
pub mod request;
mod runtime;
pub mod session;
pub mod state;
pub mod stops;
pub mod trace;
mod turn;

pub use action_run::{run_action, ActionInput, ActionOutput};
pub use agent::Agent;
pub use effects::{
    CallPolicy, ChatMessage, Effect, EffectResult, HttpBody, HttpOrigin, HttpRequest, HttpResponse,
    KbChunk, KbQuery, LlmRequest, LlmResponse, ToolCall, ToolSpec,
};
pub use env::{
    Clock, Env, Fetch, FixedClock, FunctionRun, RandomSource, Sandbox, ScriptEnv, SeededRandom,
    SystemClock,
};
pub use flowdm_nlu::semantic::ExternalRanking;
pub use logs::LogLevel;
pub use request::{Config, InvalidRequest, Request};
pub use runtime::{MAX_FRAME_DEPTH, MAX_NODES_PER_FRAME, TURN_TIMEOUT_MS};
pub use state::{Frame, NodePtr, State};
pub use trace::Trace;
pub use turn::{
    interact, interact_within, ActionRun, OverBudget, TurnInput, TurnOutput, MAX_DELEGATIONS,
};
