//! `flowdm`: the command line. It parses the arguments into one [`Config`] and hands it to
//! [`Application::build`]; `check` and `compile` run the compiler (`check` also the NLU's lint).

use clap::Parser;
use flowdm::app::Application;
use flowdm::cli::{CheckArgs, Cli, Command, CompileArgs, LogFormat};
use flowdm::config::Config;
use std::io::Write;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: session states are allocated by one HTTP worker and often
/// freed by another, which makes glibc's per-arena locks contend (futex) under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn check(args: CheckArgs) -> ExitCode {
    let opts = flowdm::compile::cli::CheckOptions {
        quiet: args.quiet,
        json: args.json,
    };
    // Where the agent will fail at run time: understanding (`docs/nlu.md` § flowdm check) and
    // scripts that do not parse (QuickJS).
    let lint = |project: &flowdm::model::Project| {
        let mut warnings: Vec<String> = flowdm::nlu::lint::lint_project(project)
            .iter()
            .map(|w| format!("nlu: {w}"))
            .collect();
        warnings.extend(flowdm::actions::sandbox::lint::lint_project(project));
        warnings
    };
    match flowdm::compile::cli::check_with(&args.files, opts, &lint, &mut std::io::stdout().lock())
    {
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

/// Builds the application, prints `listening on http://ADDR` for every bound address (port 0
/// gives the actual port), then serves until SIGINT/SIGTERM.
fn serve(config: Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        for addr in app.addrs() {
            let _ = writeln!(out, "listening on http://{addr}");
        }
        let _ = out.flush();
        drop(out);
        app.run_until_stopped()
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// Logs on stderr, filtered by `RUST_LOG` (default `info`), as text or one JSON object per line
/// (`--log-format`; the request span's fields, `id`, `project`, `user` (hashed), on every line of
/// a request: docs/observability.md).
fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            // `span`: the innermost span; `spans`: all of them, the request's first.
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args.into_config_with_env()),
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
