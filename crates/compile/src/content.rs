//! Content conversions: Slate rich text, `{{[name].id}}` tokens and 2024+ markup arrays into the
//! runtime's `{name}` placeholders (strings and Slate) or bare identifiers (JavaScript).

use super::names::Names;
use regex::{Captures, Regex};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `{{[name].id}}`; the id part may itself be a name (old data).
        Regex::new(r"\{\{\[([^\]\{\}]*)\]\.([^\}\{]*)\}\}").unwrap_or_else(|_| unreachable!())
    })
}

fn token_name<'a>(names: &'a Names, caps: &'a Captures<'_>) -> Cow<'a, str> {
    let shown = caps.get(1).map(|m| m.as_str()).unwrap_or("");
    let id = caps.get(2).map(|m| m.as_str()).unwrap_or("");
    match names.variable_by_id(id) {
        Some(n) => Cow::Borrowed(n),
        None if !shown.is_empty() => Cow::Owned(shown.to_string()),
        None => Cow::Owned(id.to_string()),
    }
}

/// `Hi {{[name].abc}}` → `Hi {name}` (runtime interpolation placeholders).
pub fn braces(names: &Names, s: &str) -> String {
    if !s.contains("{{") {
        return s.to_string();
    }
    token_re()
        .replace_all(s, |c: &Captures<'_>| {
            format!("{{{}}}", token_name(names, c))
        })
        .into_owned()
}

/// `!{{[flag].flag}}` → `!flag` (JavaScript / legacy expressions).
pub fn js(names: &Names, s: &str) -> String {
    if !s.contains("{{") {
        return s.to_string();
    }
    token_re()
        .replace_all(s, |c: &Captures<'_>| token_name(names, c).into_owned())
        .into_owned()
}

/// `{{[x].id}} + 1` → `v['x'] + 1` (legacy expressions).
pub fn legacy_vars(names: &Names, s: &str) -> String {
    if !s.contains("{{") {
        return s.to_string();
    }
    token_re()
        .replace_all(s, |c: &Captures<'_>| {
            format!("v['{}']", token_name(names, c))
        })
        .into_owned()
}

/// Whether a string holds `{{[..]..}}` tokens.
pub fn has_tokens(s: &str) -> bool {
    s.contains("{{") && token_re().is_match(s)
}

/// The single variable of a string that is exactly one token, if it is.
pub fn sole_token(names: &Names, s: &str) -> Option<String> {
    let caps = token_re().captures(s.trim())?;
    let whole = caps.get(0)?;
    if whole.as_str().len() != s.trim().len() {
        return None;
    }
    Some(token_name(names, &caps).into_owned())
}

/// Every `{{[..]..}}` token of a string turned into a JavaScript concatenation of quoted
/// literals and identifiers: `"Hi {{[n].x}}!"` → `'Hi ' + n + '!'`.
pub fn js_template(names: &Names, s: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut last = 0;
    for caps in token_re().captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        if m.start() > last {
            parts.push(js_string(&s[last..m.start()]));
        }
        parts.push(token_name(names, &caps).into_owned());
        last = m.end();
    }
    if last < s.len() || parts.is_empty() {
        parts.push(js_string(&s[last..]));
    }
    if parts.len() > 1 && !parts[0].starts_with('\'') {
        parts.insert(0, "''".into());
    }
    parts.join(" + ")
}

/// A JavaScript single-quoted string literal.
pub fn js_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Creator Slate → runtime Slate: variable elements become `{name}` text leaves, tokens inside
/// text leaves become `{name}`. Everything else is kept.
pub fn slate(names: &Names, v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(|i| slate(names, i)).collect()),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("variable") {
                let id = o.get("id").and_then(Value::as_str).unwrap_or("");
                let name = names
                    .variable_by_id(id)
                    .map(str::to_string)
                    .or_else(|| o.get("name").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| id.to_string());
                return json!({ "text": format!("{{{name}}}") });
            }
            let mut out = Map::with_capacity(o.len());
            for (k, val) in o {
                let converted = match (k.as_str(), val) {
                    ("text", Value::String(s)) => Value::String(braces(names, s)),
                    ("children", Value::Array(children)) => Value::Array(merge_leaves(
                        children.iter().map(|c| slate(names, c)).collect(),
                    )),
                    ("children", _) => slate(names, val),
                    _ => val.clone(),
                };
                out.insert(k.clone(), converted);
            }
            Value::Object(out)
        }
        Value::String(s) => Value::String(braces(names, s)),
        other => other.clone(),
    }
}

/// Whether two Slate leaves carry the same marks (every property but `text`).
fn same_marks(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| k == "text" || b.get(k) == Some(v))
}

/// Merges adjacent text leaves with the same marks, as Slate normalises them: a variable
/// between two texts becomes one leaf `Hi {name}!`.
fn merge_leaves(children: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(children.len());
    for c in children {
        if let (Some(Value::Object(prev)), Value::Object(cur)) = (out.last_mut(), &c) {
            let both_text = matches!(prev.get("text"), Some(Value::String(_)))
                && matches!(cur.get("text"), Some(Value::String(_)))
                && !prev.contains_key("children")
                && !cur.contains_key("children");
            if both_text && same_marks(prev, cur) {
                let add = cur
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if let Some(Value::String(t)) = prev.get_mut("text") {
                    t.push_str(&add);
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// A string (voice content, `{{[..]..}}` tokens) or Slate value turned into runtime Slate.
pub fn to_slate(names: &Names, v: &Value) -> Value {
    match v {
        Value::String(s) => text_slate(&braces(names, s)),
        Value::Array(_) => slate(names, v),
        _ => text_slate(""),
    }
}

/// Plain text as one Slate paragraph per line.
pub fn text_slate(s: &str) -> Value {
    Value::Array(
        s.split('\n')
            .map(|line| json!({ "children": [ { "text": line } ] }))
            .collect(),
    )
}

/// Plain text of a Slate value (leaves concatenated per paragraph, paragraphs joined by `\n`).
pub fn slate_text(v: &Value) -> String {
    fn leaves(v: &Value, out: &mut String) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
            Value::Object(o) => {
                if let Some(Value::String(t)) = o.get("text") {
                    out.push_str(t);
                }
                if let Some(c) = o.get("children") {
                    leaves(c, out);
                }
            }
            Value::String(s) => out.push_str(s),
            _ => {}
        }
    }
    match v {
        Value::Array(paras) => paras
            .iter()
            .map(|p| {
                let mut s = String::new();
                leaves(p, &mut s);
                s
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => {
            let mut s = String::new();
            leaves(other, &mut s);
            s
        }
    }
}

/// One markup item (`"literal"`, `{variableID}`, `{entityID}`, `{text:[…]}`) appended as text.
fn markup_item(names: &Names, item: &Value, out: &mut String) {
    match item {
        Value::String(s) => out.push_str(&braces(names, s)),
        Value::Object(o) => {
            if let Some(id) = o.get("variableID").and_then(Value::as_str) {
                out.push('{');
                out.push_str(names.variable_by_id(id).unwrap_or(id));
                out.push('}');
            } else if let Some(id) = o.get("entityID").and_then(Value::as_str) {
                out.push('{');
                out.push_str(names.entity_name(id).unwrap_or(id));
                out.push('}');
            } else if let Some(Value::Array(inner)) = o.get("text") {
                inner.iter().for_each(|i| markup_item(names, i, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|i| markup_item(names, i, out)),
        Value::Number(n) => out.push_str(&n.to_string()),
        _ => {}
    }
}

/// Whether a markup array is a list of paragraphs (`[{text:[…]}, …]`) rather than the items
/// of a single paragraph (`["literal", {variableID}]`).
fn is_paragraphs(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("text").map(Value::is_array).unwrap_or(false))
}

/// The paragraphs of a markup value (`[{text:[…]}, …]`, or a plain string).
fn markup_paragraphs(names: &Names, v: &Value) -> Vec<String> {
    match v {
        Value::Array(paras) if is_paragraphs(paras) => paras
            .iter()
            .map(|p| {
                let mut s = String::new();
                match p {
                    Value::Object(o) if o.contains_key("text") => {
                        if let Some(t) = o.get("text") {
                            markup_item(names, t, &mut s);
                        }
                    }
                    other => markup_item(names, other, &mut s),
                }
                s
            })
            .collect(),
        Value::String(s) => vec![braces(names, s)],
        Value::Null => Vec::new(),
        other => {
            let mut s = String::new();
            markup_item(names, other, &mut s);
            vec![s]
        }
    }
}

/// Markup → string with `{name}` placeholders, paragraphs joined by `\n`.
pub fn markup_string(names: &Names, v: &Value) -> String {
    markup_paragraphs(names, v).join("\n")
}

/// Markup → runtime Slate (one paragraph per markup paragraph).
pub fn markup_slate(names: &Names, v: &Value) -> Value {
    Value::Array(
        markup_paragraphs(names, v)
            .into_iter()
            .map(|p| json!({ "children": [ { "text": p } ] }))
            .collect(),
    )
}

/// Markup → JavaScript source: literals are kept verbatim and variables become identifiers
/// (for `script` items and code-like fields).
pub fn markup_code(names: &Names, v: &Value) -> String {
    fn item(names: &Names, v: &Value, out: &mut String) {
        match v {
            Value::String(s) => out.push_str(&js(names, s)),
            Value::Object(o) => {
                if let Some(id) = o.get("variableID").and_then(Value::as_str) {
                    out.push_str(names.variable_by_id(id).unwrap_or(id));
                } else if let Some(id) = o.get("entityID").and_then(Value::as_str) {
                    out.push_str(names.entity_name(id).unwrap_or(id));
                } else if let Some(t) = o.get("text") {
                    item(names, t, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| item(names, i, out)),
            Value::Number(n) => out.push_str(&n.to_string()),
            _ => {}
        }
    }
    let mut out = String::new();
    match v {
        Value::Array(paras) if is_paragraphs(paras) => {
            for (i, p) in paras.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                item(names, p, &mut out);
            }
        }
        other => item(names, other, &mut out),
    }
    out
}

/// Markup → a JavaScript expression producing the interpolated string:
/// `["Hi ", {variableID}]` → `'Hi ' + name`.
pub fn markup_js_value(names: &Names, v: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut lit = String::new();
    fn walk(names: &Names, v: &Value, parts: &mut Vec<String>, lit: &mut String) {
        match v {
            Value::String(s) => lit.push_str(s),
            Value::Number(n) => lit.push_str(&n.to_string()),
            Value::Object(o) => {
                let var = o
                    .get("variableID")
                    .and_then(Value::as_str)
                    .map(|id| names.variable_by_id(id).unwrap_or(id).to_string())
                    .or_else(|| {
                        o.get("entityID")
                            .and_then(Value::as_str)
                            .map(|id| names.entity_name(id).unwrap_or(id).to_string())
                    });
                if let Some(var) = var {
                    if !lit.is_empty() {
                        parts.push(js_string(lit));
                        lit.clear();
                    }
                    parts.push(var);
                } else if let Some(t) = o.get("text") {
                    walk(names, t, parts, lit);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(names, i, parts, lit)),
            _ => {}
        }
    }
    match v {
        Value::Array(paras) if is_paragraphs(paras) => {
            for (i, p) in paras.iter().enumerate() {
                if i > 0 {
                    lit.push('\n');
                }
                walk(names, p, &mut parts, &mut lit);
            }
        }
        other => walk(names, other, &mut parts, &mut lit),
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(js_string(&lit));
    }
    if parts.len() == 1 {
        return parts.remove(0);
    }
    if !parts[0].starts_with('\'') {
        parts.insert(0, "''".into());
    }
    parts.join(" + ")
}

/// Whether a markup value is empty (no text, no variables).
pub fn markup_is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.iter().all(markup_is_empty),
        Value::Object(o) => {
            if o.contains_key("variableID") || o.contains_key("entityID") {
                return false;
            }
            o.get("text").map(markup_is_empty).unwrap_or(true)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut n = Names::default();
        n.add_variable("v1", "city");
        n
    }

    #[test]
    fn tokens_become_placeholders_and_identifiers() {
        let n = names();
        assert_eq!(braces(&n, "In {{[old].v1}} now"), "In {city} now");
        assert_eq!(braces(&n, "{{[flag].flag}}!"), "{flag}!");
        assert_eq!(js(&n, "!{{[flag].flag}} && {{[x].v1}}"), "!flag && city");
        assert_eq!(sole_token(&n, " {{[x].v1}} ").as_deref(), Some("city"));
        assert_eq!(sole_token(&n, "a {{[x].v1}}"), None);
        assert_eq!(js_template(&n, "Hi {{[x].v1}}!"), "'Hi ' + city + '!'");
        assert_eq!(js_template(&n, "{{[x].v1}}"), "city");
    }

    #[test]
    fn slate_variables_and_markup() {
        let n = names();
        let s = json!([{"children": [{"text": "A "}, {"type": "variable", "id": "v1", "name": "x", "children": [{"text": ""}]}]}]);
        assert_eq!(slate_text(&slate(&n, &s)), "A {city}");
        let m = json!([{"text": ["Hi ", {"variableID": "v1"}, "!"]}, {"text": ["bye"]}]);
        assert_eq!(markup_string(&n, &m), "Hi {city}!\nbye");
        assert_eq!(markup_js_value(&n, &m), "'Hi ' + city + '!\\nbye'");
        assert_eq!(
            markup_js_value(&n, &json!([{"text": [{"variableID": "v1"}]}])),
            "city"
        );
        assert_eq!(
            markup_code(&n, &json!(["return ", {"variableID": "v1"}])),
            "return city"
        );
        assert!(markup_is_empty(&json!([{"text": [""]}])));
        assert!(!markup_is_empty(&json!([{"text": [{"variableID": "v1"}]}])));
    }
}
