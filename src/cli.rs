//! The `flowdm` command line (clap): `serve`, `check`, `compile`. `serve`'s arguments become one
//! [`Config`]; their defaults come from [`crate::config::defaults`] and
//! [`RedisConfig::default`], never from literals here.

use crate::config::{
    defaults, ChatConfig, Config, EmbeddingsConfig, KeysConfig, NluVectors, RateLimitConfig,
    Secret, StoreConfig,
};
use crate::http::limits::Limits;
use clap::{Args, Parser, Subcommand};
use flowdm_actions::llm::LlmConfig;
use flowdm_actions::outbound::{Policy, Url};
use flowdm_actions::perform::EffectBudget;
use flowdm_store::{MemoryConfig, RateQuota, RedisConfig, DEFAULT_MAX_STATE_BYTES};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "flowdm",
    version,
    about = "A self-hosted runtime for Voiceflow agents that speaks the Dialog Manager API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines are written on stderr: `text` (human-readable) or `json` (one object per
    /// line; docs/observability.md).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        env = "FLOWDM_LOG_FORMAT",
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

// Parsed once at start: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve every agent of a directory over the DM API.
    Serve(ServeArgs),
    /// Compile agent files and print their diagnostics and NLU warnings (exit status 1 on errors).
    Check(CheckArgs),
    /// Compile a `.vf` creator export into a `.vfr` runtime export.
    Compile(CompileArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// `.vf` (or `.vfr`) files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print only errors and the summary line of each file.
    #[arg(long, short)]
    pub quiet: bool,
    /// One JSON object per file.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// The `.vf` file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the `.vfr` (default: stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Directory of agents: every `.vf` / `.vfr` file is one project (other files are skipped).
    #[arg(long, value_name = "DIR", default_value = defaults::DIAGRAMS)]
    pub diagrams: PathBuf,
    /// Do not watch `--diagrams` for changes (reload with `POST /admin/reload` only;
    /// docs/reload.md).
    #[arg(long, env = "FLOWDM_NO_WATCH")]
    pub no_watch: bool,
    /// Seconds a replaced agent revision is kept after the last turn that used it, for the
    /// sessions that started on it (docs/reload.md; default: the Redis session TTL, 7 days).
    #[arg(long, value_name = "SECONDS", env = "FLOWDM_RETIRED_TTL", default_value_t = defaults::RETIRE_AFTER_SECS)]
    pub retired_ttl: u64,
    /// Seconds a shutdown (SIGTERM or SIGINT) waits for in-flight turns to finish and commit
    /// before it stops them (docs/operations.md); a second signal stops at once.
    #[arg(long, value_name = "SECONDS", env = "FLOWDM_SHUTDOWN_TIMEOUT", default_value_t = defaults::SHUTDOWN_SECS)]
    pub shutdown_timeout: u64,
    /// Directory of knowledge-base documents, one folder per project ID (docs/knowledge-base.md);
    /// a missing directory means no knowledge base.
    #[arg(long, value_name = "DIR", env = "FLOWDM_KB_DIR", default_value = defaults::KB_DIR)]
    pub kb_dir: PathBuf,
    /// Directory of custom actions the server runs itself, one JSON file each
    /// (docs/custom-actions.md); a missing directory means none.
    #[arg(long, value_name = "DIR", env = "FLOWDM_ACTIONS_DIR", default_value = defaults::ACTIONS_DIR)]
    pub actions_dir: PathBuf,
    /// Without --redis: the database file of the custom actions managed through
    /// /api/custom-actions (created when the admin key is set; `:memory:` keeps them in memory
    /// only). With --redis they live in Redis.
    #[arg(long, value_name = "FILE", env = "FLOWDM_REGISTRY_DB", default_value = defaults::REGISTRY_DB)]
    pub registry_db: PathBuf,
    /// The key of the management API (/api/custom-actions), sent as `Authorization: Bearer
    /// <key>`; without it that API answers 403.
    #[arg(
        long,
        value_name = "KEY",
        env = "FLOWDM_ADMIN_KEY",
        hide_env_values = true
    )]
    pub admin_key: Option<String>,
    /// Directory of the library of sub-flows: `*.json` entries, each naming a `.vf` of the
    /// folder (docs/custom-actions.md § Library sub-flows); a missing directory means none.
    #[arg(long, value_name = "DIR", env = "FLOWDM_LIBRARY_DIR", default_value = defaults::LIBRARY_DIR)]
    pub library_dir: PathBuf,
    /// TCP port; 0 picks a free one (the address is printed on stdout).
    #[arg(long, env = "PORT", default_value_t = defaults::PORT)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, env = "HOST", default_value = defaults::HOST)]
    pub host: String,
    /// Session store: in memory, or Redis / Redis Cluster (docs/redis.md).
    #[command(flatten)]
    pub store: StoreArgs,
    /// JSON keys file: {"keys":[{"key":"VF.DM.<keyID>.<secret>","projectID":"<projectID>"}]}.
    #[arg(long, value_name = "FILE", env = "FLOWDM_KEYS")]
    pub keys: Option<PathBuf>,
    /// API keys as a list: "VF.DM.<keyID>.<secret>=<projectID>,…".
    #[arg(
        long,
        value_name = "LIST",
        env = "FLOWDM_API_KEYS",
        hide_env_values = true
    )]
    pub api_keys: Option<String>,
    /// Worker threads (default: one per CPU).
    #[arg(long, env = "FLOWDM_WORKERS")]
    pub workers: Option<usize>,
    /// Largest accepted request body in bytes (larger → 413).
    #[arg(long, value_name = "BYTES", default_value_t = defaults::BODY_LIMIT)]
    pub body_limit: usize,
    /// Request timeout in milliseconds (→ 408 `response timeout`).
    #[arg(
        long,
        value_name = "MS",
        env = "ERROR_RESPONSE_MS",
        default_value_t = ms(defaults::REQUEST_TIMEOUT)
    )]
    pub timeout_ms: u64,
    /// How long a turn may run on an HTTP worker, in milliseconds, before it moves to the
    /// blocking pool (0: every turn runs there).
    #[arg(long, value_name = "MS", default_value_t = ms(defaults::INLINE_TURN))]
    pub inline_turn_ms: u64,
    /// Milliseconds of silence after which a streamed turn (Server-Sent Events) gets a
    /// keep-alive comment.
    #[arg(long, value_name = "MS", default_value_t = ms(defaults::SSE_KEEP_ALIVE))]
    pub sse_keep_alive_ms: u64,
    /// Comma-separated origins allowed on the public routes (default: any origin).
    #[arg(
        long,
        value_name = "LIST",
        env = "ALLOWED_PUBLIC_ORIGINS",
        value_delimiter = ','
    )]
    pub public_origins: Vec<String>,
    /// The environment `/health` names.
    #[arg(long, value_name = "NAME", env = "NODE_ENV", default_value = defaults::ENVIRONMENT)]
    pub environment: String,
    /// Comma-separated networks (CIDR or address) and host names outbound requests may reach
    /// although they are not public (default: none): e.g. `10.1.0.0/16,intranet.example`, or
    /// `127.0.0.1/32` for an embeddings provider on this machine (docs/outbound.md).
    #[arg(
        long,
        value_name = "LIST",
        env = "FLOWDM_ALLOW_OUTBOUND",
        value_parser = allow_list
    )]
    pub allow_outbound: Option<Policy>,
    /// Rate limit per API key: `<requests>/<seconds>` (e.g. 500/60) or off. The bucket is the
    /// Authorization value (public routes: the project). Shared by every server on the same
    /// Redis with --redis (docs/limits.md).
    #[arg(
        long,
        value_name = "N/SECONDS",
        env = "FLOWDM_RATE_LIMIT_KEY",
        default_value = defaults::RATE_LIMIT,
        value_parser = rate_setting
    )]
    pub rate_limit_key: RateSetting,
    /// Rate limit per user of a project (the path's userID): `<requests>/<seconds>` or off
    /// (docs/limits.md).
    #[arg(
        long,
        value_name = "N/SECONDS",
        env = "FLOWDM_RATE_LIMIT_USER",
        default_value = defaults::RATE_LIMIT,
        value_parser = rate_setting
    )]
    pub rate_limit_user: RateSetting,
    /// Do not record metrics nor serve GET /metrics (served without authentication by default;
    /// docs/observability.md).
    #[arg(long, env = "FLOWDM_NO_METRICS")]
    pub no_metrics: bool,
    /// The optional embeddings provider of intent classification (docs/nlu.md).
    #[command(flatten)]
    pub nlu: NluArgs,
    /// The optional AI provider of AI steps (docs/ai.md).
    #[command(flatten)]
    pub ai: AiArgs,
    /// The web chat bundle (`@voiceflow/react-chat` 1.65.2's dist/bundle.mjs) served at
    /// /chat/assets/widget.js for the chat pages /chat/{projectID}; `scripts/clients` installs it
    /// at the default path (docs/clients.md § Chat page).
    #[arg(long, value_name = "PATH", env = "FLOWDM_WIDGET_BUNDLE", default_value = defaults::WIDGET_BUNDLE)]
    pub widget_bundle: PathBuf,
    /// Where the chat pages load the web chat bundle from instead of --widget-bundle (an
    /// http(s) URL or an absolute path on this server).
    #[arg(long, value_name = "URL", env = "FLOWDM_WIDGET_URL", value_parser = widget_url)]
    pub widget_url: Option<String>,
}

fn widget_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = s.starts_with("https://")
        || s.starts_with("http://")
        || (s.starts_with('/') && !s.starts_with("//"));
    if ok && !s.chars().any(char::is_whitespace) {
        Ok(s.to_string())
    } else {
        Err("expected an http(s) URL or an absolute path such as /static/bundle.js".into())
    }
}

/// A rate limit option's value: a quota or off (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSetting(pub Option<RateQuota>);

fn rate_setting(s: &str) -> Result<RateSetting, String> {
    RateQuota::parse(s)
        .map(RateSetting)
        .map_err(|e| e.to_string())
}

fn allow_list(s: &str) -> Result<Policy, String> {
    Policy::parse(s).map_err(|e| e.to_string())
}

/// The environment variable of the embeddings provider's key (read from the environment only,
/// never from the command line).
pub const NLU_API_KEY_ENV: &str = "FLOWDM_NLU_API_KEY";

/// `flowdm serve` options of the optional embeddings provider (`docs/nlu.md`).
#[derive(Args, Debug, Clone)]
pub struct NluArgs {
    /// Base URL of an OpenAI-compatible embeddings API (e.g. http://127.0.0.1:11434/v1):
    /// intent classification then also uses `POST {URL}/embeddings` (default: the local
    /// classifier alone). The key, if any, comes from FLOWDM_NLU_API_KEY.
    #[arg(
        long,
        value_name = "URL",
        env = "FLOWDM_NLU_EMBEDDINGS_URL",
        requires = "nlu_embeddings_model"
    )]
    pub nlu_embeddings_url: Option<String>,
    /// The embeddings model to ask for (required with --nlu-embeddings-url).
    #[arg(long, value_name = "NAME", env = "FLOWDM_NLU_EMBEDDINGS_MODEL")]
    pub nlu_embeddings_model: Option<String>,
    /// How long a turn waits for its text's embedding, in milliseconds (then the local
    /// classifier alone).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_NLU_EMBEDDINGS_TIMEOUT_MS",
        default_value_t = ms(defaults::NLU_EMBEDDINGS_TIMEOUT)
    )]
    pub nlu_embeddings_timeout_ms: u64,
    /// The provider's weight w in (1 − w)·local + w·provider, between 0 and 1.
    #[arg(
        long,
        value_name = "W",
        env = "FLOWDM_NLU_EMBEDDINGS_WEIGHT",
        default_value_t = defaults::NLU_EMBEDDINGS_WEIGHT,
        value_parser = weight
    )]
    pub nlu_embeddings_weight: f64,
    /// Directory of word vectors for the local classifier, installed by scripts/nlu-vectors
    /// (default: ${XDG_DATA_HOME:-~/.local/share}/flowdm/nlu-vectors when it holds them);
    /// `off`: none.
    #[arg(long, value_name = "DIR|off", env = "FLOWDM_NLU_VECTORS")]
    pub nlu_vectors: Option<String>,
}

fn weight(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(w) if (0.0..=1.0).contains(&w) => Ok(w),
        _ => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

impl NluArgs {
    /// Where the word vectors come from: `--nlu-vectors DIR`, nothing for `off`, else the
    /// default directory when it holds a vectors file.
    pub fn vectors(&self) -> Option<NluVectors> {
        match self.nlu_vectors.as_deref().map(str::trim) {
            Some("off") | Some("") => None,
            Some(dir) => Some(NluVectors::Required(PathBuf::from(dir))),
            None => {
                let dir = flowdm_nlu::vectors::default_dir()?;
                dir.join(flowdm_nlu::vectors::VECTORS_FILE)
                    .is_file()
                    .then_some(NluVectors::Found(dir))
            }
        }
    }

    /// The provider configuration (`None` without a URL); `api_key` as read from
    /// [`NLU_API_KEY_ENV`] by the caller.
    pub fn embeddings_config(&self, api_key: Option<String>) -> Option<EmbeddingsConfig> {
        let url = self.nlu_embeddings_url.as_deref()?.trim();
        if url.is_empty() {
            return None;
        }
        Some(EmbeddingsConfig {
            url: url.trim_end_matches('/').to_string(),
            model: self.nlu_embeddings_model.clone().unwrap_or_default(),
            api_key: api_key.filter(|k| !k.trim().is_empty()).map(Secret),
            timeout: Duration::from_millis(self.nlu_embeddings_timeout_ms.max(1)),
            load_timeout: defaults::NLU_EMBEDDINGS_LOAD_TIMEOUT,
            batch: defaults::NLU_EMBEDDINGS_BATCH,
            weight: self.nlu_embeddings_weight,
        })
    }
}

/// The environment variable of the AI provider's key (read from the environment only, never
/// from the command line).
pub const AI_API_KEY_ENV: &str = "FLOWDM_AI_API_KEY";

/// `flowdm serve` options of the optional AI provider (`docs/ai.md`).
#[derive(Args, Debug, Clone)]
pub struct AiArgs {
    /// Base URL of an OpenAI-compatible chat-completions API (e.g. https://api.openai.com/v1,
    /// http://127.0.0.1:11434/v1): AI steps then use `POST {URL}/chat/completions` (default:
    /// none, AI steps take their fail path). The key, if any, comes from FLOWDM_AI_API_KEY.
    #[arg(long, value_name = "URL", env = "FLOWDM_AI_URL", value_parser = provider_url)]
    pub ai_url: Option<String>,
    /// Comma-separated EXPORT=OPERATOR model names: the export's model (e.g. gpt-4o) is
    /// answered by the operator's (e.g. llama3.1:8b).
    #[arg(long, value_name = "LIST", env = "FLOWDM_AI_MODELS", value_parser = model_map)]
    pub ai_model: Option<ModelMap>,
    /// The model for export models not in --ai-model (default: the export's name is sent).
    #[arg(long, value_name = "NAME", env = "FLOWDM_AI_DEFAULT_MODEL")]
    pub ai_default_model: Option<String>,
    /// How long one attempt may take, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_AI_TIMEOUT_MS",
        default_value_t = ms(defaults::AI_TIMEOUT)
    )]
    pub ai_timeout_ms: u64,
    /// Attempts after the first on 429, 5xx, timeouts and connection failures.
    #[arg(long, value_name = "N", env = "FLOWDM_AI_RETRIES", default_value_t = defaults::AI_RETRIES)]
    pub ai_retries: u32,
    /// The temperature when a step gives none (default: the provider's).
    #[arg(long, value_name = "T", env = "FLOWDM_AI_TEMPERATURE", value_parser = temperature)]
    pub ai_temperature: Option<f64>,
    /// The max_tokens when a step gives none (default: the provider's).
    #[arg(long, value_name = "N", env = "FLOWDM_AI_MAX_TOKENS")]
    pub ai_max_tokens: Option<u32>,
    /// AI tokens (prompt + completion) one turn may use; further AI steps of the turn fail.
    #[arg(
        long,
        value_name = "N",
        env = "FLOWDM_AI_MAX_TOKENS_PER_TURN",
        default_value_t = defaults::AI_MAX_TOKENS_PER_TURN
    )]
    pub ai_max_tokens_per_turn: u64,
}

/// `EXPORT=OPERATOR` model pairs (`--ai-model`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMap(pub Vec<(String, String)>);

fn model_map(s: &str) -> Result<ModelMap, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((e, o)) if !e.trim().is_empty() && !o.trim().is_empty() => {
                Ok((e.trim().to_string(), o.trim().to_string()))
            }
            _ => Err(format!(
                "{pair:?} is not EXPORT=OPERATOR (e.g. gpt-4o=llama3.1:8b)"
            )),
        })
        .collect::<Result<_, _>>()
        .map(ModelMap)
}

/// An absolute http(s) URL with a host; its credentials and query are never echoed.
fn provider_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let url = Url::parse(s)
        .map_err(|e| format!("not an absolute URL ({e}); e.g. https://api.openai.com/v1"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("not an http(s) URL with a host; e.g. http://127.0.0.1:11434/v1".into());
    }
    Ok(s.trim_end_matches('/').to_string())
}

fn temperature(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(t) if (0.0..=2.0).contains(&t) => Ok(t),
        _ => Err(format!("{s:?} is not a number between 0 and 2")),
    }
}

impl AiArgs {
    /// The provider configuration (`None` without a URL); `api_key` as read from
    /// [`AI_API_KEY_ENV`] by the caller.
    pub fn llm_config(&self, api_key: Option<String>) -> Option<LlmConfig> {
        let url = self.ai_url.as_deref()?;
        Some(LlmConfig {
            base_url: url.to_string(),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            models: self.ai_model.clone().map(|m| m.0).unwrap_or_default(),
            default_model: self
                .ai_default_model
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string),
            temperature: self.ai_temperature,
            max_tokens: self.ai_max_tokens,
            timeout: Duration::from_millis(self.ai_timeout_ms.max(1)),
            retries: self.ai_retries,
            ..LlmConfig::default()
        })
    }
}

/// `flowdm serve` options for sessions (`docs/redis.md`).
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Redis URL for sessions, transcripts and feedback (default: the embedded in-memory
    /// store). With --redis-cluster: one or more seed nodes, comma separated.
    #[arg(long, value_name = "URL", env = "REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    /// The Redis URLs are Redis Cluster nodes.
    #[arg(long, env = "FLOWDM_REDIS_CLUSTER")]
    pub redis_cluster: bool,
    /// Prefix of every Redis key.
    #[arg(
        long,
        value_name = "PREFIX",
        env = "FLOWDM_REDIS_PREFIX",
        default_value_t = RedisConfig::default().prefix
    )]
    pub redis_prefix: String,
    /// Idle expiry of a Redis session in seconds, refreshed by every turn (0: never).
    #[arg(
        long,
        value_name = "SECONDS",
        env = "FLOWDM_SESSION_TTL",
        default_value_t = RedisConfig::default().session_ttl.map(|d| d.as_secs()).unwrap_or(0)
    )]
    pub session_ttl: u64,
    /// Largest stored session state in bytes (Redis and in-memory); a larger one is refused
    /// (413), the old state kept.
    #[arg(
        long,
        value_name = "BYTES",
        env = "FLOWDM_MAX_STATE_BYTES",
        default_value_t = DEFAULT_MAX_STATE_BYTES
    )]
    pub max_state_bytes: usize,
    /// How long a request waits for other requests of the same user to finish (then 409).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_LOCK_WAIT_MS",
        default_value_t = ms(defaults::LOCK_WAIT)
    )]
    pub lock_wait_ms: u64,
    /// Expiry of a Redis session lock: a crashed server blocks its users at most this long; a
    /// turn running longer commits nothing (409).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_REDIS_LOCK_TTL_MS",
        default_value_t = ms(RedisConfig::default().lock_ttl)
    )]
    pub redis_lock_ttl_ms: u64,
    /// Longest wait for one Redis command, connecting included (slower: 503).
    #[arg(
        long,
        value_name = "MS",
        env = "FLOWDM_REDIS_TIMEOUT_MS",
        default_value_t = ms(RedisConfig::default().timeout)
    )]
    pub redis_timeout_ms: u64,
    /// Long-lived multiplexed Redis connections (default: one per worker).
    #[arg(long, value_name = "N", env = "FLOWDM_REDIS_CONNECTIONS")]
    pub redis_connections: Option<usize>,
    /// Replicas a commit must reach before its turn is answered (Redis `WAIT`; fewer in time:
    /// 503), so an answered turn survives a primary's failover (docs/redis.md). 0: no wait.
    #[arg(
        long,
        value_name = "N",
        env = "FLOWDM_REDIS_WAIT_REPLICAS",
        default_value_t = 0
    )]
    pub redis_wait_replicas: usize,
}

impl StoreArgs {
    /// The selected store: Redis when `--redis` is set (and not blank), else in memory.
    pub fn store_config(&self, workers: Option<usize>) -> StoreConfig {
        let urls: Vec<String> = self
            .redis
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return StoreConfig::Memory(MemoryConfig {
                max_state_bytes: self.max_state_bytes,
            });
        }
        StoreConfig::Redis(RedisConfig {
            urls,
            cluster: self.redis_cluster,
            prefix: self.redis_prefix.clone(),
            session_ttl: (self.session_ttl > 0).then(|| Duration::from_secs(self.session_ttl)),
            lock_ttl: Duration::from_millis(self.redis_lock_ttl_ms),
            timeout: Duration::from_millis(self.redis_timeout_ms),
            max_state_bytes: self.max_state_bytes,
            connections: self.redis_connections.or(workers).unwrap_or(0),
            wait_replicas: self.redis_wait_replicas,
        })
    }
}

impl ServeArgs {
    /// [`ServeArgs::into_config`] plus the secrets that come from the environment only (the
    /// embeddings and AI providers' keys): what `flowdm serve` runs with.
    pub fn into_config_with_env(self) -> Config {
        let key = std::env::var(NLU_API_KEY_ENV).ok();
        let ai_key = std::env::var(AI_API_KEY_ENV).ok();
        let mut config = self.into_config();
        if let Some(e) = config.nlu_embeddings.as_mut() {
            e.api_key = key.filter(|k| !k.trim().is_empty()).map(Secret);
        }
        if let Some(ai) = config.ai.as_mut() {
            ai.api_key = ai_key.filter(|k| !k.trim().is_empty());
        }
        config
    }

    /// The server configuration these arguments describe (without a provider key: see
    /// [`ServeArgs::into_config_with_env`]).
    pub fn into_config(self) -> Config {
        Config {
            nlu_embeddings: self.nlu.embeddings_config(None),
            nlu_vectors: self.nlu.vectors(),
            ai: self.ai.llm_config(None),
            effect_budget: EffectBudget {
                max_llm_tokens: self.ai.ai_max_tokens_per_turn,
                ..EffectBudget::default()
            },
            outbound: self.allow_outbound.unwrap_or_default(),
            rate_limits: RateLimitConfig {
                key: self.rate_limit_key.0,
                user: self.rate_limit_user.0,
            },
            metrics: !self.no_metrics,
            store: self.store.store_config(self.workers),
            limits: Limits {
                body_bytes: self.body_limit,
                request_timeout: Duration::from_millis(self.timeout_ms.max(1)),
                lock_timeout: Duration::from_millis(self.store.lock_wait_ms.max(1)),
                inline_turn: Duration::from_millis(self.inline_turn_ms),
                keep_alive: Duration::from_millis(self.sse_keep_alive_ms.max(1)),
            },
            chat: ChatConfig {
                widget_bundle: self.widget_bundle,
                widget_url: self.widget_url,
            },
            diagrams: self.diagrams,
            watch_diagrams: !self.no_watch,
            retire_after: Duration::from_secs(self.retired_ttl),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
            handle_signals: true,
            kb_dir: self.kb_dir,
            actions_dir: self.actions_dir,
            registry_db: Some(self.registry_db).filter(|p| p.as_os_str() != ":memory:"),
            admin_key: self
                .admin_key
                .filter(|k| !k.trim().is_empty())
                .map(|k| Secret(k.trim().to_string())),
            library_dir: self.library_dir,
            host: self.host,
            port: self.port,
            workers: self.workers,
            keys: KeysConfig {
                file: self.keys,
                list: self.api_keys.filter(|s| !s.trim().is_empty()),
            },
            public_origins: self
                .public_origins
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            environment: if self.environment.is_empty() {
                defaults::ENVIRONMENT.into()
            } else {
                self.environment
            },
        }
    }

    /// Parses `flowdm serve` arguments (without the program and subcommand names) the way the
    /// command line does, except that the environment is not read: for tests and embedders, so
    /// a `REDIS_URL` or `PORT` of the machine cannot change the server they describe.
    pub fn parse_args<I, S>(args: I) -> Result<ServeArgs, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        use clap::{Args as _, FromArgMatches as _};
        let cmd =
            ServeArgs::augment_args(clap::Command::new("serve")).mut_args(|a| a.env(None::<&str>));
        let argv = std::iter::once(std::ffi::OsString::from("serve"))
            .chain(args.into_iter().map(Into::into));
        ServeArgs::from_arg_matches(&cmd.try_get_matches_from(argv)?)
    }
}
