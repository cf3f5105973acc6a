//! Ground truth: the 2021 Alexa `.vfr` of the corpus holds the creator diagrams *and*
//! Voiceflow's own compiled programs. Compile the diagrams and compare with the programs node by
//! node (type, next ids, paths) and command by command. The agreement rate is printed; every
//! disagreement left is explained in `docs/compatibility.md` (compiler section).

use crate::corpus_files::*;
use serde_json::Value;
use std::collections::BTreeSet;

const FILE: &str = "itamarfiorino__alexa-runtime__file.vfr";

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// A line reduced to what the comparison looks at: type and its exits in a canonical order.
fn shape(l: &Value) -> (String, Vec<String>) {
    let ty = s(l, "type").unwrap_or_default();
    let id = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("-").to_string();
    let mut exits = Vec::new();
    match ty.as_str() {
        "interaction" => {
            let legacy_next = l.get("nextIds").and_then(Value::as_array);
            for (i, it) in l
                .get("interactions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let intent = it
                    .pointer("/event/intent")
                    .or_else(|| it.get("intent"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let next = match it.get("nextId") {
                    Some(n) => id(Some(n)),
                    None => id(legacy_next.and_then(|n| n.get(i))),
                };
                exits.push(format!("{intent}→{next}"));
            }
            let else_id = l.pointer("/noMatch/nodeID").or_else(|| l.get("elseId"));
            exits.push(format!("else→{}", id(else_id)));
        }
        "ifV2" => {
            for p in l
                .get("paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ev = p
                    .pointer("/event/type")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                exits.push(format!("{ev}→{}", id(p.get("nextID"))));
            }
        }
        "if" => {
            for n in l
                .get("nextIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                exits.push(id(Some(n)));
            }
            exits.push(format!("else→{}", id(l.get("elseId"))));
        }
        "code" | "integrations" | "reminder" | "user_info" => {
            exits.push(id(l.get("success_id")));
            exits.push(id(l.get("fail_id")));
        }
        "exit" => {}
        "flow" => {
            exits.push(id(l.get("diagram_id")));
            exits.push(id(l.get("nextId")));
        }
        _ => exits.push(id(l.get("nextId"))),
    }
    (ty, exits)
}

/// A command reduced to (kind, trigger, target).
fn command(c: &Value) -> String {
    let ty = s(c, "type").unwrap_or_default();
    let trigger = c
        .pointer("/event/intent")
        .or_else(|| c.get("intent"))
        .or_else(|| c.pointer("/event/type"))
        .or_else(|| c.get("event"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let (kind, target) = match ty.as_str() {
        "command" | "push" => ("push", s(c, "diagram_id").or_else(|| s(c, "diagramID"))),
        _ => ("jump", s(c, "next").or_else(|| s(c, "nextID"))),
    };
    format!(
        "{kind} {trigger} → {}",
        target.unwrap_or_else(|| "-".into())
    )
}

#[test]
fn compiled_diagrams_agree_with_voiceflows_programs() {
    let Some(path) = corpus_file(FILE) else {
        return;
    };
    let doc = read_json(&path);
    let compiled = flowdm_compile::compile(&doc, FILE).expect("compiles");
    let reference = doc["programs"].as_object().expect("programs");
    let ours = compiled.vfr["programs"].as_object().expect("programs");

    let (mut nodes, mut nodes_ok, mut cmds, mut cmds_ok) = (0usize, 0usize, 0usize, 0usize);
    let (mut content, mut content_ok) = (0usize, 0usize);
    let mut disagreements: Vec<String> = Vec::new();
    for (pid, prog) in reference {
        let mine = ours.get(pid);
        for (lid, line) in prog["lines"].as_object().into_iter().flatten() {
            nodes += 1;
            let theirs = shape(line);
            match mine.and_then(|m| m["lines"].get(lid)) {
                Some(l) => {
                    let got = shape(l);
                    if got == theirs {
                        nodes_ok += 1;
                    } else {
                        disagreements.push(format!(
                            "{pid} {lid} {}: Voiceflow {:?}, flowdm {} {:?}",
                            theirs.0, theirs.1, got.0, got.1
                        ));
                    }
                    // Content: speak text and expressions.
                    for key in ["speak", "expressions", "code"] {
                        if let Some(v) = line.get(key) {
                            content += 1;
                            let ours = l.get(key).or_else(|| {
                                l.pointer("/payload/expressions")
                                    .filter(|_| key == "expressions")
                            });
                            if ours == Some(v) {
                                content_ok += 1;
                            } else {
                                disagreements.push(format!(
                                    "{pid} {lid} {key}: Voiceflow {v}, flowdm {}",
                                    ours.cloned().unwrap_or(Value::Null)
                                ));
                            }
                        }
                    }
                }
                None => disagreements.push(format!("{pid} {lid} {}: missing in flowdm", theirs.0)),
            }
        }
        let theirs: BTreeSet<String> = prog["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .map(command)
            .collect();
        let mut mine_cmds: BTreeSet<String> = mine
            .and_then(|m| m["commands"].as_array())
            .into_iter()
            .flatten()
            .map(command)
            .collect();
        if pid
            == &compiled.vfr["version"]["rootDiagramID"]
                .as_str()
                .unwrap_or("")
                .to_string()
        {
            let base = compiled.vfr["version"]["_id"].as_str().unwrap_or("");
            mine_cmds.extend(
                ours[base]["commands"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(command),
            );
        }
        for c in &theirs {
            cmds += 1;
            if mine_cmds.contains(c) {
                cmds_ok += 1;
            } else {
                disagreements.push(format!("{pid} command {c}: missing in flowdm"));
            }
        }
    }
    let rate = (nodes_ok + cmds_ok) as f64 / (nodes + cmds) as f64 * 100.0;
    eprintln!("ground truth {FILE}:");
    eprintln!("  nodes     {nodes_ok}/{nodes} agree (type, next ids, paths)");
    eprintln!("  commands  {cmds_ok}/{cmds} agree");
    eprintln!("  content   {content_ok}/{content} agree (speak text, expressions, code)");
    eprintln!("  agreement {rate:.1}% of nodes and commands");
    for d in &disagreements {
        eprintln!("  disagreement: {d}");
    }
    assert!(rate >= 99.0, "agreement fell to {rate:.1}%");
}
