//! `flowdm check` and `flowdm compile`: the command-line side of the compiler.

use super::{compile_file, Compiled, Counts, Severity};
use flowdm_model::{load_vfr, LoadWarning, Project};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// Options of `flowdm check`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Only errors and the summary lines (no warnings or notes).
    pub quiet: bool,
    /// One JSON object per file instead of text.
    pub json: bool,
}

/// More warnings about a file that loads (the NLU's: `flowdm_nlu::lint`). The compiler does
/// not know the NLU; the `flowdm` binary passes them in.
pub type Lint<'a> = &'a dyn Fn(&Project) -> Vec<String>;

/// No further warnings.
fn no_lint(_: &Project) -> Vec<String> {
    Vec::new()
}

/// Outcome of checking one file.
#[derive(Debug)]
pub struct FileReport {
    pub file: String,
    pub compiled: Option<Compiled>,
    /// Why the file could not be compiled or loaded at all.
    pub fatal: Option<String>,
    /// What the runtime loader tolerated.
    pub load_warnings: Vec<String>,
    /// Where understanding will fail (the [`Lint`] of the loaded project).
    pub nlu_warnings: Vec<String>,
}

impl FileReport {
    pub fn counts(&self) -> Counts {
        self.compiled
            .as_ref()
            .map(|c| Counts::of(&c.diagnostics))
            .unwrap_or_default()
    }

    /// Whether the file has no error (fatal or diagnostic).
    pub fn ok(&self) -> bool {
        self.fatal.is_none() && self.counts().errors == 0
    }
}

/// Compiles a file and loads the result like `flowdm serve` would. `.vfr` files are loaded as
/// they are (their `programs`), and compiled from their `diagrams` only when they have none.
pub fn check_file(path: &Path) -> FileReport {
    check_file_with(path, &no_lint)
}

/// [`check_file`], then `lint` on the loaded project.
pub fn check_file_with(path: &Path, lint: Lint) -> FileReport {
    let file = path.display().to_string();
    let is_vfr = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.eq_ignore_ascii_case("vfr"))
        .unwrap_or(false);
    if is_vfr {
        let loaded = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice::<Value>(&b).map_err(|e| format!("invalid JSON: {e}"))
            });
        let doc = match loaded {
            Ok(d) => d,
            Err(e) => return failed(file, None, e),
        };
        if doc
            .get("programs")
            .and_then(Value::as_object)
            .map(|p| !p.is_empty())
            .unwrap_or(false)
        {
            return match load_vfr(&doc) {
                Ok(loaded) => report(file, None, loaded, lint),
                Err(e) => failed(file, None, e.to_string()),
            };
        }
    }
    match compile_file(path) {
        Ok(c) => match load_vfr(&c.vfr) {
            Ok(loaded) => report(file, Some(c), loaded, lint),
            Err(e) => failed(
                file,
                Some(c),
                format!("the compiled program does not load: {e}"),
            ),
        },
        Err(e) => failed(file, None, e.to_string()),
    }
}

/// The report of a file that loaded: its load warnings and `lint`'s.
fn report(
    file: String,
    compiled: Option<Compiled>,
    (project, warnings): (Project, Vec<LoadWarning>),
    lint: Lint,
) -> FileReport {
    FileReport {
        file,
        compiled,
        fatal: None,
        load_warnings: warnings.iter().map(|w| w.to_string()).collect(),
        nlu_warnings: lint(&project),
    }
}

/// The report of a file that did not load.
fn failed(file: String, compiled: Option<Compiled>, fatal: String) -> FileReport {
    FileReport {
        file,
        compiled,
        fatal: Some(fatal),
        load_warnings: Vec::new(),
        nlu_warnings: Vec::new(),
    }
}

/// One summary line (`; N run-time warnings` at the end when there are any: understanding and
/// scripts).
pub fn summary(r: &FileReport) -> String {
    let line = summary_line(r);
    match r.nlu_warnings.len() {
        0 => line,
        n => format!("{line}; {n} run-time warnings"),
    }
}

fn summary_line(r: &FileReport) -> String {
    if let Some(f) = &r.fatal {
        return format!("{}: FAILED: {f}", r.file);
    }
    let Some(c) = &r.compiled else {
        return format!(
            "{}: runtime export loaded ({} loader warnings)",
            r.file,
            r.load_warnings.len()
        );
    };
    let n = Counts::of(&c.diagnostics);
    format!(
        "{}: {} export, {} diagrams → {} programs, {} steps ({} clean), {} lines, {} commands; {} errors, {} warnings, {} notes",
        r.file,
        c.generation,
        c.stats.diagrams,
        c.stats.programs,
        c.stats.steps,
        c.stats.clean_steps,
        c.stats.lines,
        c.stats.commands,
        n.errors,
        n.warnings,
        n.infos
    )
}

/// `flowdm check FILE...`: prints diagnostics and a summary per file; `false` when any file
/// has an error.
pub fn check(
    files: &[impl AsRef<Path>],
    opts: CheckOptions,
    out: &mut dyn Write,
) -> std::io::Result<bool> {
    check_with(files, opts, &no_lint, out)
}

/// [`check`] with `lint`'s warnings for every file that loads (printed after the loader's;
/// they do not change the exit status).
pub fn check_with(
    files: &[impl AsRef<Path>],
    opts: CheckOptions,
    lint: Lint,
    out: &mut dyn Write,
) -> std::io::Result<bool> {
    let mut ok = true;
    for f in files {
        let r = check_file_with(f.as_ref(), lint);
        ok &= r.ok();
        if opts.json {
            let diags = r
                .compiled
                .as_ref()
                .map(|c| c.diagnostics.clone())
                .unwrap_or_default();
            let v = serde_json::json!({
                "file": r.file,
                "ok": r.ok(),
                "fatal": r.fatal,
                "generation": r.compiled.as_ref().map(|c| c.generation.to_string()),
                "stats": r.compiled.as_ref().map(|c| c.stats.clone()),
                "counts": r.counts(),
                "diagnostics": diags,
                "loadWarnings": r.load_warnings,
                "nluWarnings": r.nlu_warnings,
            });
            writeln!(out, "{v}")?;
            continue;
        }
        if let Some(c) = &r.compiled {
            for d in &c.diagnostics {
                if !opts.quiet || d.severity == Severity::Error {
                    writeln!(out, "{d}")?;
                }
            }
        }
        if !opts.quiet {
            for w in &r.load_warnings {
                writeln!(out, "warning: {}: {w}", r.file)?;
            }
            for w in &r.nlu_warnings {
                writeln!(out, "warning: {}: {w}", r.file)?;
            }
        }
        writeln!(out, "{}", summary(&r))?;
    }
    Ok(ok)
}

/// `flowdm compile FILE.vf -o FILE.vfr`: writes the runtime export (to stdout without `-o`).
/// Returns the summary line; diagnostics go to `diag`.
pub fn compile_to(
    input: &Path,
    output: Option<&Path>,
    diag: &mut dyn Write,
) -> Result<String, String> {
    let compiled = compile_file(input).map_err(|e| format!("{}: {e}", input.display()))?;
    load_vfr(&compiled.vfr).map_err(|e| {
        format!(
            "{}: the compiled program does not load: {e}",
            input.display()
        )
    })?;
    for d in &compiled.diagnostics {
        let _ = writeln!(diag, "{d}");
    }
    let text = serde_json::to_string_pretty(&compiled.vfr).map_err(|e| e.to_string())?;
    match output {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}").map_err(|e| e.to_string())?;
        }
    }
    let report = FileReport {
        file: input.display().to_string(),
        compiled: Some(compiled),
        fatal: None,
        load_warnings: Vec::new(),
        nlu_warnings: Vec::new(),
    };
    Ok(summary(&report))
}
