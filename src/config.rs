//! The server's configuration: one [`Config`] that `flowdm serve` builds from its command line
//! ([`crate::cli`]) and tests build directly, and the one place every default lives
//! ([`defaults`]; the stores' own defaults are [`MemoryConfig::default`] and
//! [`RedisConfig::default`]).

use crate::http::limits::Limits;
use flowdm_actions::llm::LlmConfig;
use flowdm_actions::outbound::Policy;
use flowdm_actions::perform::EffectBudget;
use flowdm_store::{MemoryConfig, RateQuota, RedisConfig};
use std::path::PathBuf;

/// Every default of the server. The command line shows these as its defaults.
pub mod defaults {
    use std::time::Duration;

    /// Directory of agents.
    pub const DIAGRAMS: &str = "diagrams";
    /// How long a shutdown waits for in-flight turns (the drain timeout).
    pub const SHUTDOWN_SECS: u64 = 30;
    /// How long a retired agent revision is kept after its last turn (the Redis store's idle
    /// session TTL: no session older than that is left to use it).
    pub const RETIRE_AFTER_SECS: u64 = flowdm_store::DEFAULT_SESSION_TTL_SECS;
    /// Directory of the knowledge bases, one folder per project (docs/knowledge-base.md).
    pub const KB_DIR: &str = "kb";
    /// Directory of the custom actions the server runs itself (docs/custom-actions.md).
    pub const ACTIONS_DIR: &str = "actions";
    /// The registry database of custom actions managed through the API, without Redis
    /// (docs/custom-actions.md § Persistence).
    pub const REGISTRY_DB: &str = "flowdm-registry.redb";
    /// Directory of the library of sub-flows (docs/custom-actions.md § Library sub-flows).
    pub const LIBRARY_DIR: &str = "library";
    /// The web chat bundle the chat page loads (`scripts/clients` puts it there;
    /// docs/clients.md § Chat page).
    pub const WIDGET_BUNDLE: &str = "target/clients/widget/bundle.js";
    pub const HOST: &str = "127.0.0.1";
    pub const PORT: u16 = 3000;
    /// body-parser's default `1mb`.
    pub const BODY_LIMIT: usize = 1024 * 1024;
    /// The reference's `ERROR_RESPONSE_MS` default.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(20_000);
    /// How long a request waits for other turns of the same user to finish (then 409).
    pub const LOCK_WAIT: Duration = Duration::from_secs(10);
    /// How long a turn may run on an HTTP worker before it moves to the blocking pool.
    pub const INLINE_TURN: Duration = Duration::from_millis(2);
    /// Keep-alive comment of an idle event stream (the reference's SSE library: 30 s).
    pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(30);
    /// What `/health` shows when `NODE_ENV` is not set.
    pub const ENVIRONMENT: &str = "production";
    /// How long a turn waits for the embeddings provider to embed its text (then: the local
    /// classifier alone).
    pub const NLU_EMBEDDINGS_TIMEOUT: Duration = Duration::from_millis(2_000);
    /// How long loading an agent waits for one batch of its utterances to be embedded.
    pub const NLU_EMBEDDINGS_LOAD_TIMEOUT: Duration = Duration::from_secs(30);
    /// Utterances per embeddings request when an agent loads.
    pub const NLU_EMBEDDINGS_BATCH: usize = 64;
    /// The provider's weight against the local classifier (`flowdm_nlu::semantic`).
    pub const NLU_EMBEDDINGS_WEIGHT: f64 = flowdm_nlu::semantic::DEFAULT_WEIGHT;
    /// How long one attempt of an AI completion may take.
    pub const AI_TIMEOUT: Duration = flowdm_actions::llm::DEFAULT_TIMEOUT;
    /// Attempts after the first on 429, 5xx, timeouts and connection failures.
    pub const AI_RETRIES: u32 = flowdm_actions::llm::DEFAULT_RETRIES;
    /// AI tokens (prompt + completion) one turn may use.
    pub const AI_MAX_TOKENS_PER_TURN: u64 = flowdm_actions::perform::DEFAULT_MAX_LLM_TOKENS;
    /// Rate limits per API key and per user (`docs/limits.md`): off, for local use.
    pub const RATE_LIMIT: &str = "off";
    /// `GET /metrics` is served (and metrics recorded) unless `--no-metrics`.
    pub const METRICS: bool = true;
}

/// Rate limits on the DM routes (`docs/limits.md`); `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Per API key (the `Authorization` value; on public routes the project).
    pub key: Option<RateQuota>,
    /// Per user of a project (the `{userID}` of the path).
    pub user: Option<RateQuota>,
}

/// Where sessions, transcripts and feedback live.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded in-memory store; states over `max_state_bytes` are refused (413).
    Memory(MemoryConfig),
    /// Redis or Redis Cluster (`docs/redis.md`).
    Redis(RedisConfig),
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig::Memory(MemoryConfig::default())
    }
}

/// API keys: a keys file and/or a `key=projectID,…` list.
#[derive(Debug, Clone, Default)]
pub struct KeysConfig {
    pub file: Option<PathBuf>,
    pub list: Option<String>,
}

/// A secret that never shows in `Debug` output (so never in a logged configuration).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where the classifier's word vectors come from (`scripts/nlu-vectors` installs them).
#[derive(Debug, Clone, PartialEq)]
pub enum NluVectors {
    /// Given by `--nlu-vectors`: a directory that does not load stops the start.
    Required(PathBuf),
    /// The default directory, when it holds vectors: one that does not load is a warning.
    Found(PathBuf),
}

/// The optional OpenAI-compatible embeddings provider of intent classification
/// (`docs/nlu.md` § Optional embeddings provider).
#[derive(Debug, Clone)]
pub struct EmbeddingsConfig {
    /// Base URL; requests go to `{url}/embeddings`.
    pub url: String,
    /// The `model` of every request.
    pub model: String,
    /// Sent as `Authorization: Bearer …` (`FLOWDM_NLU_API_KEY`).
    pub api_key: Option<Secret>,
    /// Per turn: how long to wait for the text's vector.
    pub timeout: std::time::Duration,
    /// Per batch of utterances when an agent loads.
    pub load_timeout: std::time::Duration,
    pub batch: usize,
    /// The provider's weight against the local classifier, in `[0, 1]`.
    pub weight: f64,
}

/// The chat page's web chat bundle (`docs/clients.md` § Chat page).
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// The file served at `GET /chat/assets/widget.js` (`--widget-bundle`), read on each request.
    pub widget_bundle: PathBuf,
    /// When set, the chat page loads the bundle from this URL instead (`--widget-url`).
    pub widget_url: Option<String>,
}

impl Default for ChatConfig {
    fn default() -> ChatConfig {
        ChatConfig {
            widget_bundle: PathBuf::from(defaults::WIDGET_BUNDLE),
            widget_url: None,
        }
    }
}

/// Everything [`crate::app::Application::build`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of agents (`.vf`, `.vfr`).
    pub diagrams: PathBuf,
    /// Reload the agents when a file of `diagrams` changes (`crate::agents`).
    pub watch_diagrams: bool,
    /// How long a replaced agent revision is kept for the sessions that started on it.
    pub retire_after: std::time::Duration,
    /// How long a shutdown (SIGTERM, SIGINT) waits for in-flight turns.
    pub shutdown_timeout: std::time::Duration,
    /// SIGTERM / SIGINT start the shutdown (`false`: an embedder, e.g. the in-process tests,
    /// stops the server through its handle).
    pub handle_signals: bool,
    /// Directory of the knowledge bases, `<kb_dir>/<projectID>/` (missing: none).
    pub kb_dir: PathBuf,
    /// Directory of the custom actions the server runs (missing: none).
    pub actions_dir: PathBuf,
    /// Without Redis: the database file of the actions managed through the API (`None`: in
    /// memory, lost at exit). With Redis the registry lives in Redis.
    pub registry_db: Option<PathBuf>,
    /// The key of the management API (`/api/custom-actions`); `None`: that API answers 403.
    pub admin_key: Option<Secret>,
    /// Directory of the library of sub-flows `subflow` actions run (missing: none).
    pub library_dir: PathBuf,
    pub host: String,
    /// 0 picks a free port ([`crate::app::Application::port`] tells which).
    pub port: u16,
    /// HTTP worker threads (default: one per CPU).
    pub workers: Option<usize>,
    pub keys: KeysConfig,
    pub limits: Limits,
    /// Origins allowed on the public routes (empty: any).
    pub public_origins: Vec<String>,
    /// Shown by `/health` (`NODE_ENV`).
    pub environment: String,
    pub store: StoreConfig,
    /// The embeddings provider of intent classification (unset: the local classifier alone).
    pub nlu_embeddings: Option<EmbeddingsConfig>,
    /// Word vectors for the local classifier (`docs/nlu.md` § Word vectors; unset: none).
    pub nlu_vectors: Option<NluVectors>,
    /// Which non-public networks and hosts outbound requests (the embeddings provider, the API
    /// step) may reach (`--allow-outbound`, `docs/outbound.md`); default: none, public
    /// addresses only.
    pub outbound: Policy,
    /// The OpenAI-compatible provider of AI steps (`--ai-url`, `docs/ai.md`); unset: AI steps
    /// take their fail path.
    pub ai: Option<LlmConfig>,
    /// How much one turn may wait on effects and how many AI tokens it may use.
    pub effect_budget: EffectBudget,
    /// The chat page's web chat bundle.
    pub chat: ChatConfig,
    /// Rate limits (off by default); shared through Redis with the Redis store.
    pub rate_limits: RateLimitConfig,
    /// Metrics recorded and served at `GET /metrics` (`--no-metrics`: neither;
    /// `docs/observability.md`).
    pub metrics: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            diagrams: PathBuf::from(defaults::DIAGRAMS),
            watch_diagrams: true,
            retire_after: std::time::Duration::from_secs(defaults::RETIRE_AFTER_SECS),
            shutdown_timeout: std::time::Duration::from_secs(defaults::SHUTDOWN_SECS),
            handle_signals: true,
            kb_dir: PathBuf::from(defaults::KB_DIR),
            actions_dir: PathBuf::from(defaults::ACTIONS_DIR),
            registry_db: None,
            admin_key: None,
            library_dir: PathBuf::from(defaults::LIBRARY_DIR),
            host: defaults::HOST.into(),
            port: defaults::PORT,
            workers: None,
            keys: KeysConfig::default(),
            limits: Limits::default(),
            public_origins: Vec::new(),
            environment: defaults::ENVIRONMENT.into(),
            store: StoreConfig::default(),
            nlu_embeddings: None,
            nlu_vectors: None,
            outbound: Policy::strict(),
            ai: None,
            effect_budget: EffectBudget::default(),
            chat: ChatConfig::default(),
            rate_limits: RateLimitConfig::default(),
            metrics: defaults::METRICS,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: defaults::BODY_LIMIT,
            lock_timeout: defaults::LOCK_WAIT,
            request_timeout: defaults::REQUEST_TIMEOUT,
            inline_turn: defaults::INLINE_TURN,
            keep_alive: defaults::SSE_KEEP_ALIVE,
        }
    }
}
