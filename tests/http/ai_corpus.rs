//! Corpus agents built around AI steps (`../shared/corpus`, read in place) conversing past them
//! against the stub provider, with their APIs on local stubs and their documents in a temporary
//! knowledge base: they reach the designer's next steps.

use crate::ai_steps::{agent_server, ai_texts, corpus_server};
use crate::api_step::{api_stub, corpus_agent, corpus_file};
use crate::support::llm_stub::LlmStub;
use crate::support::server::*;
use serde_json::json;

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
    let server = agent_server("mcp.vf", text, &stub, &[]);
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
    let server = agent_server(
        "naveen.vf",
        text,
        &stub,
        &["--kb-dir", kb.path().to_str().unwrap()],
    );
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

#[tokio::test]
async fn the_lead_generation_agent_quotes_through_its_api_and_explains_the_quote() {
    // Ayush1390/AI-Customer-Support-Lead-Generation-Agent (2025): the same support flow routed
    // to "get a quote": buttons for the property type, a set-v3 prompt extracting the square
    // feet, the quote API (a local stub) called with them, a prompt explaining its answer.
    let (quote_api, seen) = api_stub(
        json!({ "output": { "answer": "house, 1200 sq ft: $120" } }),
        Default::default(),
    )
    .await;
    let stub = LlmStub::start();
    stub.reply_when(
        "Summarize the customers question",
        "You would like a quote to clean your house, is that right?",
    );
    stub.reply_when("What does the customer want to do", "get_a_quote");
    stub.reply_when("Extract the number of square feet", "1200");
    stub.reply_when(
        "Write a short and clear explanation of this quote",
        "Your clean costs $120.",
    );
    let (text, version) = corpus_agent(
        "Ayush1390__AI-Customer-Support-Lead-Generation-Agent---Voiceflow__My_first_AI_agent-2025-08-08_18-55.vf",
        "https://api-f1db6c.stack.tryrelevance.com",
        &quote_api,
    );
    let server = agent_server("leads.vf", text, &stub, &[]);
    let u = User::new(&server, "lead", &version);
    u.act(json!({ "type": "launch" })).await;
    u.act(json!({ "type": "text", "payload": "how much to clean my house" }))
        .await;
    let t = u.act(json!({ "type": "text", "payload": "yes" })).await;
    assert!(
        messages(&t)
            .iter()
            .any(|m| m == "is your propery a house or apartment?"),
        "{t}"
    );
    let t = u.act(json!({ "type": "text", "payload": "a house" })).await;
    assert_eq!(messages(&t), ["How many square feet is it?"], "{t}");
    let t = u
        .act(json!({ "type": "text", "payload": "1200 square feet" }))
        .await;
    assert_eq!(ai_texts(&t), ["Your clean costs $120."], "{t}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].contains("\"square_footage\": 1200"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].contains("\"property_type\": \"House\""),
        "{}",
        requests[0]
    );
}
