//! Diagrams, containers and ports: block flattening and exit resolution (`spec/vf-format.md` §3,
//! §7 steps 1–2).
//!
//! * A port target may be a container (`block`, `actions`, `combined`): it means the container's
//!   first step. A step that compiles to no line (intent/trigger/command/event steps, canvas
//!   markup) passes through to its own next exit.
//! * A `null` target on a `builtIn`/`dynamic`/legacy port, or on `byKey.next`, of a step that is
//!   not the last of its container continues with the next step of the container (implicit
//!   chaining). Otherwise `null` ends the flow.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Node types that hold steps and never run themselves.
pub fn is_container(ty: &str) -> bool {
    matches!(ty, "block" | "actions" | "combined")
}

/// Canvas decoration.
pub fn is_markup(ty: &str) -> bool {
    ty.starts_with("markup_") || ty == "comment"
}

/// Steps that become commands or nothing, never a line of their own.
pub fn is_lineless(ty: &str) -> bool {
    matches!(ty, "intent" | "trigger" | "command" | "event") || is_markup(ty)
}

/// Which exit of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit<'k> {
    Next,
    Fail,
    Else,
    NoReply,
    /// The i-th positional exit (choices, buttons, conditions, random paths, action paths).
    Dynamic(usize),
    /// A keyed exit (`byKey`: button ids, item ids, function paths).
    Key(&'k str),
}

/// One diagram with its container index.
#[derive(Debug)]
pub struct Diagram<'a> {
    /// Program id: the `diagramID` key (2023+) or `_id`.
    pub id: String,
    pub name: String,
    /// `TOPIC`, `COMPONENT`, `TEMPLATE`, or none (≤ 2021).
    pub kind: Option<String>,
    pub nodes: &'a Map<String, Value>,
    /// step id → (container id, index in the container).
    owner: HashMap<&'a str, (&'a str, usize)>,
    /// The start node, if any.
    pub start: Option<&'a str>,
}

fn node_type(n: &Value) -> &str {
    n.get("type").and_then(Value::as_str).unwrap_or("")
}

fn steps_of(n: &Value) -> impl Iterator<Item = &str> {
    n.get("data")
        .and_then(|d| d.get("steps"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Where a port ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A line id.
    Node(String),
    /// End of the flow.
    End,
    /// The port names a node the diagram does not have.
    Dangling(String),
}

impl Target {
    pub fn id(&self) -> Option<String> {
        match self {
            Target::Node(id) => Some(id.clone()),
            _ => None,
        }
    }
}

impl<'a> Diagram<'a> {
    pub fn new(id: String, raw: &'a Value, empty: &'a Map<String, Value>) -> Diagram<'a> {
        let nodes = raw.get("nodes").and_then(Value::as_object).unwrap_or(empty);
        let mut owner = HashMap::new();
        let mut start = None;
        for (nid, n) in nodes {
            let ty = node_type(n);
            if is_container(ty) || ty == "start" {
                for (i, s) in steps_of(n).enumerate() {
                    owner.entry(s).or_insert((nid.as_str(), i));
                }
            }
            if ty == "start" && (start.is_none() || nid == "start00000000000000000000") {
                start = Some(nid.as_str());
            }
        }
        Diagram {
            id,
            name: raw
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            kind: raw.get("type").and_then(Value::as_str).map(str::to_string),
            nodes,
            owner,
            start,
        }
    }

    pub fn node(&self, id: &str) -> Option<&'a Value> {
        self.nodes.get(id)
    }

    pub fn type_of(&self, id: &str) -> &'a str {
        self.nodes.get(id).map(node_type).unwrap_or("")
    }

    /// The container that owns a step.
    pub fn container_of(&self, step: &str) -> Option<&'a str> {
        self.owner.get(step).map(|(c, _)| *c)
    }

    /// Executable steps in canvas order: containers' steps first, then stray steps.
    pub fn steps(&self) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for n in self.nodes.values() {
            let ty = node_type(n);
            if is_container(ty) || ty == "start" {
                for s in steps_of(n) {
                    if let Some((key, node)) = self.nodes.get_key_value(s) {
                        let t = node_type(node);
                        if !is_container(t) && t != "start" && seen.insert(key.as_str()) {
                            out.push(key.as_str());
                        }
                    }
                }
            }
        }
        for (nid, n) in self.nodes {
            let ty = node_type(n);
            if !is_container(ty) && ty != "start" && seen.insert(nid.as_str()) {
                out.push(nid.as_str());
            }
        }
        out
    }

    /// The step after `step` in its container.
    fn next_in_container(&self, step: &str) -> Option<&'a str> {
        let (container, i) = self.owner.get(step)?;
        let c = self.nodes.get(*container)?;
        steps_of(c).nth(i + 1)
    }

    /// Where execution goes when a port names `id`.
    pub fn entry(&self, id: &str) -> Target {
        self.entry_depth(id, 0)
    }

    fn entry_depth(&self, id: &str, depth: usize) -> Target {
        if depth > 64 {
            return Target::End;
        }
        let Some(n) = self.nodes.get(id) else {
            return Target::Dangling(id.to_string());
        };
        let ty = node_type(n);
        if is_container(ty) {
            return match steps_of(n).next() {
                Some(first) => self.entry_depth(first, depth + 1),
                None => Target::End,
            };
        }
        if is_lineless(ty) {
            let data = n.get("data").unwrap_or(&Value::Null);
            return self.resolve_depth(id, data, Exit::Next, false, depth + 1);
        }
        Target::Node(id.to_string())
    }

    /// Resolves an exit of a step to a line id (see the module documentation).
    pub fn resolve(&self, step: &str, data: &Value, exit: Exit<'_>, else_first: bool) -> Target {
        self.resolve_depth(step, data, exit, else_first, 0)
    }

    fn resolve_depth(
        &self,
        step: &str,
        data: &Value,
        exit: Exit<'_>,
        else_first: bool,
        depth: usize,
    ) -> Target {
        let (port, chainable) = match find_port(data, exit, else_first) {
            Some(p) => p,
            None => (&Value::Null, chainable_missing(data, exit)),
        };
        match port.get("target") {
            Some(Value::String(t)) if !t.is_empty() => self.entry_depth(t, depth + 1),
            _ if chainable => match self.next_in_container(step) {
                Some(next) => self.entry_depth(next, depth + 1),
                None => Target::End,
            },
            _ => Target::End,
        }
    }

    /// Number of positional exits (dynamic ports, legacy positional ports).
    pub fn dynamic_count(data: &Value, else_first: bool) -> usize {
        if let Some(v2) = data.get("portsV2") {
            return v2
                .get("dynamic")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0);
        }
        let (typed_else, positional) = legacy_split(data);
        if else_first && !typed_else {
            positional.len().saturating_sub(1)
        } else {
            positional.len()
        }
    }
}

/// A step with no port object for an exit still chains when that exit would be chainable
/// (e.g. `portsV2: {builtIn: {}}` on a simple step in the middle of a block).
fn chainable_missing(data: &Value, exit: Exit<'_>) -> bool {
    matches!(exit, Exit::Next) && (data.get("portsV2").is_some() || data.get("ports").is_some())
}

const TYPED: [&str; 7] = [
    "next", "fail", "else", "no-reply", "noReply", "pause", "previous",
];

fn port_type(p: &Value) -> Option<&str> {
    p.get("type")
        .and_then(Value::as_str)
        .filter(|t| TYPED.contains(t))
}

/// Legacy ports: (has a typed `else`, positional ports).
fn legacy_split(data: &Value) -> (bool, Vec<&Value>) {
    let list = data
        .get("ports")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let typed_else = list.iter().any(|p| port_type(p) == Some("else"));
    (
        typed_else,
        list.iter().filter(|p| port_type(p).is_none()).collect(),
    )
}

/// The port object for an exit, and whether a `null` target chains to the next step.
pub fn find_port<'v>(
    data: &'v Value,
    exit: Exit<'_>,
    else_first: bool,
) -> Option<(&'v Value, bool)> {
    if let Some(v2) = data.get("portsV2") {
        let builtin = v2.get("builtIn");
        let by_key = v2.get("byKey");
        let named = |name: &str| -> Option<(&'v Value, bool)> {
            builtin
                .and_then(|b| b.get(name))
                .map(|p| (p, true))
                .or_else(|| {
                    by_key
                        .and_then(|k| k.get(name))
                        .map(|p| (p, name == "next"))
                })
        };
        return match exit {
            Exit::Next => named("next"),
            Exit::Fail => named("fail"),
            Exit::Else => named("else"),
            Exit::NoReply => named("no-reply"),
            Exit::Dynamic(i) => v2.get("dynamic").and_then(|d| d.get(i)).map(|p| (p, true)),
            Exit::Key(k) => by_key.and_then(|b| b.get(k)).map(|p| (p, k == "next")),
        };
    }
    let list = data.get("ports").and_then(Value::as_array)?;
    let typed = |name: &str| list.iter().find(|p| port_type(p) == Some(name));
    let (typed_else, positional) = legacy_split(data);
    let shift = usize::from(else_first && !typed_else);
    let found = match exit {
        Exit::Next => typed("next").or_else(|| {
            if else_first {
                None
            } else {
                positional.first().copied()
            }
        }),
        Exit::Fail => typed("fail"),
        Exit::Else => typed("else").or_else(|| {
            if else_first {
                positional.first().copied()
            } else {
                None
            }
        }),
        Exit::NoReply => typed("no-reply").or_else(|| typed("noReply")),
        Exit::Dynamic(i) => positional.get(i + shift).copied(),
        Exit::Key(k) => typed(k),
    };
    found.map(|p| (p, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diagram() -> Value {
        json!({"nodes": {
            "start": {"type": "start", "data": {"steps": [], "portsV2": {"builtIn": {"next": {"target": "b1"}}}}},
            "b1": {"type": "block", "data": {"steps": ["s1", "s2", "s3"]}},
            "s1": {"type": "text", "data": {"portsV2": {"builtIn": {"next": {"target": null}}}}},
            "s2": {"type": "intent", "data": {"portsV2": {"builtIn": {"next": {"target": null}}}}},
            "s3": {"type": "code", "data": {"ports": [{"type": "", "target": "a1"}, {"type": "fail", "target": "gone"}]}},
            "a1": {"type": "actions", "data": {"steps": ["g1"]}},
            "g1": {"type": "goToNode", "data": {"portsV2": {"builtIn": {}}}}
        }})
    }

    #[test]
    fn flattening_and_chaining() {
        let raw = diagram();
        let empty = Map::new();
        let d = Diagram::new("D".into(), &raw, &empty);
        assert_eq!(d.start, Some("start"));
        let start = &raw["nodes"]["start"]["data"];
        // start → block b1 → s1.
        assert_eq!(
            d.resolve("start", start, Exit::Next, false),
            Target::Node("s1".into())
        );
        // s1's null next → s2, an intent step → passes through to s3.
        let s1 = &raw["nodes"]["s1"]["data"];
        assert_eq!(
            d.resolve("s1", s1, Exit::Next, false),
            Target::Node("s3".into())
        );
        let s3 = &raw["nodes"]["s3"]["data"];
        assert_eq!(
            d.resolve("s3", s3, Exit::Next, false),
            Target::Node("g1".into())
        );
        assert_eq!(
            d.resolve("s3", s3, Exit::Fail, false),
            Target::Dangling("gone".into())
        );
        let g1 = &raw["nodes"]["g1"]["data"];
        assert_eq!(d.resolve("g1", g1, Exit::Next, false), Target::End);
        assert_eq!(d.steps(), vec!["s1", "s2", "s3", "g1"]);
    }

    #[test]
    fn legacy_else_first() {
        let data = json!({"ports": [{"type": "", "target": "e"}, {"type": "", "target": "p0"}, {"type": 2, "target": "p1"}]});
        assert_eq!(
            find_port(&data, Exit::Else, true).map(|p| &p.0["target"]),
            Some(&json!("e"))
        );
        assert_eq!(
            find_port(&data, Exit::Dynamic(1), true).map(|p| &p.0["target"]),
            Some(&json!("p1"))
        );
        assert_eq!(Diagram::dynamic_count(&data, true), 2);
        let typed =
            json!({"ports": [{"type": "else", "target": "e"}, {"type": "", "target": "p0"}]});
        assert_eq!(
            find_port(&typed, Exit::Dynamic(0), true).map(|p| &p.0["target"]),
            Some(&json!("p0"))
        );
    }
}
