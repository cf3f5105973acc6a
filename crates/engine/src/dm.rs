//! The dialog manager: entity filling for every intent request (`spec/dm-api.md` §8.4), with
//! "no gateway" semantics (§8.6): the prediction of the prefixed query is the incoming request
//! itself. It runs after the NLU and before the runtime; when a required entity is missing it
//! asks for it and the runtime is skipped for the turn.

use crate::commands::find_command;
use crate::interpolate::{number, replace, replace_deep, slate_plain_text, text_to_slate};
use crate::logs::LogLevel;
use crate::request::Request;
use crate::runtime::Runtime;
use crate::state::State;
use flowdm_model::{Event, NodeKind};
use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::model::{IntentSlot, NluModel};
use flowdm_nlu::{synonyms, Nlu};
use serde_json::{json, Map, Value};

/// Runtime storage key of the DM store `{intentRequest?, priorIntent?}`.
pub(crate) const DM_STORAGE: &str = "dm";
const INTENT_REQUEST: &str = "intentRequest";
pub(crate) const PRIOR_INTENT: &str = "priorIntent";
/// The top-level request flag: elicit the entity without speaking its prompt.
pub(crate) const ELICIT: &str = "ELICIT";
/// Default chat message delay (§4.3).
const DEFAULT_DELAY_MS: f64 = 1000.0;

/// What the dialog manager decided.
#[derive(Debug)]
pub(crate) enum Dialog {
    /// Run the runtime with this request.
    Continue(Request),
    /// A required entity was asked for (`entity-filling`): skip the runtime this turn. Carries
    /// the turn's request as it came.
    Asked(Request),
}

/// The DM store as read from runtime storage.
#[derive(Debug, Default)]
struct Store {
    intent_request: Option<Value>,
    prior_intent: Option<Value>,
}

impl Store {
    fn load(state: &State) -> Store {
        let dm = state.storage.get(DM_STORAGE);
        let get = |key: &str| {
            dm.and_then(|d| d.get(key))
                .filter(|v| v.is_object())
                .cloned()
        };
        Store {
            intent_request: get(INTENT_REQUEST),
            prior_intent: get(PRIOR_INTENT),
        }
    }

    fn save(self, state: &mut State) {
        let mut m = Map::new();
        if let Some(r) = self.intent_request {
            m.insert(INTENT_REQUEST.into(), r);
        }
        if let Some(p) = self.prior_intent {
            m.insert(PRIOR_INTENT.into(), p);
        }
        state.storage.insert(DM_STORAGE.into(), Value::Object(m));
    }
}

fn intent_name(request: &Value) -> &str {
    request
        .pointer("/payload/intent/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn entity_name(entity: &Value) -> Option<&str> {
    entity.get("name").and_then(Value::as_str)
}

fn entities(request: &Value) -> &[Value] {
    request
        .pointer("/payload/entities")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn entities_mut(request: &mut Value) -> Option<&mut Vec<Value>> {
    let payload = request.get_mut("payload")?.as_object_mut()?;
    let list = payload
        .entry("entities")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    list.as_array_mut()
}

/// Appends the entities whose name `request` does not have yet.
fn append_missing(request: &mut Value, incoming: &[Value]) {
    let Some(list) = entities_mut(request) else {
        return;
    };
    for e in incoming {
        let Some(name) = entity_name(e) else { continue };
        if !list.iter().any(|x| entity_name(x) == Some(name)) {
            list.push(e.clone());
        }
    }
}

/// Replaces the value of same-named entities, appends the others.
fn upsert(request: &mut Value, incoming: &[&Value]) {
    let Some(list) = entities_mut(request) else {
        return;
    };
    for e in incoming {
        let Some(name) = entity_name(e) else { continue };
        match list.iter_mut().find(|x| entity_name(x) == Some(name)) {
            Some(existing) => *existing = (*e).clone(),
            None => list.push((*e).clone()),
        }
    }
}

/// The first required slot of the request's intent (model order) without an entity.
fn unfulfilled<'m>(model: &'m NluModel, request: &Value) -> Option<&'m IntentSlot> {
    let intent = model.intent(intent_name(request))?;
    let present = entities(request);
    intent
        .slots
        .iter()
        .find(|s| s.required && !present.iter().any(|e| entity_name(e) == Some(&s.name)))
}

/// The local stand-in for the reference's prediction of the prefixed query (§8.4 step 3): when
/// the reply holds a value for a slot the stored intent still misses (found by that slot's
/// extractor, like the gateway's DM utterances would), the stored intent with the values
/// found; otherwise the incoming request itself ("no gateway" semantics).
fn dm_prediction(nlu: &Nlu, stored: &Value, incoming: &Request, now_ms: u64) -> Value {
    let expected = intent_name(stored);
    let query = incoming.query().unwrap_or("");
    let missing = |name: &str| {
        !entities(stored)
            .iter()
            .any(|e| entity_name(e) == Some(name))
    };
    let cx = ExtractContext {
        now_ms: Some(now_ms),
    };
    let found = nlu.extract(expected, query, &cx);
    if intent_name(incoming.as_value()) == expected || !found.iter().any(|e| missing(&e.name)) {
        return incoming.as_value().clone();
    }
    let entities: Vec<Value> = found
        .iter()
        .map(|e| json!({ "name": e.name, "value": e.value }))
        .collect();
    Request::intent(expected, query, entities, None).into_value()
}

/// Reconciles the stored request with the user's answer in DM context (§8.4 step 3).
fn reconcile(model: &NluModel, mut stored: Value, prefixed: &Value) -> Value {
    let expected = intent_name(&stored).to_string();
    let predicted = intent_name(prefixed);
    if predicted.starts_with("dm_") || predicted == expected {
        let slots: Vec<&str> = model
            .intent(&expected)
            .map(|i| i.slots.iter().map(|s| s.name.as_str()).collect())
            .unwrap_or_default();
        let keep: Vec<&Value> = entities(prefixed)
            .iter()
            .filter(|e| entity_name(e).is_some_and(|n| !n.starts_with("dm_") && slots.contains(&n)))
            .collect();
        if keep.is_empty() {
            return prefixed.clone();
        }
        upsert(&mut stored, &keep);
        return stored;
    }
    // The prefixed prediction is the incoming intent: the user changed intent (or said
    // nothing the model knows, which arrives as `None`).
    prefixed.clone()
}

/// Whether a dialog prompt would say something: `{content}` (chat) or `{text}` (voice).
fn prompt_is_usable(p: &Value) -> bool {
    match p.get("content").or_else(|| p.get("text")).unwrap_or(p) {
        Value::String(s) => !s.trim().is_empty(),
        content @ Value::Array(_) => !slate_plain_text(content).is_empty(),
        _ => false,
    }
}

/// Captured entities as variables for `{name}` placeholders.
fn entity_vars(request: &Value) -> Map<String, Value> {
    entities(request)
        .iter()
        .filter_map(|e| Some((entity_name(e)?.to_string(), e.get("value")?.clone())))
        .collect()
}

/// The request after filling: synonyms canonicalised, the turn's query, `ELICIT: false`.
fn fulfilled(model: &NluModel, mut request: Value, query: &str) -> Value {
    if let Some(list) = entities_mut(&mut request) {
        for e in list.iter_mut() {
            let (Some(name), Some(value)) =
                (entity_name(e), e.get("value").and_then(Value::as_str))
            else {
                continue;
            };
            let canonical = model
                .slot_by_name(name)
                .and_then(|slot| synonyms::canonical(slot, value));
            if let Some(c) = canonical {
                e["value"] = Value::String(c);
            }
        }
    }
    if let Some(p) = request.get_mut("payload").and_then(Value::as_object_mut) {
        p.insert("query".into(), Value::String(query.to_string()));
    }
    if let Some(o) = request.as_object_mut() {
        o.insert(ELICIT.into(), Value::Bool(false));
    }
    request
}

impl Runtime<'_, '_> {
    /// Runs the dialog manager on the turn's request.
    pub(crate) fn dialog(&mut self, nlu: &Nlu, incoming: Request) -> Dialog {
        let model = nlu.model();
        // An Alexa event (payload with `data`) is not an intent for any matcher.
        if !incoming.is_intent() || self.project.version.model.is_none() {
            return Dialog::Continue(incoming);
        }
        let query = incoming.query().unwrap_or("").to_string();
        let mut store = Store::load(&self.state);
        store.prior_intent = store.intent_request.clone();
        // DM context: the stored request still misses an entity. Checked before the incoming
        // entities are merged in: an answer that completes it is still an answer to it.
        let in_dm_context = store
            .intent_request
            .as_ref()
            .is_some_and(|r| unfulfilled(model, r).is_some());
        if let Some(stored) = store.intent_request.as_mut() {
            append_missing(stored, incoming.entities());
        }
        let request = match store.intent_request.take() {
            Some(stored) if in_dm_context => {
                let now_ms = self.env.clock.now_ms();
                let prefixed = dm_prediction(nlu, &stored, &incoming, now_ms);
                let reconciled = reconcile(model, stored, &prefixed);
                if intent_name(&reconciled) == "None" {
                    store.save(&mut self.state);
                    return Dialog::Continue(Request::intent("None", &query, vec![], None));
                }
                reconciled
            }
            _ => {
                if !self.in_scope(&incoming) {
                    return Dialog::Continue(incoming);
                }
                incoming.as_value().clone()
            }
        };
        let Some(slot) = unfulfilled(model, &request) else {
            self.state.storage.shift_remove(DM_STORAGE);
            let done = fulfilled(model, request, &query);
            return Dialog::Continue(Request::from_value(done).unwrap_or(incoming));
        };
        let usable: Vec<&Value> = slot
            .prompts
            .iter()
            .filter(|p| prompt_is_usable(p))
            .collect();
        let prompt = match usable.len() {
            0 => None,
            n => Some(usable[self.env.rng.index(n)].clone()),
        };
        let elicit = incoming.get(ELICIT) == Some(&Value::Bool(true));
        if prompt.is_none() && !elicit {
            store.save(&mut self.state);
            return Dialog::Continue(Request::intent("None", &query, vec![], None));
        }
        if let (Some(p), false) = (&prompt, elicit) {
            self.entity_prompt(model, p, &request);
        }
        self.trace(
            "entity-filling",
            json!({ "entityToFill": slot.name, "intent": request }),
        );
        self.log(LogLevel::Info, "global.nlu.intent_resolved", || {
            let mut m = Map::new();
            m.insert("resolvedIntent".into(), intent_name(&request).into());
            m.insert(
                "confidence".into(),
                incoming.confidence().map(number).unwrap_or(Value::Null),
            );
            m.insert("utterance".into(), Value::String(query.clone()));
            let found = entities(&request)
                .iter()
                .filter_map(|e| {
                    let value = e.get("value").cloned().unwrap_or(Value::Null);
                    Some((entity_name(e)?.to_string(), json!({ "value": value })))
                })
                .collect();
            m.insert("entities".into(), Value::Object(found));
            m
        });
        store.intent_request = Some(request);
        store.save(&mut self.state);
        Dialog::Asked(incoming)
    }

    /// Whether the request is one the session expects (§8.4 step 4): a stack command matches
    /// it, or the node the top frame waits on listens for its intent.
    fn in_scope(&self, request: &Request) -> bool {
        if find_command(self.project, &self.library, &self.state.stack, request).is_some() {
            return true;
        }
        let Some(name) = request.intent_name() else {
            return false;
        };
        let node = self
            .state
            .stack
            .last()
            .and_then(|frame| self.program(&frame.diagram_id)?.node(frame.node_id.id()?));
        match node.map(|n| &n.kind) {
            Some(NodeKind::CaptureV2(n)) => n.intent.as_ref().is_some_and(|(i, _)| i == name),
            Some(NodeKind::Interaction(n)) => n
                .interactions
                .iter()
                .any(|c| matches!(&c.event, Event::Intent { intent, .. } if intent == name)),
            _ => false,
        }
    }

    /// Speaks a slot's dialog prompt (`isPrompt: true`); `{var}` placeholders see only the
    /// captured entities.
    fn entity_prompt(&mut self, model: &NluModel, prompt: &Value, request: &Value) {
        let vars = entity_vars(request);
        let content = prompt.get("content").or_else(|| prompt.get("text"));
        let content = content.unwrap_or(prompt);
        if self.project.is_chat() {
            let slate = match content {
                Value::String(s) => text_to_slate(s),
                other => other.clone(),
            };
            let slate = replace_deep(&slate, &vars, true);
            let message = slate_plain_text(&slate);
            let delay = number(
                self.project
                    .version
                    .settings
                    .message_delay_ms
                    .unwrap_or(DEFAULT_DELAY_MS),
            );
            let id = self.env.rng.short_id();
            self.trace(
                "text",
                json!({
                    "slate": { "id": id, "content": slate, "messageDelayMilliseconds": delay },
                    "message": message, "delay": delay, "isPrompt": true,
                }),
            );
        } else {
            let text = match content {
                Value::String(s) => s.clone(),
                other => slate_plain_text(other),
            };
            let text = replace(&model.rewrite_annotations(&text), &vars, true);
            let voice = prompt
                .get("voice")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| self.project.version.settings.default_voice.clone())
                .filter(|v| !v.trim().is_empty());
            let message = match voice {
                Some(v) => format!("<voice name=\"{v}\">{text}</voice>"),
                None => text,
            };
            self.trace(
                "speak",
                json!({ "message": message, "type": "message", "isPrompt": true }),
            );
        }
    }
}
