//! The AI provider's client (`flowdm::actions::llm`) against a stub OpenAI-compatible API
//! (`support::llm_stub`): the request it sends (model mapping, system prompt first, tools and
//! tool results in OpenAI's shape, the key as a Bearer token), the answers it reads (text, tool
//! calls, usage, streams), its retries and its failures (timeouts, malformed answers, the SSRF
//! guard), and the `flowdm serve` options that configure it.

use crate::support::llm_stub::LlmStub;
use flowdm::actions::effects::{Effects, NO_AI_PROVIDER};
use flowdm::actions::llm::{LlmClient, LlmConfig};
use flowdm::actions::outbound::{OutboundClient, OutboundConfig, Policy};
use flowdm::actions::perform::Performer;
use flowdm::engine::{ChatMessage, Effect, EffectResult, LlmRequest, ToolCall, ToolSpec};
use serde_json::json;
use std::time::{Duration, Instant};

const KEY: &str = "sk-stub-llm-5ecr3t-never-shown";

fn guarded(allow: Option<&str>) -> OutboundClient {
    let policy = allow.map_or_else(Policy::strict, |a| Policy::parse(a).unwrap());
    OutboundClient::new(OutboundConfig {
        policy,
        ..OutboundConfig::default()
    })
    .unwrap()
}

/// Fast retries, a short timeout, the key set.
fn config(stub: &LlmStub) -> LlmConfig {
    LlmConfig {
        base_url: stub.base.clone(),
        api_key: Some(KEY.into()),
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        ..LlmConfig::default()
    }
}

fn client(config: LlmConfig) -> LlmClient {
    LlmClient::new(guarded(Some("127.0.0.1/32")), config)
}

fn user(text: &str) -> ChatMessage {
    ChatMessage {
        role: "user".into(),
        content: text.into(),
        ..ChatMessage::default()
    }
}

fn ask(model: Option<&str>, system: Option<&str>, text: &str) -> LlmRequest {
    LlmRequest {
        model: model.map(str::to_string),
        system: system.map(str::to_string),
        messages: vec![user(text)],
        ..LlmRequest::default()
    }
}

#[tokio::test]
async fn a_completion_with_usage_and_the_key_as_bearer() {
    let stub = LlmStub::start();
    stub.reply_when("refund", "Refunds take five days.");
    let llm = client(config(&stub));
    let r = llm
        .complete(&ask(Some("gpt-4o"), None, "how do refunds work"))
        .await
        .unwrap();
    assert_eq!(r.content, "Refunds take five days.");
    assert!(r.tool_calls.is_empty());
    assert_eq!(r.model, "gpt-4o");
    assert_eq!((r.prompt_tokens, r.completion_tokens), (4, 4));
    let r = llm
        .complete(&ask(Some("gpt-4o"), None, "hello there"))
        .await;
    assert_eq!(r.unwrap().content, "stub: hello there");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(!format!("{llm:?}").contains(KEY));
    // Without a key, no Authorization header.
    let keyless = client(LlmConfig {
        api_key: None,
        ..config(&stub)
    });
    keyless.complete(&ask(Some("m"), None, "hi")).await.unwrap();
    assert_eq!(stub.requests()[2].authorization, None);
}

#[tokio::test]
async fn models_are_mapped_and_the_system_prompt_goes_first() {
    let stub = LlmStub::start();
    stub.reply_when("pirate", "Arr.");
    let mapped = client(LlmConfig {
        models: vec![("gpt-4o".into(), "llama3.1:8b".into())],
        temperature: Some(0.3),
        max_tokens: Some(64),
        ..config(&stub)
    });
    // The rule matches the system prompt when the user message does not.
    let r = mapped
        .complete(&ask(Some("gpt-4o"), Some("talk like a pirate"), "hello"))
        .await
        .unwrap();
    assert_eq!(r.content, "Arr.");
    assert_eq!(r.model, "llama3.1:8b");
    mapped
        .complete(&ask(Some("gpt-4"), None, "x"))
        .await
        .unwrap();
    let with_default = client(LlmConfig {
        default_model: Some("qwen2.5".into()),
        ..config(&stub)
    });
    with_default
        .complete(&ask(Some("gpt-4"), None, "x"))
        .await
        .unwrap();
    with_default.complete(&ask(None, None, "x")).await.unwrap();
    let e = client(config(&stub)).complete(&ask(None, None, "x")).await;
    assert!(e.unwrap_err().contains("--ai-default-model"));

    let bodies: Vec<_> = stub.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 4, "a request without a model is not sent");
    assert_eq!(
        bodies[0],
        json!({ "model": "llama3.1:8b", "messages": [
            { "role": "system", "content": "talk like a pirate" },
            { "role": "user", "content": "hello" } ],
            "temperature": 0.3, "max_tokens": 64 })
    );
    assert_eq!(bodies[1]["model"], "gpt-4", "unmapped names pass through");
    assert_eq!(bodies[2]["model"], "qwen2.5");
    assert_eq!(bodies[3]["model"], "qwen2.5");
    assert!(bodies[2].get("temperature").is_none());
}

#[tokio::test]
async fn a_tool_call_round_trip() {
    let stub = LlmStub::start();
    stub.tool_call_when("weather", "get_weather", r#"{"city":"Paris"}"#);
    let llm = client(config(&stub));
    let tool = ToolSpec {
        name: "get_weather".into(),
        description: "The weather of a city".into(),
        parameters: json!({ "type": "object", "properties": { "city": { "type": "string" } } }),
    };
    let mut request = LlmRequest {
        tools: vec![tool],
        ..ask(
            Some("gpt-4o"),
            Some("You help travellers."),
            "weather in Paris?",
        )
    };
    let first = llm.complete(&request).await.unwrap();
    assert_eq!(first.content, "");
    assert_eq!(
        first.tool_calls,
        vec![ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into()
        }]
    );
    request.messages.push(ChatMessage {
        role: "assistant".into(),
        tool_calls: first.tool_calls.clone(),
        ..ChatMessage::default()
    });
    request.messages.push(ChatMessage {
        role: "tool".into(),
        content: "sunny, 21 °C".into(),
        tool_call_id: Some("call_1".into()),
        ..ChatMessage::default()
    });
    let second = llm.complete(&request).await.unwrap();
    assert_eq!(second.content, "stub: tool said sunny, 21 °C");
    let sent = &stub.requests()[1].body;
    assert_eq!(
        sent["tools"],
        json!([{ "type": "function", "function": { "name": "get_weather",
            "description": "The weather of a city",
            "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } } }])
    );
    assert_eq!(
        sent["messages"],
        json!([
            { "role": "system", "content": "You help travellers." },
            { "role": "user", "content": "weather in Paris?" },
            { "role": "assistant", "content": null, "tool_calls": [ { "id": "call_1", "type": "function",
                "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } } ] },
            { "role": "tool", "content": "sunny, 21 °C", "tool_call_id": "call_1" }
        ])
    );
}

#[tokio::test]
async fn a_rate_limit_is_retried_and_server_errors_give_up_after_the_retries() {
    let stub = LlmStub::start();
    let llm = client(config(&stub));
    stub.fail_next(1, 429);
    let r = llm.complete(&ask(Some("m"), None, "again")).await.unwrap();
    assert_eq!(r.content, "stub: again");
    assert_eq!(stub.requests().len(), 2);

    stub.fail_next(3, 500);
    let e = llm
        .complete(&ask(Some("m"), None, "boom"))
        .await
        .unwrap_err();
    assert_eq!(e, "AI provider answered HTTP 500: stub failure 500");
    assert_eq!(stub.requests().len(), 5, "the first attempt and 2 retries");

    // Other 4xx are not retried, and the key never shows in the message.
    stub.fail_next(1, 401);
    let e = llm.complete(&ask(Some("m"), None, "no")).await.unwrap_err();
    assert_eq!(
        e,
        "AI provider answered HTTP 401: Incorrect API key provided: Bearer …"
    );
    assert_eq!(stub.requests().len(), 6);
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_errors() {
    let stub = LlmStub::start();
    let slow = client(LlmConfig {
        timeout: Duration::from_millis(200),
        retries: 1,
        ..config(&stub)
    });
    stub.delay(1_000);
    let started = Instant::now();
    let e = slow
        .complete(&ask(Some("m"), None, "hi"))
        .await
        .unwrap_err();
    assert_eq!(e, "AI provider gave no answer within 200 ms");
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(stub.requests().len(), 2, "a timeout is retried");
    stub.delay(0);

    let llm = client(LlmConfig {
        retries: 0,
        ..config(&stub)
    });
    stub.malformed_next(1);
    let e = llm.complete(&ask(Some("m"), None, "hi")).await.unwrap_err();
    assert_eq!(
        e,
        "AI provider gave a malformed answer: no choices[0].message"
    );
    assert!(llm.complete(&ask(Some("m"), None, "hi")).await.is_ok());

    // The prompt size cap: refused before sending.
    let before = stub.requests().len();
    let huge = ask(Some("m"), None, &"word ".repeat(300_000));
    let e = llm.complete(&huge).await.unwrap_err();
    assert!(e.contains("over the limit of 1048576 bytes"), "{e}");
    assert_eq!(stub.requests().len(), before);
}

#[tokio::test]
async fn streamed_deltas_are_assembled() {
    let stub = LlmStub::start();
    stub.reply_when("poem", "roses are red");
    stub.tool_call_when("book", "book_table", r#"{"people":4,"time":"20:00"}"#);
    let llm = client(config(&stub));
    let mut deltas = Vec::new();
    let r = llm
        .complete_stream(
            &ask(Some("gpt-4o"), None, "a poem please"),
            &mut |d: &str| deltas.push(d.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(deltas, ["roses ", "are ", "red"]);
    assert_eq!(r.content, "roses are red");
    assert_eq!((r.prompt_tokens, r.completion_tokens), (3, 3));
    let sent = &stub.requests()[0].body;
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({ "include_usage": true }));

    let r = llm
        .complete_stream(
            &ask(Some("gpt-4o"), None, "book a table"),
            &mut |_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(r.tool_calls[0].name, "book_table");
    assert_eq!(r.tool_calls[0].arguments, r#"{"people":4,"time":"20:00"}"#);
}

#[tokio::test]
async fn the_guard_refuses_a_provider_outside_the_allow_list() {
    let stub = LlmStub::start();
    let llm = LlmClient::new(guarded(None), config(&stub));
    let e = llm.complete(&ask(Some("m"), None, "hi")).await.unwrap_err();
    assert!(
        e.contains("refused") && e.contains("--allow-outbound"),
        "{e}"
    );
    assert!(!e.contains(KEY));
    assert!(stub.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_composite_performer_uses_the_provider() {
    let stub = LlmStub::start();
    let mut effects = Effects::http_only(guarded(Some("127.0.0.1/32")));
    let effect = Effect::Llm(ask(Some("m"), None, "hi"));
    assert_eq!(
        effects.perform(&effect).await,
        EffectResult::Llm(Err(NO_AI_PROVIDER.into()))
    );
    effects.llm = Some(client(config(&stub)));
    match effects.perform(&effect).await {
        EffectResult::Llm(Ok(r)) => assert_eq!(r.content, "stub: hi"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn serve_options_configure_the_provider() {
    let config = flowdm::cli::ServeArgs::parse_args([
        "--ai-url",
        "http://127.0.0.1:11434/v1/",
        "--ai-model",
        "gpt-4o=llama3.1:8b, gpt-4o-mini=qwen2.5",
        "--ai-default-model",
        "llama3.1:8b",
        "--ai-timeout-ms",
        "1500",
        "--ai-retries",
        "0",
        "--ai-temperature",
        "0.5",
        "--ai-max-tokens",
        "300",
        "--ai-max-tokens-per-turn",
        "5000",
    ])
    .unwrap()
    .into_config();
    let ai = config.ai.unwrap();
    assert_eq!(ai.base_url, "http://127.0.0.1:11434/v1");
    assert_eq!(
        ai.models,
        vec![
            ("gpt-4o".to_string(), "llama3.1:8b".to_string()),
            ("gpt-4o-mini".to_string(), "qwen2.5".to_string())
        ]
    );
    assert_eq!(ai.default_model.as_deref(), Some("llama3.1:8b"));
    assert_eq!(ai.timeout, Duration::from_millis(1500));
    assert_eq!(
        (ai.retries, ai.temperature, ai.max_tokens),
        (0, Some(0.5), Some(300))
    );
    assert_eq!(config.effect_budget.max_llm_tokens, 5000);

    let default = flowdm::cli::ServeArgs::parse_args(Vec::<String>::new())
        .unwrap()
        .into_config();
    assert!(default.ai.is_none());
    assert_eq!(default.effect_budget.max_llm_tokens, 20_000);

    for bad in [
        ["--ai-url", "127.0.0.1:11434/v1"],
        ["--ai-url", "ftp://example.com"],
        ["--ai-model", "gpt-4o"],
        ["--ai-temperature", "7"],
    ] {
        let e = flowdm::cli::ServeArgs::parse_args(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains(bad[0]), "{e}");
    }
}
