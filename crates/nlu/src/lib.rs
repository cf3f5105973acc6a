//! Text → intent. For now an exact matcher: a text equal (case-insensitively, whitespace
//! normalised) to one of an intent's utterances, or to an intent's name, resolves to that intent
//! with confidence 1; otherwise to the `None` intent. Utterances with slots, fuzzy matching and
//! entity filling come with the NLU release.

pub mod model;
pub mod synonyms;

use flowdm_model::VersionInfo;
use serde_json::Value;
use std::collections::HashMap;

/// Lookup table built once per loaded version.
#[derive(Debug, Clone, Default)]
pub struct IntentIndex {
    by_utterance: HashMap<String, String>,
    names: Vec<String>,
}

/// What the matcher found.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    Intent { name: String, confidence: f64 },
    None,
}

/// Lowercase and collapse whitespace runs.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl IntentIndex {
    /// The index of a loaded version: its interaction model, filtered by `usedIntentsSet`.
    pub fn for_version(version: &VersionInfo) -> IntentIndex {
        IntentIndex::build(version.model.as_ref(), version.used_intents.as_deref())
    }

    /// Builds the index from `prototype.model` (`{intents:[{key, name, inputs:[{text}]}]}`),
    /// keeping only intents listed in `used` (keys or names) when it is given.
    pub fn build(model: Option<&Value>, used: Option<&[String]>) -> IntentIndex {
        let mut index = IntentIndex::default();
        let Some(intents) = model
            .and_then(|m| m.get("intents"))
            .and_then(Value::as_array)
        else {
            return index;
        };
        for intent in intents {
            let Some(name) = intent.get("name").and_then(Value::as_str) else {
                continue;
            };
            let key = intent.get("key").and_then(Value::as_str).unwrap_or(name);
            if let Some(used) = used {
                if !used.iter().any(|u| u == key || u == name) {
                    continue;
                }
            }
            index.names.push(name.to_string());
            let inputs = intent
                .get("inputs")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for input in inputs {
                let Some(text) = input.get("text").and_then(Value::as_str) else {
                    continue;
                };
                if text.contains("{{") {
                    continue; // slot utterances need the real NLU
                }
                let norm = normalize(text);
                if !norm.is_empty() {
                    index
                        .by_utterance
                        .entry(norm)
                        .or_insert_with(|| name.to_string());
                }
            }
        }
        index
    }

    pub fn predict(&self, text: &str) -> Prediction {
        if let Some(name) = self.by_utterance.get(&normalize(text)) {
            return Prediction::Intent {
                name: name.clone(),
                confidence: 1.0,
            };
        }
        if let Some(name) = self.names.iter().find(|n| n.as_str() == text.trim()) {
            return Prediction::Intent {
                name: name.clone(),
                confidence: 1.0,
            };
        }
        Prediction::None
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_utterances_case_insensitively() {
        let model = json!({"intents": [
            {"key": "k1", "name": "yes", "inputs": [{"text": "yes"}, {"text": "Yeah  sure"}]},
            {"key": "k2", "name": "order", "inputs": [{"text": "order a {{[size].s1}} pizza"}]},
            {"key": "k3", "name": "unused", "inputs": [{"text": "nope"}]}
        ]});
        let used = vec!["k1".to_string(), "order".to_string()];
        let idx = IntentIndex::build(Some(&model), Some(&used));
        assert_eq!(
            idx.predict(" YEAH sure "),
            Prediction::Intent {
                name: "yes".into(),
                confidence: 1.0
            }
        );
        assert_eq!(
            idx.predict("order"),
            Prediction::Intent {
                name: "order".into(),
                confidence: 1.0
            }
        );
        assert_eq!(idx.predict("order a large pizza"), Prediction::None);
        assert_eq!(idx.predict("nope"), Prediction::None);
    }
}
