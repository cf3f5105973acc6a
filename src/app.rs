//! The application: [`Application::build`] turns one [`Config`] into a bound, ready server —
//! the session store, the loaded agents, the API keys, the HTTP listener — and
//! [`Application::run_until_stopped`] serves until SIGINT/SIGTERM or [`Application::handle`]'s
//! `stop`. `flowdm serve` and the in-process tests start the server the same way.

use crate::agents::LiveAgents;
use crate::config::{Config, StoreConfig};
use crate::http::auth::Keys;
use crate::http::{self, AppState};
use crate::kb::KbSearcher;
use crate::live_registry::LiveRegistry;
use crate::metrics::store::MeteredStore;
use crate::metrics::Metrics;
use crate::nlu_provider::SemanticNlu;
use crate::projects::Registry;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, HttpServer};
use flowdm_actions::effects::{Effects, KbSearch};
use flowdm_actions::llm::{LlmClient, LlmConfig, MAX_REQUEST_BYTES};
use flowdm_actions::outbound::{OutboundClient, OutboundConfig, Policy};
use flowdm_store::{
    MemoryRateLimiter, MemoryRegistry, MemoryStore, RateLimiter, RateQuota, RedbRegistry,
    RedisRegistry, RedisStore, RegistryStore, SessionStore,
};
use std::net::SocketAddr;
use std::sync::Arc;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read the diagrams directory {dir}: {source}")]
    Diagrams { dir: String, source: std::io::Error },
    #[error("API keys: {0}")]
    Keys(String),
    #[error("session store: {0}")]
    Store(String),
    #[error("custom actions registry: {0}")]
    Registry(String),
    #[error("word vectors: {0}")]
    Vectors(#[from] flowdm_nlu::vectors::VectorsError),
    #[error("outbound HTTP client: {0}")]
    Outbound(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A bound server, not yet serving.
pub struct Application {
    addrs: Vec<SocketAddr>,
    server: Server,
    socket: web::Data<crate::socket::SocketChannel>,
    store: Arc<dyn SessionStore>,
    drain: std::time::Duration,
    signals: bool,
}

/// The next SIGTERM or SIGINT.
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

impl Application {
    /// Opens the store, loads the agents and keys (logging what loaded, what did not and why),
    /// and binds the listener (`port` 0 picks a free one). Must be called inside an actix or
    /// tokio runtime.
    pub fn build(config: Config) -> Result<Application, StartError> {
        let metrics = Arc::new(Metrics::new(config.metrics));
        let OpenedStore {
            store,
            info: store_info,
            redis,
        } = open_store(&config.store)?;
        let rate_limits = rate_limits(&config, redis.as_ref());
        // Every round trip timed and counted (not when metrics are off: no cost at all).
        let store: Arc<dyn SessionStore> = if metrics.enabled() {
            Arc::new(MeteredStore::new(store, metrics.clone()))
        } else {
            store
        };
        let library = Arc::new(crate::library::load(&config.library_dir));
        let live = open_registry(&config, &library)?;
        let agents = load_agents(&config, library)?;
        let registry = agents.registry();
        let keys = load_keys(&config, &registry)?;
        let semantic = load_semantic(&config, &registry);
        let kb = crate::kb::load(&config.kb_dir);
        // The API step's outbound calls: the reference's limits, the operator's allow-list.
        let outbound = OutboundClient::new(OutboundConfig {
            policy: config.outbound.clone(),
            ..OutboundConfig::default()
        })
        .map_err(|e| StartError::Outbound(e.to_string()))?;
        let llm = config
            .ai
            .as_ref()
            .map(|ai| ai_client(ai, &config.outbound))
            .transpose()?;
        tracing::info!(store = %store_info, "session store");
        let state = AppState {
            agents: agents.clone(),
            keys,
            store,
            limits: config.limits,
            public_origins: config.public_origins.clone(),
            environment: config.environment.clone(),
            semantic,
            effects: Arc::new(Effects {
                http: outbound,
                llm,
                kb: kb.map(|kb| {
                    Arc::new(KbSearcher {
                        kb,
                        embedder: kb_embedder(&config),
                    }) as Arc<dyn KbSearch>
                }),
            }),
            effect_budget: config.effect_budget,
            live,
            admin_key: config.admin_key.clone(),
            chat: config.chat.clone(),
            rate_limits,
            metrics,
        };
        let data = web::Data::new(state);
        let factory_data = data.clone();
        let socket = web::Data::new(crate::socket::SocketChannel::new(data.clone()));
        let app_socket = socket.clone();
        let mut server =
            HttpServer::new(move || http::app(factory_data.clone(), app_socket.clone()))
                // SIGTERM and SIGINT are handled by `run_until_stopped` (both drain).
                .disable_signals()
                .shutdown_timeout(config.shutdown_timeout.as_secs());
        if let Some(n) = config.workers {
            server = server.workers(n.max(1));
        }
        let server = server
            .bind((config.host.as_str(), config.port))
            .map_err(|source| StartError::Bind {
                addr: format!("{}:{}", config.host, config.port),
                source,
            })?;
        let addrs = server.addrs();
        for addr in &addrs {
            tracing::info!(%addr, projects = registry.project_count(), store = data.store.name(), "listening");
        }
        Ok(Application {
            addrs,
            server: server.run(),
            socket,
            store: data.store.clone(),
            drain: config.shutdown_timeout,
            signals: config.handle_signals,
        })
    }

    /// The bound port (the first address's).
    pub fn port(&self) -> u16 {
        self.addrs.first().map(SocketAddr::port).unwrap_or(0)
    }

    /// Every bound address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the server from elsewhere (`handle.stop(graceful)`).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (a signal or [`Application::handle`]).
    ///
    /// SIGTERM or SIGINT starts the shutdown (`docs/operations.md`): the listener stops
    /// accepting, the socket channel refuses new turns and gives its running ones the drain
    /// timeout before it disconnects its clients, in-flight requests (streams included) get the
    /// same timeout to finish and commit; then the session locks this process still holds are
    /// released. A second signal stops at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (socket, drain, signals) = (self.socket.clone(), self.drain, self.signals);
        let store = self.store.clone();
        actix_web::rt::spawn(async move {
            if !signals {
                return;
            }
            if wait_for_signal().await.is_err() {
                return;
            }
            tracing::info!(
                drain_secs = drain.as_secs(),
                "shutting down: draining in-flight turns"
            );
            let stopped = handle.stop(true);
            actix_web::rt::spawn(async move {
                if wait_for_signal().await.is_ok() {
                    tracing::warn!("second signal: stopping at once");
                    let release = store.release_held();
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), release).await;
                    std::process::exit(130);
                }
            });
            socket.drain(drain).await;
            stopped.await;
        });
        let result = self.server.await;
        match self.store.release_held().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "session locks released"),
            Err(error) => {
                tracing::warn!(%error, "session locks not released: they expire by their TTL")
            }
        }
        tracing::info!("stopped");
        result
    }
}

/// The opened session store: the store, its description for the log, and the Redis store
/// again when it is one (its connections also carry the rate limits).
struct OpenedStore {
    store: Arc<dyn SessionStore>,
    info: String,
    redis: Option<RedisStore>,
}

fn open_store(config: &StoreConfig) -> Result<OpenedStore, StartError> {
    match config {
        StoreConfig::Memory(cfg) => Ok(OpenedStore {
            store: Arc::new(MemoryStore::with_config(cfg.clone())),
            info: "memory".into(),
            redis: None,
        }),
        StoreConfig::Redis(cfg) => {
            let store = RedisStore::new(cfg.clone()).map_err(StartError::Store)?;
            Ok(OpenedStore {
                info: store.describe(),
                store: Arc::new(store.clone()),
                redis: Some(store),
            })
        }
    }
}

/// The rate limiters (`docs/limits.md`): in Redis with the Redis store (shared by every
/// server), else in this process.
fn rate_limits(config: &Config, redis: Option<&RedisStore>) -> http::rate_limit::RateLimits {
    let build = |name: &str, quota: Option<RateQuota>| {
        quota.map(|q| -> Arc<dyn RateLimiter> {
            match redis {
                Some(r) => Arc::new(r.rate_limiter(name, q)),
                None => Arc::new(MemoryRateLimiter::new(q)),
            }
        })
    };
    let limits = http::rate_limit::RateLimits {
        key: build("key", config.rate_limits.key),
        user: build("user", config.rate_limits.user),
    };
    if !limits.is_off() {
        tracing::info!(limits = ?limits, "rate limits");
    }
    limits
}

/// The live custom actions and library: `--actions-dir` and `--library-dir` plus the registry store (Redis with `--redis`; else
/// the `--registry-db` file when it exists or the admin key is set, so a server that does not
/// use the management API creates no file; else in memory). The store is read once here (a
/// Redis down at start: the files alone until it answers) and then about every second.
fn open_registry(
    config: &Config,
    library: &flowdm_model::Library,
) -> Result<Arc<LiveRegistry>, StartError> {
    let files = crate::server_actions::load_list(&config.actions_dir);
    let store: Arc<dyn RegistryStore> = match (&config.store, &config.registry_db) {
        (StoreConfig::Redis(cfg), _) => {
            Arc::new(RedisRegistry::new(cfg).map_err(StartError::Store)?)
        }
        (StoreConfig::Memory(_), Some(path)) if path.exists() || config.admin_key.is_some() => {
            Arc::new(
                RedbRegistry::open(path)
                    .map_err(|e| StartError::Registry(format!("{}: {e}", path.display())))?,
            )
        }
        (StoreConfig::Memory(_), _) => Arc::new(MemoryRegistry::new()),
    };
    tracing::info!(
        store = store.name(),
        files = files.len(),
        admin_api = config.admin_key.is_some(),
        "registry of custom actions and library entries"
    );
    let live = Arc::new(LiveRegistry::new(
        files,
        library,
        config.actions_dir.clone(),
        config.library_dir.clone(),
        store,
    ));
    let first = live.clone();
    tokio::spawn(async move {
        if let Err(error) = first.reload().await {
            tracing::warn!(%error, "registry not read: the files alone until it answers");
        }
    });
    live.watch();
    Ok(live)
}

/// The classifier's word vectors: a `--nlu-vectors` directory that does not load stops the
/// start; the default one is a warning (the classifier runs without).
fn load_vectors(
    source: Option<&crate::config::NluVectors>,
) -> Result<Option<Arc<flowdm_nlu::vectors::WordVectors>>, StartError> {
    use crate::config::NluVectors;
    let (dir, required) = match source {
        None => return Ok(None),
        Some(NluVectors::Required(dir)) => (dir, true),
        Some(NluVectors::Found(dir)) => (dir, false),
    };
    match flowdm_nlu::vectors::WordVectors::load(dir) {
        Ok(vectors) => {
            tracing::info!(dir = %dir.display(), pieces = vectors.len(), dims = vectors.dims(), "word vectors for the intent classifier");
            Ok(Some(Arc::new(vectors)))
        }
        Err(error) if !required => {
            tracing::warn!(%error, "word vectors not loaded: the classifier runs without them");
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

fn load_agents(
    config: &Config,
    library: Arc<flowdm_model::Library>,
) -> Result<Arc<LiveAgents>, StartError> {
    // The custom actions and the live library come with each turn (`AppState::live`); the
    // agents keep the file library as the engine's default.
    let vectors = load_vectors(config.nlu_vectors.as_ref())?;
    let (agents, report) = LiveAgents::load(
        &config.diagrams,
        Arc::default(),
        library,
        vectors,
        config.retire_after,
    )
    .map_err(|source| StartError::Diagrams {
        dir: config.diagrams.display().to_string(),
        source,
    })?;
    for loaded in &report.loaded {
        tracing::info!(file = %loaded.file, project = %loaded.project_id, version = %loaded.version_id, "agent loaded");
    }
    if agents.registry().is_empty() {
        tracing::warn!(dir = %config.diagrams.display(), "no agent loaded: every project route will answer an error");
    }
    let agents = Arc::new(agents);
    if config.watch_diagrams {
        crate::agents::watch(&agents);
    }
    Ok(agents)
}

fn kb_embedder(config: &Config) -> Option<crate::kb::KbEmbedder> {
    let cfg = config.nlu_embeddings.as_ref()?;
    match crate::nlu_provider::client::EmbeddingsClient::new(cfg, &config.outbound) {
        Ok(client) => Some(crate::kb::KbEmbedder::new(
            Arc::new(client),
            cfg.load_timeout.max(cfg.timeout),
        )),
        Err(error) => {
            tracing::warn!(%error, "knowledge base: no embeddings, BM25 alone");
            None
        }
    }
}

/// The embeddings provider and the agents' indexes, when one is configured. It never stops the
/// server: without it, the local classifier alone (a warning).
fn load_semantic(config: &Config, registry: &Registry) -> Option<Arc<SemanticNlu>> {
    let cfg = config.nlu_embeddings.as_ref()?;
    tracing::info!(url = %redacted_url(&cfg.url), model = %cfg.model, key = cfg.api_key.is_some(), "embeddings provider: embedding the agents' utterances");
    match SemanticNlu::load(cfg, &config.outbound, registry) {
        Ok(semantic) => {
            tracing::info!(
                indexed = semantic.indexed(),
                versions = registry.version_count(),
                "embeddings provider ready"
            );
            Some(Arc::new(semantic))
        }
        Err(error) => {
            tracing::warn!(%error, "embeddings provider not used: the local classifier alone");
            None
        }
    }
}

/// Largest AI answer read: a streamed answer of [`flowdm_actions::llm::MAX_CONTENT_CHARS`]
/// characters is several times that in events.
const AI_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The AI provider's client: its own outbound client (the operator's allow-list, the AI's
/// timeout and body caps, not the API step's), logged without its key.
fn ai_client(ai: &LlmConfig, policy: &Policy) -> Result<LlmClient, StartError> {
    let http = OutboundClient::new(OutboundConfig {
        policy: policy.clone(),
        timeout: ai.timeout,
        max_request_bytes: MAX_REQUEST_BYTES,
        max_response_bytes: AI_MAX_RESPONSE_BYTES,
        user_agent: concat!("flowdm/", env!("CARGO_PKG_VERSION")).to_string(),
        ..OutboundConfig::default()
    })
    .map_err(|e| StartError::Outbound(e.to_string()))?;
    let models: Vec<String> = ai.models.iter().map(|(e, o)| format!("{e}={o}")).collect();
    tracing::info!(
        url = %redacted_url(&ai.base_url),
        key = %if ai.api_key.is_some() { "yes" } else { "no" },
        models = %models.join(","),
        default_model = %ai.default_model.as_deref().unwrap_or("(the export's)"),
        timeout_ms = u64::try_from(ai.timeout.as_millis()).unwrap_or(u64::MAX),
        retries = ai.retries,
        "AI provider: AI steps use it"
    );
    Ok(LlmClient::new(http, ai.clone()))
}

/// A URL without its user, password, query and fragment (they may hold credentials).
fn redacted_url(url: &str) -> String {
    let rest = url.split(['?', '#']).next().unwrap_or("");
    match rest.split_once("://") {
        Some((scheme, tail)) => {
            let tail = match tail.find('/') {
                Some(slash) => {
                    let (authority, path) = tail.split_at(slash);
                    let host = authority.rsplit('@').next().unwrap_or(authority);
                    format!("{host}{path}")
                }
                None => tail.rsplit('@').next().unwrap_or(tail).to_string(),
            };
            format!("{scheme}://{tail}")
        }
        None => rest.rsplit('@').next().unwrap_or(rest).to_string(),
    }
}

fn load_keys(config: &Config, registry: &Registry) -> Result<Keys, StartError> {
    let mut keys = Keys::new();
    if let Some(path) = &config.keys.file {
        keys.load_file(path)
            .map_err(|e| StartError::Keys(e.to_string()))?;
    }
    if let Some(list) = config.keys.list.as_deref() {
        keys.parse_list(list)
            .map_err(|e| StartError::Keys(format!("FLOWDM_API_KEYS: {e}")))?;
    }
    if keys.is_empty() {
        tracing::warn!(
            "no API keys configured: the server is open, any client can use every project (set --keys or FLOWDM_API_KEYS)"
        );
    } else {
        for (key_id, project) in keys.entries() {
            if registry.project(project).is_none() {
                tracing::warn!(key_id, project, "API key for a project that is not loaded");
            }
        }
        tracing::info!(keys = keys.len(), "API keys required");
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn urls_are_logged_without_credentials() {
        assert_eq!(
            redacted_url("http://127.0.0.1:11434/v1"),
            "http://127.0.0.1:11434/v1"
        );
        assert_eq!(
            redacted_url("https://user:pw@api.example.com/v1?key=s#f"),
            "https://api.example.com/v1"
        );
        assert_eq!(redacted_url("https://u:p@host"), "https://host");
    }
}
