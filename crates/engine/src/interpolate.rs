//! `{var}` interpolation (common 8.2.8 semantics, `spec/dm-api.md` §6.12) and Slate helpers.

use serde_json::Value;

/// Read access to variables (a plain map, or a frame's local store over the globals).
pub trait Lookup {
    fn lookup(&self, name: &str) -> Option<&Value>;
}

impl Lookup for serde_json::Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// JavaScript `String(number)`.
pub fn js_number(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    // ECMAScript Number::toString: the shortest digits that read back as `f` (ties to the even
    // digit: ryu's, not Rust's `Display`), laid out by their decimal exponent.
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(f.abs());
    let (mantissa, exp) = match shortest.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (shortest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let digits = all.trim_start_matches('0');
    // `n`: the value is 0.d1d2…dk × 10^n.
    let n = exp + int.len() as i32 - (all.len() - digits.len()) as i32;
    let digits = digits.trim_end_matches('0');
    let k = digits.len() as i32;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat(-n as usize))
    } else {
        let e = n - 1;
        let e = if e < 0 {
            format!("-{}", -e)
        } else {
            format!("+{e}")
        };
        match digits.split_at(1) {
            (d, "") => format!("{d}e{e}"),
            (d, rest) => format!("{d}.{rest}e{e}"),
        }
    };
    format!("{sign}{body}")
}

/// JavaScript string conversion of a JSON value (`[1,2]` → `1,2`, objects → `[object Object]`).
pub fn js_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => js_number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                if x.is_null() {
                    String::new()
                } else {
                    js_string(x)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// The sanitised form used for text/speak/Slate: non-integer numbers with exactly 2 decimals.
fn sanitized_string(v: &Value) -> String {
    if let Value::Number(n) = v {
        if let Some(f) = n.as_f64() {
            if n.as_i64().is_none() && n.as_u64().is_none() && f.fract() != 0.0 && f.is_finite() {
                return format!("{f:.2}");
            }
        }
    }
    js_string(v)
}

/// Replaces `{name}` (1–64 word characters) by the variable's value when `name` is a key of the
/// variables; unknown names are left verbatim. `sanitize` selects the 2-decimal float form.
pub fn replace(input: &str, vars: &dyn Lookup, sanitize: bool) -> String {
    if !input.contains('{') {
        return input.to_string();
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len() + 16);
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len()
                && j - start <= 64
                && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
            {
                j += 1;
            }
            let len = j - start;
            if j < bytes.len() && bytes[j] == b'}' && (1..=64).contains(&len) {
                let name = &input[start..j];
                if let Some(v) = vars.lookup(name) {
                    out.push_str(&input[last..i]);
                    out.push_str(&if sanitize {
                        sanitized_string(v)
                    } else {
                        js_string(v)
                    });
                    last = j + 1;
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&input[last..]);
    out
}

/// Builds a JSON object from owned values. Unlike `json!`, which serialises every `Value` it is
/// given into a fresh copy, this moves them (it matters on the hot path).
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut map = serde_json::Map::with_capacity(N);
    for (k, v) in fields {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

/// A JSON number, integral when possible (`1000.0` → `1000`).
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Replaces variables in every string of a JSON value, recursively (keys untouched).
pub fn replace_deep(v: &Value, vars: &dyn Lookup, sanitize: bool) -> Value {
    match v {
        Value::String(s) => Value::String(replace(s, vars, sanitize)),
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| replace_deep(x, vars, sanitize)).collect())
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), replace_deep(x, vars, sanitize)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn collect_text(node: &Value, out: &mut String) {
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        out.push_str(t);
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        for c in children {
            collect_text(c, out);
        }
    }
}

/// Plain text of a Slate value: text leaves of each top-level node concatenated, nodes joined
/// with `\n`, trimmed.
pub fn slate_plain_text(content: &Value) -> String {
    match content {
        Value::Array(nodes) => {
            let lines: Vec<String> = nodes
                .iter()
                .map(|n| {
                    let mut s = String::new();
                    collect_text(n, &mut s);
                    s
                })
                .collect();
            lines.join("\n").trim().to_string()
        }
        Value::String(s) => s.trim().to_string(),
        other => {
            let mut s = String::new();
            collect_text(other, &mut s);
            s.trim().to_string()
        }
    }
}

/// A string turned into Slate lines: one paragraph per `\n`-separated line.
pub fn text_to_slate(s: &str) -> Value {
    Value::Array(
        s.split('\n')
            .map(|line| serde_json::json!({ "children": [ { "text": line } ] }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> serde_json::Map<String, Value> {
        json!({"name": "Ann", "n": 0, "f": 5.2345, "b": true, "z": null, "arr": [1, "a"], "o": {"x": 1}, "i": 3.0})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn replaces_known_names_only() {
        let v = vars();
        assert_eq!(
            replace("Hi {name}, {unknown} {n}", &v, false),
            "Hi Ann, {unknown} 0"
        );
        assert_eq!(
            replace("{b} {z} {arr} {o}", &v, false),
            "true null 1,a [object Object]"
        );
        assert_eq!(replace("{na me} {}", &v, false), "{na me} {}");
        assert_eq!(replace("  {name}  ", &v, false), "  Ann  ");
    }

    #[test]
    fn sanitises_floats_to_two_decimals() {
        let v = vars();
        assert_eq!(replace("{f}", &v, true), "5.23");
        assert_eq!(replace("{f}", &v, false), "5.2345");
        assert_eq!(replace("{i}", &v, true), "3");
    }

    #[test]
    fn js_numbers() {
        assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(25.0), "25");
    }

    /// Found by `tests/engine/properties.rs` (`numbers_print_as_javascript_does`): whole numbers
    /// above 2^53 printed their exact binary value, numbers below 1e-6 their decimal form, ties
    /// between two shortest forms the odd digit.
    #[test]
    fn js_numbers_as_quickjs_prints_them() {
        assert_eq!(js_number(5.677317268562087e17), "567731726856208700");
        assert_eq!(js_number(-1.2345678901234568e20), "-123456789012345680000");
        assert_eq!(js_number(1e20), "100000000000000000000");
        assert_eq!(js_number(0.000001), "0.000001");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(-1e-7), "-1e-7");
        assert_eq!(js_number(9007199254740993.0), "9007199254740992");
        // A tie between two shortest forms: the even digit.
        assert_eq!(js_number(-954612781045644.3), "-954612781045644.2");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.2345e-20), "1.2345e-20");
        assert_eq!(js_number(0.1), "0.1");
        assert_eq!(js_number(123.0), "123");
    }

    #[test]
    fn slate_text() {
        let s = json!([{"children":[{"text":"Hello "},{"text":"world","bold":true}]},{"children":[{"text":" line2 "}]}]);
        assert_eq!(slate_plain_text(&s), "Hello world\n line2");
        assert_eq!(
            text_to_slate("a\nb"),
            json!([{"children":[{"text":"a"}]},{"children":[{"text":"b"}]}])
        );
    }
}
