//! One engine turn through ~10 nodes (`cargo bench -p flowdm-engine --bench engine`).
//!
//! The turn: a button request at a waiting choice → text → set (legacy expression) → if →
//! text → cardV2 → text → goToNode → the choice again (10 node visits, 6 traces). The measured
//! call includes copying the session state in and dropping the result, as a server does; the
//! copy alone is measured too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use flowdm_actions::sandbox::QuickJs;
use flowdm_engine::{
    interact, Agent, Config, Env, Request, SeededRandom, State, SystemClock, TurnInput,
};
use flowdm_model::load_vfr;
use serde_json::json;

/// The server binary uses mimalloc too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn text(msg: &str, next: &str) -> serde_json::Value {
    json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": next })
}

fn project() -> Agent {
    let lines = json!({
        "start": { "type": "start", "nextId": "ask" },
        "ask": { "type": "interaction",
                 "interactions": [ { "event": { "type": "path-buy" }, "nextId": "t1" } ],
                 "buttons": [ { "name": "Buy {product}", "request": { "type": "path-buy", "payload": { "label": "Buy", "actions": [] } } } ],
                 "noMatch": { "prompts": [ [ { "children": [ { "text": "Pick one" } ] } ] ] } },
        "t1": text("Great choice, {name}!", "s1"),
        "s1": { "type": "set", "sets": [ { "variable": "count", "expression": "(v['count'] + 1)" } ], "nextId": "if" },
        "if": { "type": "if", "expressions": ["(v['count'] > 1000000)"], "nextIds": ["t2"], "elseId": "t3" },
        "t2": text("Wow", "card"),
        "t3": text("That is order number {count}.", "card"),
        "card": { "type": "cardV2", "title": "{product}", "imageUrl": "https://x/{product}.png", "description": [ { "children": [ { "text": "Only {price}" } ] } ], "buttons": [], "nextId": "t4" },
        "t4": text("Anything else?", "back"),
        "back": { "type": "goToNode", "diagramID": "", "nextId": "ask" }
    });
    let doc = json!({
        "project": { "_id": "P", "type": "chat", "platform": "webchat", "devVersion": "V" },
        "version": { "_id": "V", "projectID": "P", "rootDiagramID": "D",
            "variables": ["sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence", "count", "name", "product", "price"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "model": { "intents": [], "slots": [] },
                           "context": { "variables": { "name": "Ann", "product": "Lamp", "price": 45.5, "count": 0 } } } },
        "programs": {
            "V": { "id": "V", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "lines": lines, "commands": [], "variables": [] }
        }
    });
    Agent::new(load_vfr(&doc).expect("bench agent loads").0)
}

fn bench(c: &mut Criterion) {
    let project = project();
    let clock = SystemClock;
    let mut rng = SeededRandom::new(1);
    let config = Config::default();
    let input = |state: State, request: Option<Request>| TurnInput {
        state,
        request,
        config: config.clone(),
        user_id: Some("u1".into()),
        logs: Default::default(),
        nlu_hint: None,
        effects: Vec::new(),
        actions: None,
        library: None,
    };
    let mut turn = |input: TurnInput| {
        let mut env = Env {
            clock: &clock,
            rng: &mut rng,
            sandbox: &QuickJs,
        };
        interact(&project, input, &mut env)
    };
    let launch = turn(input(
        flowdm_engine::session::generate(&project, None, Some("u1")),
        Request::from_value(json!({ "type": "launch" })).ok(),
    ));
    let button = Request::from_value(
        json!({ "type": "path-buy", "payload": { "label": "Buy", "actions": [] } }),
    )
    .expect("request");
    let measured = || input(launch.state.clone(), Some(button.clone()));
    // Sanity: the measured turn really runs the ten nodes.
    let out = turn(measured());
    let types: Vec<&str> = out.trace.iter().map(|t| t.ty.as_str()).collect();
    assert_eq!(
        types,
        ["path", "text", "text", "cardV2", "text", "choice"],
        "bench turn changed"
    );
    c.bench_function("engine turn: 10 nodes, 6 traces (incl. state copy)", |b| {
        b.iter(|| turn(measured()))
    });
    // The engine call alone: the input copy and the output drop happen outside the timed region.
    c.bench_function("engine turn: 10 nodes, 6 traces (engine call alone)", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let input = measured();
                let start = std::time::Instant::now();
                let out = turn(input);
                total += start.elapsed();
                drop(std::hint::black_box(out));
            }
            total
        })
    });
    c.bench_function("state copy alone", |b| b.iter(|| launch.state.clone()));
}

/// A one-diagram chat project (`D`, start node `start`) with these lines and initial variables.
fn one_diagram(lines: serde_json::Value, context: serde_json::Value) -> flowdm_model::Project {
    let doc = json!({
        "project": { "_id": "P", "type": "chat", "platform": "webchat", "devVersion": "V" },
        "version": { "_id": "V", "projectID": "P", "rootDiagramID": "D",
            "variables": ["sessions", "user_id", "timestamp", "last_response", "last_utterance", "last_event", "intent_confidence", "name"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "model": { "intents": [], "slots": [] }, "context": { "variables": context } } },
        "programs": {
            "V": { "id": "V", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "lines": lines, "commands": [], "variables": [] }
        }
    });
    load_vfr(&doc).expect("bench agent loads").0
}

/// A launch of a new session, with `config` and the effect log `effects`.
fn launch(
    agent: &Agent,
    config: Config,
    effects: Vec<flowdm_engine::EffectResult>,
) -> flowdm_engine::TurnOutput {
    let mut rng = SeededRandom::new(1);
    let mut env = Env {
        clock: &SystemClock,
        rng: &mut rng,
        sandbox: &QuickJs,
    };
    let input = TurnInput {
        state: flowdm_engine::session::generate(agent, None, Some("u1")),
        request: Request::from_value(json!({ "type": "launch" })).ok(),
        config,
        user_id: Some("u1".into()),
        logs: Default::default(),
        nlu_hint: None,
        effects,
        actions: None,
        library: None,
    };
    interact(agent, input, &mut env)
}

/// The overhead of an AI step, the provider's time excluded: a launch whose generative step
/// (memory + prompt, a system prompt with variables) stops the turn for its `Llm` effect, then
/// the same turn again with the canned answer (what the server does), and the same launch with
/// the AI step replaced by a text step for comparison.
fn bench_ai(c: &mut Criterion) {
    let agent = |ai: serde_json::Value| {
        let lines = json!({
            "start": { "type": "start", "nextId": "hello" },
            "hello": text("Hello {name}, ask me anything.", "ai"),
            "ai": ai,
            "done": text("Anything else?", "")
        });
        Agent::new(one_diagram(lines, json!({ "name": "Ann" })))
    };
    let with_ai = agent(
        json!({ "type": "generative", "prompt": "Answer {name} briefly.",
        "system": "You are {name}'s assistant.", "mode": "memory_prompt", "model": "gpt-4o",
        "temperature": 0.3, "maxTokens": 100, "nextId": "done" }),
    );
    let without = agent(text("A canned answer for {name}.", "done"));
    let answer = flowdm_engine::EffectResult::Llm(Ok(flowdm_engine::LlmResponse {
        content: "Sure, Ann: here is a short answer of a few words.".into(),
        ..Default::default()
    }));
    let run = |agent: &Agent, effects| launch(agent, Config::default(), effects);
    assert!(
        run(&with_ai, Vec::new()).effect.is_some(),
        "the AI step yields"
    );
    let done = run(&with_ai, vec![answer.clone()]);
    let texts = done.trace.iter().filter(|t| t.ty == "text").count();
    assert!(
        done.effect.is_none() && texts == 3,
        "bench turn changed: {:?}",
        done.trace.iter().map(|t| t.ty.as_str()).collect::<Vec<_>>()
    );
    c.bench_function(
        "launch with an AI step: the run that yields + the run with the answer",
        |b| {
            b.iter(|| {
                let first = run(&with_ai, Vec::new());
                let second = run(&with_ai, vec![answer.clone()]);
                (first, second)
            })
        },
    );
    c.bench_function("the same launch with a text step instead", |b| {
        b.iter(|| run(&without, Vec::new()))
    });
}

/// The overhead of a custom action the server runs, against the same turn stopping for the
/// client: a JavaScript action (run in the sandbox), and a webhook (the run that yields its HTTP
/// effect plus the run with the canned answer; the HTTP time excluded).
fn bench_server_actions(c: &mut Criterion) {
    let lines = json!({
        "start": { "type": "start", "nextId": "pay" },
        "pay": { "_v": 1, "type": "Pay Credit Card", "payload": { "card": "visa", "amount": 25 }, "defaultPath": 1,
            "paths": [ { "event": { "type": "success" }, "nextID": "ok" }, { "event": { "type": "pending" }, "nextID": "wait" } ] },
        "ok": text("Paid.", ""),
        "wait": text("Pending.", "")
    });
    let project = one_diagram(lines, json!({}));
    let with = |action: serde_json::Value| Agent {
        actions: std::sync::Arc::new(flowdm_model::ServerActions::new(vec![
            flowdm_model::ServerAction::parse(&action).expect("action"),
        ])),
        ..Agent::new(project.clone())
    };
    let js = with(
        json!({ "name": "Pay Credit Card", "action_type": "javascript", "config": {
        "code": "export default async function main({ params }) { return { event: params.card === 'visa' ? 'success' : 'pending' }; }",
        "parameters": [ { "key": "card", "type": "string", "required": true } ], "events_schema": ["success", "pending"] } }),
    );
    let webhook = with(
        json!({ "name": "Pay Credit Card", "action_type": "webhook", "config": {
        "url": "https://pay.example.com/charge", "body": "{\"amount\": {{payload.amount}}}", "path_field": "status" } }),
    );
    let client = Agent::new(project.clone());
    let run = launch;
    let stop: Config =
        serde_json::from_value(json!({ "stopTypes": ["Pay Credit Card"] })).expect("config");
    let answer = flowdm_engine::EffectResult::Http(Ok(flowdm_engine::HttpResponse {
        status: 200,
        headers: vec![],
        body: r#"{"status": "success"}"#.into(),
    }));
    let said = |out: &flowdm_engine::TurnOutput| {
        out.trace
            .iter()
            .filter_map(|t| t.payload_str("message"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        said(&run(&js, Config::default(), vec![])),
        "Paid.",
        "bench turn changed"
    );
    assert_eq!(
        said(&run(&webhook, Config::default(), vec![answer.clone()])),
        "Paid.",
        "bench turn changed"
    );
    assert_eq!(
        run(&client, stop.clone(), vec![]).trace.len(),
        1,
        "bench turn changed"
    );
    c.bench_function("custom action: the turn stopping for the client", |b| {
        b.iter(|| run(&client, stop.clone(), vec![]))
    });
    c.bench_function(
        "custom action: a JavaScript action run by the server",
        |b| b.iter(|| run(&js, Config::default(), vec![])),
    );
    c.bench_function(
        "custom action: a webhook (yielding run + run with the answer)",
        |b| {
            b.iter(|| {
                let first = run(&webhook, Config::default(), vec![]);
                let second = run(&webhook, Config::default(), vec![answer.clone()]);
                (first, second)
            })
        },
    );
}

criterion_group!(benches, bench, bench_ai, bench_server_actions);
criterion_main!(benches);
