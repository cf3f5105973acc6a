//! The agent step: a model talking with the user and calling its tools, every call an effect
//! answered here by canned results.

use crate::common::*;
use flowdm_engine::{Effect, EffectResult, HttpResponse, LlmResponse, ToolCall};
use serde_json::{json, Value};

fn agent_session(exit_every_turn: bool) -> Session {
    let code = "export default async function main({ inputVars }) {\n  const r = await fetch('https://api.example.com/orders/' + inputVars.order);\n  const o = await r.json();\n  return { outputVars: { status: o.status } };\n}";
    Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "agent" },
            "agent": { "type": "agent", "agentID": "A", "agent": {
                    "name": "Support", "instructions": "You help {name}.", "model": "gpt-4o", "temperature": 0.1, "maxTokens": 300,
                    "pathTools": [ { "id": "P1", "name": "Talk to a human", "description": "When the user wants a person.",
                        "variables": [ { "variable": "reason", "description": "Why" } ] } ],
                    "functionTools": [ { "functionID": "F", "name": "Order status", "description": "Looks up an order.",
                        "inputs": [ { "name": "order", "description": "The order number", "default": "" } ] } ],
                    "knowledgeBase": "Search the help centre." },
                "exitEveryConversationalTurn": exit_every_turn, "listenForOtherTriggers": false,
                "paths": { "P1": "human", "conversation-turn": "turn" }, "nextId": "broken" },
            "human": text_node("Connecting you ({reason}).", None),
            "turn": text_node("Turn over.", None),
            "broken": text_node("The agent is unavailable.", None),
        }),
        json!({
            "variables": ["name", "reason", "sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence"],
            "context": { "name": "Ada" },
            "functions": { "F": { "code": code, "inputVars": { "order": { "type": "string" } }, "outputVars": { "status": { "type": "string" } }, "pathCodes": [] } },
        }),
    ))
}

fn call(name: &str, arguments: Value) -> EffectResult {
    EffectResult::Llm(Ok(LlmResponse {
        tool_calls: vec![ToolCall {
            id: format!("call-{name}"),
            name: name.into(),
            arguments: arguments.to_string(),
        }],
        ..LlmResponse::default()
    }))
}

#[test]
fn the_agent_answers_then_waits_for_the_next_message() {
    let mut s = agent_session(false);
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        reply("Hi Ada, how can I help?")
    });
    let r = llm(&effects[0]);
    assert_eq!(r.system.as_deref(), Some("You help Ada."));
    let names: Vec<&str> = r.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "exit_talk_to_a_human",
            "fn_order_status",
            "search_knowledge_base"
        ]
    );
    assert_eq!(
        r.tools[0].parameters["properties"]["reason"]["description"],
        "Why"
    );
    assert_eq!(messages(&traces), ["Hi Ada, how can I help?"]);
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "what can you do" }),
        |_| reply("Orders and refunds."),
    );
    assert_eq!(
        roles(llm(&effects[0])),
        [
            ("assistant", "Hi Ada, how can I help?"),
            ("user", "what can you do")
        ]
    );
    assert_eq!(messages(&traces), ["Orders and refunds."]);
}

#[test]
fn a_function_tool_runs_with_its_fetch_and_its_result_goes_back_to_the_model() {
    let mut s = agent_session(false);
    s.turn_with_effects(json!({ "type": "launch" }), |_| reply("Hello."));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "where is order 42" }),
        |e| match e {
            Effect::Llm(r) if r.messages.iter().any(|m| m.role == "tool") => {
                let tool = r.messages.iter().find(|m| m.role == "tool").unwrap();
                assert_eq!(tool.content, r#"{"status":"shipped"}"#);
                assert_eq!(tool.tool_call_id.as_deref(), Some("call-fn_order_status"));
                reply("Order 42 has shipped.")
            }
            Effect::Llm(_) => call("fn_order_status", json!({ "order": "42" })),
            Effect::Http(h) => {
                assert_eq!(h.url, "https://api.example.com/orders/42");
                EffectResult::Http(Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: r#"{"status":"shipped"}"#.into(),
                }))
            }
            other => panic!("{other:?}"),
        },
    );
    assert_eq!(effects.len(), 3, "model, fetch, model");
    assert_eq!(messages(&traces), ["Order 42 has shipped."]);
}

#[test]
fn a_path_tool_leaves_with_its_variables_and_the_kb_tool_searches() {
    let mut s = agent_session(false);
    s.turn_with_effects(json!({ "type": "launch" }), |_| reply("Hello."));
    let (traces, effects) = s.turn_with_effects(
        json!({ "type": "text", "payload": "refund policy? then a human please" }),
        |e| match e {
            Effect::Kb(q) => {
                assert_eq!(q.question, "refunds");
                EffectResult::Kb(Ok(vec![chunk("30 days.", "refunds.md")]))
            }
            Effect::Llm(r) if r.messages.iter().any(|m| m.role == "tool") => {
                assert!(r.messages.last().unwrap().content.contains("30 days."));
                call(
                    "exit_talk_to_a_human",
                    json!({ "reason": "asked for a person" }),
                )
            }
            Effect::Llm(_) => call("search_knowledge_base", json!({ "query": "refunds" })),
            other => panic!("{other:?}"),
        },
    );
    assert_eq!(effects.len(), 3);
    assert_eq!(messages(&traces), ["Connecting you (asked for a person)."]);
    assert_eq!(s.var("reason"), Some(&json!("asked for a person")));
}

#[test]
fn exit_every_turn_and_a_failing_provider_take_their_ports() {
    let mut s = agent_session(true);
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| reply("Hello."));
    assert_eq!(messages(&traces), ["Hello.", "Turn over."]);
    let mut s = agent_session(false);
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["The agent is unavailable."]);
    // A model that only ever calls tools stops after the round limit and waits.
    let mut s = agent_session(false);
    let (_, effects) = s.turn_with_effects(json!({ "type": "launch" }), |e| match e {
        Effect::Kb(_) => EffectResult::Kb(Ok(vec![])),
        _ => call("search_knowledge_base", json!({ "query": "x" })),
    });
    let calls = effects
        .iter()
        .filter(|e| matches!(e, Effect::Llm(_)))
        .count();
    assert_eq!(calls, 6);
}
