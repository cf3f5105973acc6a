//! Node kinds and their classification (`spec/dm-api.md` §5.6.0 dispatch order).

use super::{
    field_truthy, opt_str, string_list, truthy, Agent, AiResponse, AiSet, Event, Function,
    KbSearch, PromptSet, ResponsePrompt,
};
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

/// One choice of an interaction node: an event and where it leads.
#[derive(Debug, Clone)]
pub struct Choice {
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

/// The kind of a node, classified at load time. Each variant with data wraps a named struct the
/// engine's handler takes.
///
/// Adding a variant: the compiler then points at every place that must decide about it
/// ([`NodeKind::handles_input`], [`NodeKind::index`], the engine dispatch and `waiting_button`);
/// `classify` (below) must also produce it, which the `every_kind_is_classified` test checks.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Speak(Speak),
    GoTo(GoTo),
    Interaction(Interaction),
    CaptureV2(CaptureV2),
    Capture(Capture),
    Reset,
    /// Audio stream (voice only) — not supported by flowdm.
    Stream(Stream),
    Code(Code),
    Exit,
    Flow(Flow),
    /// Function step: user code run in the sandbox (`function.rs`).
    Function(Function),
    /// A line the compiler marked `unsupported: true` (a step flowdm cannot run yet).
    Unsupported(Unsupported),
    Message(Message),
    If(If),
    IfV2(IfV2),
    /// Custom API integration — runs in a later release; follows `fail` until then.
    Api(Api),
    Random(Random),
    /// AI set: variables from the model's answers (`ai.rs`).
    AiSet(AiSet),
    Set(Set),
    SetV2(SetV2),
    Start(Start),
    Visual(Visual),
    Text(Text),
    /// AI response (`generative`): the model's answer said to the user (`ai.rs`).
    AiResponse(AiResponse),
    CardV2(CardV2),
    Carousel(Carousel),
    GoToNode(GoToNode),
    ChannelAction(Box<CustomAction>),
    /// No specific handler but a `nextId`: debug trace and go on.
    Next(Next),
    CustomAction(Box<CustomAction>),
    /// No handler at all: the frame ends.
    Unhandled,
    /// A prompt resource's answer said to the user (`ai.rs`).
    ResponsePrompt(ResponsePrompt),
    /// Knowledge-base chunks saved in a variable (`ai.rs`).
    KbSearch(KbSearch),
    /// A set-v3 step with prompt items (`ai.rs`).
    PromptSet(PromptSet),
    /// An agent: a model talking with the user and calling its tools (`ai.rs`).
    Agent(Box<Agent>),
}

#[derive(Debug, Clone)]
pub struct Speak {
    pub random_speak: Option<Vec<Value>>,
    pub speak: Option<Value>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GoTo {
    pub request: Value,
    pub no_match: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Interaction {
    pub interactions: Vec<Choice>,
    pub buttons: Vec<Button>,
    pub chips: Vec<Value>,
    pub scope_node: bool,
    pub no_match: Option<NoMatch>,
    pub no_reply: Option<NoReply>,
}

#[derive(Debug, Clone)]
pub struct CaptureV2 {
    pub intent: Option<(String, Vec<String>)>,
    pub variable: Option<String>,
    pub scope_node: bool,
    pub no_match: Option<NoMatch>,
    pub no_reply: Option<NoReply>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub variable: Option<String>,
    pub slots: Vec<String>,
    pub intent: Option<String>,
    pub buttons: Vec<Button>,
    pub chips: Vec<Value>,
    pub no_reply: Option<NoReply>,
    pub next: Option<String>,
}

/// Audio stream (voice only) — not supported by flowdm.
#[derive(Debug, Clone)]
pub struct Stream {
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Code {
    pub code: String,
    pub success: Option<String>,
    pub fail: Option<String>,
    /// `(label, nextId)`.
    pub paths: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub diagram_id: Option<String>,
    /// `(parentVar, childVar)`.
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub next: Option<String>,
}

/// A line the compiler marked `unsupported: true` (a step flowdm cannot run yet).
#[derive(Debug, Clone)]
pub struct Unsupported {
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct If {
    pub expressions: Vec<Value>,
    pub next_ids: Vec<Option<String>>,
    pub else_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IfV2 {
    pub expressions: Vec<String>,
    pub next_ids: Vec<Option<String>>,
    pub else_id: Option<String>,
    pub as_custom: Box<CustomAction>,
}

/// Custom API integration — runs in a later release; follows `fail` until then.
#[derive(Debug, Clone)]
pub struct Api {
    /// `action_data` (`spec/dm-api.md` §5.6.13).
    pub request: ApiRequest,
    pub success: Option<String>,
    pub fail: Option<String>,
}

/// What an API step sends and maps (`action_data`), `{var}` placeholders unreplaced.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
    /// `body` pairs (form-encoded or multipart).
    pub body: Vec<(String, String)>,
    /// `content`: the raw body.
    pub content: Option<String>,
    /// `bodyInputType`: `rawInput`, `urlEncoded`, `formData`.
    pub body_type: String,
    /// `mapping`: `(path, variable)`.
    pub mapping: Vec<(String, String)>,
}

impl ApiRequest {
    /// Reads `action_data`; pairs with a missing key or value keep an empty string.
    pub fn from_value(data: &Value) -> ApiRequest {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let pairs = |key: &str, a: &str, b: &str| -> Vec<(String, String)> {
            data.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| (text(p.get(a)), text(p.get(b))))
                .collect()
        };
        ApiRequest {
            url: text(data.get("url")),
            method: data
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_uppercase(),
            headers: pairs("headers", "key", "val"),
            params: pairs("params", "key", "val"),
            body: pairs("body", "key", "val"),
            content: data
                .get("content")
                .and_then(Value::as_str)
                .map(str::to_string),
            body_type: data
                .get("bodyInputType")
                .and_then(Value::as_str)
                .unwrap_or("rawInput")
                .to_string(),
            mapping: pairs("mapping", "path", "var")
                .into_iter()
                .filter(|(path, var)| !path.is_empty() && !var.is_empty())
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Random {
    pub no_repeat: bool,
    pub next_ids: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct Set {
    pub sets: Vec<SetDef>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SetV2 {
    pub sets: Vec<SetDef>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Start {
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Visual {
    pub data: Value,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Text {
    pub texts: Vec<Value>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CardV2 {
    pub card: CardDef,
    pub blocking: bool,
    pub no_match: Option<NoMatch>,
    pub no_reply: Option<NoReply>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Carousel {
    pub layout: Value,
    pub cards: Vec<CardDef>,
    pub blocking: bool,
    pub no_match: Option<NoMatch>,
    pub no_reply: Option<NoReply>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GoToNode {
    pub diagram_id: Option<String>,
    pub next: Option<String>,
}

/// No specific handler but a `nextId`: debug trace and go on.
#[derive(Debug, Clone)]
pub struct Next {
    pub next: String,
}

impl NodeKind {
    /// Whether a node of this kind consumes the request itself (the preliminary handler skips
    /// these). Exhaustive on purpose: a new kind must decide.
    pub fn handles_input(&self) -> bool {
        match self {
            NodeKind::Function(_)
            | NodeKind::GoTo(_)
            | NodeKind::Capture(_)
            | NodeKind::CaptureV2(_)
            | NodeKind::Interaction(_)
            | NodeKind::CardV2(_)
            | NodeKind::Carousel(_)
            | NodeKind::CustomAction(_)
            | NodeKind::ChannelAction(_)
            | NodeKind::Agent(_)
            | NodeKind::IfV2(_) => true,
            NodeKind::Speak(_)
            | NodeKind::Reset
            | NodeKind::Stream(_)
            | NodeKind::Code(_)
            | NodeKind::Exit
            | NodeKind::Flow(_)
            | NodeKind::Unsupported(_)
            | NodeKind::Message(_)
            | NodeKind::If(_)
            | NodeKind::Api(_)
            | NodeKind::Random(_)
            | NodeKind::AiSet(_)
            | NodeKind::Set(_)
            | NodeKind::SetV2(_)
            | NodeKind::Start(_)
            | NodeKind::Visual(_)
            | NodeKind::Text(_)
            | NodeKind::AiResponse(_)
            | NodeKind::GoToNode(_)
            | NodeKind::Next(_)
            | NodeKind::ResponsePrompt(_)
            | NodeKind::KbSearch(_)
            | NodeKind::PromptSet(_)
            | NodeKind::Unhandled => false,
        }
    }

    /// The variant's position in [`NodeKind`] (`0..NodeKind::COUNT`), for tests that must see
    /// every kind (e.g. that the loader can produce each one).
    pub fn index(&self) -> usize {
        match self {
            NodeKind::Speak(_) => 0,
            NodeKind::GoTo(_) => 1,
            NodeKind::Interaction(_) => 2,
            NodeKind::CaptureV2(_) => 3,
            NodeKind::Capture(_) => 4,
            NodeKind::Reset => 5,
            NodeKind::Stream(_) => 6,
            NodeKind::Code(_) => 7,
            NodeKind::Exit => 8,
            NodeKind::Flow(_) => 9,
            NodeKind::Function(_) => 10,
            NodeKind::Unsupported(_) => 11,
            NodeKind::Message(_) => 12,
            NodeKind::If(_) => 13,
            NodeKind::IfV2(_) => 14,
            NodeKind::Api(_) => 15,
            NodeKind::Random(_) => 16,
            NodeKind::AiSet(_) => 17,
            NodeKind::Set(_) => 18,
            NodeKind::SetV2(_) => 19,
            NodeKind::Start(_) => 20,
            NodeKind::Visual(_) => 21,
            NodeKind::Text(_) => 22,
            NodeKind::AiResponse(_) => 23,
            NodeKind::CardV2(_) => 24,
            NodeKind::Carousel(_) => 25,
            NodeKind::GoToNode(_) => 26,
            NodeKind::ChannelAction(_) => 27,
            NodeKind::Next(_) => 28,
            NodeKind::CustomAction(_) => 29,
            NodeKind::Unhandled => 30,
            NodeKind::ResponsePrompt(_) => 31,
            NodeKind::KbSearch(_) => 32,
            NodeKind::PromptSet(_) => 33,
            NodeKind::Agent(_) => 34,
        }
    }

    /// Number of variants (one more than the largest [`NodeKind::index`]).
    pub const COUNT: usize = 35;
}

fn next_of(v: &Value) -> Option<String> {
    opt_str(v, "nextId").or_else(|| opt_str(v, "nextID"))
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

fn parse_interactions(n: &Value) -> Vec<Choice> {
    let legacy_next = id_list(n.get("nextIds"));
    array(n.get("interactions"))
        .iter()
        .enumerate()
        .map(|(i, it)| {
            if let Some(ev) = it.get("event") {
                Choice {
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
                Choice {
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
        self.kind.handles_input()
    }
}

fn classify(ty: &str, n: &Value) -> NodeKind {
    let next = next_of(n);
    // 2025 lines of the `.vf` compiler, named by their type only (a `kb-search` line has a
    // `variable`, which the reference's rules below would take for a capture).
    match ty {
        "response-prompt" => return NodeKind::ResponsePrompt(ResponsePrompt::parse(n, next)),
        "kb-search" => return NodeKind::KbSearch(KbSearch::parse(n, next)),
        "set-v3" => return NodeKind::PromptSet(PromptSet::parse(n, next)),
        "agent" if n.get("agent").is_some_and(Value::is_object) => {
            return NodeKind::Agent(Box::new(Agent::parse(n, next)))
        }
        "agent" => return NodeKind::Unsupported(Unsupported { next }),
        _ => {}
    }
    // 4. speak
    let speak_like = match n.get("random_speak") {
        Some(rs) => truthy(rs),
        None => field_truthy(n, "speak"),
    };
    if speak_like {
        return NodeKind::Speak(Speak {
            random_speak: n.get("random_speak").and_then(Value::as_array).cloned(),
            speak: n.get("speak").cloned(),
            next,
        });
    }
    // 5. goTo
    if ty == "goTo" {
        return NodeKind::GoTo(GoTo {
            request: n.get("request").cloned().unwrap_or(Value::Null),
            no_match: n.get("noMatch").and_then(|m| opt_str(m, "nodeID")),
        });
    }
    // 6. interaction
    if n.get("interactions").map(truthy).unwrap_or(false) {
        return NodeKind::Interaction(Interaction {
            interactions: parse_interactions(n),
            buttons: array(n.get("buttons")),
            chips: array(n.get("chips")),
            scope_node: scope_node(n),
            no_match: parse_no_match(n),
            no_reply: parse_no_reply(n),
        });
    }
    // 7. captureV2
    if ty == "captureV2" {
        let intent = n.get("intent").and_then(|i| {
            let name = opt_str(i, "name")?;
            Some((name, string_list(i.get("entities"))))
        });
        return NodeKind::CaptureV2(CaptureV2 {
            intent,
            variable: opt_str(n, "variable"),
            scope_node: scope_node(n),
            no_match: parse_no_match(n),
            no_reply: parse_no_reply(n),
            next,
        });
    }
    // 8. capture v1
    if field_truthy(n, "variable") || ty == "capture" {
        return NodeKind::Capture(Capture {
            variable: opt_str(n, "variable"),
            slots: string_list(n.get("slots")),
            intent: opt_str(n, "intent"),
            buttons: array(n.get("buttons")),
            chips: array(n.get("chips")),
            no_reply: parse_no_reply(n),
            next,
        });
    }
    // 9. reset
    if field_truthy(n, "reset") {
        return NodeKind::Reset;
    }
    // 10. stream
    if ty == "stream" && n.get("src").is_some() {
        return NodeKind::Stream(Stream {
            next: opt_str(n, "nextID").or(next),
        });
    }
    // 11. code
    if let Some(code) = n.get("code").and_then(Value::as_str) {
        let paths = array(n.get("paths"))
            .iter()
            .filter_map(|p| Some((p.get("label")?.as_str()?.to_string(), next_of(p))))
            .collect();
        return NodeKind::Code(Code {
            code: code.to_string(),
            success: opt_str(n, "success_id"),
            fail: opt_str(n, "fail_id"),
            paths,
        });
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
        return NodeKind::Flow(Flow {
            diagram_id: opt_str(n, "diagram_id"),
            inputs: pairs("inputs"),
            outputs: pairs("outputs"),
            next,
        });
    }
    // 14. function
    if ty == "function" {
        return NodeKind::Function(Function::parse(n, next));
    }
    // 15. message (CMS response)
    if ty == "message" {
        if let Some(mid) = n.get("data").and_then(|d| opt_str(d, "messageID")) {
            if let Some(ports) = n.get("ports").filter(|p| p.get("default").is_some()) {
                return NodeKind::Message(Message {
                    message_id: mid,
                    next: opt_str(ports, "default"),
                });
            }
        }
    }
    // 16. if v1
    if ty != "ifV2" {
        if let Some(exprs) = n.get("expressions").and_then(Value::as_array) {
            if exprs.len() < 101 {
                return NodeKind::If(If {
                    expressions: exprs.clone(),
                    next_ids: id_list(n.get("nextIds")),
                    else_id: opt_str(n, "elseId"),
                });
            }
        }
    }
    // 17. ifV2
    if ty == "ifV2" {
        let payload = n.get("payload").cloned().unwrap_or(Value::Null);
        let paths = parse_paths(n.get("paths"));
        return NodeKind::IfV2(IfV2 {
            expressions: string_list(payload.get("expressions")),
            next_ids: paths.iter().map(|p| p.next_id.clone()).collect(),
            else_id: opt_str(&payload, "elseId"),
            as_custom: Box::new(parse_custom(n, "ifV2", "ifV2", payload)),
        });
    }
    // 18. api
    if ty == "integrations"
        && n.get("selected_integration").and_then(Value::as_str) == Some("Custom API")
    {
        return NodeKind::Api(Api {
            request: ApiRequest::from_value(n.get("action_data").unwrap_or(&Value::Null)),
            success: opt_str(n, "success_id"),
            fail: opt_str(n, "fail_id"),
        });
    }
    // 19. random
    if field_truthy(n, "random") {
        return NodeKind::Random(Random {
            no_repeat: n.get("random").and_then(Value::as_f64) == Some(2.0),
            next_ids: id_list(n.get("nextIds")),
        });
    }
    // 20. ai_set
    if ty == "ai_set" {
        return NodeKind::AiSet(AiSet::parse(n, next));
    }
    // 21. set v1
    if ty != "setV2" {
        if let Some(sets) = n.get("sets").and_then(Value::as_array) {
            if sets.len() < 21 {
                return NodeKind::Set(Set {
                    sets: parse_sets(n),
                    next,
                });
            }
        }
    }
    // 22. setV2
    if ty == "setV2" {
        return NodeKind::SetV2(SetV2 {
            sets: parse_sets(n),
            next,
        });
    }
    // 23. start
    let only_next = n
        .as_object()
        .map(|o| o.keys().all(|k| k == "nextId" || k == "id"))
        .unwrap_or(false);
    if (only_next || ty == "start") && next.is_some() {
        return NodeKind::Start(Start { next });
    }
    // 24. visual
    if ty == "visual" {
        if let Some(data) = n.get("data").filter(|d| truthy(d)) {
            return NodeKind::Visual(Visual {
                data: data.clone(),
                next,
            });
        }
    }
    // 25. text
    if ty == "text" {
        return NodeKind::Text(Text {
            texts: array(n.get("texts")),
            next,
        });
    }
    // 26. generative
    if ty == "generative" {
        return NodeKind::AiResponse(AiResponse::parse(n, next));
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
        return NodeKind::CardV2(CardV2 {
            card: parse_card(n),
            blocking,
            no_match,
            no_reply,
            next,
        });
    }
    // 28. carousel
    if ty == "carousel" {
        let (blocking, no_match, no_reply) = card_common(n);
        return NodeKind::Carousel(Carousel {
            layout: n
                .get("layout")
                .cloned()
                .unwrap_or_else(|| "Carousel".into()),
            cards: array(n.get("cards")).iter().map(parse_card).collect(),
            blocking,
            no_match,
            no_reply,
            next,
        });
    }
    // 29. goToNode
    if ty == "goToNode" {
        return NodeKind::GoToNode(GoToNode {
            diagram_id: opt_str(n, "diagramID"),
            next,
        });
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
        return NodeKind::Unsupported(Unsupported { next });
    }
    // 31. next (fallback)
    if let Some(next) = next {
        return NodeKind::Next(Next { next });
    }
    // 32. _v1 custom action
    if n.get("_v").and_then(Value::as_f64) == Some(1.0) {
        let payload = n.get("payload").cloned().unwrap_or(Value::Null);
        return NodeKind::CustomAction(Box::new(parse_custom(n, ty, ty, payload)));
    }
    NodeKind::Unhandled
}

#[cfg(test)]
mod tests {
    use super::{Node, NodeKind};
    use serde_json::json;

    /// The loader can produce every kind: a new [`NodeKind`] variant needs a `classify` rule
    /// (and a sample here).
    #[test]
    fn every_kind_is_classified() {
        let samples = [
            json!({"speak": "hi", "nextId": "a"}),
            json!({"type": "goTo", "request": {}}),
            json!({"interactions": [{"event": {"type": "intent", "intent": "x"}}]}),
            json!({"type": "captureV2"}),
            json!({"type": "capture"}),
            json!({"reset": true}),
            json!({"type": "stream", "src": "x"}),
            json!({"code": "x = 1"}),
            json!({"end": true}),
            json!({"type": "flow"}),
            json!({"type": "function"}),
            json!({"unsupported": true, "nextId": "a"}),
            json!({"type": "message", "data": {"messageID": "m"}, "ports": {"default": "a"}}),
            json!({"expressions": []}),
            json!({"type": "ifV2"}),
            json!({"type": "integrations", "selected_integration": "Custom API"}),
            json!({"random": 1}),
            json!({"type": "ai_set"}),
            json!({"sets": []}),
            json!({"type": "setV2"}),
            json!({"type": "start", "nextId": "a"}),
            json!({"type": "visual", "data": {"image": "x"}}),
            json!({"type": "text"}),
            json!({"type": "generative"}),
            json!({"type": "cardV2"}),
            json!({"type": "carousel"}),
            json!({"type": "goToNode"}),
            json!({"type": "channel_action"}),
            json!({"type": "other", "nextId": "a"}),
            json!({"type": "other", "_v": 1}),
            json!({"type": "other"}),
            json!({"type": "response-prompt", "nextId": "a"}),
            json!({"type": "kb-search", "nextId": "a"}),
            json!({"type": "set-v3", "items": []}),
            json!({"type": "agent", "agent": {}}),
        ];
        let mut seen = [false; NodeKind::COUNT];
        for (i, raw) in samples.iter().enumerate() {
            let kind = Node::from_value("n", raw).kind;
            assert_eq!(kind.index(), i, "sample {i} classified as {kind:?}");
            seen[kind.index()] = true;
        }
        let missing: Vec<usize> = (0..NodeKind::COUNT).filter(|&i| !seen[i]).collect();
        assert!(missing.is_empty(), "no sample for kinds {missing:?}");
    }
}
