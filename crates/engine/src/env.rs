//! What the engine gets from outside: a clock, a random source and a script sandbox.
//! Tests inject fixed implementations so turns are deterministic.

use super::effects::{HttpRequest, HttpResponse};
use super::expr::ScriptError;
use super::state::Vars;
use serde_json::Value;

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock frozen at one instant (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

pub trait RandomSource {
    /// A uniformly chosen index in `0..n` (`n > 0`).
    fn index(&mut self, n: usize) -> usize;
    /// A short random id (Slate ids).
    fn short_id(&mut self) -> String;
    /// 64 random bits (the seed of a script's `Math.random`).
    fn next_u64(&mut self) -> u64;
}

/// Randomness from a seeded small RNG; `from_entropy` for production.
#[derive(Clone)]
pub struct SeededRandom(rand::rngs::SmallRng);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        use rand::SeedableRng;
        SeededRandom(rand::rngs::SmallRng::seed_from_u64(seed))
    }
    pub fn from_entropy() -> Self {
        use rand::SeedableRng;
        SeededRandom(rand::rngs::SmallRng::from_entropy())
    }
}

impl RandomSource for SeededRandom {
    fn index(&mut self, n: usize) -> usize {
        use rand::Rng;
        if n <= 1 {
            0
        } else {
            self.0.gen_range(0..n)
        }
    }
    fn short_id(&mut self) -> String {
        use rand::RngCore;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        // 8 base-36 digits from one 64-bit draw (36^8 < 2^42, the bias is negligible for ids).
        let mut n = self.0.next_u64();
        let mut id = String::with_capacity(8);
        for _ in 0..8 {
            id.push(ALPHABET[(n % 36) as usize] as char);
            n /= 36;
        }
        id
    }
    fn next_u64(&mut self) -> u64 {
        use rand::RngCore;
        self.0.next_u64()
    }
}

/// Result of a code step.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeOutcome {
    /// New values of variables that existed before the code ran (only those).
    pub variables: Vars,
    /// The value returned by the code when it ran as a function body (code with paths).
    pub returned: Option<Value>,
}

/// What a script may observe of the outside world, fixed by the engine for each call so that
/// turns stay deterministic: `Date` reads `now_ms` (the turn's clock) and `Math.random` is seeded
/// with `seed` (drawn from the turn's random source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptEnv {
    /// Milliseconds since the Unix epoch.
    pub now_ms: u64,
    pub seed: u64,
    /// What is left of the caller's time budget (`interact_within`), when it has one: a script
    /// still running then stops with [`ScriptError::OverBudget`] instead of holding an HTTP
    /// worker up to the 1 s limit.
    pub budget_ms: Option<u64>,
}

/// JavaScript evaluation for ifV2, setV2 and code steps (`spec/dm-api.md` §6.13.2).
pub trait Sandbox: Send + Sync {
    /// Evaluates one expression with every variable as a global.
    fn eval_expression(
        &self,
        expr: &str,
        vars: &Vars,
        env: &ScriptEnv,
    ) -> Result<Value, ScriptError>;
    /// Runs `variable = expression` assignments in order (later ones see earlier results) and
    /// returns the assigned values in order. Any error discards all assignments.
    fn run_sets(
        &self,
        sets: &[(String, String)],
        vars: &Vars,
        env: &ScriptEnv,
    ) -> Result<Vec<(String, Value)>, ScriptError>;
    /// Runs a code step. With `as_function` the code is a function body whose return value is
    /// reported.
    fn run_code(
        &self,
        code: &str,
        vars: &Vars,
        as_function: bool,
        env: &ScriptEnv,
    ) -> Result<CodeOutcome, ScriptError>;
    /// Runs a function step's code (`spec/dm-api.md` §5.6.24): an ES module whose default
    /// export is `async function main(args)`, called with `args`, with `fetch` answered by
    /// `fetch`. The run is replayed from the start for every new answer, so it must be
    /// deterministic for a given `env`.
    fn run_function(
        &self,
        code: &str,
        args: &Value,
        env: &ScriptEnv,
        fetch: &mut Fetch<'_>,
    ) -> Result<FunctionRun, ScriptError>;
}

/// The `fetch` of a function step: given a request, its answer from the turn's effect log, or
/// `None` when the turn has not performed it yet.
pub type Fetch<'a> = dyn FnMut(&HttpRequest) -> Option<Result<HttpResponse, String>> + 'a;

/// How a function run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionRun {
    /// `main(args)` settled with this value (`undefined` → `null`), every `fetch` it made
    /// answered.
    Returned(Value),
    /// A `fetch` whose answer is not in the log yet: the turn performs it and runs again.
    Fetching(HttpRequest),
}

/// Everything the engine uses from outside for one call.
pub struct Env<'a> {
    pub clock: &'a dyn Clock,
    pub rng: &'a mut dyn RandomSource,
    pub sandbox: &'a dyn Sandbox,
}
