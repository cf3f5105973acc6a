//! AI steps (§5.6.26) on the sans-IO turn: each model call is an `Llm` effect and each
//! knowledge-base search a `Kb` effect, answered here by canned results (no provider).

use crate::common::*;
use flowdm_engine::{Effect, EffectResult};
use serde_json::{json, Value};

fn ai_agent(step: Value) -> Session {
    Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "hello" },
            "hello": text_node("Hello {name}.", Some("ai")),
            "ai": step,
            "after": text_node("After: {answer}", None),
            "missing": text_node("Not in the documents.", None),
        }),
        json!({
            "variables": ["name", "empty", "answer", "chunks", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"],
            "context": { "name": "Ada", "empty": "" },
        }),
    ))
    .with_config(json!({ "excludeTypes": ["block", "flow"] }))
}

fn of_type<'a>(traces: &'a Value, ty: &str) -> Vec<&'a Value> {
    traces
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == ty)
        .collect()
}

#[test]
fn a_generative_step_asks_the_model_and_says_its_answer() {
    let mut s = ai_agent(
        json!({ "type": "generative", "prompt": "Greet {name} like a wizard.",
        "system": "You are {name}'s wizard.", "mode": "prompt", "model": "gpt-4o", "temperature": 0.2,
        "maxTokens": 50, "nextId": "after", "elseId": null }),
    );
    let (traces, effects) =
        s.turn_with_effects(json!({ "type": "launch" }), |_| reply("Hail, Ada!"));
    assert_eq!(effects.len(), 1);
    let r = llm(&effects[0]);
    assert_eq!(r.model.as_deref(), Some("gpt-4o"));
    assert_eq!(r.system.as_deref(), Some("You are Ada's wizard."));
    assert_eq!(r.messages.len(), 1);
    assert_eq!(
        (r.messages[0].role.as_str(), r.messages[0].content.as_str()),
        ("user", "Greet Ada like a wizard.")
    );
    assert_eq!((r.temperature, r.max_tokens), (Some(0.2), Some(50)));
    let texts = of_type(&traces, "text");
    assert_eq!(texts[1]["payload"]["message"], "Hail, Ada!");
    assert_eq!(texts[1]["payload"]["ai"], true);
    assert!(
        texts[0]["payload"].get("ai").is_none(),
        "only AI answers say ai"
    );
    // The answer is in the AI memory for the next prompt.
    assert!(s.var("vf_memory").unwrap().as_str().unwrap().contains(
        "assistant: Hello Ada.
Hail, Ada!"
    ));
}

#[test]
fn memory_modes_send_the_conversation() {
    let mut s = ai_agent(
        json!({ "type": "generative", "prompt": "Answer briefly.", "system": "",
        "mode": "memory_prompt", "nextId": "after" }),
    );
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| reply("ok"));
    let r = llm(&effects[0]);
    assert_eq!(
        roles(r),
        [("assistant", "Hello Ada."), ("user", "Answer briefly.")]
    );
    assert_eq!(r.system, None, "an empty system prompt is not sent");
}

#[test]
fn an_empty_prompt_asks_nothing_and_a_failed_call_says_nothing() {
    let mut s = ai_agent(
        json!({ "type": "generative", "prompt": "{empty}", "mode": "prompt", "nextId": "after" }),
    );
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| reply("x"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(messages(&traces), ["Hello Ada.", "After: 0"]);

    let mut s = ai_agent(
        json!({ "type": "generative", "prompt": "Hi", "mode": "prompt", "nextId": "after" }),
    );
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["Hello Ada.", "After: 0"]);
    let debug = of_type(&traces, "debug");
    assert!(
        debug.iter().any(|d| d["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("no AI provider is configured")),
        "{traces}"
    );
}

#[test]
fn ai_set_fills_each_variable_in_turn() {
    let mut s = ai_agent(json!({ "type": "ai_set", "sets": [
            { "prompt": "Capital of France?", "variable": "answer", "mode": "prompt" },
            { "prompt": "Name a colour.", "variable": "name", "mode": "prompt" },
            { "prompt": "", "variable": "chunks", "mode": "prompt" } ],
        "system": "", "model": "claude-3-haiku", "nextId": "after" }));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |e| {
        if llm(e).messages[0].content.contains("France") {
            reply("Paris")
        } else {
            reply("Blue")
        }
    });
    assert_eq!(effects.len(), 2, "the empty prompt asks nothing");
    assert_eq!(messages(&traces), ["Hello Ada.", "After: Paris"]);
    assert_eq!(s.var("name"), Some(&json!("Blue")));
}

#[test]
fn a_knowledge_base_answer_is_synthesised_from_the_best_chunks() {
    let step = json!({ "type": "generative", "prompt": "How long do refunds take?", "source": "knowledge_base",
        "mode": "prompt", "nextId": "after", "elseId": "missing" });
    let mut s = ai_agent(step.clone());
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |e| match e {
        Effect::Kb(q) => {
            assert_eq!(
                (q.question.as_str(), q.chunk_limit, q.project_id.as_str()),
                ("How long do refunds take?", 2, "P")
            );
            EffectResult::Kb(Ok(vec![
                chunk("Refunds take 5 days.", "refunds.md"),
                chunk("We ship fast.", "shipping.md"),
            ]))
        }
        Effect::Llm(r) => {
            assert!(r.system.as_ref().unwrap().contains("Refunds take 5 days."));
            reply("About five days.")
        }
        other => panic!("{other:?}"),
    });
    assert_eq!(effects.len(), 2);
    let kb = of_type(&traces, "knowledgeBase");
    assert_eq!(
        kb[0]["payload"]["chunks"][0]["documentData"]["name"],
        "refunds.md"
    );
    assert_eq!(messages(&traces)[1], "About five days.");

    // Not in the documents: the not-found path.
    let mut s = ai_agent(step.clone());
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |e| match e {
        Effect::Kb(_) => EffectResult::Kb(Ok(vec![chunk("We ship fast.", "shipping.md")])),
        _ => reply("NOT_FOUND"),
    });
    assert_eq!(messages(&traces), ["Hello Ada.", "Not in the documents."]);
    let mut s = ai_agent(step.clone());
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        EffectResult::Kb(Ok(vec![]))
    });
    assert_eq!(effects.len(), 1, "no chunk: no model call");
    assert_eq!(messages(&traces), ["Hello Ada.", "Not in the documents."]);

    // No provider: the best chunk is the answer.
    let mut s = ai_agent(step);
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |e| match e {
        Effect::Kb(_) => EffectResult::Kb(Ok(vec![chunk("Refunds take 5 days.", "refunds.md")])),
        _ => EffectResult::Llm(Err("no AI provider is configured".into())),
    });
    assert_eq!(messages(&traces)[1], "Refunds take 5 days.");
}

#[test]
fn kb_search_saves_the_chunks_and_response_prompt_sees_the_memory() {
    let mut s = Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "ask" },
            "ask": { "type": "captureV2", "variable": "last_utterance", "nextId": "kb" },
            "kb": { "type": "kb-search", "question": "{last_utterance}", "maxChunks": 3, "variable": "chunks", "nextId": "rp" },
            "rp": { "type": "response-prompt", "prompt": { "settings": { "model": "gpt-4o-mini", "maxTokens": 100, "temperature": 0.3 },
                "system": "Support agent.", "messages": [ { "role": "user", "content": "{vf_memory}" }, { "role": "user", "content": "Use: {chunks}" } ] }, "nextId": null },
        }),
        json!({ "variables": ["chunks", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"] }),
    ));
    s.turn(json!({ "type": "launch" }));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "where is my parcel" }),
        |e| match e {
            Effect::Kb(q) => {
                assert_eq!(
                    (q.question.as_str(), q.chunk_limit),
                    ("where is my parcel", 3)
                );
                EffectResult::Kb(Ok(vec![chunk("Parcels ship in 2 days.", "shipping.md")]))
            }
            _ => reply("It ships within two days."),
        },
    );
    assert_eq!(effects.len(), 2, "{traces}");
    let r = llm(&effects[1]);
    assert_eq!(
        r.messages[0].content, "user: where is my parcel",
        "vf_memory holds this turn's input"
    );
    assert!(
        r.messages[1].content.contains("Parcels ship in 2 days."),
        "{:?}",
        r.messages
    );
    assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
    let saved: Value = serde_json::from_str(s.var("chunks").unwrap().as_str().unwrap()).unwrap();
    assert_eq!(saved[0]["source"], "shipping.md");
    assert_eq!(messages(&traces), ["It ships within two days."]);
}

#[test]
fn set_v3_prompt_items_run_in_order_with_the_expressions() {
    let prompt = json!({ "settings": { "model": "gpt-4o-mini", "maxTokens": 20 }, "system": "Summarise.",
        "messages": [ { "role": "user", "content": "Question: {answer}" } ] });
    let mut s = ai_agent(json!({ "type": "set-v3", "items": [
            { "variable": "answer", "expression": "'refunds' + '?'" },
            { "variable": "chunks", "prompt": prompt },
            { "variable": "name", "expression": "chunks.toUpperCase()" } ],
        "nextId": "after" }));
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |e| {
        assert_eq!(llm(e).messages[0].content, "Question: refunds?");
        reply("about refunds")
    });
    assert_eq!(effects.len(), 1);
    assert_eq!(s.var("chunks"), Some(&json!("about refunds")));
    assert_eq!(s.var("name"), Some(&json!("ABOUT REFUNDS")));
    assert_eq!(messages(&traces), ["Hello Ada.", "After: refunds?"]);
}

#[test]
fn ai_playground_projects_answer_a_no_match_from_the_knowledge_base_then_the_model() {
    let project = |settings: Value| {
        Session::new(agent(
            json!({
                "start": { "type": "start", "nextId": "ask" },
                "ask": { "type": "interaction", "interactions": [], "noMatch": { "prompts": [] } },
            }),
            json!({
                "aiAssistSettings": { "aiPlayground": true },
                "settings": settings,
            }),
        ))
    };
    let mut s = project(json!({}));
    s.turn(json!({ "type": "launch" }));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "do you ship abroad" }),
        |e| match e {
            Effect::Kb(q) => {
                assert_eq!(q.question, "do you ship abroad");
                EffectResult::Kb(Ok(vec![chunk("We ship to 40 countries.", "shipping.md")]))
            }
            _ => reply("Yes, to 40 countries."),
        },
    );
    assert_eq!(effects.len(), 2);
    let texts = of_type(&traces, "text");
    assert_eq!(texts[0]["payload"]["message"], "Yes, to 40 countries.");
    assert_eq!(texts[0]["payload"]["ai"], true);

    // Nothing in the knowledge base: a generative global no-match answers from the memory.
    let mut s = project(
        json!({ "globalNoMatch": { "type": "generative", "prompt": { "system": "Be kind.", "model": "gpt-4o" } } }),
    );
    s.turn(json!({ "type": "launch" }));
    let (traces, effects) =
        s.turn_with_effects(json!({ "type": "text", "payload": "blorp" }), |e| match e {
            Effect::Kb(_) => EffectResult::Kb(Ok(vec![])),
            Effect::Llm(r) => {
                let last = r.messages.last().unwrap();
                assert_eq!(last.role, "system");
                assert!(
                    last.content.starts_with("Be kind.\n\nCurrent time: 2024-"),
                    "{}",
                    last.content
                );
                assert_eq!(r.messages[0].content, "blorp");
                reply("Could you say that another way?")
            }
            other => panic!("{other:?}"),
        });
    assert_eq!(effects.len(), 2);
    assert_eq!(messages(&traces), ["Could you say that another way?"]);

    // Nothing configured: the usual no-match.
    let mut s = project(json!({}));
    s.turn(json!({ "type": "launch" }));
    let traces = s.turn(json!({ "type": "text", "payload": "blorp" }));
    assert_eq!(
        messages(&traces),
        ["Sorry, I didn\u{2019}t get that. Please try again."]
    );
}

#[test]
fn llm_intent_classification_chooses_among_the_classifier_s_candidates() {
    let model = json!({ "intents": [
            { "key": "i1", "name": "order_pizza", "inputs": [ { "text": "i want a pizza" }, { "text": "order a pizza please" } ], "slots": [] },
            { "key": "i2", "name": "track_order", "inputs": [ { "text": "where is my order" }, { "text": "track my delivery" } ], "slots": [] } ],
        "slots": [] });
    let session = || {
        Session::new(agent(
            json!({
                "start": { "type": "start", "nextId": "ask" },
                "ask": { "type": "interaction", "interactions": [
                    { "event": { "type": "intent", "intent": "order_pizza" }, "nextId": "pizza" },
                    { "event": { "type": "intent", "intent": "track_order" }, "nextId": "track" } ] },
                "pizza": text_node("Pizza it is.", None),
                "track": text_node("Tracking.", None),
            }),
            json!({ "model": model.clone(), "versionSettings": { "intentClassification": { "type": "llm", "params": { "model": "claude-3-haiku", "temperature": 0.1 } } } }),
        ))
    };
    let mut s = session();
    s.turn(json!({ "type": "launch" }));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "my food has not shown up" }),
        |e| {
            let r = llm(e);
            let system = r.system.as_deref().unwrap();
            assert!(
                system.contains("- track_order: \"where is my order\""),
                "{system}"
            );
            assert!(system.contains("order_pizza"), "{system}");
            assert_eq!(r.model.as_deref(), Some("claude-3-haiku"));
            assert_eq!(r.messages[0].content, "my food has not shown up");
            reply("track_order")
        },
    );
    assert_eq!(effects.len(), 1);
    assert_eq!(messages(&traces), ["Tracking."]);

    // An exact training phrase (NLC) asks nothing; an answer naming no candidate keeps the
    // classifier's choice; no provider keeps it too.
    let mut s = session();
    s.turn(json!({ "type": "launch" }));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "order a pizza please" }),
        |_| reply("x"),
    );
    assert!(effects.is_empty());
    assert_eq!(messages(&traces), ["Pizza it is."]);
    let mut s = session();
    s.turn(json!({ "type": "launch" }));
    let (traces, _) = s.turn_with_effects(
        json!({ "type": "text", "payload": "i want pizza now" }),
        |_| reply("something else"),
    );
    assert_eq!(messages(&traces), ["Pizza it is."]);
    let mut s = session();
    s.turn(json!({ "type": "launch" }));
    let traces = s.turn(json!({ "type": "text", "payload": "i want pizza now" }));
    assert_eq!(messages(&traces), ["Pizza it is."]);
}
