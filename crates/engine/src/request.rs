//! Requests ("actions") and `config` (`spec/dm-api.md` §2, §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid runtime request type: {0}")]
pub struct InvalidRequest(pub String);

/// A validated request: a JSON object with a non-empty string `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Request(Value);

impl Request {
    /// Validates a raw request; `payload: null` is dropped for non-intent requests (§2.1).
    pub fn from_value(mut v: Value) -> Result<Request, InvalidRequest> {
        let ok = v
            .get("type")
            .and_then(Value::as_str)
            .map(|t| !t.is_empty())
            .unwrap_or(false);
        if !ok || !v.is_object() {
            return Err(InvalidRequest(v.to_string()));
        }
        if let Some(obj) = v.as_object_mut() {
            let ty = obj
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let adaptable = ty != "intent" && ty != "text";
            if adaptable && obj.get("payload").map(Value::is_null).unwrap_or(false) {
                obj.remove("payload");
            }
            if ty == "intent" {
                if let Some(p) = obj.get_mut("payload").and_then(Value::as_object_mut) {
                    if !p.get("entities").map(Value::is_array).unwrap_or(false) {
                        p.insert("entities".into(), Value::Array(vec![]));
                    }
                }
            }
        }
        Ok(Request(v))
    }

    pub fn new(ty: &str, payload: Option<Value>) -> Request {
        let mut m = Map::new();
        m.insert("type".into(), ty.into());
        if let Some(p) = payload {
            m.insert("payload".into(), p);
        }
        Request(Value::Object(m))
    }

    /// An intent request `{type:"intent", payload:{query, intent:{name}, entities, confidence?}}`.
    pub fn intent(
        name: &str,
        query: &str,
        entities: Vec<Value>,
        confidence: Option<f64>,
    ) -> Request {
        let mut p = Map::new();
        p.insert("query".into(), query.into());
        p.insert("intent".into(), serde_json::json!({ "name": name }));
        p.insert("entities".into(), Value::Array(entities));
        if let Some(c) = confidence {
            p.insert("confidence".into(), c.into());
        }
        Request::new("intent", Some(Value::Object(p)))
    }

    pub fn ty(&self) -> &str {
        self.0.get("type").and_then(Value::as_str).unwrap_or("")
    }
    pub fn payload(&self) -> Option<&Value> {
        self.0.get("payload")
    }
    pub fn as_value(&self) -> &Value {
        &self.0
    }
    pub fn into_value(self) -> Value {
        self.0
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
    pub fn set(&mut self, key: &str, v: Value) {
        if let Some(o) = self.0.as_object_mut() {
            o.insert(key.into(), v);
        }
    }

    pub fn is_launch(&self) -> bool {
        self.ty() == "launch"
    }
    /// An intent request that is not an Alexa event (payload without `data`).
    pub fn is_intent(&self) -> bool {
        self.ty() == "intent"
            && self
                .payload()
                .map(|p| p.get("data").is_none())
                .unwrap_or(false)
    }
    pub fn intent_name(&self) -> Option<&str> {
        if !self.is_intent() {
            return None;
        }
        self.payload()?.get("intent")?.get("name")?.as_str()
    }
    pub fn query(&self) -> Option<&str> {
        self.payload()?.get("query")?.as_str()
    }
    pub fn entities(&self) -> &[Value] {
        self.payload()
            .and_then(|p| p.get("entities"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    pub fn confidence(&self) -> Option<f64> {
        self.payload()?.get("confidence")?.as_f64()
    }
    /// A button (`path-…`) request with a string label.
    pub fn path_label(&self) -> Option<&str> {
        if !self.ty().starts_with("path-") {
            return None;
        }
        self.payload()?.get("label")?.as_str()
    }
}

/// The `config` object of an interact request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<bool>,
    #[serde(default, rename = "stripSSML", skip_serializing_if = "Option::is_none")]
    pub strip_ssml: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_delegate: Option<bool>,
    /// A deadline for the stops of this turn (`crate::stops`, flowdm's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_deadline: Option<crate::stops::StopDeadline>,
}

pub const DEFAULT_EXCLUDE: [&str; 3] = ["block", "debug", "flow"];

impl Config {
    pub fn strip_ssml(&self) -> bool {
        self.strip_ssml != Some(false)
    }
    pub fn stop_all(&self) -> bool {
        self.stop_all == Some(true)
    }
    pub fn self_delegate(&self) -> bool {
        self.self_delegate == Some(true)
    }
    pub fn stops_on(&self, node_type: &str) -> bool {
        self.stop_types
            .as_ref()
            .map(|t| t.iter().any(|s| s == node_type))
            .unwrap_or(false)
    }
    pub fn excludes(&self, trace_type: &str) -> bool {
        match &self.exclude_types {
            Some(list) => list.iter().any(|t| t == trace_type),
            None => DEFAULT_EXCLUDE.contains(&trace_type),
        }
    }
}
