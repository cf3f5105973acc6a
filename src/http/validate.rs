//! Validation of request bodies. Everything is checked before a session is locked or touched, so
//! a rejected request never changes a session.
//!
//! Messages follow AJV's wording (`must be boolean`, `must NOT have additional properties`), the
//! field is the JSON path of the failing value (`config.stopTypes`, `state.variables`).

use super::errors::ApiError;
use crate::engine::state::Vars;
use crate::engine::{Config, Frame, Request, State};
use serde_json::{Map, Value};

/// Which route a turn body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnRoute {
    /// `/state/user/{userID}/interact` (and legacy): `action`|`request`, `config`, `state.variables`.
    Stateful,
    /// `/interact`: `action`|`request`, `config`, the whole client `state`.
    Stateless,
    /// `/public/{projectID}/state/user/{userID}/interact`: only `action` and the six config keys.
    Public,
}

/// A validated interact body.
#[derive(Debug, Default)]
pub struct TurnBody {
    pub request: Option<Request>,
    pub config: Config,
    /// `state.variables` to deep-merge into the stored state (stateful routes).
    pub variables: Option<Vars>,
    /// The client's state (stateless routes); `None` = new session.
    pub state: Option<State>,
    /// `log` traces requested with `?logs=` (set from the query, not the body).
    pub logs: crate::engine::LogLevel,
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(crate) fn must_be(field: &str, what: &str, got: &Value) -> ApiError {
    ApiError::validation(field, format!("must be {what} (got {})", type_name(got)))
}

fn body_object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| must_be("body", "object", body))
}

fn only_keys(field: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::validation(
            field,
            format!("must NOT have additional properties ('{k}')"),
        )),
        None => Ok(()),
    }
}

/// The config keys and their types (`spec/dm-api.md` §3).
const BOOL_KEYS: [&str; 4] = ["tts", "stripSSML", "stopAll", "selfDelegate"];
const LIST_KEYS: [&str; 2] = ["stopTypes", "excludeTypes"];

/// Validates `config`: absent or an object (`config: null` is refused like any other non-object,
/// as the schema says; see `docs/compatibility.md`); the six known keys must have their types
/// (`null` values count as absent); other keys are refused on the public route and ignored
/// elsewhere.
pub fn config(v: Option<&Value>, public: bool) -> Result<Config, ApiError> {
    let obj = match v {
        None => return Ok(Config::default()),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(must_be("config", "object", other)),
    };
    let mut known = Map::new();
    for (k, val) in obj {
        let field = format!("config.{k}");
        if BOOL_KEYS.contains(&k.as_str()) {
            if !(val.is_boolean() || val.is_null()) {
                return Err(must_be(&field, "boolean", val));
            }
        } else if LIST_KEYS.contains(&k.as_str()) {
            match val {
                Value::Null => {}
                Value::Array(items) => {
                    if let Some((i, bad)) = items.iter().enumerate().find(|(_, x)| !x.is_string()) {
                        return Err(must_be(&format!("{field}[{i}]"), "string", bad));
                    }
                }
                other => return Err(must_be(&field, "array", other)),
            }
        } else if k == "stopDeadline" && !public {
            known.insert(k.clone(), stop_deadline(val)?);
            continue;
        } else if public {
            return Err(ApiError::validation(
                "config",
                format!("must NOT have additional properties ('{k}')"),
            ));
        } else {
            continue;
        }
        known.insert(k.clone(), val.clone());
    }
    serde_json::from_value(Value::Object(known))
        .map_err(|e| ApiError::validation("config", e.to_string()))
}

/// Longest `config.stopDeadline.seconds` (about 136 years; `openapi.yaml` says the same).
const MAX_DEADLINE_SECONDS: f64 = 4_294_967_295.0;

/// `config.stopDeadline` (flowdm's own, `docs/custom-actions.md`): `null`, or
/// `{seconds: integer 0..=2^32-1, path: non-empty string}`; answers it with `seconds` as an
/// integer (`1.0` is an integer too).
fn stop_deadline(v: &Value) -> Result<Value, ApiError> {
    let obj = match v {
        Value::Null => return Ok(Value::Null),
        Value::Object(o) => o,
        other => return Err(must_be("config.stopDeadline", "object", other)),
    };
    only_keys("config.stopDeadline", obj, &["seconds", "path"])?;
    let seconds = match obj.get("seconds") {
        Some(n) => n
            .as_f64()
            .filter(|x| x.fract() == 0.0 && (0.0..=MAX_DEADLINE_SECONDS).contains(x))
            .ok_or_else(|| {
                must_be(
                    "config.stopDeadline.seconds",
                    "an integer from 0 to 4294967295",
                    n,
                )
            })?,
        None => {
            return Err(ApiError::validation(
                "config.stopDeadline",
                "must have required property 'seconds'",
            ))
        }
    };
    match obj.get("path") {
        Some(Value::String(p)) if !p.is_empty() => {
            Ok(serde_json::json!({ "seconds": seconds as u64, "path": p }))
        }
        Some(other) => Err(must_be(
            "config.stopDeadline.path",
            "non-empty string",
            other,
        )),
        None => Err(ApiError::validation(
            "config.stopDeadline",
            "must have required property 'path'",
        )),
    }
}

/// A request object at `field` (`action` or `request`); `null`/absent → none. Anything else must
/// be an object with a non-empty string `type` and, if present, a string `diagramID`; otherwise
/// 400 Validation before any session is touched (the reference answers 500 `invalid runtime
/// request type: …`; see `docs/compatibility.md`).
pub fn request(field: &str, v: Option<&Value>) -> Result<Option<Request>, ApiError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(must_be(field, "object", other)),
    };
    match obj.get("type") {
        None => {
            return Err(ApiError::validation(
                field,
                "must have required property 'type'",
            ))
        }
        Some(Value::String(t)) if t.is_empty() => {
            return Err(ApiError::validation(
                format!("{field}.type"),
                "must NOT have fewer than 1 characters",
            ))
        }
        Some(Value::String(_)) => {}
        Some(other) => return Err(must_be(&format!("{field}.type"), "string", other)),
    }
    if let Some(d) = obj.get("diagramID").filter(|d| !d.is_string()) {
        return Err(must_be(&format!("{field}.diagramID"), "string", d));
    }
    Request::from_value(Value::Object(obj.clone()))
        .map(Some)
        .map_err(|e| ApiError::validation(field, e.to_string()))
}

fn opt_object<'a>(
    field: &str,
    v: Option<&'a Value>,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(must_be(field, "object", other)),
    }
}

/// Validates an interact body for `route`.
pub fn turn_body(body: &Value, route: TurnRoute) -> Result<TurnBody, ApiError> {
    let obj = body_object(body)?;
    let mut out = TurnBody::default();
    match route {
        TurnRoute::Public => {
            only_keys("body", obj, &["action", "config"])?;
            if let Some(a) = obj.get("action").filter(|a| !a.is_object()) {
                return Err(must_be("action", "object", a));
            }
            out.config = config(obj.get("config"), true)?;
            out.request = request("action", obj.get("action"))?;
        }
        TurnRoute::Stateful | TurnRoute::Stateless => {
            out.config = config(obj.get("config"), false)?;
            if route == TurnRoute::Stateful {
                if let Some(s) = opt_object("state", obj.get("state"))? {
                    out.variables = opt_object("state.variables", s.get("variables"))?.cloned();
                }
            } else {
                out.state = client_state(obj.get("state"))?;
            }
            // Both are validated (a malformed `request` is refused even when `action` wins), then
            // `action ?? request ?? null`: action wins when both are present.
            let action = request("action", obj.get("action"))?;
            let legacy = request("request", obj.get("request"))?;
            out.request = action.or(legacy);
        }
    }
    Ok(out)
}

fn frame(field: &str, v: &Value) -> Result<Frame, ApiError> {
    let o = v.as_object().ok_or_else(|| must_be(field, "object", v))?;
    match o.get("diagramID").or_else(|| o.get("programID")) {
        Some(Value::String(_)) => {}
        Some(other) => return Err(must_be(&format!("{field}.diagramID"), "string", other)),
        None => {
            return Err(ApiError::validation(
                field,
                "must have required property 'diagramID'",
            ))
        }
    }
    for key in ["nodeID", "blockID"] {
        if let Some(n) = o.get(key).filter(|n| !(n.is_string() || n.is_null())) {
            return Err(must_be(&format!("{field}.{key}"), "string", n));
        }
    }
    for key in ["storage", "variables"] {
        if let Some(x) = o.get(key).filter(|x| !x.is_object()) {
            return Err(must_be(&format!("{field}.{key}"), "object", x));
        }
    }
    if let Some(c) = o.get("commands") {
        let list = c
            .as_array()
            .ok_or_else(|| must_be(&format!("{field}.commands"), "array", c))?;
        if let Some((i, bad)) = list.iter().enumerate().find(|(_, x)| !x.is_object()) {
            return Err(must_be(&format!("{field}.commands[{i}]"), "object", bad));
        }
    }
    serde_json::from_value(v.clone()).map_err(|e| ApiError::validation(field, e.to_string()))
}

fn stack(field: &str, v: &Value) -> Result<Vec<Frame>, ApiError> {
    let list = v.as_array().ok_or_else(|| must_be(field, "array", v))?;
    list.iter()
        .enumerate()
        .map(|(i, f)| frame(&format!("{field}[{i}]"), f))
        .collect()
}

/// A client-supplied state (stateless routes): `stack`, `storage`, `variables` are read, other
/// keys (e.g. `turn`, sent by some clients) are ignored.
pub fn client_state(v: Option<&Value>) -> Result<Option<State>, ApiError> {
    let Some(o) = opt_object("state", v)? else {
        return Ok(None);
    };
    let stack = match o.get("stack") {
        None | Some(Value::Null) => Vec::new(),
        Some(s) => stack("state.stack", s)?,
    };
    let storage = opt_object("state.storage", o.get("storage"))?
        .cloned()
        .unwrap_or_default();
    let variables = opt_object("state.variables", o.get("variables"))?
        .cloned()
        .unwrap_or_default();
    Ok(Some(State {
        stack,
        storage,
        variables,
    }))
}

/// The body of `PUT /state/user/{userID}`: exactly `{stack, storage, variables}`; frames need a
/// `diagramID` and may have `nodeID` (string or null), `storage`, `commands`, `variables` and
/// anything else.
pub fn put_state(body: &Value) -> Result<State, ApiError> {
    let obj = body_object(body)?;
    only_keys("body", obj, &["stack", "storage", "variables"])?;
    for key in ["stack", "storage", "variables"] {
        if !obj.contains_key(key) {
            return Err(ApiError::validation(
                "body",
                format!("must have required property '{key}'"),
            ));
        }
    }
    let stack = stack("stack", &obj["stack"])?;
    let storage = obj["storage"]
        .as_object()
        .ok_or_else(|| must_be("storage", "object", &obj["storage"]))?
        .clone();
    let variables = obj["variables"]
        .as_object()
        .ok_or_else(|| must_be("variables", "object", &obj["variables"]))?
        .clone();
    Ok(State {
        stack,
        storage,
        variables,
    })
}

/// The body of `PATCH …/variables`: any JSON object.
pub fn variables_patch(body: &Value) -> Result<Vars, ApiError> {
    body_object(body).cloned()
}

/// The body of `POST /public/{projectID}/transcripts` (`spec/dm-api.md` §1.7); returns the fields
/// to store (without `sessionID`) and the session id.
pub fn transcript(body: &Value) -> Result<(String, Map<String, Value>), ApiError> {
    let obj = body_object(body)?;
    only_keys(
        "body",
        obj,
        &["sessionID", "os", "device", "browser", "user", "unread"],
    )?;
    let session = match obj.get("sessionID") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err(ApiError::validation(
                "sessionID",
                "must NOT have fewer than 1 characters",
            ))
        }
        Some(other) => return Err(must_be("sessionID", "string", other)),
        None => {
            return Err(ApiError::validation(
                "sessionID",
                "must have required property 'sessionID'",
            ))
        }
    };
    for key in ["os", "device", "browser"] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_string()) {
            return Err(must_be(key, "string", v));
        }
    }
    if let Some(u) = obj.get("user") {
        let uo = u.as_object().ok_or_else(|| must_be("user", "object", u))?;
        only_keys("user", uo, &["name", "image"])?;
        for key in ["name", "image"] {
            if let Some(v) = uo.get(key).filter(|v| !v.is_string()) {
                return Err(must_be(&format!("user.{key}"), "string", v));
            }
        }
    }
    if let Some(v) = obj.get("unread").filter(|v| !v.is_boolean()) {
        return Err(must_be("unread", "boolean", v));
    }
    let mut fields = obj.clone();
    fields.remove("sessionID");
    Ok((session, fields))
}

/// The body of `POST /feedback/{projectID}/user/{userID}`: `{name: string, …}`.
pub fn feedback(body: &Value) -> Result<Map<String, Value>, ApiError> {
    let obj = body_object(body)?;
    match obj.get("name") {
        Some(Value::String(_)) => Ok(obj.clone()),
        Some(other) => Err(must_be("name", "string", other)),
        None => Err(ApiError::validation(
            "name",
            "must have required property 'name'",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Validation(f) => f[0].0.clone(),
            other => format!("not validation: {other}"),
        }
    }

    #[test]
    fn stop_deadline() {
        let c = config(
            Some(&json!({"stopDeadline": {"seconds": 1.0, "path": "timeout"}})),
            false,
        )
        .unwrap();
        let d = c.stop_deadline.unwrap();
        assert_eq!((d.seconds, d.path.as_str()), (1, "timeout"));
        for (bad, f) in [
            (
                json!({"seconds": -1, "path": "x"}),
                "config.stopDeadline.seconds",
            ),
            (
                json!({"seconds": 1.5, "path": "x"}),
                "config.stopDeadline.seconds",
            ),
            (
                json!({"seconds": 1, "path": ""}),
                "config.stopDeadline.path",
            ),
            (json!({"seconds": 1}), "config.stopDeadline"),
            (
                json!({"seconds": 1, "path": "x", "y": 1}),
                "config.stopDeadline",
            ),
            (json!(3), "config.stopDeadline"),
        ] {
            let e = config(Some(&json!({ "stopDeadline": bad })), false).unwrap_err();
            assert_eq!(field(e), f, "{bad}");
        }
        assert!(config(Some(&json!({"stopDeadline": null})), false)
            .unwrap()
            .stop_deadline
            .is_none());
        assert_eq!(
            field(config(Some(&json!({"stopDeadline": null})), true).unwrap_err()),
            "config"
        );
    }

    #[test]
    fn config_types() {
        assert_eq!(config(None, false).ok(), Some(Config::default()));
        let c = config(
            Some(&json!({"stopTypes": ["a"], "tts": false, "foo": 1})),
            false,
        )
        .expect("ok");
        assert_eq!(c.stop_types, Some(vec!["a".to_string()]));
        assert_eq!(
            field(config(Some(&json!({"stopAll": "yes"})), false).unwrap_err()),
            "config.stopAll"
        );
        assert_eq!(
            field(config(Some(&json!({"stopTypes": "x"})), false).unwrap_err()),
            "config.stopTypes"
        );
        assert_eq!(
            field(config(Some(&json!({"excludeTypes": [1]})), false).unwrap_err()),
            "config.excludeTypes[0]"
        );
        assert_eq!(
            field(config(Some(&json!([])), false).unwrap_err()),
            "config"
        );
        assert_eq!(
            field(config(Some(&json!({"foo": 1})), true).unwrap_err()),
            "config"
        );
    }

    #[test]
    fn turn_bodies() {
        let b = turn_body(
            &json!({"request": {"type": "text", "payload": "hi"}}),
            TurnRoute::Stateful,
        )
        .expect("ok");
        assert_eq!(b.request.map(|r| r.ty().to_string()), Some("text".into()));
        let b = turn_body(
            &json!({"action": {"type": "launch"}, "request": {"type": "text"}}),
            TurnRoute::Stateful,
        )
        .expect("ok");
        assert_eq!(b.request.map(|r| r.ty().to_string()), Some("launch".into()));
        let b = turn_body(
            &json!({"action": null, "request": {"type": "text"}}),
            TurnRoute::Stateful,
        )
        .expect("ok");
        assert_eq!(b.request.map(|r| r.ty().to_string()), Some("text".into()));
        let b = turn_body(
            &json!({"state": {"variables": {"a": 1}}}),
            TurnRoute::Stateful,
        )
        .expect("ok");
        assert_eq!(b.variables.map(|v| v.len()), Some(1));
        assert_eq!(
            field(turn_body(&json!({"state": {"variables": 1}}), TurnRoute::Stateful).unwrap_err()),
            "state.variables"
        );
        assert_eq!(
            field(turn_body(&json!({"state": 1}), TurnRoute::Stateful).unwrap_err()),
            "state"
        );
        assert_eq!(
            field(turn_body(&json!([]), TurnRoute::Stateful).unwrap_err()),
            "body"
        );
        for (body, want) in [
            (json!({"action": {"type": ""}}), "action.type"),
            (json!({"action": {"type": 3}}), "action.type"),
            (json!({"action": {"payload": "x"}}), "action"),
            (json!({"action": 5}), "action"),
            (json!({"action": "launch"}), "action"),
            (json!({"action": []}), "action"),
            (json!({"request": "launch"}), "request"),
            (
                json!({"action": {"type": "launch"}, "request": 1}),
                "request",
            ),
            (
                json!({"action": {"type": "intent", "diagramID": []}}),
                "action.diagramID",
            ),
            (json!({"config": null}), "config"),
        ] {
            for route in [TurnRoute::Stateful, TurnRoute::Stateless] {
                assert_eq!(field(turn_body(&body, route).unwrap_err()), want, "{body}");
            }
        }
        assert!(turn_body(&json!({"action": null}), TurnRoute::Stateful).is_ok());
        assert_eq!(
            field(
                turn_body(
                    &json!({"action": {"type": "launch"}, "state": {}}),
                    TurnRoute::Public
                )
                .unwrap_err()
            ),
            "body"
        );
        assert_eq!(
            field(turn_body(&json!({"action": "launch"}), TurnRoute::Public).unwrap_err()),
            "action"
        );
        let s = turn_body(
            &json!({"state": {"turn": {}, "stack": [], "variables": {"x": 1}}}),
            TurnRoute::Stateless,
        )
        .expect("ok");
        assert_eq!(s.state.map(|s| s.variables.len()), Some(1));
        assert_eq!(
            field(turn_body(&json!({"state": {"stack": [{}]}}), TurnRoute::Stateless).unwrap_err()),
            "state.stack[0]"
        );
    }

    #[test]
    fn put_schema() {
        let ok = json!({"stack": [{"diagramID": "d", "nodeID": null, "extra": 1}], "storage": {}, "variables": {"a": 1}});
        assert_eq!(put_state(&ok).map(|s| s.stack.len()).ok(), Some(1));
        assert_eq!(
            field(put_state(&json!({"stack": [], "storage": {}})).unwrap_err()),
            "body"
        );
        assert_eq!(
            field(
                put_state(&json!({"stack": [], "storage": {}, "variables": {}, "x": 1}))
                    .unwrap_err()
            ),
            "body"
        );
        assert_eq!(
            field(put_state(&json!({"stack": {}, "storage": {}, "variables": {}})).unwrap_err()),
            "stack"
        );
        assert_eq!(
            field(
                put_state(&json!({"stack": [{"nodeID": "n"}], "storage": {}, "variables": {}}))
                    .unwrap_err()
            ),
            "stack[0]"
        );
        assert_eq!(
            field(put_state(&json!({"stack": [{"diagramID": "d", "commands": [1]}], "storage": {}, "variables": {}})).unwrap_err()),
            "stack[0].commands[0]"
        );
        assert_eq!(
            field(put_state(&json!({"stack": [], "storage": [], "variables": {}})).unwrap_err()),
            "storage"
        );
    }

    #[test]
    fn transcripts_and_feedback() {
        let (s, f) = transcript(
            &json!({"sessionID": "s", "os": "Linux", "user": {"name": "A"}, "unread": true}),
        )
        .expect("ok");
        assert_eq!(s, "s");
        assert_eq!(f.len(), 3);
        assert_eq!(
            field(transcript(&json!({"os": "Linux"})).unwrap_err()),
            "sessionID"
        );
        assert_eq!(
            field(transcript(&json!({"sessionID": 1})).unwrap_err()),
            "sessionID"
        );
        assert_eq!(
            field(transcript(&json!({"sessionID": "s", "x": 1})).unwrap_err()),
            "body"
        );
        assert_eq!(
            field(transcript(&json!({"sessionID": "s", "unread": "yes"})).unwrap_err()),
            "unread"
        );
        assert_eq!(
            field(transcript(&json!({"sessionID": "s", "user": {"age": 1}})).unwrap_err()),
            "user"
        );
        assert!(feedback(&json!({"name": "Thumbs up", "text": ["x"]})).is_ok());
        assert_eq!(field(feedback(&json!({"name": 1})).unwrap_err()), "name");
        assert_eq!(field(feedback(&json!({})).unwrap_err()), "name");
    }
}
