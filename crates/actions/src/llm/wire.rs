//! The OpenAI chat-completions wire format: the request body of an [`LlmRequest`] and the
//! [`LlmResponse`] of an answer. Built and read as `serde_json::Value`, because providers
//! differ in what they add and omit (null `content`, missing `usage`, `arguments` as an object)
//! and a lenient reader accepts all of them while naming what is really missing.

use super::error::LlmError;
use super::{LlmConfig, MAX_CONTENT_CHARS};
use flowdm_engine::{ChatMessage, LlmRequest, LlmResponse, ToolCall};
use serde_json::{json, Map, Value};

/// The request body for `request` sent to `model`, the configuration's defaults filling in
/// the temperature and `max_tokens` the step left out.
pub(crate) fn request_body(
    request: &LlmRequest,
    model: &str,
    config: &LlmConfig,
    stream: bool,
) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = request.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({ "role": "system", "content": system }));
    }
    messages.extend(request.messages.iter().map(message));
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = request.temperature.or(config.temperature) {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(n) = request.max_tokens.or(config.max_tokens) {
        body.insert("max_tokens".into(), json!(n));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters } })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if stream {
        body.insert("stream".into(), json!(true));
        // Without it a stream carries no token counts, and the per-turn budget could not count.
        body.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    Value::Object(body)
}

/// One message in OpenAI's shape: an assistant's tool calls as `tool_calls` (its `content`
/// null when empty, as OpenAI writes it), a tool result with its `tool_call_id`.
fn message(m: &ChatMessage) -> Value {
    let mut out = Map::new();
    out.insert("role".into(), json!(m.role));
    if m.tool_calls.is_empty() {
        out.insert("content".into(), json!(m.content));
    } else {
        let content = if m.content.is_empty() {
            Value::Null
        } else {
            json!(m.content)
        };
        out.insert("content".into(), content);
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({ "id": c.id, "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments } })
            })
            .collect();
        out.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(id) = &m.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(out)
}

/// The completion of a (non-streamed) answer body; `model` is what was asked for, used when
/// the answer does not name its model.
pub(crate) fn parse_completion(body: &[u8], model: &str) -> Result<LlmResponse, LlmError> {
    let answer: Value =
        serde_json::from_slice(body).map_err(|e| LlmError::Malformed(format!("not JSON ({e})")))?;
    let choice = answer
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| LlmError::Malformed("no choices[0]".into()))?;
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| LlmError::Malformed("no choices[0].message".into()))?;
    let content = match message.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(LlmError::Malformed(
                "choices[0].message.content is not text".into(),
            ))
        }
    };
    let tool_calls = match message.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(calls)) => calls
            .iter()
            .enumerate()
            .map(|(i, c)| tool_call(c, i))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(LlmError::Malformed(
                "choices[0].message.tool_calls is not a list".into(),
            ))
        }
    };
    let (prompt_tokens, completion_tokens) = usage(&answer);
    Ok(LlmResponse {
        content: capped(content),
        tool_calls,
        model: answered_model(&answer, model),
        prompt_tokens,
        completion_tokens,
    })
}

/// One `tool_calls[i]`: `{id, function: {name, arguments}}`; `arguments` written as an object
/// by some providers is kept as its JSON text.
fn tool_call(c: &Value, i: usize) -> Result<ToolCall, LlmError> {
    let function = c.get("function");
    let name = function
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| LlmError::Malformed(format!("tool_calls[{i}] has no function.name")))?;
    let arguments = match function.and_then(|f| f.get("arguments")) {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let id = c
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("call_{i}"));
    Ok(ToolCall {
        id,
        name: name.to_string(),
        arguments,
    })
}

/// `usage.prompt_tokens` and `usage.completion_tokens` (0 when absent).
pub(crate) fn usage(answer: &Value) -> (u32, u32) {
    let count = |name: &str| {
        answer
            .get("usage")
            .and_then(|u| u.get(name))
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    (count("prompt_tokens"), count("completion_tokens"))
}

/// The answer's `model`, else the one asked for.
pub(crate) fn answered_model(answer: &Value, asked: &str) -> String {
    answer
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or(asked)
        .to_string()
}

/// `content` cut to [`MAX_CONTENT_CHARS`] characters.
pub(crate) fn capped(mut content: String) -> String {
    if let Some((cut, _)) = content.char_indices().nth(MAX_CONTENT_CHARS) {
        tracing::warn!(
            limit = MAX_CONTENT_CHARS,
            "AI answer truncated to the response cap"
        );
        content.truncate(cut);
    }
    content
}

/// The provider's own explanation of an error answer: `error.message`, `error` as text, or
/// `message`.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = v
        .get("error")
        .and_then(|e| e.get("message").or(Some(e)))
        .and_then(Value::as_str)
        .or_else(|| v.get("message").and_then(Value::as_str))?;
    Some(text.to_string()).filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowdm_engine::ToolSpec;

    #[test]
    fn the_body_has_the_system_prompt_first_and_openai_tool_shapes() {
        let call = ToolCall {
            id: "c1".into(),
            name: "weather".into(),
            arguments: "{\"city\":\"Paris\"}".into(),
        };
        let request = LlmRequest {
            model: Some("gpt-4o".into()),
            system: Some("be brief".into()),
            messages: vec![
                ChatMessage {
                    role: "user".into(),
                    content: "hi".into(),
                    ..ChatMessage::default()
                },
                ChatMessage {
                    role: "assistant".into(),
                    tool_calls: vec![call],
                    ..ChatMessage::default()
                },
                ChatMessage {
                    role: "tool".into(),
                    content: "sunny".into(),
                    tool_call_id: Some("c1".into()),
                    ..ChatMessage::default()
                },
            ],
            temperature: None,
            max_tokens: Some(5),
            tools: vec![ToolSpec {
                name: "weather".into(),
                description: "the weather".into(),
                parameters: json!({"type": "object"}),
            }],
        };
        let config = LlmConfig {
            temperature: Some(0.2),
            max_tokens: Some(99),
            ..LlmConfig::default()
        };
        let body = request_body(&request, "m", &config, false);
        assert_eq!(
            body,
            json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                    {"role": "tool", "content": "sunny", "tool_call_id": "c1"}
                ],
                "temperature": 0.2,
                "max_tokens": 5,
                "tools": [{"type": "function", "function": {"name": "weather", "description": "the weather", "parameters": {"type": "object"}}}]
            })
        );
    }

    #[test]
    fn answers_are_read_leniently_and_what_is_missing_is_named() {
        let r = parse_completion(
            br#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"x","function":{"name":"f","arguments":{"a":1}}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
            "asked",
        )
        .unwrap();
        assert_eq!(r.content, "");
        assert_eq!(r.model, "asked");
        assert_eq!(r.tool_calls[0].arguments, "{\"a\":1}");
        assert_eq!((r.prompt_tokens, r.completion_tokens), (3, 4));
        let e = parse_completion(br#"{"choices":[]}"#, "m").unwrap_err();
        assert!(e.to_string().contains("choices[0]"), "{e}");
        let e = parse_completion(br#"{"choices":[{}]}"#, "m").unwrap_err();
        assert!(e.to_string().contains("choices[0].message"), "{e}");
        assert!(parse_completion(b"<html>", "m").is_err());
        let long = format!(
            r#"{{"choices":[{{"message":{{"content":"{}"}}}}]}}"#,
            "é".repeat(MAX_CONTENT_CHARS + 5)
        );
        let r = parse_completion(long.as_bytes(), "m").unwrap();
        assert_eq!(r.content.chars().count(), MAX_CONTENT_CHARS);
        assert_eq!(
            error_message(br#"{"error":{"message":"slow down"}}"#).as_deref(),
            Some("slow down")
        );
        assert_eq!(
            error_message(br#"{"error":"nope"}"#).as_deref(),
            Some("nope")
        );
    }
}
