//! The `$...$` fragments of legacy expressions: a small math.js-like evaluator.
//!
//! Supported: numbers, `"..."`/`'...'` strings, `true`/`false`/`null`, constants `pi`, `e`,
//! `PI`, `E`, `Infinity`, `NaN`; `+ - * / % ^` (`mod` too), unary `-`/`+`/`not`, comparisons
//! `== != < > <= >=`, `and`/`or`, `? :`, parentheses, `v.name`, `v['name']`, `v["name"]` and the
//! functions `abs ceil floor round(x[, n]) fix sqrt cbrt min max pow exp log(x[, base]) log10 log2
//! sign mod add subtract multiply divide`. As configured by the reference, `add subtract multiply
//! divide pow equal and or not` have plain JavaScript semantics (`+` concatenates strings).
//! Everything else (matrices, units, implicit multiplication, factorial, assignments, chained
//! comparisons, `random`, which would make the engine non-deterministic) is an error, reported
//! like math.js errors as the operand string `__ERROR__:<message>`.

use crate::expr::jsvalue::{js_pow, string_to_number, truthy, Heap, JsValue};
use crate::interpolate::Lookup;

const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let x = text
                .parse::<f64>()
                .map_err(|_| format!("Syntax error in part \"{text}\""))?;
            out.push(Tok::Num(x));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("End of string \" expected".into()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        let e = chars
                            .get(i + 1)
                            .copied()
                            .ok_or("End of string \" expected")?;
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                        i += 2;
                        continue;
                    }
                    Some(&ch) => s.push(ch),
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(s));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = match two.as_str() {
                "==" => Some("=="),
                "!=" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(op) = op {
                out.push(Tok::Op(op));
                i += 2;
                continue;
            }
            let op = match c {
                '+' => "+",
                '-' => "-",
                '*' => "*",
                '/' => "/",
                '%' => "%",
                '^' => "^",
                '<' => "<",
                '>' => ">",
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                '.' => ".",
                '?' => "?",
                ':' => ":",
                other => {
                    return Err(format!(
                        "Syntax error in part \"{other}\" (unsupported character)"
                    ))
                }
            };
            out.push(Tok::Op(op));
            i += 1;
        }
    }
    Ok(out)
}

struct MathEval<'a> {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    heap: &'a mut Heap,
    vars: &'a dyn Lookup,
}

type R = Result<JsValue, String>;

fn err<T>(e: crate::expr::ScriptError) -> Result<T, String> {
    Err(e.to_string())
}

/// Evaluates a `$...$` fragment body; errors become `__ERROR__:<message>` strings.
pub(super) fn eval_fragment(src: &str, vars: &dyn Lookup, heap: &mut Heap) -> JsValue {
    let mut run = || -> R {
        let toks = tokenize(src)?;
        let mut ev = MathEval {
            toks,
            pos: 0,
            depth: 0,
            heap,
            vars,
        };
        if ev.toks.is_empty() {
            return Ok(JsValue::Undefined);
        }
        let v = ev.conditional()?;
        if ev.pos < ev.toks.len() {
            return Err(format!("Unexpected token at position {}", ev.pos));
        }
        Ok(v)
    };
    match run() {
        Ok(v) => v,
        Err(msg) => JsValue::str(format!("__ERROR__:{msg}")),
    }
}

impl MathEval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(o)) if o == w)
    }
    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.is_op(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("Parenthesis or symbol {op} expected"))
        }
    }
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("Maximum nesting depth exceeded".into());
        }
        Ok(())
    }

    fn conditional(&mut self) -> R {
        self.enter()?;
        let c = self.or()?;
        let out = if self.is_op("?") {
            self.pos += 1;
            let a = self.conditional()?;
            self.expect(":")?;
            let b = self.conditional()?;
            if truthy(&c) {
                a
            } else {
                b
            }
        } else {
            c
        };
        self.depth -= 1;
        Ok(out)
    }

    fn or(&mut self) -> R {
        let mut a = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            let b = self.and()?;
            a = if truthy(&a) { a } else { b };
        }
        Ok(a)
    }

    fn and(&mut self) -> R {
        let mut a = self.relational()?;
        while self.is_word("and") {
            self.pos += 1;
            let b = self.relational()?;
            a = if truthy(&a) { b } else { a };
        }
        Ok(a)
    }

    fn relational(&mut self) -> R {
        let a = self.additive()?;
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            return Ok(a);
        };
        if !["==", "!=", "<", ">", "<=", ">="].contains(&op) {
            return Ok(a);
        }
        self.pos += 1;
        let b = self.additive()?;
        if matches!(
            self.peek(),
            Some(Tok::Op("==" | "!=" | "<" | ">" | "<=" | ">="))
        ) {
            return Err("Chained comparisons are not supported".into());
        }
        let r = match op {
            "==" => self.heap.loose_eq(&a, &b).or_else(err)?,
            "!=" => !self.heap.loose_eq(&a, &b).or_else(err)?,
            _ => {
                let x = self.num(&a)?;
                let y = self.num(&b)?;
                let eq = nearly_equal(x, y);
                match op {
                    "<" => x < y && !eq,
                    ">" => x > y && !eq,
                    "<=" => x <= y || eq,
                    _ => x >= y || eq,
                }
            }
        };
        Ok(JsValue::Bool(r))
    }

    fn additive(&mut self) -> R {
        let mut a = self.multiplicative()?;
        while self.is_op("+") || self.is_op("-") {
            let plus = self.is_op("+");
            self.pos += 1;
            let b = self.multiplicative()?;
            a = if plus {
                self.heap.add(&a, &b).or_else(err)?
            } else {
                JsValue::Num(self.jsnum(&a)? - self.jsnum(&b)?)
            };
        }
        Ok(a)
    }

    fn multiplicative(&mut self) -> R {
        let mut a = self.unary()?;
        loop {
            let op = if self.is_op("*") {
                "*"
            } else if self.is_op("/") {
                "/"
            } else if self.is_op("%") || self.is_word("mod") {
                "%"
            } else {
                break;
            };
            self.pos += 1;
            let b = self.unary()?;
            a = match op {
                "*" => JsValue::Num(self.jsnum(&a)? * self.jsnum(&b)?),
                "/" => JsValue::Num(self.jsnum(&a)? / self.jsnum(&b)?),
                _ => JsValue::Num(math_mod(self.num(&a)?, self.num(&b)?)),
            };
        }
        if matches!(self.peek(), Some(Tok::Num(_) | Tok::Ident(_)))
            && !self.is_word("or")
            && !self.is_word("and")
        {
            return Err("Implicit multiplication is not supported".into());
        }
        Ok(a)
    }

    fn unary(&mut self) -> R {
        self.enter()?;
        let out = if self.is_op("-") {
            self.pos += 1;
            let v = self.unary()?;
            JsValue::Num(-self.num(&v)?)
        } else if self.is_op("+") {
            self.pos += 1;
            let v = self.unary()?;
            JsValue::Num(self.num(&v)?)
        } else if self.is_word("not") {
            self.pos += 1;
            let v = self.unary()?;
            JsValue::Bool(!truthy(&v))
        } else {
            self.pow()?
        };
        self.depth -= 1;
        Ok(out)
    }

    fn pow(&mut self) -> R {
        let base = self.postfix()?;
        if self.is_op("^") {
            self.pos += 1;
            let exp = self.unary()?;
            return Ok(JsValue::Num(js_pow(self.jsnum(&base)?, self.jsnum(&exp)?)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> R {
        let tok = self.peek().cloned().ok_or("Unexpected end of expression")?;
        self.pos += 1;
        match tok {
            Tok::Num(x) => Ok(JsValue::Num(x)),
            Tok::Str(s) => Ok(JsValue::str(s)),
            Tok::Op("(") => {
                let v = self.conditional()?;
                self.expect(")")?;
                Ok(v)
            }
            Tok::Op(op) => Err(format!("Value expected (char {op})")),
            Tok::Ident(name) => {
                if self.is_op("(") {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if !self.is_op(")") {
                        loop {
                            args.push(self.conditional()?);
                            if self.is_op(",") {
                                self.pos += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(")")?;
                    return self.call(&name, &args);
                }
                if name == "v" {
                    return self.variable();
                }
                Ok(match name.as_str() {
                    "true" => JsValue::Bool(true),
                    "false" => JsValue::Bool(false),
                    "null" => JsValue::Null,
                    "pi" | "PI" => JsValue::Num(std::f64::consts::PI),
                    "e" | "E" => JsValue::Num(std::f64::consts::E),
                    "Infinity" => JsValue::Num(f64::INFINITY),
                    "NaN" => JsValue::Num(f64::NAN),
                    _ => return Err(format!("Undefined symbol {name}")),
                })
            }
        }
    }

    fn variable(&mut self) -> R {
        let name = if self.is_op(".") {
            self.pos += 1;
            match self.peek().cloned() {
                Some(Tok::Ident(n)) => n,
                _ => return Err("Property name expected after dot".into()),
            }
        } else if self.is_op("[") {
            self.pos += 1;
            match self.peek().cloned() {
                Some(Tok::Str(n)) => {
                    self.pos += 1;
                    if !self.is_op("]") {
                        return Err("Parenthesis ] expected".into());
                    }
                    n
                }
                _ => return Err("Only string property names are supported".into()),
            }
        } else {
            return Err("The variable scope v cannot be used as a value".into());
        };
        self.pos += 1;
        if self.is_op(".") || self.is_op("[") {
            return Err("Nested property access is not supported".into());
        }
        match self.vars.lookup(&name) {
            None => Ok(JsValue::Undefined),
            Some(v) => self.heap.load_json(v).or_else(err),
        }
    }

    /// math.js conversion of an argument to a number (strings must be numeric).
    fn num(&self, v: &JsValue) -> Result<f64, String> {
        match v {
            JsValue::Num(x) => Ok(*x),
            JsValue::Bool(b) => Ok(f64::from(u8::from(*b))),
            JsValue::Null => Ok(0.0),
            JsValue::Str(s) => {
                let x = string_to_number(s);
                if x.is_nan() {
                    Err(format!("Cannot convert \"{s}\" to a number"))
                } else {
                    Ok(x)
                }
            }
            _ => Err("Unexpected type of argument (expected: number)".into()),
        }
    }

    /// Plain JavaScript `ToNumber` (for the operators redefined with JS semantics).
    fn jsnum(&self, v: &JsValue) -> Result<f64, String> {
        self.heap.to_number(v).or_else(err)
    }

    fn call(&mut self, name: &str, args: &[JsValue]) -> R {
        let arity = |n: std::ops::RangeInclusive<usize>| -> Result<(), String> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(format!(
                    "Wrong number of arguments in function {name} ({} provided)",
                    args.len()
                ))
            }
        };
        let nums =
            |me: &Self| -> Result<Vec<f64>, String> { args.iter().map(|a| me.num(a)).collect() };
        let unary = |f: fn(f64) -> f64, me: &Self| -> R {
            arity(1..=1)?;
            Ok(JsValue::Num(f(me.num(&args[0])?)))
        };
        match name {
            "random" | "randomInt" | "pickRandom" => {
                Err(format!("{name} is not supported (non-deterministic)"))
            }
            "abs" => unary(f64::abs, self),
            "sign" => unary(
                |x| {
                    if x == 0.0 || x.is_nan() {
                        x
                    } else {
                        x.signum()
                    }
                },
                self,
            ),
            "fix" => unary(f64::trunc, self),
            "cbrt" => unary(f64::cbrt, self),
            "exp" => unary(f64::exp, self),
            "log10" => unary(f64::log10, self),
            "log2" => unary(f64::log2, self),
            "floor" => unary(
                |x| {
                    if nearly_equal(x, round_digits(x, 0)) {
                        round_digits(x, 0)
                    } else {
                        x.floor()
                    }
                },
                self,
            ),
            "ceil" => unary(
                |x| {
                    if nearly_equal(x, round_digits(x, 0)) {
                        round_digits(x, 0)
                    } else {
                        x.ceil()
                    }
                },
                self,
            ),
            "sqrt" => {
                arity(1..=1)?;
                let x = self.num(&args[0])?;
                if x < 0.0 {
                    return Err("Complex results are not supported".into());
                }
                Ok(JsValue::Num(x.sqrt()))
            }
            "round" => {
                arity(1..=2)?;
                let x = self.num(&args[0])?;
                let n = match args.get(1) {
                    Some(a) => self.num(a)?,
                    None => 0.0,
                };
                if n.fract() != 0.0 || !(0.0..=15.0).contains(&n) {
                    return Err("Number of decimals in function round must be an integer from 0 to 15 inclusive".into());
                }
                Ok(JsValue::Num(round_digits(x, n as i64)))
            }
            "log" => {
                arity(1..=2)?;
                let v = nums(self)?;
                Ok(JsValue::Num(match v.get(1) {
                    Some(b) => v[0].ln() / b.ln(),
                    None => v[0].ln(),
                }))
            }
            "min" | "max" => {
                if args.is_empty() {
                    return Err(format!("No arguments passed to function {name}"));
                }
                let v = nums(self)?;
                let mut acc = v[0];
                for &x in &v[1..] {
                    if x.is_nan() || acc.is_nan() {
                        acc = f64::NAN;
                    } else if (name == "min" && x < acc) || (name == "max" && x > acc) {
                        acc = x;
                    }
                }
                Ok(JsValue::Num(acc))
            }
            "mod" => {
                arity(2..=2)?;
                Ok(JsValue::Num(math_mod(
                    self.num(&args[0])?,
                    self.num(&args[1])?,
                )))
            }
            "pow" => {
                arity(2..=2)?;
                Ok(JsValue::Num(js_pow(
                    self.jsnum(&args[0])?,
                    self.jsnum(&args[1])?,
                )))
            }
            "add" => {
                arity(2..=2)?;
                self.heap.add(&args[0], &args[1]).or_else(err)
            }
            "subtract" | "multiply" | "divide" => {
                arity(2..=2)?;
                let (a, b) = (self.jsnum(&args[0])?, self.jsnum(&args[1])?);
                Ok(JsValue::Num(match name {
                    "subtract" => a - b,
                    "multiply" => a * b,
                    _ => a / b,
                }))
            }
            _ => Err(format!("Undefined function {name}")),
        }
    }
}

/// math.js `mod`: the result has the sign of the divisor; `mod(x, 0)` is `x`.
fn math_mod(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        x
    } else {
        x - y * (x / y).floor()
    }
}

/// math.js `nearlyEqual` with the default epsilon 1e-12.
fn nearly_equal(x: f64, y: f64) -> bool {
    if x == y {
        return true;
    }
    if !x.is_finite() || !y.is_finite() {
        return false;
    }
    let diff = (x - y).abs();
    diff <= f64::EPSILON || diff <= x.abs().max(y.abs()) * 1e-12
}

/// Rounds to `n` decimals on the shortest decimal representation, half away from zero (math.js).
fn round_digits(x: f64, n: i64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let point = exp + 1;
    let keep = point + n;
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    if keep >= digits.len() {
        return x;
    }
    let mut kept: Vec<u8> = digits[..keep].to_vec();
    if digits[keep] >= 5 {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
        if kept.len() > keep {
            // carried into a new leading digit: one more integer digit
            let text: String = kept.iter().map(|d| char::from(b'0' + d)).collect();
            let v: f64 = format!("{}e{}", text, point + 1 - kept.len() as i64)
                .parse()
                .unwrap_or(f64::NAN);
            return v.copysign(x);
        }
    }
    if kept.is_empty() {
        return 0.0;
    }
    let text: String = kept.iter().map(|d| char::from(b'0' + d)).collect();
    let v: f64 = format!("{}e{}", text, point - keep as i64)
        .parse()
        .unwrap_or(f64::NAN);
    v.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Vars;
    use serde_json::json;

    fn eval(src: &str) -> serde_json::Value {
        let vars: Vars = json!({"age": 20, "name": "Bob", "s": "4", "list": [1, 2]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut heap = Heap::new();
        let v = eval_fragment(src, &vars, &mut heap);
        heap.to_json(&v).unwrap_or(serde_json::Value::Null)
    }

    #[test]
    fn arithmetic() {
        assert_eq!(eval("1 + 2 * 3"), json!(7));
        assert_eq!(eval("(1 + 2) * 3"), json!(9));
        assert_eq!(eval("2 ^ 3 ^ 2"), json!(512));
        assert_eq!(eval("-2 ^ 2"), json!(-4));
        assert_eq!(eval("2 ^ -1"), json!(0.5));
        assert_eq!(eval("7 % 3"), json!(1));
        assert_eq!(eval("-7 mod 3"), json!(2));
        assert_eq!(eval("1 / 0"), serde_json::Value::Null);
        assert_eq!(eval("0.1 + 0.2"), json!(0.30000000000000004));
        assert_eq!(eval("1e3 + .5"), json!(1000.5));
    }

    #[test]
    fn variables_and_functions() {
        assert_eq!(eval("v.age * 2"), json!(40));
        assert_eq!(eval("v['age'] + 1"), json!(21));
        assert_eq!(eval("v[\"name\"] + '!'"), json!("Bob!"));
        assert_eq!(eval("v.s + 1"), json!("41"));
        assert_eq!(eval("v.s * 2"), json!(8));
        assert_eq!(eval("v.missing"), serde_json::Value::Null);
        assert_eq!(eval("round(2.5)"), json!(3));
        assert_eq!(eval("round(-2.5)"), json!(-3));
        assert_eq!(eval("round(1.005, 2)"), json!(1.01));
        assert_eq!(eval("round(9.96, 1)"), json!(10));
        assert_eq!(eval("round(123.456, 0)"), json!(123));
        assert_eq!(eval("floor(2.7) + ceil(2.1)"), json!(5));
        assert_eq!(eval("floor(0.9999999999999999)"), json!(1));
        assert_eq!(eval("abs(-3)"), json!(3));
        assert_eq!(eval("sqrt(16)"), json!(4));
        assert_eq!(eval("min(3, 1, 2)"), json!(1));
        assert_eq!(eval("max(3, v.age)"), json!(20));
        assert_eq!(eval("pow(2, 8)"), json!(256));
        assert_eq!(eval("v.age > 18 and v.age < 30"), json!(true));
        assert_eq!(eval("v.age == 20 ? 'yes' : 'no'"), json!("yes"));
        assert_eq!(eval("0.1 + 0.2 == 0.3"), json!(false));
        assert_eq!(eval("0.1 + 0.2 >= 0.3"), json!(true));
        assert_eq!(eval("not true or false"), json!(false));
    }

    #[test]
    fn errors() {
        for (src, msg) in [
            (
                "random()",
                "__ERROR__:random is not supported (non-deterministic)",
            ),
            ("foo", "__ERROR__:Undefined symbol foo"),
            ("foo(1)", "__ERROR__:Undefined function foo"),
            ("sqrt(-1)", "__ERROR__:Complex results are not supported"),
            ("2x", "__ERROR__:Implicit multiplication is not supported"),
            ("1 +", "__ERROR__:Unexpected end of expression"),
            ("abs('x')", "__ERROR__:Cannot convert \"x\" to a number"),
        ] {
            assert_eq!(eval(src), json!(msg), "{src}");
        }
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            eval(&deep),
            json!("__ERROR__:Maximum nesting depth exceeded")
        );
        assert!(eval("1 < 2 < 3")
            .as_str()
            .is_some_and(|s| s.starts_with("__ERROR__:")));
        assert!(eval("v.list[1]")
            .as_str()
            .is_some_and(|s| s.starts_with("__ERROR__:")));
        assert!(eval("@")
            .as_str()
            .is_some_and(|s| s.starts_with("__ERROR__:")));
    }
}
