//! AI steps over HTTP against the stub OpenAI-compatible provider (`support::llm_stub`, on
//! 127.0.0.1, allowed with `--allow-outbound`): the interact answer carries the model's answer,
//! failures of the provider leave the conversation going, and corpus agents built around AI
//! steps converse past them.

use crate::api_step::{api_stub, corpus_agent, corpus_file};
use crate::support::llm_stub::LlmStub;
use crate::support::server::*;
use serde_json::{json, Value};

/// A runtime export: launch → `generative` (memory + prompt) → a text saying `last_response`.
fn wizard(model: &str) -> String {
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
    let mut args = vec![
        "--ai-url",
        stub.base.as_str(),
        "--allow-outbound",
        "127.0.0.1/32",
    ];
    args.extend_from_slice(extra);
    Server::builder()
        .files(&[("wizard.vfr", wizard("gpt-4o"))])
        .args(&args)
        .start()
}

/// A server on a corpus export (read in place) with the stub as its AI provider.
fn corpus_server(file: &str, stub: &LlmStub) -> (Server, String) {
    let (text, version) = corpus_file(file);
    let name = if file.ends_with(".vf") {
        file.to_string()
    } else {
        format!("{file}.vf")
    };
    let server = Server::builder()
        .files(&[(name.as_str(), text)])
        .args(&[
            "--ai-url",
            stub.base.as_str(),
            "--allow-outbound",
            "127.0.0.1/32",
        ])
        .start();
    (server, version)
}

fn ai_texts(t: &Value) -> Vec<String> {
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
    stub.delay(2_000);
    let server = ai_server(&stub, &["--ai-retries", "0", "--ai-timeout-ms", "200"]);
    let started = std::time::Instant::now();
    let t = User::new(&server, "ai-slow", "aiv")
        .act(json!({ "type": "launch" }))
        .await;
    assert_eq!(messages(&t), ["(done)"], "{t}");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1_800),
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
    let server = Server::builder()
        .files(&[("wizard.vfr", doc.to_string())])
        .args(&[
            "--ai-url",
            stub.base.as_str(),
            "--allow-outbound",
            "127.0.0.1/32",
            "--ai-max-tokens-per-turn",
            "12",
        ])
        .start();
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

#[tokio::test]
async fn the_fortune_teller_answers_each_question() {
    // voiceflow/streaming-wizard: launch → generative (with {last_utterance}) → capture → again.
    let stub = LlmStub::start();
    stub.reply_when("crystal ball", "The mists reveal great fortune.");
    let (server, version) = corpus_server("voiceflow__streaming-wizard__FortuneTeller.vf", &stub);
    let u = User::new(&server, "fortune", &version);
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(ai_texts(&t), ["The mists reveal great fortune."], "{t}");
    let t = u
        .act(json!({ "type": "text", "payload": "will I find my keys?" }))
        .await;
    assert_eq!(ai_texts(&t), ["The mists reveal great fortune."], "{t}");
    let sent = stub.requests();
    let last = sent.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.ends_with("will I find my keys?"), "{last}");
}

#[tokio::test]
async fn the_mcp_agent_calls_its_tool_path_and_function_then_answers() {
    // voiceflow-gallagan/voiceflow-mcp-server-client: launch runs code, the API step (the MCP
    // server's tool list) and the agent step; the agent's "MCP Tools" path tool leads to the
    // function step, whose fetch queries the MCP server; then back to the agent.
    let (mcp, seen) = api_stub(
        json!({ "servers": [ { "name": "weather" } ], "answer": "Sunny, 24 °C" }),
        Default::default(),
    )
    .await;
    let stub = LlmStub::start();
    stub.reply_when("welcoming the user", "Welcome! Ask me anything.");
    let (text, version) = corpus_agent(
        "voiceflow-gallagan__voiceflow-mcp-server-client__MCP_Agent_Apr_1_2025.vf",
        "https://mcp-client.proxy-voiceflow.com",
        &mcp,
    );
    let server = Server::builder()
        .files(&[("mcp.vf", text)])
        .args(&[
            "--ai-url",
            stub.base.as_str(),
            "--allow-outbound",
            "127.0.0.1/32",
        ])
        .start();
    let u = User::new(&server, "mcp-agent", &version);
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(ai_texts(&t), ["Welcome! Ask me anything."], "{t}");
    // The user asks; the model calls the path tool with the query; the flow reaches the
    // function, which asks the MCP server.
    stub.tool_call_when(
        "weather in Paris",
        "exit_mcp_tools",
        r#"{"query": "weather in Paris", "waiting_phrase": "Checking…"}"#,
    );
    let t = u
        .act(json!({ "type": "text", "payload": "what is the weather in Paris" }))
        .await;
    let state = u.state().await;
    assert_eq!(state["variables"]["query"], "weather in Paris", "{t}");
    let requests = seen.lock().unwrap().clone();
    assert!(
        requests.iter().any(|r| r.starts_with("POST /api/query")),
        "{requests:?}\n{t}"
    );
}

#[tokio::test]
async fn the_travel_assistant_shows_the_itinerary_before_asking_about_it() {
    // voiceflow/test-history-rebase travelAssistant: a description is captured, an ai_set
    // extracts the goals, a generative step writes the itinerary, saved from last_response.
    let stub = LlmStub::start();
    stub.reply_when("extract the city", "Paris: museums and food");
    stub.reply_when(
        "Plan a travel itinerary",
        "Day 1: the Louvre. Day 2: a food tour.",
    );
    let (server, version) = corpus_server(
        "voiceflow__test-history-rebase__whatsapp_dashboard_travelAssistant.template.json",
        &stub,
    );
    let u = User::new(&server, "traveller", &version);
    let t = u.act(json!({ "type": "launch" })).await;
    assert!(
        messages(&t)
            .iter()
            .any(|m| m.starts_with("What city are you travelling to")),
        "{t}"
    );
    let t = u
        .act(json!({ "type": "text", "payload": "Paris, I love museums and good food" }))
        .await;
    let said = messages(&t);
    let itinerary = said
        .iter()
        .position(|m| m == "Day 1: the Louvre. Day 2: a food tour.");
    let question = said
        .iter()
        .position(|m| m.starts_with("Is there anything you want to add or modify"));
    assert!(
        matches!((itinerary, question), (Some(i), Some(q)) if i < q),
        "{t}"
    );
    let vars = u.state().await["variables"].clone();
    assert_eq!(
        vars["travel_itinerary"],
        "Day 1: the Louvre. Day 2: a food tour."
    );
    assert_eq!(vars["travel_goals"], "Paris: museums and food");
}

#[tokio::test]
async fn educhat_answers_a_question_while_waiting_for_an_article() {
    let stub = LlmStub::start();
    stub.reply_when(
        "awaiting a user choosing an article",
        "Atoms are tiny! Open an article to learn more.",
    );
    let (server, version) = corpus_server("SuperZooper3__Voiceflow-EduChat__EduChat.vf", &stub);
    let u = User::new(&server, "student", &version);
    let t = u.act(json!({ "type": "launch" })).await;
    assert!(messages(&t)[0].starts_with("Welcome to EduChat!"), "{t}");
    let t = u
        .act(json!({ "type": "text", "payload": "what is an atom?" }))
        .await;
    assert_eq!(
        ai_texts(&t),
        ["Atoms are tiny! Open an article to learn more."],
        "{t}"
    );
    let prompt = stub.requests()[0].body["messages"].to_string();
    assert!(prompt.contains("what is an atom?"), "{prompt}");
}

#[tokio::test]
async fn the_support_agent_answers_from_its_knowledge_base() {
    // Naveen-Baburaj/voiceflow-chatbot-tutorial (2025): the problem is captured, summarised by
    // a set-v3 prompt and confirmed, classified by another prompt, searched in the knowledge
    // base (kb-search) and answered by a response prompt given the chunks.
    let stub = LlmStub::start();
    stub.reply_when(
        "Summarize the customers question",
        "Your parcel has not arrived yet, is that right?",
    );
    stub.reply_when("What does the customer want to do", "ask_a_question");
    stub.reply_when(
        "AI Customer support rep",
        "Parcels take 3 to 5 working days; after 7 days we refund.",
    );
    let kb = tempfile::tempdir().unwrap();
    let dir = kb.path().join("682189d592465c3b0c907994");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("delivery.md"), "# Delivery\n\nParcels arrive within 3 to 5 working days. A parcel that has not arrived after 7 days is refunded.").unwrap();
    std::fs::write(
        dir.join("quotes.md"),
        "# Quotes\n\nA cleaning quote depends on the size of the property.",
    )
    .unwrap();
    let (text, version) = corpus_file("Naveen-Baburaj__voiceflow-chatbot-tutorial__chatbot.vf");
    let server = Server::builder()
        .files(&[("naveen.vf", text)])
        .args(&[
            "--ai-url",
            stub.base.as_str(),
            "--allow-outbound",
            "127.0.0.1/32",
            "--kb-dir",
            kb.path().to_str().unwrap(),
        ])
        .start();
    let u = User::new(&server, "naveen", &version);
    u.act(json!({ "type": "launch" })).await;
    let t = u
        .act(json!({ "type": "text", "payload": "My parcel has not arrived yet" }))
        .await;
    assert_eq!(
        messages(&t),
        ["Your parcel has not arrived yet, is that right?"],
        "{t}"
    );
    let t = u.act(json!({ "type": "text", "payload": "yes" })).await;
    assert_eq!(
        ai_texts(&t),
        ["Parcels take 3 to 5 working days; after 7 days we refund."],
        "{t}"
    );
    let sent = stub.requests();
    let answer_prompt = sent.last().unwrap().body["messages"].to_string();
    assert!(
        answer_prompt.contains("A parcel that has not arrived after 7 days is refunded."),
        "{answer_prompt}"
    );
    let chunks = u.state().await["variables"]["chunks"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(chunks.contains("delivery.md"), "{chunks}");
}
