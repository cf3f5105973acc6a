//! `flowdm`: the command line. `flowdm serve` runs the DM API server over a directory of agents.

use clap::{Args, Parser, Subcommand};
use flowdm::http::auth::Keys;
use flowdm::http::limits::Limits;
use flowdm::http::{self, AppState, ServerOptions};
use flowdm::projects::Registry;
use flowdm::store_args::StoreArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc instead of glibc malloc: session states are allocated by one HTTP worker and often
/// freed by another, which makes glibc's per-arena locks contend (futex) under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "flowdm",
    version,
    about = "A self-hosted runtime for Voiceflow agents that speaks the Dialog Manager API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Serve every agent of a directory over the DM API.
    Serve(ServeArgs),
    /// Compile agent files and print their diagnostics (exit status 1 on errors).
    Check(CheckArgs),
    /// Compile a `.vf` creator export into a `.vfr` runtime export.
    Compile(CompileArgs),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// `.vf` (or `.vfr`) files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print only errors and the summary line of each file.
    #[arg(long, short)]
    quiet: bool,
    /// One JSON object per file.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CompileArgs {
    /// The `.vf` file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the `.vfr` (default: stdout).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn check(args: CheckArgs) -> ExitCode {
    let opts = flowdm::compile::cli::CheckOptions {
        quiet: args.quiet,
        json: args.json,
    };
    match flowdm::compile::cli::check(&args.files, opts, &mut std::io::stdout().lock()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("flowdm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn compile(args: CompileArgs) -> Result<(), String> {
    let summary = flowdm::compile::cli::compile_to(
        &args.file,
        args.output.as_deref(),
        &mut std::io::stderr().lock(),
    )?;
    eprintln!("{summary}");
    Ok(())
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Directory of agents: every `.vf` / `.vfr` file is one project (other files are skipped).
    #[arg(long, value_name = "DIR", default_value = "diagrams")]
    diagrams: PathBuf,
    /// TCP port; 0 picks a free one (the address is printed on stdout).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Address to bind.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Session store: in memory, or Redis / Redis Cluster (docs/redis.md).
    #[command(flatten)]
    store: StoreArgs,
    /// JSON keys file: {"keys":[{"key":"VF.DM.<keyID>.<secret>","projectID":"<projectID>"}]}.
    #[arg(long, value_name = "FILE", env = "FLOWDM_KEYS")]
    keys: Option<PathBuf>,
    /// API keys as a list: "VF.DM.<keyID>.<secret>=<projectID>,…".
    #[arg(
        long,
        value_name = "LIST",
        env = "FLOWDM_API_KEYS",
        hide_env_values = true
    )]
    api_keys: Option<String>,
    /// Worker threads (default: one per CPU).
    #[arg(long, env = "FLOWDM_WORKERS")]
    workers: Option<usize>,
    /// Largest accepted request body in bytes (larger → 413).
    #[arg(long, value_name = "BYTES", default_value_t = http::limits::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Request timeout in milliseconds (→ 408 `response timeout`).
    #[arg(
        long,
        value_name = "MS",
        env = "ERROR_RESPONSE_MS",
        default_value_t = 20_000
    )]
    timeout_ms: u64,
    /// Comma-separated origins allowed on the public routes (default: any origin).
    #[arg(
        long,
        value_name = "LIST",
        env = "ALLOWED_PUBLIC_ORIGINS",
        value_delimiter = ','
    )]
    public_origins: Vec<String>,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn load_keys(args: &ServeArgs) -> Result<Keys, String> {
    let mut keys = Keys::new();
    if let Some(path) = &args.keys {
        keys.load_file(path).map_err(|e| e.to_string())?;
    }
    if let Some(list) = args.api_keys.as_deref().filter(|s| !s.trim().is_empty()) {
        keys.parse_list(list)
            .map_err(|e| format!("FLOWDM_API_KEYS: {e}"))?;
    }
    Ok(keys)
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let (store, store_info) = args.store.build(args.workers)?;
    let (registry, report) = Registry::load_dir(&args.diagrams).map_err(|e| {
        format!(
            "cannot read the diagrams directory {}: {e}",
            args.diagrams.display()
        )
    })?;
    for loaded in &report.loaded {
        tracing::info!(file = %loaded.path.display(), project = %loaded.project_id, version = %loaded.version_id, "agent loaded");
        for w in &loaded.warnings {
            tracing::warn!(file = %loaded.path.display(), warning = %w, "agent loaded with a warning");
        }
    }
    for failed in &report.failed {
        tracing::error!(file = %failed.path.display(), reason = %failed.error, "agent not loaded");
    }
    if registry.is_empty() {
        tracing::warn!(dir = %args.diagrams.display(), "no agent loaded: every project route will answer an error");
    }
    let keys = load_keys(&args)?;
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
    tracing::info!(store = %store_info, "session store");
    let mut state = AppState::new(Arc::new(registry), keys, store);
    state.limits = Limits {
        body_bytes: args.body_limit,
        request_timeout: Duration::from_millis(args.timeout_ms.max(1)),
        lock_timeout: args.store.lock_wait(),
    };
    state.public_origins = args
        .public_origins
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Ok(env) = std::env::var("NODE_ENV") {
        if !env.is_empty() {
            state.environment = env;
        }
    }
    let opts = ServerOptions {
        host: args.host,
        port: args.port,
        workers: args.workers,
    };
    actix_web::rt::System::new()
        .block_on(http::serve(state, opts))
        .map_err(|e| format!("server error: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Check(args) => return check(args),
        Command::Compile(args) => compile(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("flowdm: {e}");
            ExitCode::FAILURE
        }
    }
}
