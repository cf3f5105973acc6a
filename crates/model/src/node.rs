//! Node kinds and their classification (`spec/dm-api.md` §5.6.0 dispatch order).

use super::{field_truthy, opt_str, truthy, Event};
use serde_json::{Map, Value};

/// One node of a program, classified at load time.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    /// The raw `type` field (may be empty for old programs).
    pub type_name: String,
    pub kind: NodeKind,
}

/// A button as it travels in `choice` traces: `{name, request}`.
pub type Button = Value;

#[derive(Debug, Clone, Default)]
pub struct NoMatch {
    pub prompts: Vec<Value>,
    pub randomize: bool,
    pub node_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NoReply {
    pub prompts: Vec<Value>,
    pub randomize: bool,
    pub node_id: Option<String>,
    /// Seconds.
    pub timeout: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Interaction {
    pub event: Event,
    pub next_id: Option<String>,
    /// Deprecated `event.goTo.request`: emit a `goto` trace instead of following `next_id`.
    pub goto_request: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct PathDef {
    /// The path as exposed in traces: `{label?, event}` (no `nextID`).
    pub public: Value,
    pub event: Event,
    pub next_id: Option<String>,
}

/// A custom action (`_v1` node), a channel action, or an `ifV2` node stopped by `stopTypes`.
#[derive(Debug, Clone)]
pub struct CustomAction {
    /// The raw node type compared with `config.stopTypes` (`trace`, `channel-action`, the action name).
    pub stop_type: String,
    /// Trace type template (interpolated at run time).
    pub trace_type: String,
    /// Payload template (every string interpolated at run time).
    pub payload: Value,
    /// Trace form: `payload.body` rendered as the payload, parsed as JSON when `body_json`.
    pub trace_form: bool,
    pub body_json: bool,
    pub stop: bool,
    /// `defaultPath` exactly as in the node (echoed in the trace).
    pub default_path: Option<Value>,
    pub paths: Vec<PathDef>,
}

impl CustomAction {
    /// The node reached by the default path, if any.
    pub fn default_next(&self) -> Option<&str> {
        let idx = self.default_path.as_ref()?.as_f64()?;
        if idx < 0.0 || idx.fract() != 0.0 {
            return None;
        }
        self.paths.get(idx as usize)?.next_id.as_deref()
    }
}

#[derive(Debug, Clone)]
pub struct CardDef {
    pub id: Option<Value>,
    pub title: String,
    pub image_url: String,
    pub description: Value,
    pub buttons: Vec<Button>,
}

#[derive(Debug, Clone)]
pub struct SetDef {
    pub variable: Option<String>,
    pub expression: Value,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Speak {
        random_speak: Option<Vec<Value>>,
        speak: Option<Value>,
        next: Option<String>,
    },
    GoTo {
        request: Value,
        no_match: Option<String>,
    },
    Interaction {
        interactions: Vec<Interaction>,
        buttons: Vec<Button>,
        chips: Vec<Value>,
        scope_node: bool,
        no_match: Option<NoMatch>,
        no_reply: Option<NoReply>,
    },
    CaptureV2 {
        intent: Option<(String, Vec<String>)>,
        variable: Option<String>,
        scope_node: bool,
        no_match: Option<NoMatch>,
        no_reply: Option<NoReply>,
        next: Option<String>,
    },
    Capture {
        variable: Option<String>,
        slots: Vec<String>,
        intent: Option<String>,
        buttons: Vec<Button>,
        chips: Vec<Value>,
        no_reply: Option<NoReply>,
        next: Option<String>,
    },
    Reset,
    /// Audio stream (voice only) — not supported by flowdm.
    Stream {
        next: Option<String>,
    },
    Code {
        code: String,
        success: Option<String>,
        fail: Option<String>,
        /// `(label, nextId)`.
        paths: Vec<(String, Option<String>)>,
    },
    Exit,
    Flow {
        diagram_id: Option<String>,
        /// `(parentVar, childVar)`.
        inputs: Vec<(String, String)>,
        outputs: Vec<(String, String)>,
        next: Option<String>,
    },
    /// Function step (remote code) — not supported by flowdm; follows `nextId` (the default path).
    Function {
        next: Option<String>,
    },
    /// A line the compiler marked `unsupported: true` (a step flowdm cannot run yet).
    Unsupported {
        next: Option<String>,
    },
    Message {
        message_id: String,
        next: Option<String>,
    },
    If {
        expressions: Vec<Value>,
        next_ids: Vec<Option<String>>,
        else_id: Option<String>,
    },
    IfV2 {
        expressions: Vec<String>,
        next_ids: Vec<Option<String>>,
        else_id: Option<String>,
        as_custom: Box<CustomAction>,
    },
    /// Custom API integration — runs in a later release; follows `fail` until then.
    Api {
        success: Option<String>,
        fail: Option<String>,
    },
    Random {
        no_repeat: bool,
        next_ids: Vec<Option<String>>,
    },
    /// AI set (LLM) — not available without an AI provider.
    AiSet {
        next: Option<String>,
    },
    Set {
        sets: Vec<SetDef>,
        next: Option<String>,
    },
    SetV2 {
        sets: Vec<SetDef>,
        next: Option<String>,
    },
    Start {
        next: Option<String>,
    },
    Visual {
        data: Value,
        next: Option<String>,
    },
    Text {
        texts: Vec<Value>,
        next: Option<String>,
    },
    /// AI response (LLM) — not available without an AI provider.
    AiResponse {
        next: Option<String>,
        else_id: Option<String>,
    },
    CardV2 {
        card: CardDef,
        blocking: bool,
        no_match: Option<NoMatch>,
        no_reply: Option<NoReply>,
        next: Option<String>,
    },
    Carousel {
        layout: Value,
        cards: Vec<CardDef>,
        blocking: bool,
        no_match: Option<NoMatch>,
        no_reply: Option<NoReply>,
        next: Option<String>,
    },
    GoToNode {
        diagram_id: Option<String>,
        next: Option<String>,
    },
    ChannelAction(Box<CustomAction>),
    /// No specific handler but a `nextId`: debug trace and go on.
    Next {
        next: String,
    },
    CustomAction(Box<CustomAction>),
    /// No handler at all: the frame ends.
    Unhandled,
}

fn next_of(v: &Value) -> Option<String> {
    opt_str(v, "nextId").or_else(|| opt_str(v, "nextID"))
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn id_list(v: Option<&Value>) -> Vec<Option<String>> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn array(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array).cloned().unwrap_or_default()
}

fn parse_no_match(n: &Value) -> Option<NoMatch> {
    if let Some(nm) = n.get("noMatch").filter(|v| v.is_object()) {
        return Some(NoMatch {
            prompts: array(nm.get("prompts")),
            randomize: field_truthy(nm, "randomize"),
            node_id: opt_str(nm, "nodeID"),
        });
    }
    // Deprecated top-level fields.
    let prompts = array(n.get("noMatches"));
    let else_id = opt_str(n, "elseId");
    if prompts.is_empty() && else_id.is_none() {
        return None;
    }
    Some(NoMatch {
        prompts,
        randomize: field_truthy(n, "randomize"),
        node_id: else_id,
    })
}

fn parse_no_reply(n: &Value) -> Option<NoReply> {
    if let Some(nr) = n.get("noReply").filter(|v| v.is_object()) {
        return Some(NoReply {
            prompts: array(nr.get("prompts")),
            randomize: field_truthy(nr, "randomize"),
            node_id: opt_str(nr, "nodeID"),
            timeout: nr.get("timeout").and_then(Value::as_f64),
        });
    }
    // Deprecated `reprompt`.
    let reprompt = n.get("reprompt").filter(|v| truthy(v))?;
    Some(NoReply {
        prompts: vec![reprompt.clone()],
        ..NoReply::default()
    })
}

fn parse_paths(v: Option<&Value>) -> Vec<PathDef> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let event_raw = p.get("event").cloned().unwrap_or(Value::Null);
                    let mut public = Map::new();
                    if let Some(label) = p.get("label") {
                        public.insert("label".into(), label.clone());
                    }
                    public.insert("event".into(), event_raw.clone());
                    PathDef {
                        public: Value::Object(public),
                        event: Event::parse(&event_raw),
                        next_id: next_of(p),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse_custom(n: &Value, stop_type: &str, trace_type: &str, payload: Value) -> CustomAction {
    let trace_form = stop_type == "trace"
        && payload.get("name").map(truthy).unwrap_or(false)
        && payload.get("body").map(truthy).unwrap_or(false);
    let body_json = payload.get("bodyType").and_then(Value::as_str) == Some("json");
    CustomAction {
        stop_type: stop_type.to_string(),
        trace_type: trace_type.to_string(),
        payload,
        trace_form,
        body_json,
        stop: n.get("stop").and_then(Value::as_bool).unwrap_or(false),
        default_path: n.get("defaultPath").filter(|v| !v.is_null()).cloned(),
        paths: parse_paths(n.get("paths")),
    }
}

fn parse_card(c: &Value) -> CardDef {
    CardDef {
        id: c.get("id").cloned(),
        title: c
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        image_url: c
            .get("imageUrl")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        description: c.get("description").cloned().unwrap_or(Value::Null),
        buttons: array(c.get("buttons")),
    }
}

fn parse_interactions(n: &Value) -> Vec<Interaction> {
    let legacy_next = id_list(n.get("nextIds"));
    array(n.get("interactions"))
        .iter()
        .enumerate()
        .map(|(i, it)| {
            if let Some(ev) = it.get("event") {
                Interaction {
                    event: Event::parse(ev),
                    next_id: next_of(it),
                    goto_request: ev.get("goTo").and_then(|g| g.get("request")).cloned(),
                }
            } else {
                // 2020–21 programs: `{intent, mappings}` with a parallel `nextIds` array.
                let mut ev = Map::new();
                ev.insert("type".into(), "intent".into());
                if let Some(intent) = it.get("intent") {
                    ev.insert("intent".into(), intent.clone());
                }
                if let Some(m) = it.get("mappings") {
                    ev.insert("mappings".into(), m.clone());
                }
                Interaction {
                    event: Event::parse(&Value::Object(ev)),
                    next_id: legacy_next.get(i).cloned().flatten(),
                    goto_request: None,
                }
            }
        })
        .collect()
}

fn parse_sets(n: &Value) -> Vec<SetDef> {
    array(n.get("sets"))
        .iter()
        .map(|s| SetDef {
            variable: opt_str(s, "variable"),
            expression: s.get("expression").cloned().unwrap_or(Value::Null),
        })
        .collect()
}

fn scope_node(n: &Value) -> bool {
    n.get("intentScope").and_then(Value::as_str) == Some("NODE")
}

impl Node {
    /// Classifies a raw node following the reference dispatch order. Never fails: a node nobody
    /// handles becomes [`NodeKind::Next`] (skip) or [`NodeKind::Unhandled`] (end the frame).
    pub fn from_value(id: &str, n: &Value) -> Node {
        let ty = n.get("type").and_then(Value::as_str).unwrap_or("");
        let kind = classify(ty, n);
        Node {
            id: id.to_string(),
            type_name: ty.to_string(),
            kind,
        }
    }

    /// Whether the node consumes the request itself (the preliminary handler skips these).
    pub fn handles_input(&self) -> bool {
        matches!(
            self.kind,
            NodeKind::Function { .. }
                | NodeKind::GoTo { .. }
                | NodeKind::Capture { .. }
                | NodeKind::CaptureV2 { .. }
                | NodeKind::Interaction { .. }
                | NodeKind::CardV2 { .. }
                | NodeKind::Carousel { .. }
                | NodeKind::CustomAction(_)
                | NodeKind::ChannelAction(_)
                | NodeKind::IfV2 { .. }
        )
    }
}

fn classify(ty: &str, n: &Value) -> NodeKind {
    let next = next_of(n);
    // 4. speak
    let speak_like = match n.get("random_speak") {
        Some(rs) => truthy(rs),
        None => field_truthy(n, "speak"),
    };
    if speak_like {
        return NodeKind::Speak {
            random_speak: n.get("random_speak").and_then(Value::as_array).cloned(),
            speak: n.get("speak").cloned(),
            next,
        };
    }
    // 5. goTo
    if ty == "goTo" {
        return NodeKind::GoTo {
            request: n.get("request").cloned().unwrap_or(Value::Null),
            no_match: n.get("noMatch").and_then(|m| opt_str(m, "nodeID")),
        };
    }
    // 6. interaction
    if n.get("interactions").map(truthy).unwrap_or(false) {
        return NodeKind::Interaction {
            interactions: parse_interactions(n),
            buttons: array(n.get("buttons")),
            chips: array(n.get("chips")),
            scope_node: scope_node(n),
            no_match: parse_no_match(n),
            no_reply: parse_no_reply(n),
        };
    }
    // 7. captureV2
    if ty == "captureV2" {
        let intent = n.get("intent").and_then(|i| {
            let name = opt_str(i, "name")?;
            Some((name, str_list(i.get("entities"))))
        });
        return NodeKind::CaptureV2 {
            intent,
            variable: opt_str(n, "variable"),
            scope_node: scope_node(n),
            no_match: parse_no_match(n),
            no_reply: parse_no_reply(n),
            next,
        };
    }
    // 8. capture v1
    if field_truthy(n, "variable") || ty == "capture" {
        return NodeKind::Capture {
            variable: opt_str(n, "variable"),
            slots: str_list(n.get("slots")),
            intent: opt_str(n, "intent"),
            buttons: array(n.get("buttons")),
            chips: array(n.get("chips")),
            no_reply: parse_no_reply(n),
            next,
        };
    }
    // 9. reset
    if field_truthy(n, "reset") {
        return NodeKind::Reset;
    }
    // 10. stream
    if ty == "stream" && n.get("src").is_some() {
        return NodeKind::Stream {
            next: opt_str(n, "nextID").or(next),
        };
    }
    // 11. code
    if let Some(code) = n.get("code").and_then(Value::as_str) {
        let paths = array(n.get("paths"))
            .iter()
            .filter_map(|p| Some((p.get("label")?.as_str()?.to_string(), next_of(p))))
            .collect();
        return NodeKind::Code {
            code: code.to_string(),
            success: opt_str(n, "success_id"),
            fail: opt_str(n, "fail_id"),
            paths,
        };
    }
    // 12. end
    if field_truthy(n, "end") {
        return NodeKind::Exit;
    }
    // 13. flow
    if ty == "flow" || field_truthy(n, "diagram_id") {
        let pairs = |key: &str| -> Vec<(String, String)> {
            n.get("variable_map")
                .and_then(|m| m.get(key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| {
                            let p = p.as_array()?;
                            Some((
                                p.first()?.as_str()?.to_string(),
                                p.get(1)?.as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        return NodeKind::Flow {
            diagram_id: opt_str(n, "diagram_id"),
            inputs: pairs("inputs"),
            outputs: pairs("outputs"),
            next,
        };
    }
    // 14. function
    if ty == "function" {
        return NodeKind::Function { next };
    }
    // 15. message (CMS response)
    if ty == "message" {
        if let Some(mid) = n.get("data").and_then(|d| opt_str(d, "messageID")) {
            if let Some(ports) = n.get("ports").filter(|p| p.get("default").is_some()) {
                return NodeKind::Message {
                    message_id: mid,
                    next: opt_str(ports, "default"),
                };
            }
        }
    }
    // 16. if v1
    if ty != "ifV2" {
        if let Some(exprs) = n.get("expressions").and_then(Value::as_array) {
            if exprs.len() < 101 {
                return NodeKind::If {
                    expressions: exprs.clone(),
                    next_ids: id_list(n.get("nextIds")),
                    else_id: opt_str(n, "elseId"),
                };
            }
        }
    }
    // 17. ifV2
    if ty == "ifV2" {
        let payload = n.get("payload").cloned().unwrap_or(Value::Null);
        let paths = parse_paths(n.get("paths"));
        return NodeKind::IfV2 {
            expressions: str_list(payload.get("expressions")),
            next_ids: paths.iter().map(|p| p.next_id.clone()).collect(),
            else_id: opt_str(&payload, "elseId"),
            as_custom: Box::new(parse_custom(n, "ifV2", "ifV2", payload)),
        };
    }
    // 18. api
    if ty == "integrations"
        && n.get("selected_integration").and_then(Value::as_str) == Some("Custom API")
    {
        return NodeKind::Api {
            success: opt_str(n, "success_id"),
            fail: opt_str(n, "fail_id"),
        };
    }
    // 19. random
    if field_truthy(n, "random") {
        return NodeKind::Random {
            no_repeat: n.get("random").and_then(Value::as_f64) == Some(2.0),
            next_ids: id_list(n.get("nextIds")),
        };
    }
    // 20. ai_set
    if ty == "ai_set" {
        return NodeKind::AiSet { next };
    }
    // 21. set v1
    if ty != "setV2" {
        if let Some(sets) = n.get("sets").and_then(Value::as_array) {
            if sets.len() < 21 {
                return NodeKind::Set {
                    sets: parse_sets(n),
                    next,
                };
            }
        }
    }
    // 22. setV2
    if ty == "setV2" {
        return NodeKind::SetV2 {
            sets: parse_sets(n),
            next,
        };
    }
    // 23. start
    let only_next = n
        .as_object()
        .map(|o| o.keys().all(|k| k == "nextId" || k == "id"))
        .unwrap_or(false);
    if (only_next || ty == "start") && next.is_some() {
        return NodeKind::Start { next };
    }
    // 24. visual
    if ty == "visual" {
        if let Some(data) = n.get("data").filter(|d| truthy(d)) {
            return NodeKind::Visual {
                data: data.clone(),
                next,
            };
        }
    }
    // 25. text
    if ty == "text" {
        return NodeKind::Text {
            texts: array(n.get("texts")),
            next,
        };
    }
    // 26. generative
    if ty == "generative" {
        return NodeKind::AiResponse {
            next,
            else_id: opt_str(n, "elseId"),
        };
    }
    let card_common = |n: &Value| {
        (
            n.get("isBlocking")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            parse_no_match(n),
            parse_no_reply(n),
        )
    };
    // 27. cardV2
    if ty == "cardV2" {
        let (blocking, no_match, no_reply) = card_common(n);
        return NodeKind::CardV2 {
            card: parse_card(n),
            blocking,
            no_match,
            no_reply,
            next,
        };
    }
    // 28. carousel
    if ty == "carousel" {
        let (blocking, no_match, no_reply) = card_common(n);
        return NodeKind::Carousel {
            layout: n
                .get("layout")
                .cloned()
                .unwrap_or_else(|| "Carousel".into()),
            cards: array(n.get("cards")).iter().map(parse_card).collect(),
            blocking,
            no_match,
            no_reply,
            next,
        };
    }
    // 29. goToNode
    if ty == "goToNode" {
        return NodeKind::GoToNode {
            diagram_id: opt_str(n, "diagramID"),
            next,
        };
    }
    // 30. channel action
    if ty == "channel_action" {
        let data = n.get("data").cloned().unwrap_or(Value::Null);
        return NodeKind::ChannelAction(Box::new(parse_custom(
            n,
            "channel-action",
            "channel-action",
            data,
        )));
    }
    // Compiled from a step flowdm cannot run (`.vf` compiler): say so, then go on.
    if field_truthy(n, "unsupported") {
        return NodeKind::Unsupported { next };
    }
    // 31. next (fallback)
    if let Some(next) = next {
        return NodeKind::Next { next };
    }
    // 32. _v1 custom action
    if n.get("_v").and_then(Value::as_f64) == Some(1.0) {
        let payload = n.get("payload").cloned().unwrap_or(Value::Null);
        return NodeKind::CustomAction(Box::new(parse_custom(n, ty, ty, payload)));
    }
    NodeKind::Unhandled
}
