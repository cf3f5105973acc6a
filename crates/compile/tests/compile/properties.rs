//! Properties of the `.vf` compiler on mutated real exports (`docs/property-tests.md`): the
//! example agents of `diagrams/` and the smaller exports of the shared corpus (when it is beside
//! the checkout), with keys deleted, values replaced by other types, arrays emptied or
//! duplicated, ids and ports replaced by random strings or by other ids of the same export.
//! Compiling never panics (errors are fine); what compiles loads, builds its NLU and runs a
//! launch and a text turn without a panic either. Bounded case counts; `PROPTEST_CASES=5000`
//! for a deeper run.

use crate::arbitrary_json::{self as arb, bounded};
use crate::common::Session;
use crate::corpus_files::corpus_file;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Small exports of every generation (kept small: each case compiles one).
const CORPUS: &[&str] = &[
    "voiceflow__rcjs-examples__hello-world.vf",
    "voiceflow__rcjs-examples__TraceProcessor.vf",
    "voiceflow__voiceflow-docs__catching_errors.vf",
    "voiceflow__test-history-rebase__general_prototype_speak_and_choice.template.json",
    "voiceflow__test-history-rebase__alexa_default.template.json",
];

/// The exports, parsed once, with every string of each (the ids to mix up).
struct Export {
    name: String,
    doc: Value,
    strings: Vec<String>,
    /// The export compiled: the `.vfr` the server also loads as it is.
    vfr: Value,
}

fn exports() -> &'static [Export] {
    static EXPORTS: OnceLock<Vec<Export>> = OnceLock::new();
    EXPORTS.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../diagrams");
        let mut files: Vec<PathBuf> = ["payment.vf", "handoff.vf", "catalogue.vf"]
            .iter()
            .map(|f| repo.join(f))
            .collect();
        files.extend(CORPUS.iter().filter_map(|f| corpus_file(f)));
        files
            .into_iter()
            .map(|p| {
                let doc: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                let mut strings = Vec::new();
                collect_strings(&doc, &mut strings);
                let vfr = flowdm_compile::compile(&doc, "export.vf").unwrap().vfr;
                collect_strings(&vfr, &mut strings);
                Export {
                    name: p.file_name().unwrap().to_string_lossy().into_owned(),
                    doc,
                    strings,
                    vfr,
                }
            })
            .collect()
    })
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() <= 40 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// JSON pointers of every value below the root.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    let child = |k: &str| format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = child(&i.to_string());
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let p = child(k);
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// One change at a random place of the export.
#[derive(Debug, Clone)]
enum Mutation {
    Delete,
    Replace(Value),
    Empty,
    Duplicate,
    RandomString(String),
    OtherString(Index),
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => Just(Mutation::Delete),
        3 => arb::json(2).prop_map(Mutation::Replace),
        1 => Just(Mutation::Empty),
        1 => Just(Mutation::Duplicate),
        2 => arb::string().prop_map(Mutation::RandomString),
        3 => any::<Index>().prop_map(Mutation::OtherString),
    ]
    .boxed()
}

fn parent_and_key(pointer: &str) -> (&str, String) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    (parent, key.replace("~1", "/").replace("~0", "~"))
}

fn apply(doc: &mut Value, strings: &[String], pointer: &str, m: &Mutation) {
    let (parent, key) = parent_and_key(pointer);
    match m {
        Mutation::Delete => match doc.pointer_mut(parent) {
            Some(Value::Object(o)) => {
                o.remove(&key);
            }
            Some(Value::Array(a)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            }
            _ => {}
        },
        Mutation::Duplicate => {
            if let Some(Value::Array(a)) = doc.pointer_mut(parent) {
                if let Some(x) = key.parse::<usize>().ok().and_then(|i| a.get(i).cloned()) {
                    a.push(x);
                }
            }
        }
        other => {
            if let Some(slot) = doc.pointer_mut(pointer) {
                *slot = match other {
                    Mutation::Replace(v) => v.clone(),
                    Mutation::Empty => match slot {
                        Value::Array(_) => json!([]),
                        Value::Object(_) => json!({}),
                        Value::String(_) => json!(""),
                        _ => Value::Null,
                    },
                    Mutation::RandomString(s) => Value::String(s.clone()),
                    Mutation::OtherString(i) if !strings.is_empty() => {
                        Value::String(i.get(strings).clone())
                    }
                    _ => return,
                };
            }
        }
    }
}

/// How far a mutated export got: not compiled, not loaded, or loaded and run.
fn compile_and_run(doc: &Value) -> &'static str {
    match flowdm_compile::compile(doc, "mutated.vf") {
        Ok(compiled) => load_and_run(&compiled.vfr),
        Err(_) => "compile error",
    }
}

/// Loads a `.vfr` document, builds its NLU, runs a launch and a text turn.
fn load_and_run(vfr: &Value) -> &'static str {
    let Ok((project, _)) = flowdm_model::load_vfr(vfr) else {
        return "load error";
    };
    let mut session = Session::new(project);
    session.turn(json!({ "type": "launch" }));
    session.turn(json!({ "type": "text", "payload": "yes please, the large one" }));
    "ran"
}

/// Export (its `.vf`, or its compiled `.vfr` with `vfr`) and mutations → a mutated document
/// and what was done.
fn mutated(
    which: &Index,
    changes: &[(Index, Mutation)],
    vfr: bool,
) -> (String, Value, Vec<String>) {
    let export = which.get(exports());
    let mut doc = if vfr {
        export.vfr.clone()
    } else {
        export.doc.clone()
    };
    let mut applied = Vec::new();
    for (at, m) in changes {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let pointer = at.get(&all);
        apply(&mut doc, &export.strings, pointer, m);
        applied.push(format!("{pointer}: {m:?}"));
    }
    (export.name.clone(), doc, applied)
}

/// Runs `cases` mutations of the exports (`.vf` or compiled `.vfr`) through `run`.
fn mutations(cases: u32, vfr: bool, run: fn(&Value) -> &'static str) {
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..bounded(cases)
    });
    // How far the cases got (printed with `--nocapture`).
    let seen = RefCell::new(BTreeMap::<&str, usize>::new());
    let changes = prop::collection::vec((any::<Index>(), mutation()), 1..8);
    let result = runner.run(&(any::<Index>(), changes), |(which, changes)| {
        let (name, doc, applied) = mutated(&which, &changes, vfr);
        let outcome = std::panic::catch_unwind(|| run(&doc));
        prop_assert!(outcome.is_ok(), "{} with {:#?}", name, applied);
        if let Ok(how) = outcome {
            *seen.borrow_mut().entry(how).or_default() += 1;
        }
        Ok(())
    });
    eprintln!("outcomes: {:?}", seen.borrow());
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn mutated_exports_never_panic_the_compiler() {
    mutations(96, false, compile_and_run);
}

/// The same for the `.vfr` loader (`flowdm_model::load_vfr`, which the server uses for `.vfr`
/// files) on mutated compiled programs.
#[test]
fn mutated_programs_never_panic_the_loader() {
    mutations(96, true, load_and_run);
}
