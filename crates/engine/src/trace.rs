//! Traces (`spec/dm-api.md` §4) and their post-processing (§4.4).

use super::request::Config;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One trace as returned to clients.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    #[serde(rename = "type")]
    pub ty: String,
    /// `None` = no `payload` key at all (the automatic `end` trace); `Some(Json(Null))` = `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    pub time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_path: Option<Value>,
    /// A custom action's stop for the client (`crate::stops`).
    #[serde(rename = "stopID", default, skip_serializing_if = "Option::is_none")]
    pub stop_id: Option<String>,
    /// The server-to-server resume of that stop (`{url, token}`, stateful routes; set by the
    /// server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Value>,
    /// Made outside the runtime's execution (the dialog manager's `entity-filling` and its
    /// prompt, the NLU's `debug` intent trace): the `/v2beta1` stream leaves them out
    /// (`spec/dm-api.md` §1.6). Never serialised.
    #[serde(skip)]
    pub outside_runtime: bool,
}

/// A trace payload. `text` traces, the most frequent, are built typed (no JSON maps to allocate
/// and hash); they serialise to exactly the JSON of §4.2.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    Json(Value),
    Text(Box<TextPayload>),
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Payload, D::Error> {
        Value::deserialize(d).map(Payload::Json)
    }
}

/// `{slate: {id, content, messageDelayMilliseconds}, message, delay}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextPayload {
    pub slate: Slate,
    pub message: String,
    pub delay: Value,
    /// An AI step's answer (`ai: true`; absent otherwise).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ai: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slate {
    pub id: String,
    pub content: Value,
    pub message_delay_milliseconds: Value,
}

impl Payload {
    /// A field of a JSON payload (`message` also of a text payload).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Payload::Json(v) => v.get(key),
            Payload::Text(_) => None,
        }
    }

    pub fn as_json(&self) -> Option<&Value> {
        match self {
            Payload::Json(v) => Some(v),
            Payload::Text(_) => None,
        }
    }
}

impl Trace {
    pub fn new(ty: impl Into<String>, payload: Value, time: u64) -> Trace {
        Trace {
            ty: ty.into(),
            payload: Some(Payload::Json(payload)),
            time,
            paths: None,
            default_path: None,
            stop_id: None,
            resume: None,
            outside_runtime: false,
        }
    }

    /// A string field of the payload (`message` of text traces included).
    pub fn payload_str(&self, key: &str) -> Option<&str> {
        match self.payload.as_ref()? {
            Payload::Text(t) if key == "message" => Some(&t.message),
            other => other.get(key)?.as_str(),
        }
    }

    /// The content a repeat would say again: the Slate of a text trace, the message of a speak.
    pub fn output(&self) -> Option<Value> {
        match (self.ty.as_str(), self.payload.as_ref()?) {
            ("text", Payload::Text(t)) => Some(t.slate.content.clone()),
            ("text", Payload::Json(v)) => v.pointer("/slate/content").cloned(),
            ("speak", Payload::Json(v)) => v.get("message").cloned(),
            _ => None,
        }
    }
}

/// Maximum length of a debug message (longer ones are truncated with `...`).
pub const DEBUG_MAX: usize = 500;

pub fn truncate_debug(msg: &str) -> String {
    if msg.chars().count() <= DEBUG_MAX {
        return msg.to_string();
    }
    let cut: String = msg.chars().take(DEBUG_MAX).collect();
    format!("{cut}...")
}

/// Removes every `<...>` tag, including an unterminated trailing `<...` (§3 `stripSSML`).
pub fn strip_ssml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        // `</?[^>]+(>|$)`: at least one non-`>` character is needed for a tag.
        if after.is_empty() || after.starts_with('>') {
            out.push_str(&rest[..start + 1]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        match after.find('>') {
            Some(end) => rest = &after[end + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// The `src` of an `<audio>` element when it is the first element of `msg`.
fn first_audio_src(msg: &str) -> Option<Option<String>> {
    let start = msg.find('<')?;
    let tag = &msg[start + 1..];
    let name_end = tag
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(tag.len());
    if !tag[..name_end].eq_ignore_ascii_case("audio") {
        return None;
    }
    let close = tag.find('>').unwrap_or(tag.len());
    let attrs = &tag[name_end..close];
    let src = attrs.find("src=").and_then(|i| {
        let rest = &attrs[i + 4..];
        let quote = rest.chars().next()?;
        if quote == '"' || quote == '\'' {
            let body = &rest[1..];
            body.find(quote).map(|e| body[..e].to_string())
        } else {
            Some(
                rest.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .to_string(),
            )
        }
    });
    Some(src)
}

/// Speak post-processor, filter and SSML stripping (§4.4 steps 4–5).
pub fn post_process(mut traces: Vec<Trace>, config: &Config) -> Vec<Trace> {
    let strip = config.strip_ssml();
    traces.retain(|t| !config.excludes(&t.ty));
    for t in traces.iter_mut() {
        if t.ty == "speak" {
            if let Some(Payload::Json(Value::Object(p))) = t.payload.as_mut() {
                let msg = p
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                match first_audio_src(&msg) {
                    Some(src) => {
                        p.insert("type".into(), "audio".into());
                        p.insert("src".into(), src.map(Value::String).unwrap_or(Value::Null));
                    }
                    None => {
                        p.insert("type".into(), "message".into());
                    }
                }
                if strip {
                    p.insert("message".into(), strip_ssml(&msg).into());
                }
            }
        }
    }
    traces
}

pub fn debug_payload(node_type: Option<&str>, message: &str) -> Value {
    match node_type {
        Some(t) => json!({ "type": t, "message": truncate_debug(message) }),
        None => json!({ "message": truncate_debug(message) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_unterminated_tail() {
        assert_eq!(
            strip_ssml("<speak>Hi <break time=\"1s\"/>there</speak>"),
            "Hi there"
        );
        assert_eq!(strip_ssml("a < b"), "a ");
        assert_eq!(strip_ssml("x <>y"), "x <>y");
        assert_eq!(strip_ssml("hello <voice"), "hello ");
    }

    #[test]
    fn detects_leading_audio() {
        assert_eq!(
            first_audio_src("<audio src=\"https://a/b.mp3\"/> hi"),
            Some(Some("https://a/b.mp3".into()))
        );
        assert_eq!(first_audio_src("<voice name=\"x\">hi</voice>"), None);
        assert_eq!(first_audio_src("<audio/>"), Some(None));
    }

    #[test]
    fn truncates_debug() {
        let long = "x".repeat(600);
        assert_eq!(truncate_debug(&long).len(), 503);
    }
}
