//! Every agent of `../shared/corpus` (creator exports of 2021–2025, templates, the two runtime
//! exports) compiles, loads and answers a launch turn without a panic; per file the test prints
//! how many steps compiled cleanly. Skipped when the corpus is not beside the checkout.

use crate::common::*;
use crate::corpus_files::*;
use flowdm_compile::{self as compile, Counts};
use serde_json::{json, Value};

#[test]
fn every_corpus_file_compiles_loads_and_launches() {
    let files = corpus_files();
    if files.is_empty() {
        return;
    }
    let (mut steps, mut clean, mut errors) = (0, 0, 0);
    eprintln!(
        "{:<72} {:>4} {:>9} {:>6}  diagnostics  launch",
        "file", "gen", "clean", "%"
    );
    for path in &files {
        let name = file_name(path);
        let compiled =
            compile::compile_file(path).unwrap_or_else(|e| panic!("{name} does not compile: {e}"));
        let (project, _) = flowdm_model::load_vfr(&compiled.vfr)
            .unwrap_or_else(|e| panic!("{name}: compiled program does not load: {e}"));
        let mut s = Session::new(project).with_config(json!({ "excludeTypes": [] }));
        let launch = s.turn_raw(json!({ "type": "launch" }));
        assert!(
            !launch.trace.is_empty(),
            "{name}: launch produced no traces"
        );
        let traces = normalize(serde_json::to_value(&launch.trace).unwrap_or_default());
        let shown: Vec<String> = types(&traces)
            .into_iter()
            .filter(|t| !matches!(t.as_str(), "block" | "debug" | "flow" | "path"))
            .collect();
        let said = messages(&traces).len();
        // Two more turns on the resulting state must not panic either.
        s.turn_raw(json!({ "type": "text", "payload": "hello" }));
        s.turn_raw(json!({ "type": "no-reply" }));

        let n = Counts::of(&compiled.diagnostics);
        let st = &compiled.stats;
        steps += st.steps;
        clean += st.clean_steps;
        errors += n.errors;
        let pct = if st.steps == 0 {
            100.0
        } else {
            st.clean_steps as f64 * 100.0 / st.steps as f64
        };
        eprintln!(
            "{:<72} {:>4} {:>4}/{:<4} {:>5.1}%  {}E {}W {}I    {} traces, {said} messages {:?}",
            name.chars().take(72).collect::<String>(),
            compiled.generation.to_string(),
            st.clean_steps,
            st.steps,
            pct,
            n.errors,
            n.warnings,
            n.infos,
            launch.trace.len(),
            shown
        );
    }
    eprintln!(
        "corpus: {} files, {clean}/{steps} steps compiled cleanly ({:.1}%), {errors} errors",
        files.len(),
        clean as f64 * 100.0 / steps.max(1) as f64
    );
    assert_eq!(errors, 0, "the corpus compiles without error diagnostics");
}

/// Messages edited in the CMS after Voiceflow last compiled the version (`programResources`
/// is stale for them; flowdm serves `programResources`, like Voiceflow's runtime).
const STALE_PROGRAM_RESOURCES: [&str; 1] = ["683ef87a871ebc41183ce3b0"];

/// 2024–25 exports carry both the CMS response tables and Voiceflow's compiled
/// `programResources.messages`: compiling the tables must give the same texts.
#[test]
fn cms_responses_compile_like_program_resources() {
    let (mut total, mut same, mut stale, mut absent) = (0, 0, 0, 0);
    for path in corpus_files() {
        let doc = read_json(&path);
        let Some(reference) = doc
            .pointer("/version/programResources/messages")
            .and_then(Value::as_object)
        else {
            continue;
        };
        let names = compile::names::Names::from_doc(&doc);
        let ours = compile::cms::compile_responses(&doc, &names);
        for (id, msg) in reference {
            total += 1;
            let texts = |m: &Value| -> Vec<String> {
                m.pointer("/variants/default:en-us")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|v| compile::content::slate_text(&v["data"]["text"]))
                    .collect()
            };
            let expected = texts(msg);
            let Some(got) = ours.get(id).map(texts) else {
                // Only in programResources (the CMS row is gone).
                absent += 1;
                continue;
            };
            if got == expected {
                same += 1;
            } else if STALE_PROGRAM_RESOURCES.contains(&id.as_str()) {
                stale += 1;
            } else {
                eprintln!(
                    "{} message {id}: programResources {expected:?}, CMS {got:?}",
                    file_name(&path)
                );
            }
        }
    }
    eprintln!(
        "CMS messages: {same}/{total} agree with programResources ({stale} stale in programResources, {absent} only there)"
    );
    assert_eq!(same + stale + absent, total);
}

fn step(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Replaces values at pseudo-random places with values of the wrong type.
fn mutate(v: &mut Value, seed: &mut u64, depth: usize) {
    match v {
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                let r = step(seed) % 23;
                let Some(x) = o.get_mut(&k) else { continue };
                match r {
                    0 => *x = Value::Null,
                    1 => *x = json!(42),
                    2 => *x = json!("zz"),
                    3 => *x = json!([]),
                    4 => *x = json!({}),
                    5 => *x = json!([null, 1, "a", { "target": "nope" }]),
                    _ if depth < 12 => mutate(x, seed, depth + 1),
                    _ => {}
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut().filter(|_| depth < 12) {
                mutate(x, seed, depth + 1);
            }
        }
        _ => {}
    }
}

/// Broken exports (wrong types anywhere in diagrams, version and CMS tables) never panic the
/// compiler or the loader: they compile with diagnostics or fail with an error.
#[test]
fn mutated_exports_never_panic() {
    let mut n = 0;
    for path in corpus_files() {
        let doc = read_json(&path);
        for s in 0..6u64 {
            let mut d = doc.clone();
            let mut seed = s * 7919 + 13;
            for part in [
                "diagrams",
                "version",
                "variables",
                "intents",
                "responseMessages",
            ] {
                if let Some(v) = d.get_mut(part) {
                    mutate(v, &mut seed, 0);
                }
            }
            if let Ok(c) = compile::compile(&d, "mutated") {
                let _ = flowdm_model::load_vfr(&c.vfr);
            }
            n += 1;
        }
    }
    eprintln!("{n} mutated exports compiled without a panic");
}
