//! The interaction model (`version.prototype.model`, `spec/dm-api.md` §8.1) as typed data:
//! intents with their utterances and slots, and the slot (entity) types.

use serde_json::Value;

/// `prototype.model`: `{intents, slots}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NluModel {
    pub intents: Vec<IntentDef>,
    pub slots: Vec<SlotDef>,
}

/// One intent of the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntentDef {
    pub key: String,
    pub name: String,
    /// Utterances as exported (`{{[slot].key}}` annotations untouched), non-empty ones only.
    pub utterances: Vec<String>,
    /// The intent's slots in model order.
    pub slots: Vec<IntentSlot>,
}

/// A slot of an intent (`intent.slots[]`): which entity, whether it is required, how to ask.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntentSlot {
    /// The slot type's key (`id`).
    pub id: String,
    /// The slot type's name (looked up by key; the key when the type is missing).
    pub name: String,
    pub required: bool,
    /// `dialog.prompt`: Slate `{content}` (chat) or `{text, voice}` (voice) entries.
    pub prompts: Vec<Value>,
    /// `dialog.utterances[].text`: how people answer the prompt.
    pub utterances: Vec<String>,
}

/// An entity type (`model.slots[]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotDef {
    pub key: String,
    pub name: String,
    /// `type.value`: `Custom`, `VF.NUMBER`, `AMAZON.US_CITY`, …
    pub type_name: String,
    /// `inputs`: lines of comma-separated synonyms, the first value canonical.
    pub inputs: Vec<String>,
}

impl SlotDef {
    /// Custom list types (`type.value` lowercased is `custom`).
    pub fn is_custom(&self) -> bool {
        self.type_name.eq_ignore_ascii_case("custom")
    }

    /// The synonym lines: each line's trimmed, non-empty values (first = canonical).
    pub fn synonym_lines(&self) -> Vec<Vec<String>> {
        self.inputs
            .iter()
            .map(|line| {
                line.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
            .collect()
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

impl NluModel {
    /// Reads `{intents, slots}`; entries without a name are skipped, anything else missing is
    /// empty.
    pub fn from_value(model: Option<&Value>) -> NluModel {
        let Some(model) = model else {
            return NluModel::default();
        };
        let slots: Vec<SlotDef> = array_of(model, "slots")
            .iter()
            .filter_map(|s| {
                let key = str_of(s, "key")?.to_string();
                let name = str_of(s, "name").unwrap_or(&key).to_string();
                let type_name = s
                    .get("type")
                    .and_then(|t| t.get("value").or(Some(t)))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let inputs = array_of(s, "inputs")
                    .iter()
                    .filter_map(|i| i.as_str().or_else(|| str_of(i, "value")))
                    .map(str::to_string)
                    .collect();
                Some(SlotDef {
                    key,
                    name,
                    type_name,
                    inputs,
                })
            })
            .collect();
        let intents = array_of(model, "intents")
            .iter()
            .filter_map(|i| {
                let name = str_of(i, "name").filter(|n| !n.is_empty())?.to_string();
                let key = str_of(i, "key").unwrap_or(&name).to_string();
                let utterances = array_of(i, "inputs")
                    .iter()
                    .filter_map(|u| str_of(u, "text"))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                let intent_slots = array_of(i, "slots")
                    .iter()
                    .filter_map(|s| {
                        let id = str_of(s, "id")?.to_string();
                        let name = slots
                            .iter()
                            .find(|d| d.key == id)
                            .map(|d| d.name.clone())
                            .unwrap_or_else(|| id.clone());
                        let dialog = s.get("dialog").unwrap_or(&Value::Null);
                        Some(IntentSlot {
                            name,
                            required: s.get("required").and_then(Value::as_bool).unwrap_or(false),
                            prompts: array_of(dialog, "prompt").to_vec(),
                            utterances: array_of(dialog, "utterances")
                                .iter()
                                .filter_map(|u| str_of(u, "text"))
                                .filter(|t| !t.trim().is_empty())
                                .map(str::to_string)
                                .collect(),
                            id,
                        })
                    })
                    .collect();
                Some(IntentDef {
                    key,
                    name,
                    utterances,
                    slots: intent_slots,
                })
            })
            .collect();
        NluModel { intents, slots }
    }

    pub fn intent(&self, name: &str) -> Option<&IntentDef> {
        self.intents.iter().find(|i| i.name == name)
    }

    pub fn slot_by_key(&self, key: &str) -> Option<&SlotDef> {
        self.slots.iter().find(|s| s.key == key)
    }

    pub fn slot_by_name(&self, name: &str) -> Option<&SlotDef> {
        self.slots.iter().find(|s| s.name == name)
    }

    /// Rewrites `{{[name].key}}` annotations to `{name}`, the name looked up by key (the
    /// annotation's own name when the key is unknown), as the reference does before matching.
    pub fn rewrite_annotations(&self, utterance: &str) -> String {
        let mut out = String::with_capacity(utterance.len());
        let mut rest = utterance;
        while let Some(start) = rest.find("{{[") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let parsed = after.find("].").and_then(|close| {
                let name = &after[..close];
                let tail = &after[close + 2..];
                let end = tail.find("}}")?;
                Some((name, &tail[..end], &tail[end + 2..]))
            });
            match parsed {
                Some((name, key, remaining)) => {
                    let name = self
                        .slot_by_key(key)
                        .map(|s| s.name.as_str())
                        .unwrap_or(name);
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                    rest = remaining;
                }
                None => {
                    out.push_str(&rest[start..start + 3]);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pizza() -> Value {
        json!({
            "intents": [
                { "key": "i1", "name": "order_pizza",
                  "inputs": [ { "text": "i want a {{[size].s1}} pizza" }, { "text": " " }, { "text": "order pizza" } ],
                  "slots": [ { "id": "s1", "required": true,
                               "dialog": { "prompt": [ { "content": [ {"children": [ {"text": "What size?"} ] } ] } ],
                                           "utterances": [ { "text": "{{[size].s1}}" } ] } } ] },
                { "name": "" }
            ],
            "slots": [ { "key": "s1", "name": "size", "type": { "value": "Custom" }, "inputs": [ "small, tiny", "large, big , huge", " , " ] } ]
        })
    }

    #[test]
    fn reads_intents_and_slots() {
        let m = NluModel::from_value(Some(&pizza()));
        assert_eq!(m.intents.len(), 1);
        let i = m.intent("order_pizza").unwrap();
        assert_eq!(
            i.utterances,
            vec!["i want a {{[size].s1}} pizza", "order pizza"]
        );
        assert_eq!(i.slots[0].name, "size");
        assert!(i.slots[0].required);
        assert_eq!(i.slots[0].prompts.len(), 1);
        assert_eq!(i.slots[0].utterances, vec!["{{[size].s1}}"]);
        let s = m.slot_by_name("size").unwrap();
        assert!(s.is_custom());
        assert_eq!(
            s.synonym_lines(),
            vec![vec!["small", "tiny"], vec!["large", "big", "huge"]]
        );
    }

    #[test]
    fn rewrites_annotations_by_key() {
        let m = NluModel::from_value(Some(&pizza()));
        assert_eq!(
            m.rewrite_annotations("i want a {{[old].s1}} pizza"),
            "i want a {size} pizza"
        );
        assert_eq!(m.rewrite_annotations("{{[x].unknown}}!"), "{x}!");
        assert_eq!(
            m.rewrite_annotations("broken {{[x] tail"),
            "broken {{[x] tail"
        );
    }
}
