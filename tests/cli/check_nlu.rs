//! `flowdm check` says where understanding will fail: unsupported entity types, intents with
//! few utterances, duplicate utterances, entity captures nothing can fill (`docs/nlu.md`
//! § flowdm check).

use crate::support::server::*;
use serde_json::{json, Value};

/// A 2024 export: one topic whose block asks for a city with a capture-v3 entity capture, and a
/// model with one problem of each kind.
fn shop_agent() -> Value {
    let next = |target: Value| json!({ "builtIn": { "next": { "type": "next", "target": target } }, "byKey": {}, "dynamic": [] });
    let intent = |key: &str, name: &str, texts: &[&str], slots: Value| {
        json!({ "key": key, "name": name, "slots": slots,
                "inputs": texts.iter().map(|t| json!({ "text": t })).collect::<Vec<_>>() })
    };
    json!({
        "_version": "1.2",
        "project": { "_id": "shop-p", "name": "Shop", "type": "chat", "platform": "webchat", "devVersion": "shop-v" },
        "version": { "_id": "shop-v", "_version": 9, "projectID": "shop-p", "rootDiagramID": "D", "variables": [],
            "platformData": {
                "settings": {},
                "intents": [
                    intent("i1", "deliver", &["deliver to {{[city].e1}}", "bring it to {{[city].e1}}", "ship it to {{[city].e1}}"],
                        json!([ { "id": "e1", "required": true } ])),
                    intent("i2", "greet", &["hello", "Hi  there"], json!([])),
                    intent("i3", "farewell", &["bye", "hi there", "see you later"], json!([])),
                    intent("i4", "order", &["i want {{[size].e2}}", "order a {{[size].e2}} one", "get me a {{[size].e2}}"],
                        json!([ { "id": "e2" } ]))
                ],
                "slots": [
                    { "key": "e1", "name": "city", "type": { "value": "AMAZON.US_CITY" }, "inputs": [] },
                    { "key": "e2", "name": "size", "type": { "value": "Custom" }, "inputs": ["small", "large, big"] }
                ]
            },
            "prototype": { "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "diagrams": { "D": { "diagramID": "D", "name": "ROOT", "type": "TOPIC", "nodes": {
            "start": { "nodeID": "start", "type": "start", "data": { "steps": [], "portsV2": next(json!("b1")) } },
            "b1": { "nodeID": "b1", "type": "block", "data": { "name": "Ask", "steps": ["ask", "done"] } },
            "ask": { "nodeID": "ask", "type": "capture-v3", "data": {
                "capture": { "type": "entity", "items": [ { "id": "q", "entityID": "e1" } ] },
                "listenForOtherTriggers": false,
                "portsV2": { "builtIn": {}, "dynamic": [], "byKey": { "next": { "target": null } } } } },
            "done": { "nodeID": "done", "type": "text", "data": {
                "texts": [ { "id": "t1", "content": [ { "children": [ { "text": "Shipping to {city}" } ] } ] } ],
                "portsV2": next(Value::Null) } }
        } } }
    })
}

#[test]
fn check_warns_where_understanding_will_fail() {
    let dir = tempfile::tempdir().expect("tmp");
    let shop = dir.path().join("shop.vf");
    std::fs::write(&shop, shop_agent().to_string()).expect("write");
    let run = flowdm_command()
        .arg("check")
        .arg(&shop)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "NLU warnings are not errors: {out}");
    let file = shop.display().to_string();
    let expected = [
        format!(
            "warning: {file}: nlu: entity \"city\" cannot be extracted (type AMAZON.US_CITY, which \
             flowdm has no extractor for); intents \"deliver\", \"capture_ask\" will not fill it"
        ),
        format!(
            "warning: {file}: nlu: utterance \"hi there\" belongs to intents \"greet\", \
             \"farewell\"; only the first can match it"
        ),
        format!(
            "warning: {file}: nlu: capture step ask (program D) waits for entity \"city\", which \
             cannot be extracted (type AMAZON.US_CITY, which flowdm has no extractor for): it will \
             never be filled"
        ),
    ];
    let nlu: Vec<&str> = out.lines().filter(|l| l.contains(": nlu: ")).collect();
    assert_eq!(nlu, expected, "{out}");
    // No "greet has 2 utterances": no step of this agent listens for it (not in
    // `usedIntentsSet`), so it is never predicted; its utterance still shadows "farewell"'s.
    assert!(out.trim_end().ends_with("; 3 run-time warnings"), "{out}");

    let quiet = flowdm_command()
        .args(["check", "--quiet"])
        .arg(&shop)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&quiet.stdout);
    assert!(!out.contains(": nlu: "), "{out}");

    let json_out = flowdm_command()
        .args(["check", "--json"])
        .arg(&shop)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&json_out.stdout).expect("one JSON object");
    assert_eq!(report["ok"], true);
    assert_eq!(report["nluWarnings"].as_array().map(Vec::len), Some(3));
    assert!(report["nluWarnings"][1]
        .as_str()
        .is_some_and(|w| w.starts_with("nlu: utterance \"hi there\" belongs to")));
}

#[test]
fn the_example_agents_have_no_nlu_warning() {
    let run = flowdm_command()
        .arg("check")
        .args(["payment.vf", "handoff.vf", "catalogue.vf"].map(|f| diagrams_dir().join(f)))
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(!out.contains("nlu") && !out.contains("NLU"), "{out}");
}

#[test]
fn check_reports_scripts_that_do_not_parse() {
    let mut agent = shop_agent();
    let nodes = &mut agent["diagrams"]["D"]["nodes"];
    nodes["b1"]["data"]["steps"] = json!(["good", "bad", "ask", "done"]);
    let code = |src: &str| {
        json!({ "type": "code", "data": { "code": src,
        "portsV2": { "builtIn": { "next": { "type": "next", "target": null }, "fail": { "type": "fail", "target": null } }, "byKey": {}, "dynamic": [] } } })
    };
    nodes["good"] = code("const n = [1, 2].map(x => x * 2); total = n.length;");
    nodes["bad"] = code("if (total > { total = 1 }");
    nodes["good"]["nodeID"] = json!("good");
    nodes["bad"]["nodeID"] = json!("bad");
    // A function step whose function is not in the export, and a function that does not parse.
    nodes["b1"]["data"]["steps"] = json!(["good", "bad", "fn", "ask", "done"]);
    nodes["fn"] = json!({ "nodeID": "fn", "type": "function", "data": { "functionID": "gone",
        "inputMapping": {}, "outputMapping": {}, "portsV2": { "builtIn": {}, "byKey": {}, "dynamic": [] } } });
    agent["functions"] = json!([
        { "id": "ok", "name": "Fine", "code": "export default async function main(args) { return {}; }" },
        { "id": "broken", "name": "Broken", "code": "export default async function main(args) { return { ; }" }
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("scripts.vf");
    std::fs::write(&file, agent.to_string()).expect("write");
    let run = flowdm_command()
        .arg("check")
        .arg(&file)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}");
    let scripts: Vec<&str> = out.lines().filter(|l| l.contains(": script: ")).collect();
    assert_eq!(scripts.len(), 2, "{out}");
    for expected in [
        "the code step bad (program D) does not parse: SyntaxError",
        "the code of function broken does not parse: SyntaxError",
    ] {
        assert!(scripts.iter().any(|l| l.contains(expected)), "{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.contains("function \"gone\" is not in the export")),
        "{out}"
    );
}

#[test]
fn every_script_of_the_corpus_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    let run = flowdm_command()
        .arg("check")
        .args(&files)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&run.stdout);
    let scripts: Vec<&str> = out.lines().filter(|l| l.contains(": script: ")).collect();
    assert!(scripts.is_empty(), "{scripts:#?}");
    assert!(out.contains("corpus"), "{out}");
}
