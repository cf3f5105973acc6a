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

/// AI tokens one turn may use when the operator sets no limit.
pub const DEFAULT_MAX_LLM_TOKENS: u64 = 20_000;

/// How much one turn may wait on effects (`docs/effects.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectBudget {
    /// Effects per turn; the next one gets an error result instead of being performed.
    pub max_effects: usize,
    /// Total time spent performing a turn's effects; past it, the same.
    pub max_time: Duration,
    /// AI tokens per turn (prompt and completion tokens of the turn's completions): once
    /// spent, the next AI effect gets an error result, so a looping agent step cannot run up
    /// the operator's bill.
    pub max_llm_tokens: u64,
}

impl Default for EffectBudget {
    fn default() -> EffectBudget {
        EffectBudget {
            max_effects: 10,
            max_time: Duration::from_secs(60),
            max_llm_tokens: DEFAULT_MAX_LLM_TOKENS,
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

    /// Why `effect` is not performed, if the budget is spent: [`EffectBudget::spent`] for
    /// every effect, and for an AI effect the tokens `log` (the turn's results so far) used.
    pub fn refuses(
        &self,
        effect: &Effect,
        log: &[EffectResult],
        elapsed: Duration,
    ) -> Option<String> {
        self.spent(log.len(), elapsed).or_else(|| match effect {
            Effect::Llm(_) => {
                let used = llm_tokens(log);
                (used >= self.max_llm_tokens).then(|| {
                    format!(
                        "this turn already used {used} AI tokens (the limit is {})",
                        self.max_llm_tokens
                    )
                })
            }
            _ => None,
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

/// The AI tokens (prompt and completion) of the successful completions in `log`.
pub fn llm_tokens(log: &[EffectResult]) -> u64 {
    log.iter()
        .map(|r| match r {
            EffectResult::Llm(Ok(a)) => u64::from(a.prompt_tokens) + u64::from(a.completion_tokens),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_effects_and_time() {
        let b = EffectBudget {
            max_effects: 2,
            max_time: Duration::from_secs(5),
            ..EffectBudget::default()
        };
        assert_eq!(b.spent(1, Duration::from_secs(1)), None);
        assert!(b
            .spent(2, Duration::ZERO)
            .is_some_and(|w| w.contains("limit is 2")));
        assert!(b
            .spent(0, Duration::from_secs(5))
            .is_some_and(|w| w.contains("5 s")));
    }

    #[test]
    fn ai_effects_stop_once_the_turn_spent_its_tokens() {
        use flowdm_engine::{HttpRequest, HttpResponse, LlmRequest, LlmResponse};
        let b = EffectBudget {
            max_llm_tokens: 100,
            ..EffectBudget::default()
        };
        let answer = |p, c| {
            EffectResult::Llm(Ok(LlmResponse {
                prompt_tokens: p,
                completion_tokens: c,
                ..LlmResponse::default()
            }))
        };
        let llm = Effect::Llm(LlmRequest::default());
        let http = Effect::Http(HttpRequest {
            method: "GET".into(),
            url: "https://example.com".into(),
            headers: Vec::new(),
            body: flowdm_engine::HttpBody::None,
            policy: flowdm_engine::CallPolicy::default(),
        });
        let mut log = vec![answer(40, 20)];
        assert_eq!(b.refuses(&llm, &log, Duration::ZERO), None);
        // Failed completions and other effects cost no tokens.
        log.push(EffectResult::Llm(Err("timeout".into())));
        log.push(EffectResult::Http(Ok(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: String::new(),
        })));
        assert_eq!(llm_tokens(&log), 60);
        log.push(answer(30, 10));
        let why = b.refuses(&llm, &log, Duration::ZERO).unwrap();
        assert_eq!(
            why,
            "this turn already used 100 AI tokens (the limit is 100)"
        );
        assert_eq!(
            EffectBudget::refusal(&llm, why.clone()),
            EffectResult::Llm(Err(why))
        );
        // HTTP is not limited by tokens.
        assert_eq!(b.refuses(&http, &log, Duration::ZERO), None);
    }
}
