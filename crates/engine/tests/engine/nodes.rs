//! Every node kind, with inline programs.

use crate::common::*;
use serde_json::json;

fn launch(s: &mut Session) -> serde_json::Value {
    s.turn(json!({ "type": "launch" }))
}

#[test]
fn start_and_text_with_interpolation_and_sanitised_floats() {
    let p = agent(
        json!({ "start": { "type": "start", "nextId": "t" }, "t": text_node("{n} {f} {missing}", None) }),
        json!({ "context": { "n": "Ann", "f": 2.3456 } }),
    );
    let mut s = Session::new(p);
    let t = launch(&mut s);
    assert_eq!(messages(&t), ["Ann 2.35 {missing}"]);
    // No exit node: the stack runs out and an `end` without payload follows.
    assert_eq!(t[1], json!({ "type": "end" }));
}

#[test]
fn legacy_start_node_without_type() {
    let p = agent(
        json!({ "start": { "nextId": "t" }, "t": text_node("hi", None) }),
        json!({}),
    );
    let mut s = Session::new(p);
    assert_eq!(messages(&launch(&mut s)), ["hi"]);
}

#[test]
fn text_delay_comes_from_step_then_settings() {
    let lines = json!({ "start": { "type": "start", "nextId": "a" },
        "a": { "type": "text", "texts": [ { "id": "x", "content": [ { "children": [ { "text": "A" } ] } ], "messageDelayMilliseconds": 250 } ], "nextId": "b" },
        "b": text_node("B", None) });
    let mut s = Session::new(agent(
        lines,
        json!({ "settings": { "messageDelay": { "durationMilliseconds": 700 } } }),
    ));
    let t = launch(&mut s);
    assert_eq!(t[0]["payload"]["delay"], 250);
    assert_eq!(t[0]["payload"]["slate"]["messageDelayMilliseconds"], 250);
    assert_eq!(t[1]["payload"]["delay"], 700);
}

#[test]
fn speak_strips_ssml_and_detects_audio() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "speak", "random_speak": ["{greeting}"], "nextId": "b" },
        "b": { "type": "speak", "speak": "<audio src=\"https://x/a.mp3\"/>", "nextId": "a" },
        "a": { "type": "speak", "speak": "<voice name=\"Joanna\">Hi {name}</voice>", "nextId": null } });
    let p = agent(
        lines,
        json!({ "context": { "name": "Bo", "greeting": "Hello {name}" } }),
    );
    let mut s = Session::new(p.clone());
    let t = launch(&mut s);
    // Speak messages are substituted twice.
    assert_eq!(t[0]["payload"]["message"], "Hello Bo");
    assert_eq!(
        t[1]["payload"],
        json!({ "message": "", "type": "audio", "src": "https://x/a.mp3" })
    );
    assert_eq!(
        t[2]["payload"],
        json!({ "message": "Hi Bo", "type": "message" })
    );
    // `last_response` keeps the SSML; the AI memory does not.
    assert_eq!(
        s.var("last_response"),
        Some(&json!("<voice name=\"Joanna\">Hi Bo</voice>"))
    );
    assert_eq!(
        s.var("vf_memory"),
        Some(&json!("assistant: Hello Bo\n\nHi Bo"))
    );
    let mut keep = Session::new(p).with_config(json!({ "stripSSML": false }));
    let t = launch(&mut keep);
    assert_eq!(
        t[2]["payload"]["message"],
        "<voice name=\"Joanna\">Hi Bo</voice>"
    );
}

#[test]
fn interaction_choice_intents_paths_and_chips() {
    let lines = json!({ "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction",
            "interactions": [ { "event": { "type": "intent", "intent": "order", "mappings": [ { "slot": "size", "variable": "pizza" } ] }, "nextId": "ok" },
                              { "event": { "type": "path-x" }, "nextId": "x" } ],
            "buttons": [ { "name": "Order {what}", "request": { "type": "path-x", "payload": { "label": "Order {what}", "actions": [ { "type": "open_url", "payload": { "url": "https://x/{what}" } } ] } } },
                         { "name": "Order {what}", "request": { "type": "text", "payload": "dup" } } ] },
        "ok": text_node("size {pizza}", None), "x": text_node("x", None) });
    let p = agent(lines, json!({ "context": { "what": "pizza" } }));
    let mut s = Session::new(p.clone());
    let t = launch(&mut s);
    assert_eq!(
        t[0]["payload"]["buttons"],
        json!([{ "name": "Order pizza", "request": { "type": "path-x", "payload": { "label": "Order pizza", "actions": [ { "type": "open_url", "payload": { "url": "https://x/pizza" } } ] } } }])
    );
    let t = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "order" }, "entities": [ { "name": "size", "value": "12" } ], "confidence": 0.8765 } }));
    assert_eq!(t[0]["payload"]["path"], "choice:1");
    assert_eq!(messages(&t), ["size 12"]);
    assert_eq!(s.var("intent_confidence"), Some(&json!(87.65)));

    let chips = json!({ "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction", "interactions": [], "chips": [ { "label": "A {what}" } ] } });
    let mut c = Session::new(agent(chips, json!({ "context": { "what": "b" } })));
    // An interaction with `interactions: []` is still an interaction (truthy array).
    let t = launch(&mut c);
    assert_eq!(
        t[0]["payload"]["buttons"],
        json!([{ "name": "A b", "request": { "type": "text", "payload": "A b" } }])
    );
}

#[test]
fn legacy_interaction_with_next_ids_and_no_matches() {
    let lines = json!({ "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction", "interactions": [ { "intent": "yes", "mappings": [] } ], "nextIds": ["y"],
                 "noMatches": ["Say yes."], "elseId": "else" },
        "y": text_node("yes!", None), "else": text_node("giving up", None) });
    let mut s = Session::new(agent(lines, json!({})));
    launch(&mut s);
    let nm = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "no" } } }));
    assert_eq!(types(&nm), ["path", "text"]);
    assert_eq!(messages(&nm), ["Say yes."]);
    let exit = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "no" } } }));
    assert_eq!(exit[0]["payload"]["path"], "choice:else");
    assert_eq!(messages(&exit), ["giving up"]);
}

#[test]
fn global_no_match_default_and_explicitly_empty() {
    let lines = json!({ "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction", "interactions": [ { "event": { "type": "path-a" }, "nextId": null } ] } });
    let mut s = Session::new(agent(lines.clone(), json!({})));
    launch(&mut s);
    let t = s.turn(json!({ "type": "text", "payload": "??" }));
    assert_eq!(
        messages(&t),
        ["Sorry, I didn\u{2019}t get that. Please try again."]
    );
    let empty = json!({ "globalNoMatch": { "type": "static", "prompt": { "content": "" } } });
    let mut e = Session::new(agent(lines, json!({ "settings": empty })));
    launch(&mut e);
    let t = e.turn(json!({ "type": "text", "payload": "??" }));
    // Explicitly empty global prompt: exit with no target, the frame ends.
    assert_eq!(
        t,
        json!([{ "type": "path", "payload": { "path": "choice:else" } }, { "type": "end" }])
    );
}

#[test]
fn no_reply_prompts_timeouts_and_global_prompt() {
    let lines = json!({ "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction", "interactions": [],
                 "noReply": { "prompts": [ [ { "children": [ { "text": "Still there?" } ] } ] ], "timeout": 5, "nodeID": "gone" } },
        "gone": text_node("Bye", None) });
    let settings = json!({ "globalNoReply": { "prompt": { "content": "Hello?" }, "delay": 7 } });
    let mut s = Session::new(agent(lines, json!({ "settings": settings })));
    let t = launch(&mut s);
    assert_eq!(
        t[0],
        json!({ "type": "no-reply", "payload": { "timeout": 5 } })
    );
    let r1 = s.turn(json!({ "type": "no-reply" }));
    assert_eq!(messages(&r1), ["Still there?"]);
    assert_eq!(
        r1.as_array().unwrap().last(),
        Some(&json!({ "type": "no-reply", "payload": { "timeout": 7 } }))
    );
    let r2 = s.turn(json!({ "type": "no-reply" }));
    assert_eq!(messages(&r2), ["Hello?"]);
    let r3 = s.turn(json!({ "type": "no-reply" }));
    assert_eq!(r3[0]["payload"]["path"], "choice:noReply");
    assert_eq!(messages(&r3), ["Bye"]);
}

#[test]
fn capture_v2_whole_reply_and_capture_v1_numbers() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "captureV2", "variable": "reply", "nextId": "c1" },
        "c1": { "type": "capture", "variable": "age", "nextId": "t" },
        "t": text_node("{reply} / {age}", None) });
    let mut s = Session::new(agent(lines, json!({})));
    assert_eq!(types(&launch(&mut s)), Vec::<String>::new());
    let t = s.turn(json!({ "type": "text", "payload": "Hello there" }));
    assert_eq!(
        t,
        json!([{ "type": "path", "payload": { "path": "capture" } }])
    );
    let t = s.turn(json!({ "type": "text", "payload": "twenty five" }));
    assert_eq!(t[0]["payload"]["path"], "capture");
    assert_eq!(messages(&t), ["Hello there / 25"]);
}

#[test]
fn capture_v2_entity_capture_copies_entities() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "captureV2", "intent": { "name": "give_size", "entities": ["size"] }, "nextId": "t" },
        "t": text_node("size {size}", None) });
    // The capture's intent is in the model (the compiler adds it): the dialog manager elicits
    // `size` first.
    let model = json!({ "intents": [ { "key": "give_size", "name": "give_size", "inputs": [ { "text": "{{[size].s1}}" } ],
        "slots": [ { "id": "s1", "required": true, "dialog": { "prompt": [] } } ] } ],
        "slots": [ { "key": "s1", "name": "size", "type": { "value": "Custom" }, "inputs": [] } ] });
    let mut s = Session::new(agent(
        lines,
        json!({ "variables": ["size"], "model": model }),
    ));
    assert_eq!(types(&launch(&mut s)), ["entity-filling"]);
    let t = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "give_size" }, "entities": [ { "name": "size", "value": "large" }, { "name": "other", "value": "x" } ] } }));
    assert_eq!(messages(&t), ["size large"]);
    assert_eq!(s.var("other"), None);
}

#[test]
fn flow_pushes_child_and_copies_outputs() {
    let lines = json!({ "start": { "type": "start", "nextId": "f" },
        "f": { "type": "flow", "diagram_id": "C", "variable_map": { "inputs": [["a", "x"]], "outputs": [["b", "y"]] }, "nextId": "after" },
        "after": text_node("b={b} x={x}", None) });
    let child = json!({ "C": { "name": "Child", "lines": {
        "start": { "type": "start", "nextId": "t" }, "t": text_node("child x={x}", Some("s")),
        "s": { "type": "set", "sets": [ { "variable": "y", "expression": "'done'" } ], "nextId": null } } } });
    let mut s = Session::new(agent(
        lines,
        json!({ "diagrams": child, "context": { "a": "in" } }),
    ))
    .with_config(json!({ "excludeTypes": [] }));
    let t = launch(&mut s);
    assert_eq!(messages(&t), ["child x=in", "b=done x={x}"]);
    let flows: Vec<&serde_json::Value> = t
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "flow")
        .collect();
    assert!(
        flows
            .iter()
            .any(|f| f["payload"] == json!({ "diagramID": "C" })),
        "{flows:?}"
    );
}

#[test]
fn go_to_node_in_other_diagram_and_exit_inside_flow() {
    let lines = json!({ "start": { "type": "start", "nextId": "g" },
        "g": { "type": "goToNode", "diagramID": "O", "nextId": "o2" } });
    let other = json!({ "O": { "lines": { "start": { "type": "start", "nextId": "o1" }, "o1": text_node("skipped", Some("o2")), "o2": text_node("landed", Some("x")), "x": { "type": "exit", "end": true } } } });
    let mut s = Session::new(agent(lines, json!({ "diagrams": other })));
    let t = launch(&mut s);
    assert_eq!(types(&t), ["path", "text", "end"]);
    assert_eq!(t[0]["payload"]["path"], "jump");
    assert_eq!(t[2], json!({ "type": "end", "payload": null }));
    assert!(s.state.stack.is_empty());
}

#[test]
fn exit_in_a_flow_keeps_a_parent_with_a_next_node() {
    let lines = json!({ "start": { "type": "start", "nextId": "f" },
        "f": { "type": "flow", "diagram_id": "C", "nextId": "after" }, "after": text_node("after", None) });
    let child = json!({ "C": { "lines": { "start": { "type": "start", "nextId": "x" }, "x": { "type": "exit", "end": true } } } });
    let mut s = Session::new(agent(lines, json!({ "diagrams": child })));
    let t = launch(&mut s);
    assert_eq!(t, json!([{ "type": "end", "payload": null }]));
    assert_eq!(s.state.stack.len(), 2);
    // The next request reaches a non-input node: swallowed (reference quirk), no output.
    let t = s.turn(json!({ "type": "text", "payload": "hello" }));
    assert_eq!(t, json!([]));
}

#[test]
fn if_v1_if_v2_set_v1_set_v2() {
    let lines = json!({ "start": { "type": "start", "nextId": "s1" },
        "s1": { "type": "set", "sets": [ { "variable": "n", "expression": "(v['n'] + 2)" }, { "variable": "m", "expression": "(v['n'] * 10)" } ], "nextId": "s2" },
        "s2": { "type": "setV2", "sets": [ { "variable": "total", "expression": "n * 3" }, { "variable": "label", "expression": "'t' + total" } ], "nextId": "i1" },
        "i1": { "type": "if", "expressions": ["(v['total'] > 100)", "(v['total'] == 6)"], "nextIds": ["big", "six"], "elseId": "other" },
        "six": { "type": "ifV2", "payload": { "expressions": ["undefinedThing > 1", "label === 't6' && m === 0"], "elseId": "other" }, "paths": [ { "nextID": "big" }, { "nextID": "done" } ] },
        "done": text_node("n={n} m={m} total={total} label={label}", None),
        "big": text_node("big", None), "other": text_node("other", None) });
    let mut s = Session::new(agent(lines, json!({ "context": { "n": 0 } })))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let t = launch(&mut s);
    assert_eq!(messages(&t), ["n=2 m=0 total=6 label=t6"]);
    // The failing ifV2 condition is reported in a debug trace and evaluation goes on.
    assert!(t.as_array().unwrap().iter().any(|d| d["type"] == "debug"
        && d["payload"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Error condition 1")));
    // setV2 created `total` as a global.
    assert_eq!(s.var("total"), Some(&json!(6)));
}

#[test]
fn if_v2_as_custom_action_under_stop_types() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "ifV2", "payload": { "expressions": ["true"], "elseId": "e" }, "paths": [ { "event": { "type": "port0" }, "nextID": "a" } ] },
        "a": text_node("a", None), "e": text_node("e", None) });
    let mut s = Session::new(agent(lines, json!({}))).with_config(json!({ "stopTypes": ["ifV2"] }));
    let t = launch(&mut s);
    assert_eq!(
        t,
        json!([{ "type": "ifV2", "payload": { "expressions": ["true"], "elseId": "e" }, "paths": [ { "event": { "type": "port0" } } ], "stopID": "STOP" }])
    );
    assert_eq!(messages(&s.turn(json!({ "type": "port0" }))), ["a"]);
}

#[test]
fn random_without_repeats_uses_every_path() {
    let ask = |next: &str| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": next } ] } ] } ], "nextId": "ask" });
    let lines = json!({ "start": { "type": "start", "nextId": "r" },
        "r": { "type": "random", "random": 2, "nextIds": ["a", "b", "c"] },
        "a": ask("a"), "b": ask("b"), "c": ask("c"),
        "ask": { "type": "interaction", "interactions": [ { "event": { "type": "again" }, "nextId": "r" } ] } });
    let mut s = Session::new(agent(lines, json!({})));
    let mut seen = messages(&launch(&mut s));
    for _ in 0..2 {
        seen.extend(messages(&s.turn(json!({ "type": "again" }))));
    }
    seen.sort();
    assert_eq!(seen, ["a", "b", "c"]);
    // After every path was used, the history starts over.
    assert_eq!(messages(&s.turn(json!({ "type": "again" }))).len(), 1);
}

#[test]
fn code_step_changes_existing_variables_and_picks_paths() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "code", "code": "count = count + 1; created = 5;", "success_id": "p", "fail_id": "f" },
        "p": { "type": "code", "code": "return count > 0 ? 'pos' : 'neg'", "paths": [ { "label": "pos", "nextId": "pos" } ], "success_id": "f", "fail_id": "f" },
        "pos": text_node("count={count} created={created}", None), "f": text_node("failed", None) });
    let mut s = Session::new(agent(lines, json!({ "context": { "count": 1 } })));
    assert_eq!(messages(&launch(&mut s)), ["count=2 created={created}"]);
}

#[test]
fn code_step_error_is_reported_and_fails() {
    let lines = json!({ "start": { "type": "start", "nextId": "c" },
        "c": { "type": "code", "code": "fetch('https://x')", "success_id": "ok", "fail_id": "f" },
        "ok": text_node("ok", None), "f": text_node("failed", None) });
    let mut s = Session::new(agent(lines, json!({}))).with_config(json!({ "excludeTypes": [] }));
    let t = launch(&mut s);
    assert_eq!(messages(&t), ["failed"]);
    let debug = t
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["type"] == "debug" && d["payload"]["type"] == "code")
        .cloned()
        .unwrap_or_default();
    assert!(
        debug["payload"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ReferenceError: fetch is not defined"),
        "{debug}"
    );
}

#[test]
fn visual_card_and_carousel() {
    let lines = json!({ "start": { "type": "start", "nextId": "v" },
        "v": { "type": "visual", "data": { "visualType": "image", "image": "https://x/{img}.png" }, "nextId": "c" },
        "c": { "type": "cardV2", "title": "Card {name}", "imageUrl": "https://x/{img}.png", "description": "Desc {price}",
               "buttons": [ { "name": "Buy {name}", "request": { "type": "path-b", "payload": { "label": "Buy {name}" } } } ], "nextId": "k" },
        "k": { "type": "carousel", "layout": "List", "cards": [
                 { "id": "c1", "title": "", "imageUrl": "", "description": [ { "children": [ { "text": "" } ] } ], "buttons": [] },
                 { "id": "c2", "title": "T", "imageUrl": "", "description": [ { "children": [ { "text": "D {price}" } ] } ], "buttons": [] } ],
               "isBlocking": true, "noMatch": { "prompts": ["Pick one"] } } });
    let mut s = Session::new(agent(
        lines,
        json!({ "context": { "img": "i", "name": "N", "price": 1.5 } }),
    ));
    let t = launch(&mut s);
    assert_eq!(
        t[0]["payload"],
        json!({ "visualType": "image", "image": "https://x/i.png" })
    );
    assert_eq!(t[1]["payload"]["title"], "Card N");
    assert_eq!(
        t[1]["payload"]["description"],
        json!({ "text": "Desc 1.5", "slate": [ { "text": "Desc 1.5" } ] })
    );
    assert_eq!(
        t[1]["payload"]["buttons"][0]["request"]["payload"]["label"],
        "Buy N"
    );
    assert_eq!(t[2]["payload"]["layout"], "List");
    assert_eq!(
        t[2]["payload"]["cards"].as_array().map(Vec::len),
        Some(1),
        "empty cards are dropped"
    );
    assert_eq!(t[2]["payload"]["cards"][0]["description"]["text"], "D 1.50");
    // Blocking carousel: no-match reprompt.
    assert_eq!(
        messages(&s.turn(json!({ "type": "text", "payload": "x" }))),
        ["Pick one"]
    );
}

#[test]
fn channel_action_and_trace_form_custom_action() {
    let lines = json!({ "start": { "type": "start", "nextId": "ch" },
        "ch": { "type": "channel_action", "data": { "name": "handoff", "payload": { "queue": "{q}" } }, "defaultPath": 0,
                "paths": [ { "label": "done", "event": { "type": "done" }, "nextID": "tr" } ] },
        "tr": { "_v": 1, "type": "trace", "payload": { "name": "my_{q}", "body": "{\"a\": \"{q}\"}", "bodyType": "json" }, "stop": false, "paths": [ { "event": { "type": "x" }, "nextID": "bad" } ], "defaultPath": 0 },
        "bad": { "_v": 1, "type": "trace", "payload": { "name": "raw", "body": "{not json", "bodyType": "json" }, "paths": [] } });
    let p = agent(lines, json!({ "context": { "q": "sales" } }));
    let mut s = Session::new(p.clone());
    let t = launch(&mut s);
    assert_eq!(
        t[0],
        json!({ "type": "channel-action", "payload": { "name": "handoff", "payload": { "queue": "sales" } }, "paths": [ { "label": "done", "event": { "type": "done" } } ], "defaultPath": 0 })
    );
    assert_eq!(t[1]["type"], "my_sales");
    assert_eq!(t[1]["payload"], json!({ "a": "sales" }));
    assert_eq!(t[2]["type"], "raw");
    assert_eq!(t[2]["payload"], "{not json");
    // Stop on the raw node types: `channel-action`, `trace`.
    let mut s = Session::new(p.clone()).with_config(json!({ "stopTypes": ["channel-action"] }));
    assert_eq!(types(&launch(&mut s)), ["channel-action"]);
    assert_eq!(
        types(&s.turn(json!({ "type": "done" }))),
        ["my_sales", "raw", "end"]
    );
    let mut s = Session::new(p).with_config(json!({ "stopTypes": ["trace"] }));
    assert_eq!(types(&launch(&mut s)), ["channel-action", "my_sales"]);
}

#[test]
fn custom_action_stop_inside_a_component_resumes_in_the_component() {
    let lines = json!({ "start": { "type": "start", "nextId": "f" },
        "f": { "type": "flow", "diagram_id": "C", "nextId": "after" }, "after": text_node("back home", None) });
    let child = json!({ "C": { "lines": {
        "start": { "type": "start", "nextId": "a" },
        "a": { "_v": 1, "type": "Charge", "payload": { "n": 1 }, "defaultPath": 1,
               "paths": [ { "event": { "type": "ok" }, "nextID": "ok" }, { "event": { "type": "fail" }, "nextID": "fail" } ] },
        "ok": text_node("charged", None), "fail": text_node("not charged", None) } } });
    let p = agent(lines, json!({ "diagrams": child }));
    let mut s = Session::new(p.clone()).with_config(json!({ "stopAll": true }));
    assert_eq!(types(&launch(&mut s)), ["Charge"]);
    assert_eq!(s.state.stack.len(), 3);
    assert_eq!(
        messages(&s.turn(json!({ "type": "ok" }))),
        ["charged", "back home"]
    );
    // Unknown resume type → defaultPath (1 → fail).
    let mut s = Session::new(p.clone()).with_config(json!({ "stopTypes": ["Charge"] }));
    launch(&mut s);
    assert_eq!(
        messages(&s.turn(json!({ "type": "whatever" }))),
        ["not charged", "back home"]
    );
    // Not stopping: default path at once.
    let mut s = Session::new(p);
    assert_eq!(messages(&launch(&mut s)), ["not charged", "back home"]);
}

#[test]
fn custom_action_with_no_usable_default_path_ends_the_frame() {
    let lines = json!({ "start": { "type": "start", "nextId": "a" },
        "a": { "_v": 1, "type": "X", "payload": "p", "stop": true, "paths": [ { "event": { "type": "ok" }, "nextID": "ok" } ] },
        "ok": text_node("ok", None) });
    let mut s = Session::new(agent(lines, json!({})));
    let t = launch(&mut s);
    assert_eq!(
        t,
        json!([{ "type": "X", "payload": "p", "paths": [ { "event": { "type": "ok" } } ], "stopID": "STOP" }])
    );
    assert_eq!(
        s.turn(json!({ "type": "nope" })),
        json!([{ "type": "end" }])
    );
}

#[test]
fn go_to_intent_is_delegated_within_the_call() {
    let lines = json!({ "start": { "type": "start", "nextId": "g" },
        "g": { "type": "goTo", "request": { "type": "intent", "payload": { "intent": { "name": "help" }, "query": "", "entities": [] } }, "noMatch": { "nodeID": "nm" } },
        "nm": text_node("no match", None) });
    let extra = json!({ "commands": [ { "type": "jump", "event": { "type": "intent", "intent": "help" }, "nextID": "h" } ] });
    let mut lines_h = lines.clone();
    lines_h["h"] = text_node("helped", None);
    let p = agent(lines_h, extra);
    let mut s = Session::new(p.clone());
    let t = launch(&mut s);
    assert_eq!(messages(&t), ["helped"]);
    assert!(!types(&t).contains(&"goto".to_string()));
    // selfDelegate: the goto trace goes to the client.
    let mut s = Session::new(p).with_config(json!({ "selfDelegate": true }));
    let t = launch(&mut s);
    assert_eq!(
        t,
        json!([{ "type": "goto", "payload": { "request": { "type": "intent", "payload": { "intent": { "name": "help" }, "query": "", "entities": [] } } } }])
    );
    // No command for the intent → noMatch node.
    let mut s = Session::new(agent(lines, json!({})));
    assert_eq!(messages(&launch(&mut s)), ["no match"]);
}

#[test]
fn reset_node_ends_the_conversation() {
    let lines = json!({ "start": { "type": "start", "nextId": "t" }, "t": text_node("one", Some("r")), "r": { "reset": true } });
    let mut s = Session::new(agent(lines, json!({})));
    let t = launch(&mut s);
    assert_eq!(t, json!([t[0].clone(), { "type": "end" }]));
    assert!(s.state.stack.is_empty());
}

#[test]
fn unknown_node_kinds_skip_or_end_the_frame() {
    let lines = json!({ "start": { "type": "start", "nextId": "d" },
        "d": { "type": "directive", "directive": "{}", "nextId": "t" }, "t": text_node("after", Some("u")),
        "u": { "type": "account_linking_without_next" }, "never": text_node("never", None) });
    let mut s = Session::new(agent(lines, json!({})))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let t = launch(&mut s);
    assert_eq!(types(&t), ["debug", "debug", "text", "end"]);
    assert_eq!(
        t[1]["payload"]["message"],
        "could not handle step - redirecting to the next step"
    );
}

#[test]
fn unsupported_services_follow_their_fail_ports() {
    let lines = json!({ "start": { "type": "start", "nextId": "api" },
        "api": { "type": "integrations", "selected_integration": "Custom API", "action_data": {}, "success_id": "ok", "fail_id": "ai" },
        "ai": { "type": "generative", "nextId": "t" }, "t": text_node("done", None), "ok": text_node("ok", None) });
    let mut s = Session::new(agent(lines, json!({})));
    assert_eq!(messages(&launch(&mut s)), ["done"]);
}

#[test]
fn ai_memory_caps_assistant_entries_and_keeps_the_newest_text() {
    let lines = json!({ "start": { "type": "start", "nextId": "t" },
        "t": text_node("{long}", Some("u")), "u": text_node("newest words", None) });
    let long = "é".repeat(9_995);
    let mut s = Session::new(agent(lines, json!({ "context": { "long": long } })));
    launch(&mut s);
    let memory = s.var("_memory_").cloned().unwrap_or_default();
    let content = memory[0]["content"].as_str().unwrap_or("");
    assert_eq!(content.chars().count(), 10_000);
    let tail: String = content
        .chars()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(content.ends_with("\nnewest words"), "{tail}");
    // At most ten entries are kept.
    let ask = json!({ "start": { "type": "start", "nextId": "a" },
        "a": { "type": "interaction", "interactions": [ { "event": { "type": "path-x" }, "nextId": "r" } ] },
        "r": text_node("reply", Some("a")) });
    let mut s = Session::new(agent(ask, json!({})));
    launch(&mut s);
    for _ in 0..8 {
        s.turn(json!({ "type": "path-x", "payload": { "label": "X" } }));
    }
    let memory = s
        .var("_memory_")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(memory.len(), 10);
    assert_eq!(
        memory[9],
        json!({ "role": "assistant", "content": "reply" })
    );
    assert_eq!(memory[8], json!({ "role": "user", "content": "X" }));
}

#[test]
fn compiler_marked_lines_say_so_and_go_on_and_a_function_without_definition_ends_the_flow() {
    let lines = json!({ "start": { "type": "start", "nextId": "kb" },
        "kb": { "type": "zapier", "nextId": "last", "unsupported": true },
        "last": { "type": "agent", "unsupported": true, "nextId": "fn" },
        "fn": { "type": "function", "data": {}, "nextId": "never" },
        "never": text_node("not reached", None) });
    let mut s = Session::new(agent(lines, json!({})))
        .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let t = launch(&mut s);
    let debug: Vec<(String, String)> = t
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "debug")
        .map(|t| {
            (
                t["payload"]["type"].as_str().unwrap_or("").to_string(),
                t["payload"]["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        debug[1],
        (
            "zapier".into(),
            "this step is not supported by flowdm yet".into()
        )
    );
    assert_eq!(
        debug[2],
        (
            "agent".into(),
            "this step is not supported by flowdm yet".into()
        )
    );
    assert_eq!(
        debug[3].1,
        "[ERROR]: Encountered an error in a Function step. the step has no function definition"
    );
    assert!(messages(&t).is_empty(), "{t}");
    assert_eq!(
        t.as_array().unwrap().last(),
        Some(&json!({ "type": "end" }))
    );
}
