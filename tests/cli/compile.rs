//! The command line and the server with `.vf` files: `flowdm check` (diagnostics, summary, exit
//! status), `flowdm compile` (the runtime export), and `flowdm serve` compiling a directory where
//! one file is broken.

use crate::support::server::*;
use serde_json::{json, Value};

/// A one-step agent whose single step has an unknown type (an error that routes on).
fn odd_agent() -> String {
    json!({
        "_version": "1.2",
        "project": { "_id": "odd-p", "name": "Odd", "type": "chat", "platform": "webchat", "devVersion": "odd-v" },
        "version": { "_id": "odd-v", "projectID": "odd-p", "rootDiagramID": "D", "variables": [],
            "platformData": { "settings": {} }, "prototype": { "model": { "intents": [], "slots": [] }, "context": {} } },
        "diagrams": { "D": { "diagramID": "D", "name": "ROOT", "type": "TOPIC", "nodes": {
            "start": { "type": "start", "data": { "steps": [], "portsV2": { "builtIn": { "next": { "target": "b" } }, "byKey": {}, "dynamic": [] } } },
            "b": { "type": "block", "data": { "steps": ["x", "t"] } },
            "x": { "type": "hologram", "data": { "portsV2": { "builtIn": { "next": { "target": null } }, "byKey": {}, "dynamic": [] } } },
            "t": { "type": "text", "data": { "texts": [ { "id": "1", "content": [ { "children": [ { "text": "odd but alive" } ] } ] } ],
                   "portsV2": { "builtIn": { "next": { "target": null } }, "byKey": {}, "dynamic": [] } } }
        } } }
    })
    .to_string()
}

#[test]
fn check_reports_and_sets_the_exit_status() {
    let ok = flowdm_command()
        .arg("check")
        .args(["payment.vf", "handoff.vf", "catalogue.vf"].map(|f| diagrams_dir().join(f)))
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("0 errors, 0 warnings"))
            .count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("payment.vf: 2024 export, 2 diagrams → 3 programs, 13 steps (13 clean)"),
        "{out}"
    );

    let dir = tempfile::tempdir().expect("tmp");
    let odd = dir.path().join("odd.vf");
    std::fs::write(&odd, odd_agent()).expect("write");
    let broken = dir.path().join("broken.vf");
    std::fs::write(&broken, "{ nope").expect("write");
    let bad = flowdm_command()
        .arg("check")
        .arg(&odd)
        .arg(&broken)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: odd.vf diagram D node x (hologram): unknown step type"),
        "{out}"
    );
    assert!(
        out.contains("1 steps") || out.contains("2 steps (1 clean)"),
        "{out}"
    );
    assert!(out.contains("broken.vf: FAILED: invalid JSON"), "{out}");

    let json_out = flowdm_command()
        .args(["check", "--json"])
        .arg(&odd)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&json_out.stdout).expect("one JSON object");
    assert_eq!(report["ok"], false);
    assert_eq!(report["counts"]["errors"], 1);
    assert_eq!(report["diagnostics"][0]["node"], "x");
    assert_eq!(report["diagnostics"][0]["step_type"], "hologram");
}

#[test]
fn compile_writes_the_runtime_export() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("payment.vfr");
    let run = flowdm_command()
        .arg("compile")
        .arg(diagrams_dir().join("payment.vf"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("0 errors"));
    let vfr: Value = serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("json");
    let home = &vfr["programs"]["64a1d0000000000000000001"];
    assert_eq!(
        home["lines"]["64a101000000000000000005"]["type"],
        "interaction"
    );
    assert_eq!(
        home["lines"]["64a101000000000000000006"]["type"],
        "Pay Credit Card"
    );
    assert!(vfr["programs"][PAYMENT_VERSION].is_object(), "base program");
    // The written .vfr serves like the .vf.
    let (project, warnings) = flowdm::model::load_vfr(&vfr).expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(project.version.id, PAYMENT_VERSION);

    let stdout = flowdm_command()
        .arg("compile")
        .arg(diagrams_dir().join("catalogue.vf"))
        .output()
        .expect("run");
    let doc: Value = serde_json::from_slice(&stdout.stdout).expect("json on stdout");
    assert_eq!(doc["version"]["_id"], CATALOGUE_VERSION);
}

#[tokio::test]
async fn serve_compiles_vf_files_and_a_broken_one_does_not_stop_the_others() {
    let server = Server::builder()
        .files(&[
            ("broken.vf", "{ \"version\": ".to_string()),
            ("empty.vf", json!({ "version": { "_id": "e" } }).to_string()),
            ("odd.vf", odd_agent()),
        ])
        .with_example("payment.vf")
        .start_process();
    // Failed files are logged after the loaded ones: wait for both failure lines too.
    server.wait_for_log("invalid JSON");
    server.wait_for_log("no diagrams");
    let logs = server.wait_for_log("odd.vf");
    assert!(
        logs.contains("broken.vf") && logs.contains("invalid JSON"),
        "{logs}"
    );
    assert!(
        logs.contains("empty.vf") && logs.contains("no diagrams"),
        "{logs}"
    );
    // The odd agent loads, with its error logged (file, diagram, node, step type).
    assert!(logs.contains("node x (hologram)"), "{logs}");
    let odd = User::new(&server, "u", "odd-v");
    let t = odd.act(json!({ "type": "launch" })).await;
    assert_eq!(types(&t), ["text", "end"]);
    assert_eq!(messages(&t), ["odd but alive"]);
    let pay = User::new(&server, "u", PAYMENT_VERSION);
    let t = pay.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t)[0], "Hi there! Welcome to the payment demo.");
}
