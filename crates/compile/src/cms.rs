//! CMS responses (2024+ `message` steps, v3 reprompts): `version.programResources.messages`
//! when the export has it, otherwise compiled from the `responses` /
//! `responseDiscriminators` / `responseMessages` (or 2023 `responseVariants`) tables into the
//! same shape: `{variants: {"<channel>:<language>": [{data: {text: Slate, delay}, condition}]}}`.

use super::content;
use super::names::Names;
use super::{rows, s};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Every response of the CMS tables compiled to runtime messages.
pub fn compile_responses(doc: &Value, names: &Names) -> Map<String, Value> {
    // discriminator id → (response id, "channel:language", variant order)
    let mut discriminators: HashMap<&str, (&str, String, Vec<&str>)> = HashMap::new();
    for d in rows(doc, "responseDiscriminators") {
        let (Some(id), Some(rid)) = (s(d, "id"), s(d, "responseID")) else {
            continue;
        };
        let key = format!(
            "{}:{}",
            s(d, "channel").unwrap_or("default"),
            s(d, "language").unwrap_or("en-us")
        );
        let order = d
            .get("variantOrder")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        discriminators.insert(id, (rid, key, order));
    }
    let mut by_disc: HashMap<&str, Vec<&Value>> = HashMap::new();
    for m in rows(doc, "responseMessages")
        .iter()
        .chain(rows(doc, "responseVariants"))
    {
        if let Some(did) = s(m, "discriminatorID") {
            by_disc.entry(did).or_default().push(m);
        }
    }
    let mut out: Map<String, Value> = Map::new();
    for (did, (rid, key, order)) in &discriminators {
        let mut variants = by_disc.remove(did).unwrap_or_default();
        variants.sort_by_key(|v| {
            s(v, "id")
                .and_then(|id| order.iter().position(|o| *o == id))
                .unwrap_or(usize::MAX)
        });
        // Voiceflow's compiled resources leave out variants without text.
        let compiled: Vec<Value> = variants
            .iter()
            .filter(|v| !content::markup_is_empty(v.get("text").unwrap_or(&Value::Null)))
            .map(|v| {
                let text = content::markup_slate(names, v.get("text").unwrap_or(&Value::Null));
                let condition = v
                    .get("condition")
                    .filter(|c| !c.is_null())
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({ "data": { "text": text, "delay": v.get("delay").cloned().unwrap_or(Value::Null) }, "condition": condition })
            })
            .collect();
        let entry = out
            .entry(rid.to_string())
            .or_insert_with(|| json!({ "variants": {} }));
        if let Some(map) = entry.get_mut("variants").and_then(Value::as_object_mut) {
            map.insert(key.clone(), Value::Array(compiled));
        }
    }
    out
}

/// The messages the runtime reads: `programResources.messages`, completed from the CMS tables.
pub fn messages(doc: &Value, names: &Names) -> Map<String, Value> {
    let mut out = doc
        .get("version")
        .and_then(|v| v.get("programResources"))
        .and_then(|r| r.get("messages"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if rows(doc, "responseDiscriminators").is_empty() {
        return out;
    }
    for (id, m) in compile_responses(doc, names) {
        out.entry(id).or_insert(m);
    }
    out
}

/// The first default-language text of a message as Slate (reprompts name a response by id).
pub fn message_slate(messages: &Map<String, Value>, id: &str) -> Option<Value> {
    let variants = messages.get(id)?.get("variants")?;
    let list = variants
        .get("default:en-us")
        .or_else(|| variants.as_object().and_then(|o| o.values().next()))?
        .as_array()?;
    list.iter()
        .find_map(|v| v.get("data")?.get("text").cloned())
        .filter(|t| !content::slate_text(t).trim().is_empty())
}
