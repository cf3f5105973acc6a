//! How the server performs the effects turns stop for (`docs/effects.md`).

use flowdm_actions::perform::{Performer, Performing};
use flowdm_engine::{Effect, EffectResult};

/// No outbound calls: every effect fails (the step takes its fail path with a `debug` trace).
pub struct Offline;

impl Performer for Offline {
    fn perform<'a>(&'a self, effect: &'a Effect) -> Performing<'a> {
        Box::pin(async move {
            match effect {
                Effect::Http(_) => {
                    EffectResult::Http(Err("outbound HTTP is not available".to_string()))
                }
            }
        })
    }
}
