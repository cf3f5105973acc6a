//! One custom action run outside a dialog turn (the management API's `test` and `execute`,
//! `docs/custom-actions.md`): the same handler code as a custom-action step
//! (`handlers/server_action.rs`), on a given variable set, sans-IO like a turn — a run that
//! needs the network stops with [`ActionOutput::effect`]; the caller performs it and runs again
//! with its result appended to [`ActionInput::effects`].

use crate::effects::{Effect, EffectResult};
use crate::env::Env;
use crate::handlers::Call;
use crate::logs::LogLevel;
use crate::request::Config;
use crate::runtime::Runtime;
use crate::state::{State, Vars};
use crate::trace::Trace;
use flowdm_model::{Project, ProjectInfo, ServerAction, VersionInfo};
use serde_json::Value;
use std::collections::HashMap;

/// What one action run gets.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// The session variables the action reads (and its results are written into).
    pub variables: Vars,
    /// The step payload (`{{payload.key}}`, a JavaScript action's `params`).
    pub payload: Value,
    pub user_id: Option<String>,
    pub project_id: String,
    /// `log` traces up to this level.
    pub logs: LogLevel,
    /// The results of the effects earlier runs stopped for, in order.
    pub effects: Vec<EffectResult>,
}

/// What it gave: the event (path name) the action named, or why it failed; the variables after
/// it; the `debug`/`log` traces it made — or, with `effect` set, a run stopped for an effect.
#[derive(Debug, Clone)]
pub struct ActionOutput {
    pub event: Option<String>,
    pub error: Option<String>,
    pub variables: Vars,
    pub traces: Vec<Trace>,
    pub effect: Option<Effect>,
}

/// Runs `action` once on `input` (see the module).
pub fn run_action(action: &ServerAction, input: ActionInput, env: &mut Env<'_>) -> ActionOutput {
    let project = Project {
        info: ProjectInfo {
            id: input.project_id.clone(),
            ..ProjectInfo::default()
        },
        version: VersionInfo {
            project_id: input.project_id.clone(),
            ..VersionInfo::default()
        },
        programs: HashMap::new(),
    };
    let config = Config::default();
    let state = State {
        variables: input.variables,
        ..State::default()
    };
    let mut rt = Runtime::new(&project, &config, env, state, None);
    rt.user_id = input.user_id;
    rt.log_level = input.logs;
    rt.effect_results = input.effects.into();
    let call = rt.call_server_action(action, &input.payload);
    let (event, error) = match call {
        Call::Pending => (None, None),
        Call::Done(Ok(event)) => (event, None),
        Call::Done(Err(why)) => (None, Some(why)),
    };
    ActionOutput {
        event,
        error,
        effect: rt.pending_effect.take(),
        traces: std::mem::take(&mut rt.traces),
        variables: std::mem::take(&mut rt.state.variables),
    }
}
