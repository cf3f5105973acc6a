//! Performing a turn's effects for the server: the [`Performer`] trait and the per-turn budget.

use flowdm_engine::{Effect, EffectResult};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future of an effect's result.
pub type Performing<'a> = Pin<Box<dyn Future<Output = EffectResult> + Send + 'a>>;

/// Performs effects (outbound HTTP, …); never fails: a failure is an error result, which the
/// step turns into its fail path.
pub trait Performer: Send + Sync {
    fn perform<'a>(&'a self, effect: &'a Effect) -> Performing<'a>;
}

/// How much one turn may wait on effects (`docs/effects.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectBudget {
    /// Effects per turn; the next one gets an error result instead of being performed.
    pub max_effects: usize,
    /// Total time spent performing a turn's effects; past it, the same.
    pub max_time: Duration,
}

impl Default for EffectBudget {
    fn default() -> EffectBudget {
        EffectBudget {
            max_effects: 10,
            max_time: Duration::from_secs(60),
        }
    }
}

impl EffectBudget {
    /// Why the next effect is not performed, if the budget is spent.
    pub fn spent(&self, performed: usize, elapsed: Duration) -> Option<String> {
        if performed >= self.max_effects {
            return Some(format!(
                "this turn already made {performed} outbound calls (the limit is {})",
                self.max_effects
            ));
        }
        (elapsed >= self.max_time).then(|| {
            format!(
                "this turn already spent {} s on outbound calls (the limit is {} s)",
                elapsed.as_secs(),
                self.max_time.as_secs()
            )
        })
    }

    /// The result given instead of performing an effect.
    pub fn refusal(effect: &Effect, why: String) -> EffectResult {
        match effect {
            Effect::Http(_) => EffectResult::Http(Err(why)),
            Effect::Llm(_) => EffectResult::Llm(Err(why)),
            Effect::Kb(_) => EffectResult::Kb(Err(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_effects_and_time() {
        let b = EffectBudget {
            max_effects: 2,
            max_time: Duration::from_secs(5),
        };
        assert_eq!(b.spent(1, Duration::from_secs(1)), None);
        assert!(b
            .spent(2, Duration::ZERO)
            .is_some_and(|w| w.contains("limit is 2")));
        assert!(b
            .spent(0, Duration::from_secs(5))
            .is_some_and(|w| w.contains("5 s")));
    }
}
