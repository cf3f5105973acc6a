//! The compiler step by step, on small hand-written creator documents: what each step becomes,
//! how ports resolve, and what is reported.

use flowdm_compile::{compile, Severity};
use serde_json::{json, Value};

/// A 2024-style export with one topic `D`: `start` → block `b1` holding `steps` (in order), plus
/// `extra` nodes (blocks, actions, other steps).
fn doc(steps: Value, extra: Value) -> Value {
    let mut nodes = json!({
        "start": { "nodeID": "start", "type": "start", "data": { "steps": [], "portsV2": { "builtIn": { "next": { "type": "next", "target": "b1" } }, "byKey": {}, "dynamic": [] } } },
        "b1": { "nodeID": "b1", "type": "block", "data": { "name": "B1", "steps": [] } }
    });
    let mut ids = Vec::new();
    for s in steps.as_array().cloned().unwrap_or_default() {
        let id = s["nodeID"].as_str().unwrap_or("").to_string();
        nodes[&id] = s;
        ids.push(Value::String(id));
    }
    nodes["b1"]["data"]["steps"] = Value::Array(ids);
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            nodes[k] = v.clone();
        }
    }
    json!({
        "_version": "1.2",
        "project": { "_id": "P", "name": "T", "type": "chat", "platform": "webchat", "devVersion": "V" },
        "version": { "_id": "V", "_version": 9, "projectID": "P", "rootDiagramID": "D",
            "variables": ["sessions", "user_id", "name"],
            "platformData": { "intents": [ { "key": "i1", "name": "yes", "inputs": [ { "text": "yes" } ], "slots": [] } ], "slots": [], "settings": {} },
            "prototype": { "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "diagrams": { "D": { "diagramID": "D", "name": "ROOT", "type": "TOPIC", "nodes": nodes } },
        "variables": [ { "id": "v1", "name": "city", "isSystem": false, "defaultValue": "Paris" } ],
        "entities": [ { "id": "e1", "name": "color", "classifier": "Custom" } ]
    })
}

fn ports(next: Value, builtin: Value, dynamic: Value, by_key: Value) -> Value {
    let mut b = builtin;
    if !next.is_null() || b.get("next").is_none() {
        b["next"] = json!({ "type": "next", "target": next });
    }
    json!({ "builtIn": b, "dynamic": dynamic.as_array().cloned().unwrap_or_default().into_iter().map(|t| json!({ "type": "", "target": t })).collect::<Vec<_>>(), "byKey": by_key })
}

fn step(id: &str, ty: &str, mut data: Value, portsv2: Value) -> Value {
    data["portsV2"] = portsv2;
    json!({ "nodeID": id, "type": ty, "data": data })
}

fn text_step(id: &str, msg: &str, next: Value) -> Value {
    step(
        id,
        "text",
        json!({ "texts": [ { "id": format!("t{id}"), "content": [ { "children": [ { "text": msg } ] } ] } ] }),
        ports(next, json!({}), json!([]), json!({})),
    )
}

fn run(d: &Value) -> (Value, Vec<flowdm_compile::Diagnostic>) {
    let c = compile(d, "test.vf").expect("compiles");
    flowdm_model::load_vfr(&c.vfr).expect("loads");
    (c.vfr, c.diagnostics)
}

fn line<'a>(vfr: &'a Value, id: &str) -> &'a Value {
    &vfr["programs"]["D"]["lines"][id]
}

#[test]
fn blocks_flatten_with_implicit_chaining_and_ids_are_kept() {
    let d = doc(
        json!([
            text_step("s1", "Hi {{[city].v1}}", Value::Null),
            step(
                "s2",
                "intent",
                json!({ "intent": "i1", "availability": "LOCAL", "mappings": [] }),
                ports(Value::Null, json!({}), json!([]), json!({}))
            ),
            text_step("s3", "Bye", json!("gone")),
        ]),
        json!({}),
    );
    let (vfr, diags) = run(&d);
    let p = &vfr["programs"]["D"];
    assert_eq!(p["startId"], "start");
    assert_eq!(line(&vfr, "start")["nextId"], "s1");
    // s1 → s2 is an intent step (no line): it passes through to s3.
    assert_eq!(line(&vfr, "s1")["nextId"], "s3");
    assert_eq!(
        line(&vfr, "s1")["texts"][0]["content"][0]["children"][0]["text"],
        "Hi {city}"
    );
    assert!(p["lines"].get("s2").is_none());
    assert_eq!(
        p["commands"][0]["event"],
        json!({ "type": "intent", "intent": "yes" })
    );
    assert_eq!(p["commands"][0]["nextID"], "s3");
    // A port to a node that does not exist is a warning and ends the flow.
    assert_eq!(line(&vfr, "s3")["nextId"], Value::Null);
    let dangling: Vec<_> = diags
        .iter()
        .filter(|d| d.node.as_deref() == Some("s3"))
        .collect();
    assert_eq!(dangling.len(), 1);
    assert_eq!(dangling[0].severity, Severity::Warning);
    assert!(dangling[0].reason.contains("gone"));
    // CMS defaults and variables.
    assert_eq!(
        vfr["version"]["prototype"]["context"]["variables"]["city"],
        "Paris"
    );
    assert!(vfr["version"]["variables"]
        .as_array()
        .map(|v| v.contains(&json!("city")))
        .unwrap_or(false));
}

#[test]
fn buttons_list_clicks_then_spoken_intents_and_link_cards_do_not_wait() {
    let buttons = step(
        "s1",
        "buttons",
        json!({ "buttons": [
            { "id": "k1", "name": "Go", "actions": ["PATH"], "intent": "i1" },
            { "id": "k2", "name": "Site", "actions": [] }
        ], "noMatch": { "types": ["reprompt"], "reprompts": [ { "content": [ { "children": [ { "text": "Pick one" } ] } ] } ] },
           "noReply": { "types": ["path"], "timeout": 5, "reprompts": [] } }),
        ports(
            Value::Null,
            json!({ "else": { "target": null }, "no-reply": { "target": "b2" } }),
            json!(["b2", "a1"]),
            json!({}),
        ),
    );
    let card = step(
        "c1",
        "cardV2",
        json!({ "title": "T", "imageUrl": "", "description": [ { "children": [ { "text": "" } ] } ], "buttons": [ { "id": "u1", "name": "Open", "intent": null } ] }),
        ports(
            json!("t2"),
            json!({}),
            json!([]),
            json!({ "u1": { "target": "a1" } }),
        ),
    );
    let d = doc(
        json!([buttons]),
        json!({
            "b2": { "nodeID": "b2", "type": "block", "data": { "steps": ["c1", "t2"] } },
            "c1": card,
            "t2": text_step("t2", "after", Value::Null),
            "a1": { "nodeID": "a1", "type": "actions", "data": { "steps": ["url1"] } },
            "url1": step("url1", "url", json!({ "url": "https://example.com" }), ports(Value::Null, json!({}), json!([]), json!({})))
        }),
    );
    let (vfr, diags) = run(&d);
    let l = line(&vfr, "s1");
    assert_eq!(l["type"], "interaction");
    let events: Vec<String> = l["interactions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let e = &i["event"];
            e["intent"]
                .as_str()
                .unwrap_or(e["type"].as_str().unwrap_or(""))
                .to_string()
        })
        .collect();
    assert_eq!(events, ["path-k1", "path-k2", "yes"]);
    assert_eq!(l["interactions"][2]["nextId"], "c1");
    assert_eq!(
        l["buttons"][1]["request"]["payload"]["actions"],
        json!([{ "type": "open_url", "payload": { "url": "https://example.com" } }])
    );
    assert_eq!(l["noReply"]["nodeID"], "c1");
    assert_eq!(l["noReply"]["timeout"], 5);
    assert_eq!(l["noMatch"]["nodeID"], Value::Null);
    // The card's only button opens a link: no command, it does not wait.
    let c = line(&vfr, "c1");
    assert_eq!(c["isBlocking"], false);
    assert_eq!(c["nextId"], "t2");
    assert!(vfr["programs"]["D"]["commands"]
        .as_array()
        .map(Vec::is_empty)
        .unwrap_or(false));
    assert!(
        diags.iter().all(|d| d.severity < Severity::Warning),
        "{diags:?}"
    );
}

#[test]
fn v3_steps_sets_conditions_captures_and_api() {
    let d = doc(
        json!([
            step(
                "s1",
                "set-v3",
                json!({ "items": [
                { "id": "x1", "type": "value", "variableID": "v1", "value": [ { "text": ["Hi ", { "variableID": "v1" }] } ] },
                { "id": "x2", "type": "script", "variableID": "name", "value": ["return 1 + 1"] },
                { "id": "x3", "type": "prompt", "variableID": "name", "value": "p1" }
            ] }),
                ports(Value::Null, json!({}), json!([]), json!({}))
            ),
            step(
                "s2",
                "condition-v3",
                json!({ "condition": { "type": "logic", "items": [
                { "id": "c1", "value": { "type": "value-variable", "matchAll": false, "assertions": [
                    { "lhs": { "variableID": "v1" }, "operation": "is", "rhs": [ { "text": ["Paris"] } ] },
                    { "lhs": { "variableID": "v1" }, "operation": "contains", "rhs": [ { "text": ["Lyon"] } ] } ] } } ] } }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": { "c1": { "target": "s3" }, "else": { "type": "else", "target": "s4" } } })
            )
        ]),
        json!({
            "b2": { "nodeID": "b2", "type": "block", "data": { "steps": ["s3", "s4", "s5"] } },
            "s3": step("s3", "capture-v3", json!({ "capture": { "type": "entity", "items": [ { "id": "q", "entityID": "e1" } ] }, "listenForOtherTriggers": false }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": { "next": { "target": null } } })),
            "s4": step("s4", "api-v2", json!({ "url": [ { "text": ["https://x/", { "variableID": "v1" }] } ], "httpMethod": "post", "headers": [],
                "queryParameters": [], "body": { "type": "raw-input", "contentType": "json", "content": ["{\"a\": 1}"] },
                "responseMappings": [ { "path": "data.a", "variableID": "v1" } ] }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": { "next": { "target": null }, "fail": { "target": "s5" } } })),
            "s5": step("s5", "kb-search", json!({ "question": [ { "text": ["q"] } ], "variableID": "v1" }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": { "next": { "target": null } } }))
        }),
    );
    let (vfr, diags) = run(&d);
    let set = line(&vfr, "s1");
    assert_eq!(set["type"], "setV2");
    assert_eq!(
        set["sets"][0],
        json!({ "variable": "city", "expression": "'Hi ' + city" })
    );
    assert_eq!(
        set["sets"][1]["expression"],
        "(function () { return 1 + 1 })()"
    );
    assert_eq!(
        set["sets"].as_array().map(Vec::len),
        Some(2),
        "the prompt item is dropped"
    );
    let cond = line(&vfr, "s2");
    assert_eq!(cond["type"], "ifV2");
    assert_eq!(
        cond["payload"]["expressions"][0],
        "(city == 'Paris') || (String(city).includes(String('Lyon')))"
    );
    assert_eq!(cond["paths"][0]["nextID"], "s3");
    assert_eq!(cond["payload"]["elseId"], "s4");
    let cap = line(&vfr, "s3");
    assert_eq!(
        cap["intent"],
        json!({ "name": "capture_s3", "entities": ["color"] })
    );
    assert_eq!(cap["intentScope"], "NODE");
    assert_eq!(
        cap["nextId"], "s4",
        "byKey.next null chains to the next step"
    );
    let model = &vfr["version"]["prototype"]["model"]["intents"];
    assert!(model
        .as_array()
        .into_iter()
        .flatten()
        .any(|i| i["name"] == "capture_s3"));
    let api = line(&vfr, "s4");
    assert_eq!(api["type"], "integrations");
    assert_eq!(api["action_data"]["url"], "https://x/{city}");
    assert_eq!(api["action_data"]["method"], "POST");
    assert_eq!(
        api["action_data"]["mapping"],
        json!([{ "path": "data.a", "var": "city" }])
    );
    assert_eq!(api["fail_id"], "s5");
    let kb = line(&vfr, "s5");
    assert_eq!(kb["type"], "kb-search");
    let sev = |node: &str| {
        diags
            .iter()
            .filter(|d| d.node.as_deref() == Some(node))
            .map(|d| d.severity)
            .max()
    };
    assert_eq!(sev("s1"), Some(Severity::Warning));
    assert_eq!(sev("s5"), Some(Severity::Info));
    // The API step runs (its URL parses): nothing to say.
    assert_eq!(sev("s4"), None);
    assert_eq!(sev("s2"), None);
}

#[test]
fn custom_actions_name_form_and_trace_form() {
    let action = |id: &str, body: &str, ty: &str| {
        step(
            id,
            "trace",
            json!({ "_v": 1, "paths": [ { "label": "ok" }, { "label": "no", "isDefault": true } ],
            "payload": { "name": "pay", "body": body, "bodyType": ty, "isBlocking": true } }),
            ports(Value::Null, json!({}), json!(["s9", null]), json!({})),
        )
    };
    let d = doc(
        json!([action("s1", "{\"a\": \"{city}\"}", "json")]),
        json!({
            "b2": { "nodeID": "b2", "type": "block", "data": { "steps": ["s2", "s3", "s9"] } },
            "s2": action("s2", "{\"a\": {city}}", "json"),
            "s3": action("s3", "amount {city}", "text"),
            "s9": step("s9", "exit", json!({}), ports(Value::Null, json!({}), json!([]), json!({})))
        }),
    );
    let (vfr, _) = run(&d);
    let a = line(&vfr, "s1");
    assert_eq!(a["type"], "pay");
    assert_eq!(a["payload"], json!({ "a": "{city}" }));
    assert_eq!(a["stop"], true);
    assert_eq!(a["defaultPath"], 1);
    assert_eq!(
        a["paths"][0],
        json!({ "label": "ok", "event": { "type": "ok" }, "nextID": "s9" })
    );
    let b = line(&vfr, "s2");
    assert_eq!(b["type"], "trace");
    assert_eq!(
        b["payload"],
        json!({ "name": "pay", "body": "{\"a\": {city}}", "bodyType": "json" })
    );
    assert_eq!(line(&vfr, "s3")["payload"], "amount {city}");
}

#[test]
fn unknown_steps_are_errors_that_route_on() {
    let d = doc(
        json!([
            step(
                "s1",
                "hologram",
                json!({}),
                ports(Value::Null, json!({}), json!([]), json!({}))
            ),
            text_step("s2", "still here", Value::Null)
        ]),
        json!({}),
    );
    let (vfr, diags) = run(&d);
    assert_eq!(line(&vfr, "s1")["nextId"], "s2");
    let e = diags
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error");
    assert_eq!(e.file, "test.vf");
    assert_eq!(e.diagram.as_deref(), Some("D"));
    assert_eq!(e.node.as_deref(), Some("s1"));
    assert_eq!(e.step_type.as_deref(), Some("hologram"));
    assert!(e
        .to_string()
        .starts_with("error: test.vf diagram D node s1 (hologram): unknown step type"));
    // At run time: a debug trace, then the next step.
    let (project, _) = flowdm_model::load_vfr(&vfr).expect("loads");
    let node = project
        .program("D")
        .and_then(|p| p.node("s1"))
        .expect("line");
    assert!(matches!(
        &node.kind,
        flowdm_model::NodeKind::Unsupported(flowdm_model::Unsupported { next: Some(n) }) if n == "s2"
    ));
}

#[test]
fn legacy_ports_list_the_else_port_first() {
    // 2021: `ports[]`, else first for choices and conditions; names, not ids.
    let mut d = doc(json!([]), json!({}));
    d["version"]["_version"] = Value::Null;
    d["diagrams"]["D"]["type"] = Value::Null;
    d["diagrams"]["D"]["nodes"] = json!({
        "start": { "type": "start", "data": { "steps": [], "ports": [ { "type": "", "target": "b1" } ] } },
        "b1": { "type": "block", "data": { "steps": ["c1"] } },
        "c1": { "type": "interaction", "data": { "choices": [ { "intent": "i1", "mappings": [] } ],
            "else": { "type": "reprompt", "randomize": false, "reprompts": [ { "voice": "Alexa", "content": "Say yes" } ] },
            "ports": [ { "type": "", "target": "b2" }, { "type": "", "target": "b3" } ] } },
        "b2": { "type": "block", "data": { "steps": ["x1"] } },
        "x1": { "type": "if", "data": { "expressions": [ { "type": "equals", "value": [ { "type": "variable", "value": "name" }, { "type": "value", "value": "bob" } ] } ],
            "ports": [ { "type": "", "target": null }, { "type": "", "target": "b3" } ] } },
        "b3": { "type": "block", "data": { "steps": ["y1"] } },
        "y1": { "type": "speak", "data": { "randomize": false, "dialogs": [ { "voice": "Joanna", "content": "Hi {{[name].name}}" } ], "ports": [ { "type": "", "target": null } ] } }
    });
    d["project"]["type"] = json!("voice");
    d["project"]["platform"] = json!("general");
    let c = compile(&d, "old.vf").expect("compiles");
    assert_eq!(c.generation, flowdm_compile::Generation::V2021);
    let vfr = &c.vfr;
    let l = line(vfr, "c1");
    assert_eq!(l["interactions"][0]["nextId"], "y1");
    assert_eq!(
        l["noMatch"],
        json!({ "prompts": ["Say yes"], "randomize": false, "nodeID": null })
    );
    let x = line(vfr, "x1");
    assert_eq!(x["expressions"], json!(["(v['name'] == 'bob')"]));
    assert_eq!(x["nextIds"], json!(["y1"]));
    assert_eq!(
        line(vfr, "y1")["speak"],
        "<voice name=\"Joanna\">Hi {name}</voice>"
    );
}

/// capture-v3 entity capture: the item's CMS reprompt becomes the entity's dialog prompt in the
/// capture intent of the model (the dialog manager speaks it), every entity required.
#[test]
fn capture_v3_entity_reprompts_become_dialog_prompts() {
    let mut d = doc(
        json!([step(
            "s1",
            "capture-v3",
            json!({ "capture": { "type": "entity", "items": [ { "id": "q", "entityID": "e1", "repromptID": "r1" } ] } }),
            ports(Value::Null, json!({}), json!([]), json!({}))
        )]),
        json!({}),
    );
    d["responses"] = json!([ { "id": "r1", "type": "message" } ]);
    d["responseDiscriminators"] = json!([ { "id": "d1", "responseID": "r1", "channel": "default", "language": "en-us", "variantOrder": ["m1"] } ]);
    d["responseMessages"] = json!([ { "id": "m1", "discriminatorID": "d1", "text": [ { "text": ["Which color?"] } ], "condition": null, "delay": null } ]);
    let (vfr, _) = run(&d);
    assert_eq!(
        line(&vfr, "s1")["intent"],
        json!({ "name": "capture_s1", "entities": ["color"] })
    );
    let intents = vfr["version"]["prototype"]["model"]["intents"]
        .as_array()
        .unwrap();
    let capture = intents
        .iter()
        .find(|i| i["name"] == "capture_s1")
        .expect("the capture intent is in the model");
    assert_eq!(capture["slots"][0]["required"], true);
    assert_eq!(
        capture["slots"][0]["dialog"]["prompt"],
        json!([ { "content": [ { "children": [ { "text": "Which color?" } ] } ] } ])
    );
}

#[test]
fn api_steps_with_urls_that_cannot_parse_are_reported() {
    for (url, bad) in [
        ("https://api.example.com/items/{id}?q={q}", false),
        ("{base_url}/items", true),
        ("https://{host}/x", false),
        ("ftp://files.example.com/{f}", true),
        ("not a url", true),
    ] {
        let doc = json!({
            "_version": "1.2",
            "project": { "_id": "p", "name": "A", "type": "chat", "platform": "webchat", "devVersion": "v" },
            "version": { "_id": "v", "_version": 9, "projectID": "p", "rootDiagramID": "D", "variables": [],
                "platformData": { "settings": {}, "intents": [], "slots": [] },
                "prototype": { "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
            "diagrams": { "D": { "diagramID": "D", "name": "ROOT", "type": "TOPIC", "nodes": {
                "start": { "nodeID": "start", "type": "start", "data": { "steps": [], "portsV2": { "builtIn": { "next": { "type": "next", "target": "b" } }, "byKey": {}, "dynamic": [] } } },
                "b": { "nodeID": "b", "type": "block", "data": { "name": "B", "steps": ["a"] } },
                "a": { "nodeID": "a", "type": "api", "data": { "url": url, "method": "GET", "headers": [], "params": [], "body": [], "mappings": [],
                    "portsV2": { "builtIn": { "next": { "type": "next", "target": null }, "fail": { "type": "fail", "target": null } }, "byKey": {}, "dynamic": [] } } }
            } } }
        });
        let out = flowdm_compile::compile(&doc, "api.vf").unwrap();
        let said = out
            .diagnostics
            .iter()
            .any(|d| d.node.as_deref() == Some("a") && d.reason.contains("does not parse"));
        assert_eq!(said, bad, "{url}: {:?}", out.diagnostics);
    }
}

#[test]
fn function_steps_name_their_paths_and_the_version_carries_the_definitions() {
    let mut d = doc(
        json!([
            step(
                "f",
                "function",
                json!({ "functionID": "F1",
                "inputMapping": { "q": [ { "text": ["", { "variableID": "v1" }, "!"] } ] },
                "outputMapping": { "answer": "v1" } }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": {
                    "__vf__default": { "type": "", "target": null },
                    "p_ok": { "type": "", "target": "b2" },
                    "p_err": { "type": "", "target": null } } })
            ),
            step(
                "g",
                "function",
                json!({ "functionID": "gone", "inputMapping": {}, "outputMapping": {} }),
                json!({ "builtIn": {}, "dynamic": [], "byKey": {} })
            ),
        ]),
        json!({ "b2": { "nodeID": "b2", "type": "block", "data": { "name": "B2", "steps": ["t2"] } },
                "t2": text_step("t2", "done", Value::Null) }),
    );
    d["functions"] = json!([ { "id": "F1", "name": "Lookup", "code": "export default async function main(args) { return {}; }", "pathOrder": ["p_err", "p_ok"] } ]);
    d["functionVariables"] = json!([
        { "id": "fv1", "name": "q", "type": "input", "functionID": "F1" },
        { "id": "fv2", "name": "answer", "type": "output", "functionID": "F1" },
        { "id": "fv3", "name": "other", "type": "input", "functionID": "F2" }
    ]);
    d["functionPaths"] = json!([
        { "id": "p_ok", "name": "ok", "functionID": "F1" },
        { "id": "p_err", "name": "error", "functionID": "F1" }
    ]);
    let (vfr, diagnostics) = run(&d);
    let defs = &vfr["version"]["prototype"]["surveyorContext"]["functionDefinitions"];
    assert_eq!(
        defs["F1"],
        json!({ "code": "export default async function main(args) { return {}; }",
            "inputVars": { "q": { "type": "string" } }, "outputVars": { "answer": { "type": "string" } },
            "pathCodes": ["error", "ok"] })
    );
    let f = line(&vfr, "f");
    assert_eq!(f["data"]["definition"], json!({ "functionId": "F1" }));
    assert_eq!(
        f["data"]["invocation"]["inputVars"],
        json!({ "q": "{city}!" })
    );
    assert_eq!(
        f["data"]["invocation"]["outputVars"],
        json!({ "answer": "city" })
    );
    assert_eq!(
        f["data"]["invocation"]["paths"],
        json!({ "__vf__default": null, "ok": "t2", "error": null })
    );
    let missing: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.reason.contains("is not in the export"))
        .filter_map(|d| d.node.as_deref())
        .collect();
    assert_eq!(missing, ["g"], "{diagnostics:?}");
    // The runtime reads them back.
    let project = flowdm_model::load_vfr(&vfr).unwrap().0;
    assert_eq!(project.version.functions["F1"].path_codes, ["error", "ok"]);
}

#[test]
fn a_condition_on_a_variable_the_export_lacks_is_reported_and_never_taken() {
    let cond = |lhs: &str| {
        json!({ "condition": { "type": "logic", "items": [ { "id": "c1", "value": { "type": "value-variable", "matchAll": true,
            "assertions": [ { "lhs": { "variableID": lhs }, "rhs": [ { "text": ["X"] } ], "operation": "contains" } ] } } ] } })
    };
    let d = doc(
        json!([
            step(
                "gone",
                "condition-v3",
                cond("67a3dd3116e45a2b5dfdfa0b"),
                json!({ "builtIn": {}, "dynamic": [], "byKey": {} })
            ),
            step(
                "named",
                "condition-v3",
                cond("last_utterance"),
                json!({ "builtIn": {}, "dynamic": [], "byKey": {} })
            ),
            step(
                "known",
                "condition-v3",
                cond("v1"),
                json!({ "builtIn": {}, "dynamic": [], "byKey": {} })
            ),
        ]),
        json!({}),
    );
    let (vfr, diagnostics) = run(&d);
    assert_eq!(
        line(&vfr, "gone")["payload"]["expressions"],
        json!(["false"])
    );
    assert!(diagnostics.iter().any(|x| x.node.as_deref() == Some("gone")
        && x.reason
            .contains("variable 67a3dd3116e45a2b5dfdfa0b is not in the export")));
    let named = line(&vfr, "named")["payload"]["expressions"][0]
        .as_str()
        .unwrap();
    assert!(named.contains("String(last_utterance)"), "{named}");
    let known = line(&vfr, "known")["payload"]["expressions"][0]
        .as_str()
        .unwrap();
    assert!(known.contains("String(city)"), "{known}");
}

#[test]
fn global_listen_actions_keep_their_paths_listening_later_in_the_conversation() {
    // `s1`: a non-blocking custom action with Global Listen whose paths lead to `t1` / `t2`;
    // then `q` waits for a button. Later, a request of a path's type is caught from `q`.
    let action = |id: &str, scope: &str, next: &str| {
        step(
            id,
            "trace",
            json!({ "_v": 1, "paths": [ { "label": "go", "isDefault": true }, { "label": "open_ticket" } ],
            "payload": { "name": "notify", "body": "{}", "bodyType": "json", "scope": scope, "isBlocking": false } }),
            ports(Value::Null, json!({}), json!([next, "b4"]), json!({})),
        )
    };
    let buttons = step(
        "q",
        "buttons",
        json!({ "buttons": [ { "id": "y", "name": "Yes", "intent": null } ], "noMatch": { "types": [] } }),
        ports(
            Value::Null,
            json!({}),
            json!([]),
            json!({ "y": { "type": "y", "target": "b3" } }),
        ),
    );
    let extra = json!({
        "b2": { "nodeID": "b2", "type": "block", "data": { "steps": ["q"] } },
        "q": buttons,
        "b3": { "nodeID": "b3", "type": "block", "data": { "steps": ["t1"] } },
        "b4": { "nodeID": "b4", "type": "block", "data": { "steps": ["t2"] } },
        "t1": text_step("t1", "answered", Value::Null),
        "t2": text_step("t2", "ticket opened", Value::Null),
    });
    let (vfr, _) = run(&doc(json!([action("s1", "global", "b2")]), extra.clone()));
    let global = &vfr["programs"]["V"]["commands"];
    assert_eq!(
        global,
        &json!([
            { "type": "jump", "event": { "type": "go" }, "nextID": "q", "diagramID": "D" },
            { "type": "jump", "event": { "type": "open_ticket" }, "nextID": "t2", "diagramID": "D" }
        ])
    );
    let mut s = crate::common::Session::new(crate::common::load_json(vfr));
    let launch = s.turn(json!({ "type": "launch" }));
    assert!(launch.to_string().contains("\"notify\""), "{launch}");
    assert!(launch.to_string().contains("\"choice\""), "{launch}");
    let later = s.turn(json!({ "type": "open_ticket", "payload": {} }));
    assert!(later.to_string().contains("ticket opened"), "{later}");
    assert_eq!(
        s.var("last_event"),
        Some(&json!({ "type": "open_ticket", "payload": {} }))
    );

    // A local-scope action's paths are only listened to while stopped on it.
    let (vfr, _) = run(&doc(json!([action("s1", "local", "b2")]), extra));
    assert_eq!(vfr["programs"]["V"]["commands"], json!([]));
    let mut s = crate::common::Session::new(crate::common::load_json(vfr));
    s.turn(json!({ "type": "launch" }));
    let later = s.turn(json!({ "type": "open_ticket", "payload": {} }));
    assert!(!later.to_string().contains("ticket opened"), "{later}");
}
