//! Legacy shunting-yard evaluator of `if`/`set` v1 expressions (`spec/dm-api.md` §6.13.1).
//!
//! Implemented literally, quirks included:
//! * a number is a digit, or `-` immediately followed by a digit, then digits and dots
//!   (`parseFloat`), so `5-3` is the two numbers `5` and `-3` → error; write `5 - 3`;
//! * `&&`, `||` and `==` must be doubled; `>= <= > < !=`; `+ - * / ^ !` with precedences
//!   `!` 10 (right), `^` 4 (right), `* /` 3, `+ -` 2;
//! * a `)` whose `(` is directly on top of the operator stack (`(5)`, `((1+2))`) is the error
//!   "Unbalanced parentheses";
//! * comparison/logic operators are pushed without precedence resolution and emitted as soon as a
//!   following arithmetic operator arrives (`a == b + 1` is `(a == b) + 1`, `b + 1 == a` is
//!   `b + (1 == a)`, `a > 1 && b > 2` is `a > (1 && (b > 2))`; `!` counts as arithmetic, so
//!   `a == !b` emits `==` too early and fails);
//! * `'...'` strings end at a quote followed by the end, `)` or a space; `\'` is unescaped;
//! * `$...$` (ending at a `$` followed by the end, `)` or a space) is a math fragment
//!   (`legacy/math.rs`) evaluated with scope `{v: variables}`; its errors are the operand string
//!   `__ERROR__:<message>`;
//! * identifiers are runs of `[a-z0-9_]`: `true`/`false`, otherwise `v['name']` (variables);
//!   any other identifier reads a property of `undefined` → error; a variable whose value JS
//!   `Number()` converts (numeric strings, `""`, `null`, booleans, `[5]`) becomes that number;
//! * operand strings equal to an operator symbol (`'+'`) are mis-read as that operator;
//! * operators have JavaScript semantics (loose `==`/`!=`, `+` concatenates when a side is a
//!   string, `&&`/`||` return an operand, `^` is `Math.pow`, `!` is logical not).
//!
//! Results: any error → the **string** `Unable to calculate expression: Error: <message>`.
//! A JSON number expression is returned as is; other non-strings are evaluated from their JS string
//! form (`null` counts as an empty expression). `undefined` (empty expression, missing variable),
//! `NaN` and `±Infinity` have no JSON form and are returned as `Value::Null`: callers treat it as
//! "unset" (set v1 leaves the variable undefined, if v1 does not take the path).
//!
//! Not replicated (or unknown in the reference):
//! * error messages other than "Unbalanced parentheses" are our own wording; an operand count
//!   mismatch (`5-3`, `1 +`) is "Invalid expression";
//! * any Unicode white space separates tokens (the reference may only skip spaces);
//! * `math.js` is replaced by a small subset (numbers, strings, `+ - * / % ^ mod`, comparisons,
//!   `and or not`, `? :`, `v.name`/`v['name']`, common functions; no matrices, units, implicit
//!   multiplication or 1-based indexing; `random` is an error to keep the engine deterministic);
//!   its 1 s timeout is replaced by a nesting limit (32);
//! * `NaN`, `±Infinity` and `undefined` results are all `Value::Null`.

mod math;

use super::jsvalue::{js_pow, truthy, Heap, JsValue};
use crate::interpolate::Lookup;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Not,
}

impl Op {
    const ALL: [Op; 14] = [
        Op::And,
        Op::Or,
        Op::Eq,
        Op::Ne,
        Op::Ge,
        Op::Le,
        Op::Gt,
        Op::Lt,
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Pow,
        Op::Not,
    ];

    fn symbol(self) -> &'static str {
        match self {
            Op::And => "&&",
            Op::Or => "||",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Pow => "^",
            Op::Not => "!",
        }
    }

    fn from_symbol(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.symbol() == s)
    }

    /// Comparison and logic operators (pushed without precedence resolution).
    fn is_logic(self) -> bool {
        matches!(
            self,
            Op::And | Op::Or | Op::Eq | Op::Ne | Op::Ge | Op::Le | Op::Gt | Op::Lt
        )
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Not => 10,
            Op::Pow => 4,
            Op::Mul | Op::Div => 3,
            _ => 2,
        }
    }

    fn right_assoc(self) -> bool {
        matches!(self, Op::Not | Op::Pow)
    }
}

#[derive(Debug, Clone)]
enum Tok {
    Val(JsValue),
    Op(Op),
    LParen,
    RParen,
}

/// Evaluates a legacy `if`/`set` expression over `vars` (`v['name']`). Errors yield the string
/// `Unable to calculate expression: Error: <message>`; see the module notes for `Null` results.
pub fn evaluate(expr: &Value, vars: &dyn Lookup) -> Value {
    let source: std::borrow::Cow<'_, str> = match expr {
        Value::Number(_) => return expr.clone(),
        Value::String(s) => s.as_str().into(),
        Value::Null => "".into(),
        other => {
            let mut heap = Heap::new();
            match heap.load_json(other).and_then(|v| heap.to_str(&v)) {
                Ok(s) => s.to_string().into(),
                Err(e) => return error_value(&e.to_string()),
            }
        }
    };
    let mut heap = Heap::new();
    match run(&source, vars, &mut heap) {
        Ok(v) => heap
            .to_json(&v)
            .unwrap_or_else(|e| error_value(&e.to_string())),
        Err(msg) => error_value(&msg),
    }
}

fn error_value(msg: &str) -> Value {
    Value::String(format!("Unable to calculate expression: Error: {msg}"))
}

fn run(source: &str, vars: &dyn Lookup, heap: &mut Heap) -> Result<JsValue, String> {
    let tokens = tokenize(source, vars, heap)?;
    let rpn = to_rpn(tokens)?;
    eval_rpn(rpn, heap)
}

/// Finds the closing `quote` of a literal starting after `start`: a quote followed by the end,
/// `)` or a space.
fn literal_end(chars: &[char], start: usize, quote: char) -> Option<usize> {
    (start..chars.len())
        .find(|&j| chars[j] == quote && matches!(chars.get(j + 1), None | Some(')') | Some(' ')))
}

fn tokenize(source: &str, vars: &dyn Lookup, heap: &mut Heap) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut cache: HashMap<String, JsValue> = HashMap::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '-' && next.is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Val(JsValue::Num(super::jsvalue::parse_float(&text))));
        } else if matches!(c, '&' | '|' | '=') {
            if next != Some(c) {
                return Err(format!(
                    "Invalid operator '{c}' at position {i}: use '{c}{c}'"
                ));
            }
            out.push(Tok::Op(match c {
                '&' => Op::And,
                '|' => Op::Or,
                _ => Op::Eq,
            }));
            i += 2;
        } else if matches!(c, '>' | '<' | '!') {
            let op = match (c, next == Some('=')) {
                ('>', true) => Op::Ge,
                ('>', false) => Op::Gt,
                ('<', true) => Op::Le,
                ('<', false) => Op::Lt,
                ('!', true) => Op::Ne,
                _ => Op::Not,
            };
            i += if next == Some('=') { 2 } else { 1 };
            out.push(Tok::Op(op));
        } else if let Some(op) = match c {
            '+' => Some(Op::Add),
            '-' => Some(Op::Sub),
            '*' => Some(Op::Mul),
            '/' => Some(Op::Div),
            '^' => Some(Op::Pow),
            _ => None,
        } {
            out.push(Tok::Op(op));
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == '\'' {
            let end = literal_end(&chars, i + 1, '\'')
                .ok_or_else(|| format!("Unterminated string at position {i}"))?;
            let text: String = chars[i + 1..end].iter().collect();
            out.push(Tok::Val(
                heap.new_str(text.replace("\\'", "'"))
                    .map_err(|e| e.to_string())?,
            ));
            i = end + 1;
        } else if c == '$' {
            let end = literal_end(&chars, i + 1, '$')
                .ok_or_else(|| format!("Unterminated math expression at position {i}"))?;
            let text: String = chars[i + 1..end].iter().collect();
            out.push(Tok::Val(math::eval_fragment(&text, vars, heap)));
            i = end + 1;
        } else if c.is_ascii_lowercase() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_lowercase() || chars[i].is_ascii_digit() || chars[i] == '_')
            {
                i += 1;
            }
            let ident: String = chars[start..i].iter().collect();
            match ident.as_str() {
                "true" => out.push(Tok::Val(JsValue::Bool(true))),
                "false" => out.push(Tok::Val(JsValue::Bool(false))),
                _ => {
                    let rest: String = chars[i..].iter().collect();
                    let Some(body) = rest.strip_prefix("['") else {
                        return Err(format!("Invalid variable reference '{ident}' at position {start}: use v['name']"));
                    };
                    let Some(close) = body.find("']") else {
                        return Err(format!(
                            "Unterminated variable reference at position {start}"
                        ));
                    };
                    let name = &body[..close];
                    i += 2 + name.chars().count() + 2;
                    if ident != "v" {
                        return Err(format!(
                            "Cannot read properties of undefined (reading '{name}')"
                        ));
                    }
                    let value = match cache.get(name) {
                        Some(v) => v.clone(),
                        None => {
                            let v = lookup(name, vars, heap)?;
                            cache.insert(name.to_string(), v.clone());
                            v
                        }
                    };
                    out.push(Tok::Val(value));
                }
            }
        } else {
            return Err(format!("Invalid character '{c}' at position {i}"));
        }
    }
    Ok(out)
}

/// `variables[name]`, converted with JS `Number()` when that gives a number.
fn lookup(name: &str, vars: &dyn Lookup, heap: &mut Heap) -> Result<JsValue, String> {
    let Some(raw) = vars.lookup(name) else {
        return Ok(JsValue::Undefined);
    };
    let v = heap.load_json(raw).map_err(|e| e.to_string())?;
    let n = heap.to_number(&v).map_err(|e| e.to_string())?;
    Ok(if n.is_nan() { v } else { JsValue::Num(n) })
}

fn to_rpn(tokens: Vec<Tok>) -> Result<Vec<Tok>, String> {
    const UNBALANCED: &str = "Unbalanced parentheses";
    let mut output = Vec::with_capacity(tokens.len());
    let mut stack: Vec<Tok> = Vec::new();
    for tok in tokens {
        match tok {
            Tok::Val(_) => output.push(tok),
            Tok::Op(op) if op.is_logic() => stack.push(tok),
            Tok::Op(op) => {
                while let Some(Tok::Op(top)) = stack.last() {
                    let top = *top;
                    let pops = top.is_logic()
                        || top.precedence() > op.precedence()
                        || (top.precedence() == op.precedence() && !op.right_assoc());
                    if !pops {
                        break;
                    }
                    stack.pop();
                    output.push(Tok::Op(top));
                }
                stack.push(tok);
            }
            Tok::LParen => stack.push(tok),
            Tok::RParen => {
                if matches!(stack.last(), Some(Tok::LParen)) {
                    return Err(UNBALANCED.into());
                }
                loop {
                    match stack.pop() {
                        None => return Err(UNBALANCED.into()),
                        Some(Tok::LParen) => break,
                        Some(other) => output.push(other),
                    }
                }
            }
        }
    }
    while let Some(tok) = stack.pop() {
        if matches!(tok, Tok::LParen) {
            return Err(UNBALANCED.into());
        }
        output.push(tok);
    }
    Ok(output)
}

fn eval_rpn(rpn: Vec<Tok>, heap: &mut Heap) -> Result<JsValue, String> {
    const INVALID: &str = "Invalid expression";
    let mut stack: Vec<JsValue> = Vec::new();
    for tok in rpn {
        let op = match tok {
            Tok::Val(JsValue::Str(s)) if Op::from_symbol(&s).is_some() => Op::from_symbol(&s),
            Tok::Val(v) => {
                stack.push(v);
                None
            }
            Tok::Op(op) => Some(op),
            Tok::LParen | Tok::RParen => return Err(INVALID.into()),
        };
        let Some(op) = op else { continue };
        if op == Op::Not {
            let a = stack.pop().ok_or(INVALID)?;
            stack.push(JsValue::Bool(!truthy(&a)));
            continue;
        }
        let b = stack.pop().ok_or(INVALID)?;
        let a = stack.pop().ok_or(INVALID)?;
        stack.push(apply(op, &a, &b, heap).map_err(|e| e.to_string())?);
    }
    match stack.len() {
        0 => Ok(JsValue::Undefined),
        1 => Ok(stack.pop().unwrap_or(JsValue::Undefined)),
        _ => Err(INVALID.into()),
    }
}

fn apply(op: Op, a: &JsValue, b: &JsValue, heap: &mut Heap) -> Result<JsValue, super::ScriptError> {
    let num = |heap: &Heap, f: fn(f64, f64) -> f64| -> Result<JsValue, super::ScriptError> {
        Ok(JsValue::Num(f(heap.to_number(a)?, heap.to_number(b)?)))
    };
    Ok(match op {
        Op::Add => heap.add(a, b)?,
        Op::Sub => num(heap, |x, y| x - y)?,
        Op::Mul => num(heap, |x, y| x * y)?,
        Op::Div => num(heap, |x, y| x / y)?,
        Op::Pow => num(heap, js_pow)?,
        Op::Eq => JsValue::Bool(heap.loose_eq(a, b)?),
        Op::Ne => JsValue::Bool(!heap.loose_eq(a, b)?),
        Op::Gt | Op::Ge | Op::Lt | Op::Le => JsValue::Bool(heap.compare(op.symbol(), a, b)?),
        Op::And => {
            if truthy(a) {
                b.clone()
            } else {
                a.clone()
            }
        }
        Op::Or => {
            if truthy(a) {
                a.clone()
            } else {
                b.clone()
            }
        }
        Op::Not => JsValue::Bool(!truthy(b)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Vars;
    use serde_json::json;

    fn vars() -> Vars {
        json!({
            "age": 20, "zero": 0, "name": "bob", "numstr": "42", "empty": "", "nothing": null,
            "flag": true, "off": false, "list": [1, 2], "one": [5], "obj": {"a": 1}, "plus": "+",
            "spaced": " 7 ", "cap": "Bob"
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn ev(src: &str) -> Value {
        evaluate(&json!(src), &vars())
    }

    fn err(msg: &str) -> Value {
        json!(format!("Unable to calculate expression: Error: {msg}"))
    }

    fn is_err(v: &Value) -> bool {
        v.as_str()
            .is_some_and(|s| s.starts_with("Unable to calculate expression: Error: "))
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(ev("1+2"), json!(3));
        assert_eq!(ev("1 + 2 * 3"), json!(7));
        assert_eq!(ev("2 * 3 + 1"), json!(7));
        assert_eq!(ev("10 / 4"), json!(2.5));
        assert_eq!(ev("10 - 4 - 3"), json!(3));
        assert_eq!(ev("2 ^ 3 ^ 2"), json!(512));
        assert_eq!(ev("2 * 3 ^ 2"), json!(18));
        assert_eq!(ev("-5 + 2"), json!(-3));
        assert_eq!(ev("1.5.7 + 1"), json!(2.5));
        assert_eq!(ev("0.1 + 0.2"), json!(0.30000000000000004));
        assert_eq!(ev("0"), json!(0));
        assert_eq!(ev("1 / 0"), Value::Null);
        assert_eq!(ev("(1 + 2) * 3"), json!(9));
    }

    #[test]
    fn minus_number_quirk() {
        assert!(is_err(&ev("5-3")));
        assert_eq!(ev("5-3"), err("Invalid expression"));
        assert_eq!(ev("5 - 3"), json!(2));
        assert!(is_err(&ev("5 -3")));
        assert!(is_err(&ev("v['age']-1")));
        assert_eq!(ev("v['age'] - 1"), json!(19));
    }

    #[test]
    fn parentheses_quirk() {
        assert_eq!(ev("(5)"), err("Unbalanced parentheses"));
        assert_eq!(ev("((1+2))"), err("Unbalanced parentheses"));
        assert_eq!(ev("(1 + 2"), err("Unbalanced parentheses"));
        assert_eq!(ev("1 + 2)"), err("Unbalanced parentheses"));
        assert_eq!(ev("()"), err("Unbalanced parentheses"));
        assert_eq!(ev("(v['age'] > 17)"), json!(true));
        assert_eq!(ev("((v['age'] > 17) && (v['age'] < 30))"), json!(true));
        assert_eq!(ev("!(v['age'] > 17)"), json!(false));
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(ev("v['age'] > 17"), json!(true));
        assert_eq!(ev("v['age'] >= 20"), json!(true));
        assert_eq!(ev("v['age'] < 20"), json!(false));
        assert_eq!(ev("v['age'] <= 20"), json!(true));
        assert_eq!(ev("v['age'] != 20"), json!(false));
        assert_eq!(ev("v['zero'] == 0"), json!(true));
        assert_eq!(ev("v['name'] == 'bob'"), json!(true));
        assert_eq!(ev("(v['age'] > 1) && v['name']"), json!("bob"));
        assert_eq!(ev("v['zero'] || v['name']"), json!("bob"));
        assert_eq!(ev("v['zero'] && v['name']"), json!(0));
        assert_eq!(
            ev("(v['zero']) || v['name']"),
            err("Unbalanced parentheses")
        );
        assert_eq!(ev("!v['flag']"), json!(false));
        assert_eq!(ev("!!v['name']"), json!(true));
        assert_eq!(ev("true && false"), json!(false));
        assert_eq!(ev("'10' < '9'"), json!(true));
    }

    #[test]
    fn operator_emission_quirk() {
        // a == b + 1 → (a == b) + 1
        assert_eq!(ev("v['age'] == 20 + 1"), json!(2));
        // b + 1 == a → b + (1 == a)
        assert_eq!(ev("20 + 1 == v['age']"), json!(20));
        // a > 1 && b > 2 → a > (1 && (b > 2))
        assert_eq!(ev("v['age'] > 1 && v['age'] > 2"), json!(true));
        assert_eq!(ev("3 > 1 && 0 > 2"), json!(true));
        // a == !b: the comparison is emitted when ! arrives → missing operand
        assert!(is_err(&ev("true == !false")));
        assert_eq!(ev("true == (!false)"), json!(true));
    }

    #[test]
    fn loose_equality_and_concatenation() {
        assert_eq!(ev("v['numstr'] == 42"), json!(true));
        assert_eq!(ev("v['numstr'] == '42'"), json!(true));
        assert_eq!(ev("v['numstr'] + 1"), json!(43));
        assert_eq!(ev("v['name'] + 1"), json!("bob1"));
        assert_eq!(ev("'a' + 'b'"), json!("ab"));
        assert_eq!(ev("'n: ' + v['age']"), json!("n: 20"));
        assert_eq!(ev("v['empty'] == 0"), json!(true));
        assert_eq!(ev("v['nothing'] == 0"), json!(true));
        assert_eq!(ev("v['flag'] + 1"), json!(2));
        assert_eq!(ev("v['flag'] == true"), json!(true));
        assert_eq!(ev("v['one'] * 2"), json!(10));
        assert_eq!(ev("v['list'] + ''"), json!("1,2"));
        assert_eq!(ev("v['obj'] + ''"), json!("[object Object]"));
        assert_eq!(ev("v['list'] == v['list']"), json!(true));
        assert_eq!(ev("v['spaced'] == 7"), json!(true));
        assert_eq!(ev("v['cap'] == 'Bob'"), json!(true));
        assert_eq!(ev("1 == '1'"), json!(true));
        assert_eq!(ev("'' == 0"), json!(true));
    }

    #[test]
    fn undefined_and_nan() {
        assert_eq!(ev("v['missing']"), Value::Null);
        assert_eq!(ev("v['missing'] + 1"), Value::Null);
        assert_eq!(ev("v['missing'] == 0"), json!(false));
        assert_eq!(ev("v['name'] * 2"), Value::Null);
        assert_eq!(ev("v['list']"), json!([1, 2]));
        assert_eq!(ev(""), Value::Null);
        assert_eq!(ev("   "), Value::Null);
    }

    #[test]
    fn strings() {
        assert_eq!(ev("'hello world'"), json!("hello world"));
        assert_eq!(ev("'it's'"), json!("it's"));
        assert_eq!(ev("'it\\'s ok'"), json!("it's ok"));
        assert_eq!(ev("('a')"), err("Unbalanced parentheses"));
        assert_eq!(ev("('a' + 'b')"), json!("ab"));
        assert!(is_err(&ev("'abc")));
        // operand strings equal to an operator are mis-read as operators
        assert_eq!(ev("1 2 '+'"), json!(3));
        assert!(is_err(&ev("v['plus']")));
        assert!(is_err(&ev("'+' + 'a'")));
    }

    #[test]
    fn tokens_and_errors() {
        assert!(is_err(&ev("1 & 2")));
        assert!(is_err(&ev("1 | 2")));
        assert!(is_err(&ev("1 = 1")));
        assert_eq!(
            ev("1 = 1"),
            err("Invalid operator '=' at position 2: use '=='")
        );
        assert!(is_err(&ev("age > 1")));
        assert_eq!(
            ev("x['age']"),
            err("Cannot read properties of undefined (reading 'age')")
        );
        assert!(is_err(&ev("V['age']")));
        assert!(is_err(&ev("v[\"age\"]")));
        assert!(is_err(&ev("v['age")));
        assert!(is_err(&ev("1 +")));
        assert!(is_err(&ev("1 2")));
        assert!(is_err(&ev("null")));
        assert!(is_err(&ev("#")));
        assert!(is_err(&ev("!")));
    }

    #[test]
    fn math_fragments() {
        assert_eq!(ev("$1 + 2$"), json!(3));
        assert_eq!(ev("$v.age * 2$ + 1"), json!(41));
        assert_eq!(ev("($v['age'] / 4$ > 4)"), json!(true));
        assert_eq!(ev("$round(2.567, 2)$"), json!(2.57));
        assert_eq!(
            ev("$random()$"),
            json!("__ERROR__:random is not supported (non-deterministic)")
        );
        assert_eq!(ev("$nope$ + 1"), json!("__ERROR__:Undefined symbol nope1"));
        assert!(is_err(&ev("$1 + 2")));
    }

    #[test]
    fn non_string_expressions() {
        assert_eq!(evaluate(&json!(5), &vars()), json!(5));
        assert_eq!(evaluate(&json!(-2.5), &vars()), json!(-2.5));
        assert_eq!(evaluate(&json!(true), &vars()), json!(true));
        assert_eq!(evaluate(&Value::Null, &vars()), Value::Null);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let long = "(".repeat(100_000);
        assert!(is_err(&ev(&long)));
        let chain = vec!["1"; 10_000].join(" + ");
        assert_eq!(ev(&chain), json!(10_000));
        let nots = format!("{}true", "!".repeat(10_001));
        assert_eq!(ev(&nots), json!(false));
        for s in [
            "'",
            "$",
            "$$",
            "v['",
            "v[''",
            "-",
            "--1",
            "é",
            "v['a']]",
            "'\u{1F600}' + 'x'",
            "1e5",
        ] {
            let _ = ev(s);
        }
        assert_eq!(ev("'\u{1F600}' + 'x'"), json!("\u{1F600}x"));
    }
}
