//! Expressions that are a single literal — `25`, `-1.5`, `'Paris'`, `"yes"`, `true`, `false` —
//! are most setV2 values of real agents. Their value needs no JavaScript engine: it is computed
//! here, exactly as QuickJS would give it (the test compares both on every shape), which saves
//! the ~15 µs of entering the sandbox (globals in, run, read back, reset). Anything else — a
//! leading zero (sloppy-mode octal), an exponent, an escape, a template — goes to QuickJS.

use super::convert::number;
use serde_json::Value;

/// The value of `expr` when it is one literal of the shapes above.
pub fn literal(expr: &str) -> Option<Value> {
    // JavaScript's white space: Rust's but U+0085 (NEL, not white space to JavaScript; U+FEFF,
    // JavaScript's only, is left in place and the expression goes to QuickJS).
    let e = expr.trim_matches(|c: char| c.is_whitespace() && c != '\u{85}');
    match e {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(quote) = e.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let inner = e.strip_prefix(quote)?.strip_suffix(quote)?;
        let plain = !inner.chars().any(|c| {
            c == quote || c == '\\' || c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
        });
        return plain.then(|| Value::String(inner.to_string()));
    }
    let digits = e.strip_prefix('-').unwrap_or(e);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let decimal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = decimal(whole) && (whole == "0" || !whole.starts_with('0'));
    if !whole_ok || fraction.is_some_and(|f| !decimal(f)) {
        return None;
    }
    e.parse::<f64>().ok().map(number)
}

#[cfg(test)]
mod tests {
    use super::literal;
    use crate::sandbox::QuickJs;
    use flowdm_engine::state::Vars;
    use flowdm_engine::{Sandbox, ScriptEnv};

    #[test]
    fn literals_have_the_value_quickjs_gives_them() {
        let env = ScriptEnv {
            now_ms: 0,
            seed: 0,
            budget_ms: None,
        };
        for e in [
            "25",
            " 25 ",
            "0",
            "-0",
            "-7",
            "3.25",
            "-0.5",
            "0.1",
            "123456789012345678901234567890",
            "9007199254740993",
            "1.0",
            "'Paris'",
            "\"yes\"",
            "''",
            "'it\"s'",
            "\"l'été\"",
            "true",
            "false",
        ] {
            let fast = literal(e).unwrap_or_else(|| panic!("{e} is a literal"));
            // In parentheses the expression is not a literal any more: QuickJS evaluates it.
            let slow = QuickJs
                .eval_expression(&format!("({e})"), &Vars::new(), &env)
                .unwrap();
            assert_eq!(fast, slow, "{e}");
        }
        for e in [
            "010",
            "08",
            "1e3",
            "0x10",
            ".5",
            "5.",
            "- 5",
            "'a\\nb'",
            "'a' + 'b'",
            "'a",
            "amount",
            "null",
            "undefined",
            "NaN",
            "`x`",
            "\"\u{2028}\"",
            // Found by `tests/sandbox/properties.rs`: NEL is not white space to JavaScript.
            "''\u{85}",
            "25\u{85}",
            "\u{85}true",
        ] {
            assert_eq!(literal(e), None, "{e}");
        }
    }
}
