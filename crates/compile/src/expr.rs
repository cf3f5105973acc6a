//! Conditions and assignments: creator expression data → runtime expression strings.
//!
//! * `ifV2` expressions and `condition-v3` assertions → JavaScript strings (as in the 2021
//!   `.vfr`: `qType == 'Binary'`, `qIndex < qlen`, `!flag`);
//! * `if`/`set` v1 expression trees → legacy expression strings (`(!v['flag'])`, `v['x']`);
//! * `setV2` / `set-v3` values → JavaScript.

use super::content::{self, js_string};
use super::names::Names;
use serde_json::Value;

/// An expression that could not be translated (the reason goes into a diagnostic).
pub type ExprResult = Result<String, String>;

fn operand(names: &Names, v: &Value) -> ExprResult {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("value");
    let raw = v.get("value").unwrap_or(&Value::Null);
    match (kind, raw) {
        ("variable", Value::String(id)) => Ok(names.variable(id).to_string()),
        ("variable", _) => Err("condition names no variable".into()),
        (_, Value::String(s)) if content::has_tokens(s) => Ok(content::js_template(names, s)),
        (_, Value::String(s)) => Ok(js_string(s)),
        (_, Value::Number(n)) => Ok(n.to_string()),
        (_, Value::Bool(b)) => Ok(b.to_string()),
        (_, Value::Null) => Ok("''".into()),
        _ => Err("unsupported condition operand".into()),
    }
}

fn empty_test(x: &str) -> String {
    format!("({x} === undefined || {x} === null || {x} === '' || {x} === 0)")
}

/// A binary comparison by operator name (ifV2 `type`, condition-v3 `operation`).
fn compare(op: &str, a: &str, b: &str) -> ExprResult {
    Ok(match op {
        "equals" | "is" | "==" => format!("{a} == {b}"),
        "not_equal" | "is_not" | "!=" => format!("{a} != {b}"),
        "greater" | "greater_than" | ">" => format!("{a} > {b}"),
        "greater_or_equal" | "greater_than_or_equal" | ">=" => format!("{a} >= {b}"),
        "less" | "less_than" | "<" => format!("{a} < {b}"),
        "less_or_equal" | "less_than_or_equal" | "<=" => format!("{a} <= {b}"),
        "contains" => format!("String({a}).includes(String({b}))"),
        "not_contain" | "not_contains" => format!("!String({a}).includes(String({b}))"),
        "starts_with" => format!("String({a}).startsWith(String({b}))"),
        "ends_with" => format!("String({a}).endsWith(String({b}))"),
        "has_value" | "is_not_empty" => format!("!{}", empty_test(a)),
        "is_empty" => empty_test(a),
        other => return Err(format!("unsupported condition operator {other:?}")),
    })
}

fn join(parts: Vec<String>, op: &str) -> String {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    parts
        .into_iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join(op)
}

fn combinator(kind: Option<&str>) -> &'static str {
    if kind == Some("or") {
        " || "
    } else {
        " && "
    }
}

/// One ifV2 condition (`logicInterface` expression / variable / value / logic_group).
fn if_v2_condition(names: &Names, c: &Value) -> ExprResult {
    let interface = c
        .get("logicInterface")
        .and_then(Value::as_str)
        .unwrap_or("variable");
    let kind = c.get("type").and_then(Value::as_str);
    match interface {
        "expression" => {
            let src = c.get("value").and_then(Value::as_str).unwrap_or("");
            if src.trim().is_empty() {
                return Err("empty expression".into());
            }
            Ok(content::js(names, src))
        }
        "logic_group" => {
            let parts = c
                .get("value")
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|x| if_v2_condition(names, x)).collect())
                .unwrap_or_else(|| Ok(Vec::new()))?;
            if parts.is_empty() {
                return Err("empty condition group".into());
            }
            Ok(join(parts, combinator(kind)))
        }
        _ => {
            let ops = c.get("value").and_then(Value::as_array);
            let a = ops
                .and_then(|o| o.first())
                .map(|x| operand(names, x))
                .unwrap_or_else(|| Err("condition has no left side".into()))?;
            let b = ops
                .and_then(|o| o.get(1))
                .map(|x| operand(names, x))
                .unwrap_or_else(|| Ok("''".into()))?;
            compare(kind.unwrap_or("equals"), &a, &b)
        }
    }
}

/// One ifV2 path expression `{type: null|and|or, value: [condition, …]}` → JavaScript.
pub fn if_v2(names: &Names, expr: &Value) -> ExprResult {
    let parts = expr
        .get("value")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(|c| if_v2_condition(names, c)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))?;
    if parts.is_empty() {
        return Err("path has no condition".into());
    }
    Ok(join(
        parts,
        combinator(expr.get("type").and_then(Value::as_str)),
    ))
}

/// Whether `s` can name a JavaScript variable (ASCII identifiers, as variable names are).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// One condition-v3 item value (`value-variable` assertions, or a `script`).
pub fn condition_v3(names: &Names, value: &Value) -> ExprResult {
    match value.get("type").and_then(Value::as_str).unwrap_or("") {
        "value-variable" => {
            let parts = value
                .get("assertions")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .map(|a| {
                            let lhs = a.get("lhs").unwrap_or(&Value::Null);
                            let left = match lhs.get("variableID").and_then(Value::as_str) {
                                // An id the export does not define (older data names the
                                // variable itself, a JavaScript identifier).
                                Some(id)
                                    if names.variable_by_id(id).is_none() && !is_identifier(id) =>
                                {
                                    return Err(format!("variable {id} is not in the export"));
                                }
                                Some(id) => names.variable(id).to_string(),
                                None => content::markup_js_value(names, lhs),
                            };
                            let right = content::markup_js_value(
                                names,
                                a.get("rhs").unwrap_or(&Value::Null),
                            );
                            let op = a.get("operation").and_then(Value::as_str).unwrap_or("is");
                            compare(op, &left, &right)
                        })
                        .collect()
                })
                .unwrap_or_else(|| Ok(Vec::new()))?;
            if parts.is_empty() {
                return Err("condition has no assertion".into());
            }
            let all = value
                .get("matchAll")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            Ok(join(parts, if all { " && " } else { " || " }))
        }
        "script" | "value-expression" | "expression" => {
            let code = value
                .get("code")
                .or_else(|| value.get("value"))
                .map(|c| content::markup_code(names, c))
                .unwrap_or_default();
            if code.trim().is_empty() {
                return Err("empty script condition".into());
            }
            Ok(script_value(&code))
        }
        other => Err(format!("unsupported condition type {other:?}")),
    }
}

/// A script body as an expression: bodies with `return` run as a function.
pub fn script_value(code: &str) -> String {
    if code.contains("return") {
        format!("(function () {{ {code} }})()")
    } else {
        code.trim().trim_end_matches(';').to_string()
    }
}

/// Whether a value-type set expression is a literal the runtime can evaluate as is.
fn is_literal(s: &str) -> bool {
    let t = s.trim();
    matches!(t, "true" | "false" | "null")
        || (!t.is_empty() && t.parse::<f64>().is_ok() && !t.starts_with('+'))
        || (t.len() >= 2
            && ((t.starts_with('"') && t.ends_with('"'))
                || (t.starts_with('\'') && t.ends_with('\''))))
}

/// A setV2 set: `advance` is JavaScript with tokens; `value` is a literal (numbers/booleans
/// stay literals, text becomes a string with its variables concatenated).
pub fn set_v2(names: &Names, kind: Option<&str>, expression: &Value) -> String {
    let src = match expression {
        Value::String(s) => s.as_str(),
        Value::Number(n) => return n.to_string(),
        Value::Bool(b) => return b.to_string(),
        _ => "",
    };
    if kind == Some("value") && !is_literal(src) {
        return content::js_template(names, src);
    }
    if src.trim().is_empty() {
        return "''".into();
    }
    content::js(names, src)
}

/// A legacy (`if`/`set` v1) expression tree → legacy expression string.
pub fn legacy(names: &Names, e: &Value) -> ExprResult {
    let kind = e.get("type").and_then(Value::as_str).unwrap_or("value");
    let val = e.get("value").unwrap_or(&Value::Null);
    let bin = |op: &str| -> ExprResult {
        let list = val.as_array().ok_or("operator without operands")?;
        let a = legacy(names, list.first().ok_or("missing operand")?)?;
        let b = legacy(names, list.get(1).ok_or("missing operand")?)?;
        Ok(format!("({a} {op} {b})"))
    };
    match kind {
        "variable" => {
            let name = val.as_str().ok_or("variable without a name")?;
            Ok(format!("v['{}']", names.variable(name)))
        }
        "value" => Ok(match val {
            Value::String(s) if s.trim().parse::<f64>().is_ok() => s.trim().to_string(),
            Value::String(s) => js_string(s),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => "''".into(),
        }),
        "not" => {
            let inner = if val.is_array() {
                val.get(0).unwrap_or(&Value::Null)
            } else {
                val
            };
            Ok(format!("(!{})", legacy(names, inner)?))
        }
        "advance" => {
            let s = val.as_str().unwrap_or("");
            Ok(content::legacy_vars(names, s))
        }
        "plus" => bin("+"),
        "minus" => bin("-"),
        "times" => bin("*"),
        "divide" => bin("/"),
        "equals" => bin("=="),
        "greater" => bin(">"),
        "less" => bin("<"),
        "and" => bin("&&"),
        "or" => bin("||"),
        other => Err(format!("unsupported legacy expression type {other:?}")),
    }
}

/// A legacy set value: plain numbers are kept as JSON numbers (as the 2021 compiler did).
pub fn legacy_set(names: &Names, e: &Value) -> Result<Value, String> {
    if e.get("type").and_then(Value::as_str) == Some("value") {
        if let Some(Value::String(s)) = e.get("value") {
            if let Ok(n) = s.trim().parse::<i64>() {
                return Ok(Value::from(n));
            }
            if let Some(n) = s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                return Ok(Value::Number(n));
            }
        }
    }
    if let Value::String(s) = e {
        return Ok(Value::String(content::legacy_vars(names, s)));
    }
    legacy(names, e).map(Value::String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn if_v2_matches_the_2021_compiler() {
        let n = Names::default();
        let e = json!({"type": null, "value": [{"logicInterface": "variable", "type": "equals", "value": [{"type": "variable", "value": "qType"}, {"type": "value", "value": "Binary"}]}]});
        assert_eq!(if_v2(&n, &e).as_deref(), Ok("qType == 'Binary'"));
        let e = json!({"value": [{"logicInterface": "expression", "type": "advance", "value": "!{{[flag].flag}}"}]});
        assert_eq!(if_v2(&n, &e).as_deref(), Ok("!flag"));
        let g = json!({"type": "and", "value": [{"logicInterface": "logic_group", "type": "or", "value": [
            {"logicInterface": "variable", "type": "less", "value": [{"type": "variable", "value": "a"}, {"type": "variable", "value": "b"}]},
            {"logicInterface": "variable", "type": "has_value", "value": [{"type": "variable", "value": "c"}, {"type": "value", "value": ""}]}]}]});
        assert_eq!(
            if_v2(&n, &g).as_deref(),
            Ok("(a < b) || (!(c === undefined || c === null || c === '' || c === 0))")
        );
    }

    #[test]
    fn legacy_trees() {
        let n = Names::default();
        let e = json!({"type": "not", "value": {"type": "variable", "value": "flag", "depth": 1}, "depth": 0});
        assert_eq!(legacy(&n, &e).as_deref(), Ok("(!v['flag'])"));
        assert_eq!(
            legacy_set(&n, &json!({"type": "value", "value": "-1"})),
            Ok(json!(-1))
        );
        assert_eq!(
            legacy_set(&n, &json!({"type": "variable", "value": "x"})),
            Ok(json!("v['x']"))
        );
    }

    #[test]
    fn set_values() {
        let n = Names::default();
        assert_eq!(set_v2(&n, Some("value"), &json!("1")), "1");
        assert_eq!(set_v2(&n, Some("value"), &json!("11:00")), "'11:00'");
        assert_eq!(set_v2(&n, Some("value"), &json!("")), "''");
        assert_eq!(
            set_v2(&n, Some("advance"), &json!("{{[a].a}} + 1")),
            "a + 1"
        );
    }
}
