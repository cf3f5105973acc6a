//! The NLU model of the compiled version (`prototype.model`, `spec/dm-api.md` §8.1): intents and
//! slots from `platformData`, the 2024+ CMS tables (`intents`, `utterances`, `entities`,
//! `entityVariants`, `requiredEntities`) and the prototype's own snapshot (built-ins).

use super::names::Names;
use super::{rows, s};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// CMS utterance markup → model utterance text (`{{[entity].entityID}}` for entities).
fn utterance_text(names: &Names, markup: &Value) -> String {
    fn item(names: &Names, v: &Value, out: &mut String) {
        match v {
            Value::String(t) => out.push_str(t),
            Value::Object(o) => {
                if let Some(id) = o.get("entityID").and_then(Value::as_str) {
                    let name = names.entity_name(id).unwrap_or(id);
                    out.push_str(&format!("{{{{[{name}].{id}}}}}"));
                } else if let Some(id) = o.get("variableID").and_then(Value::as_str) {
                    out.push_str(&format!("{{{}}}", names.variable(id)));
                } else if let Some(t) = o.get("text") {
                    item(names, t, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| item(names, i, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    match markup {
        Value::Array(paras) => paras.iter().for_each(|p| item(names, p, &mut out)),
        other => item(names, other, &mut out),
    }
    out
}

/// Appends the `slots` of `src` (`platformData` or the prototype's snapshot) whose keys are
/// not seen yet.
fn push_slots(slots: &mut Vec<Value>, seen: &mut HashSet<String>, src: &Value) {
    for sl in src
        .get("slots")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = s(sl, "key") {
            if seen.insert(k.to_string()) {
                slots.push(sl.clone());
            }
        }
    }
}

/// Builds `{intents, slots}`.
pub fn model(doc: &Value, names: &Names) -> (Vec<Value>, Vec<Value>) {
    let version = doc.get("version").unwrap_or(&Value::Null);
    let pd = version.get("platformData").unwrap_or(&Value::Null);
    let proto = version
        .get("prototype")
        .and_then(|p| p.get("model"))
        .unwrap_or(&Value::Null);

    let mut intents: Vec<Value> = Vec::new();
    // key or name → index in `intents`
    let mut seen: HashMap<String, usize> = HashMap::new();
    let push_intent = |intents: &mut Vec<Value>, seen: &mut HashMap<String, usize>, i: Value| {
        let key = s(&i, "key")
            .or_else(|| s(&i, "name"))
            .unwrap_or("")
            .to_string();
        let name = s(&i, "name").unwrap_or("").to_string();
        if name.is_empty() {
            return;
        }
        if let Some(&at) = seen.get(&key).or_else(|| seen.get(&name)) {
            // A later source may carry the utterances an earlier one lacks (built-ins).
            let empty = intents[at]
                .get("inputs")
                .and_then(Value::as_array)
                .map(Vec::is_empty)
                .unwrap_or(true);
            let inputs = i
                .get("inputs")
                .filter(|x| x.as_array().map(|a| !a.is_empty()).unwrap_or(false));
            if let (true, Some(inputs)) = (empty, inputs) {
                intents[at]["inputs"] = inputs.clone();
            }
            return;
        }
        seen.insert(key, intents.len());
        seen.insert(name, intents.len());
        intents.push(i);
    };
    for i in pd
        .get("intents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push_intent(&mut intents, &mut seen, i.clone());
    }
    // CMS intents missing from platformData.
    let mut utterances: HashMap<&str, Vec<Value>> = HashMap::new();
    for u in rows(doc, "utterances") {
        if let Some(iid) = s(u, "intentID") {
            let text = utterance_text(names, u.get("text").unwrap_or(&Value::Null));
            if !text.trim().is_empty() {
                utterances
                    .entry(iid)
                    .or_default()
                    .push(json!({ "text": text }));
            }
        }
    }
    let mut required: HashMap<&str, Vec<Value>> = HashMap::new();
    for r in rows(doc, "requiredEntities") {
        if let (Some(iid), Some(eid)) = (s(r, "intentID"), s(r, "entityID")) {
            required.entry(iid).or_default().push(json!({
                "id": eid, "required": true,
                "dialog": { "prompt": [], "confirm": [], "utterances": [], "confirmEnabled": false }
            }));
        }
    }
    for i in rows(doc, "intents") {
        let (Some(id), Some(name)) = (s(i, "id"), s(i, "name")) else {
            continue;
        };
        push_intent(
            &mut intents,
            &mut seen,
            json!({
                "key": id, "name": name,
                "inputs": utterances.remove(id).unwrap_or_default(),
                "slots": required.remove(id).unwrap_or_default(),
            }),
        );
    }
    for i in proto
        .get("intents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push_intent(&mut intents, &mut seen, i.clone());
    }

    alexa_builtin_utterances(&mut intents);

    let mut slots: Vec<Value> = Vec::new();
    let mut seen_slots: HashSet<String> = HashSet::new();
    push_slots(&mut slots, &mut seen_slots, pd);
    let mut variants: HashMap<&str, Vec<String>> = HashMap::new();
    for v in rows(doc, "entityVariants") {
        if let Some(eid) = s(v, "entityID") {
            let mut line = vec![s(v, "value").unwrap_or("").to_string()];
            for syn in v
                .get("synonyms")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(t) = syn.as_str().filter(|t| !t.is_empty()) {
                    line.push(t.to_string());
                }
            }
            variants.entry(eid).or_default().push(line.join(","));
        }
    }
    for e in rows(doc, "entities") {
        let (Some(id), Some(name)) = (s(e, "id"), s(e, "name")) else {
            continue;
        };
        if seen_slots.insert(id.to_string()) {
            let classifier = s(e, "classifier").unwrap_or("Custom");
            slots.push(json!({
                "key": id, "name": name,
                "type": { "value": if classifier == "custom" { "Custom" } else { classifier } },
                "inputs": variants.remove(id).unwrap_or_default(),
            }));
        }
    }
    push_slots(&mut slots, &mut seen_slots, proto);
    (intents, slots)
}

/// Alexa built-in intents and their Voiceflow equivalents.
const ALEXA_BUILTINS: [(&str, &str); 11] = [
    ("AMAZON.YesIntent", "VF.YES"),
    ("AMAZON.NoIntent", "VF.NO"),
    ("AMAZON.StopIntent", "VF.STOP"),
    ("AMAZON.HelpIntent", "VF.HELP"),
    ("AMAZON.CancelIntent", "VF.CANCEL"),
    ("AMAZON.NextIntent", "VF.NEXT"),
    ("AMAZON.PreviousIntent", "VF.PREVIOUS"),
    ("AMAZON.PauseIntent", "VF.PAUSE"),
    ("AMAZON.ResumeIntent", "VF.RESUME"),
    ("AMAZON.RepeatIntent", "VF.REPEAT"),
    ("AMAZON.StartOverIntent", "VF.START_OVER"),
];

/// Alexa exports list `AMAZON.*` built-ins without utterances (Alexa understands them itself)
/// and carry the utterances in the prototype's `VF.*` equivalents: an `AMAZON.*` intent without
/// utterances gets those of its equivalent, so text requests reach the intents the diagrams use.
fn alexa_builtin_utterances(intents: &mut [Value]) {
    let has_inputs = |i: &Value| {
        i.get("inputs")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    for (amazon, vf) in ALEXA_BUILTINS {
        let Some(inputs) = intents
            .iter()
            .find(|i| s(i, "name") == Some(vf) && has_inputs(i))
            .and_then(|i| i.get("inputs").cloned())
        else {
            continue;
        };
        for intent in intents.iter_mut() {
            if s(intent, "name") == Some(amazon) && !has_inputs(intent) {
                intent["inputs"] = inputs.clone();
            }
        }
    }
}

/// The intent of an entity capture (`captureV2` intent capture, `capture-v3` entity capture):
/// one utterance per slot (`{{[name].key}}`) and the slots it fills, with their prompts.
pub fn capture_intent(name: &str, slots: &[(String, String, bool, Value)]) -> Value {
    json!({
        "key": name,
        "name": name,
        "inputs": slots.iter().map(|(key, slot, _, _)| json!({ "text": format!("{{{{[{slot}].{key}}}}}"), "slots": [key] })).collect::<Vec<_>>(),
        "slots": slots.iter().map(|(key, _, required, dialog)| json!({ "id": key, "required": required, "dialog": dialog })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_builtins_without_utterances_take_their_vf_equivalent_s() {
        let mut intents = vec![
            json!({ "key": "AMAZON.YesIntent", "name": "AMAZON.YesIntent", "inputs": [] }),
            json!({ "key": "AMAZON.NoIntent", "name": "AMAZON.NoIntent", "inputs": [ { "text": "nein" } ] }),
            json!({ "key": "AMAZON.HelpIntent", "name": "AMAZON.HelpIntent" }),
            json!({ "key": "VF.YES", "name": "VF.YES", "inputs": [ { "text": "yes" }, { "text": "sure" } ] }),
            json!({ "key": "VF.NO", "name": "VF.NO", "inputs": [ { "text": "no" } ] }),
        ];
        alexa_builtin_utterances(&mut intents);
        assert_eq!(
            intents[0]["inputs"],
            json!([ { "text": "yes" }, { "text": "sure" } ])
        );
        // Utterances of its own are kept; no equivalent in the export, nothing to copy.
        assert_eq!(intents[1]["inputs"], json!([ { "text": "nein" } ]));
        assert!(intents[2].get("inputs").is_none());
    }
}
