//! Session state `{stack, storage, variables}` and frames (`spec/dm-api.md` §6.7).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub type Vars = Map<String, Value>;

/// Where a frame points: absent = not started (start node on hydration), null = finished.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NodePtr {
    #[default]
    Unset,
    Null,
    At(String),
}

impl NodePtr {
    pub fn from_opt(id: Option<&str>) -> NodePtr {
        match id {
            Some(s) => NodePtr::At(s.to_string()),
            None => NodePtr::Null,
        }
    }
    pub fn id(&self) -> Option<&str> {
        match self {
            NodePtr::At(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_unset(&self) -> bool {
        matches!(self, NodePtr::Unset)
    }
}

impl Serialize for NodePtr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NodePtr::At(id) => s.serialize_str(id),
            _ => s.serialize_none(),
        }
    }
}

fn de_node_ptr<'de, D: Deserializer<'de>>(d: D) -> Result<NodePtr, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(match v {
        Some(s) => NodePtr::At(s),
        None => NodePtr::Null,
    })
}

/// One flow frame on the stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Frame {
    #[serde(
        rename = "nodeID",
        alias = "blockID",
        default,
        deserialize_with = "de_node_ptr",
        skip_serializing_if = "NodePtr::is_unset"
    )]
    pub node_id: NodePtr,
    #[serde(rename = "diagramID", alias = "programID")]
    pub diagram_id: String,
    #[serde(default)]
    pub storage: Vars,
    #[serde(default)]
    pub commands: Vec<Value>,
    #[serde(default)]
    pub variables: Vars,
    /// Unknown keys are kept as they were.
    #[serde(flatten)]
    pub extra: Vars,
    /// Whether the frame was hydrated from its program during the current turn (not persisted).
    #[serde(skip)]
    pub hydrated: bool,
}

impl Frame {
    pub fn new(diagram_id: impl Into<String>) -> Frame {
        Frame {
            node_id: NodePtr::Unset,
            diagram_id: diagram_id.into(),
            storage: Map::new(),
            commands: Vec::new(),
            variables: Map::new(),
            extra: Map::new(),
            hydrated: false,
        }
    }

    pub fn is_base(&self) -> bool {
        self.storage
            .get("isBase")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The whole session state as stored and as returned by `GET /state/user/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct State {
    #[serde(default)]
    pub stack: Vec<Frame>,
    #[serde(default)]
    pub storage: Vars,
    #[serde(default)]
    pub variables: Vars,
}

/// Sets `key` in place when present (no key allocation, no re-hash of a new entry), else inserts.
pub fn set_key(map: &mut Vars, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.to_string(), value);
        }
    }
}

/// Deep merge (`lodash.merge` semantics): objects key by key, arrays index by index, anything
/// else replaced.
pub fn deep_merge(target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, sv) in s {
                match t.get_mut(k) {
                    Some(tv)
                        if (tv.is_object() && sv.is_object())
                            || (tv.is_array() && sv.is_array()) =>
                    {
                        deep_merge(tv, sv)
                    }
                    _ => {
                        t.insert(k.clone(), sv.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) => {
            for (i, sv) in s.iter().enumerate() {
                match t.get_mut(i) {
                    Some(tv)
                        if (tv.is_object() && sv.is_object())
                            || (tv.is_array() && sv.is_array()) =>
                    {
                        deep_merge(tv, sv)
                    }
                    Some(tv) => *tv = sv.clone(),
                    None => t.push(sv.clone()),
                }
            }
        }
        (t, s) => *t = s.clone(),
    }
}

/// Merges `incoming` variables into `vars` recursively (interact `state.variables`).
pub fn merge_variables(vars: &mut Vars, incoming: &Vars) {
    for (k, v) in incoming {
        match vars.get_mut(k) {
            Some(existing) => deep_merge(existing, v),
            None => {
                vars.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Upper bounds of the compact JSON size (`serde_json::to_vec`) of states, without writing
/// them: a store checks its size cap with [`State::json_size_bound`] and serialises only the
/// rare state whose bound is over the cap. Every string counts 6 bytes per byte (`\u00XX`),
/// every number 32 bytes, every structure its punctuation; a field added to [`State`] or
/// [`Frame`] must be counted here too (the tests compare the bound with the real size).
pub mod json_size {
    use super::{Frame, NodePtr, State, Vars};
    use serde_json::Value;

    fn string(s: &str) -> usize {
        2 + 6 * s.len()
    }

    /// A value.
    pub fn value(v: &Value) -> usize {
        match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 32,
            Value::String(s) => string(s),
            Value::Array(a) => 2 + a.iter().map(|x| value(x) + 1).sum::<usize>(),
            Value::Object(o) => object(o),
        }
    }

    /// An object: `{"key":value,…}`.
    pub fn object(o: &Vars) -> usize {
        2 + entries(o)
    }

    /// The entries of an object, each with its separator.
    fn entries(o: &Vars) -> usize {
        o.iter()
            .map(|(k, v)| string(k) + 1 + value(v) + 1)
            .sum::<usize>()
    }

    fn frame(f: &Frame) -> usize {
        // {"nodeID":…,"diagramID":…,"storage":…,"commands":[…],"variables":…} and the extra
        // keys flattened into it.
        let node = match &f.node_id {
            NodePtr::At(id) => string(id),
            NodePtr::Unset | NodePtr::Null => 4,
        };
        64 + node
            + string(&f.diagram_id)
            + object(&f.storage)
            + 2
            + f.commands.iter().map(|c| value(c) + 1).sum::<usize>()
            + object(&f.variables)
            + entries(&f.extra)
    }

    /// A state: `{"stack":[…],"storage":…,"variables":…}`.
    pub fn state(s: &State) -> usize {
        40 + s.stack.iter().map(|f| frame(f) + 1).sum::<usize>()
            + object(&s.storage)
            + object(&s.variables)
    }
}

impl State {
    /// An upper bound of `serde_json::to_vec(self).len()` ([`json_size`]).
    pub fn json_size_bound(&self) -> usize {
        json_size::state(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_json_size_bound_is_never_below_the_size() {
        let worst = json!({
            "ctl": "\u{1}\u{2}\n\t\"\\", "utf": "é ☃ 𝄞", "big": -1.7976931348623157e308,
            "int": u64::MAX, "neg": i64::MIN, "list": [null, true, false, 0.1, [], {}],
            "deep": {"a": {"b": [{"c": "d"}]}}
        });
        let mut frame: Frame = serde_json::from_value(json!({
            "diagramID": "D\u{7}", "nodeID": "n\"1", "storage": worst, "commands": [worst],
            "variables": worst, "someExtraKey": worst
        }))
        .expect("frame");
        let mut state = State::default();
        for shape in 0..4 {
            match shape {
                0 => {}
                1 => state.stack.push(frame.clone()),
                2 => {
                    frame.node_id = NodePtr::Null;
                    state.stack.push(frame.clone());
                    state.variables = worst.as_object().cloned().unwrap_or_default();
                }
                _ => state.storage = worst.as_object().cloned().unwrap_or_default(),
            }
            let size = serde_json::to_vec(&state).expect("serialise").len();
            let bound = state.json_size_bound();
            assert!(bound >= size, "bound {bound} < size {size} for {state:?}");
        }
    }
}
