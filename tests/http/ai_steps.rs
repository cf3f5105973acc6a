//! AI steps over HTTP against the stub OpenAI-compatible provider (`support::llm_stub`, on
//! 127.0.0.1, allowed with `--allow-outbound`): the interact answer carries the model's answer,
//! and failures of the provider leave the conversation going. Corpus agents: `ai_corpus.rs`.

use crate::api_step::corpus_file;
use crate::support::llm_stub::LlmStub;
use crate::support::server::*;
use serde_json::{json, Value};

/// A runtime export: launch → `generative` (memory + prompt) → a text saying `last_response`.
pub(crate) fn wizard(model: &str) -> String {
    let text = |msg: &str, next: Value| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": next });
    json!({
        "project": { "_id": "aip", "name": "Wizard", "type": "chat", "platform": "webchat", "devVersion": "aiv" },
        "version": { "_id": "aiv", "projectID": "aip", "rootDiagramID": "D", "variables": ["name"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Wizard", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": { "name": "Ada" } } } },
        "programs": {
            "aiv": { "id": "aiv", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "ai" },
                "ai": { "type": "generative", "prompt": "Greet {name} as a wizard would.", "system": "You are a wizard.",
                    "mode": "memory_prompt", "model": model, "temperature": 0.5, "maxTokens": 60, "nextId": "after" },
                "after": text("(done)", Value::Null)
            } }
        }
    })
    .to_string()
}

fn ai_server(stub: &LlmStub, extra: &[&str]) -> Server {
    agent_server("wizard.vfr", wizard("gpt-4o"), stub, extra)
}

/// A server on a corpus export (read in place) with the stub as its AI provider.
pub(crate) fn corpus_server(file: &str, stub: &LlmStub) -> (Server, String) {
    let (text, version) = corpus_file(file);
    (agent_server(file, text, stub, &[]), version)
}

/// A server on one agent file (`name` ending `.vf` or `.vfr`, else `.vf` is added) with the
/// stub as its AI provider and `extra` options.
pub(crate) fn agent_server(name: &str, text: String, stub: &LlmStub, extra: &[&str]) -> Server {
    let name = if name.ends_with(".vf") || name.ends_with(".vfr") {
        name.to_string()
    } else {
        format!("{name}.vf")
    };
    let mut args = vec![
        "--ai-url",
        stub.base.as_str(),
        "--allow-outbound",
        "127.0.0.1/32",
    ];
    args.extend_from_slice(extra);
    Server::builder()
        .files(&[(name.as_str(), text)])
        .args(&args)
        .start()
}

pub(crate) fn ai_texts(t: &Value) -> Vec<String> {
    t.as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "text" && t["payload"]["ai"] == true)
        .map(|t| t["payload"]["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_generative_step_answers_through_the_provider() {
    let stub = LlmStub::start();
    stub.reply_when("wizard", "Greetings, Ada of the east!");
    let server = ai_server(&stub, &["--ai-model", "gpt-4o=local-model"]);
    let u = User::new(&server, "ai-user", "aiv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(ai_texts(&t), ["Greetings, Ada of the east!"], "{t}");
    assert_eq!(messages(&t).last().map(String::as_str), Some("(done)"));
    let sent = stub.requests();
    assert_eq!(sent.len(), 1);
    let body = &sent[0].body;
    assert_eq!(body["model"], "local-model");
    assert_eq!(
        body["messages"][0],
        json!({ "role": "system", "content": "You are a wizard." })
    );
    assert_eq!(
        body["messages"].as_array().unwrap().last().unwrap()["content"],
        "Greet Ada as a wizard would."
    );
    assert_eq!(u.state().await["variables"]["last_response"], "(done)");
}

#[tokio::test]
async fn a_failing_or_absent_provider_leaves_the_conversation_going() {
    // 429 then success: retried within the turn.
    let stub = LlmStub::start();
    stub.reply_when("wizard", "Hello!");
    stub.fail_next(1, 429);
    let server = ai_server(&stub, &[]);
    let t = User::new(&server, "ai-429", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(ai_texts(&t), ["Hello!"], "{t}");
    assert_eq!(stub.requests().len(), 2);
    drop(server);

    // Down for good: nothing said, the flow goes on.
    let stub = LlmStub::start();
    stub.fail_next(10, 500);
    let server = ai_server(&stub, &["--ai-retries", "1"]);
    let t = User::new(&server, "ai-500", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert!(ai_texts(&t).is_empty(), "{t}");
    assert_eq!(messages(&t), ["(done)"]);
    drop(server);

    // Malformed answers, and a provider slower than the timeout: the same.
    let stub = LlmStub::start();
    stub.malformed_next(10);
    let server = ai_server(&stub, &["--ai-retries", "0"]);
    let t = User::new(&server, "ai-malformed", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["(done)"], "{t}");
    drop(server);
    let stub = LlmStub::start();
    stub.delay(5_000);
    let server = ai_server(&stub, &["--ai-retries", "0", "--ai-timeout-ms", "200"]);
    let started = std::time::Instant::now();
    let t = User::new(&server, "ai-slow", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["(done)"], "{t}");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(4_000),
        "{:?}",
        started.elapsed()
    );
    drop(server);

    // No provider configured at all.
    let server = Server::builder()
        .files(&[("wizard.vfr", wizard("gpt-4o"))])
        .start();
    let t = User::new(&server, "ai-none", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["(done)"]);
}

#[tokio::test]
async fn the_turn_s_token_budget_refuses_further_calls() {
    // An ai_set of two prompts: the first answer (10 words = 10 tokens, plus the prompt's) spends
    // the 12-token budget, so the second call is refused and its variable stays as it was.
    let doc: Value = serde_json::from_str(&wizard("gpt-4o")).unwrap();
    let mut doc = doc;
    doc["programs"]["D"]["lines"]["ai"] = json!({ "type": "ai_set", "sets": [
            { "prompt": "first wizard question", "variable": "name", "mode": "prompt" },
            { "prompt": "second wizard question", "variable": "name", "mode": "prompt" } ],
        "system": "", "model": "gpt-4o", "nextId": "after" });
    let stub = LlmStub::start();
    stub.reply_when("wizard", "one two three four five six seven eight nine ten");
    let server = agent_server(
        "wizard.vfr",
        doc.to_string(),
        &stub,
        &["--ai-max-tokens-per-turn", "12"],
    );
    let u = User::new(&server, "ai-budget", "aiv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(stub.requests().len(), 1, "{t}");
    assert_eq!(
        u.state().await["variables"]["name"],
        "one two three four five six seven eight nine ten"
    );
    // A new turn has a new budget.
    u.act(json!({ "type": "launch" })).await;
    assert_eq!(stub.requests().len(), 2);
}
