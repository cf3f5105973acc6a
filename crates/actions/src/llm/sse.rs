//! A streamed answer (`stream: true`): server-sent events, one `data: {json}` line per chunk,
//! ending with `data: [DONE]`. Each chunk carries `choices[0].delta.content` (a piece of the
//! text) and/or `choices[0].delta.tool_calls` fragments (by `index`: the first one has the id
//! and name, the following ones pieces of `arguments`); the last one may carry `usage`.
//!
//! [`crate::outbound::OutboundClient`] reads whole bodies (its caps and timeout apply to the
//! whole exchange), so the events are parsed once the body has arrived: the deltas reach the
//! caller at the end, in order, rather than as they are produced. The guard is not bypassed.

use super::error::LlmError;
use super::wire::{answered_model, capped, usage};
use flowdm_engine::{LlmResponse, ToolCall};
use serde_json::Value;
use std::collections::BTreeMap;

/// A tool call being assembled from its fragments.
#[derive(Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// The response assembled from an SSE `body`, `on_delta` called with every content piece.
pub(crate) fn parse_stream(
    body: &[u8],
    model: &str,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<LlmResponse, LlmError> {
    let text = String::from_utf8_lossy(body);
    let mut content = String::new();
    let mut calls: BTreeMap<u64, PartialCall> = BTreeMap::new();
    let mut tokens = (0, 0);
    let mut answered = None;
    let mut events = 0usize;
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        if data.is_empty() {
            continue;
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| LlmError::Malformed(format!("a stream event is not JSON ({e})")))?;
        events += 1;
        if chunk.get("error").is_some() {
            let why = super::wire::error_message(data.as_bytes())
                .unwrap_or_else(|| "an error event".into());
            return Err(LlmError::Malformed(format!("the stream ended with {why}")));
        }
        if chunk.get("usage").is_some_and(Value::is_object) {
            tokens = usage(&chunk);
        }
        if answered.is_none() {
            answered = chunk
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let Some(delta) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(|c| c.get("delta"))
        else {
            continue;
        };
        if let Some(piece) = delta.get("content").and_then(Value::as_str) {
            if !piece.is_empty() {
                on_delta(piece);
                content.push_str(piece);
            }
        }
        if let Some(fragments) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, f) in fragments.iter().enumerate() {
                let index = f
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(position as u64);
                let call = calls.entry(index).or_default();
                if let Some(id) = f.get("id").and_then(Value::as_str) {
                    call.id = Some(id.to_string());
                }
                let function = f.get("function");
                if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) {
                    call.name.push_str(name);
                }
                if let Some(args) = function
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                {
                    call.arguments.push_str(args);
                }
            }
        }
    }
    if events == 0 {
        return Err(LlmError::Malformed("no data events in the stream".into()));
    }
    let tool_calls = calls
        .into_iter()
        .map(|(index, c)| {
            if c.name.is_empty() {
                return Err(LlmError::Malformed(format!(
                    "streamed tool call {index} has no function.name"
                )));
            }
            Ok(ToolCall {
                id: c.id.unwrap_or_else(|| format!("call_{index}")),
                name: c.name,
                arguments: if c.arguments.is_empty() {
                    "{}".into()
                } else {
                    c.arguments
                },
            })
        })
        .collect::<Result<_, _>>()?;
    let model = answered
        .map(|m| answered_model(&serde_json::json!({ "model": m }), model))
        .unwrap_or_else(|| model.to_string());
    Ok(LlmResponse {
        content: capped(content),
        tool_calls,
        model,
        prompt_tokens: tokens.0,
        completion_tokens: tokens.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_tool_call_fragments_are_assembled() {
        let body = concat!(
            "data: {\"model\":\"m1\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n",
            ": keep-alive\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3}}\n\n",
            "data: [DONE]\n\n"
        );
        let mut seen = Vec::new();
        let r = parse_stream(body.as_bytes(), "asked", &mut |d: &str| {
            seen.push(d.to_string())
        })
        .unwrap();
        assert_eq!(seen, ["Hel", "lo"]);
        assert_eq!(r.content, "Hello");
        assert_eq!(r.model, "m1");
        assert_eq!(r.tool_calls[0].name, "f");
        assert_eq!(r.tool_calls[0].arguments, "{\"a\":1}");
        assert_eq!((r.prompt_tokens, r.completion_tokens), (2, 3));
        assert!(parse_stream(b"nothing here", "m", &mut |_: &str| {}).is_err());
        assert!(parse_stream(b"data: {oops\n", "m", &mut |_: &str| {}).is_err());
    }
}
