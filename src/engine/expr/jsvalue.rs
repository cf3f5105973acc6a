//! JavaScript values and conversions shared by the legacy evaluator and [`super::MiniJs`].
//!
//! Arrays and objects live in a [`Heap`] and are referred to by index, so object identity
//! (`a == a`, but `[] != []`) follows JavaScript and cycles never leak or recurse forever.
//! Every walk over nested values is depth-limited; work (string bytes, array elements, objects)
//! is charged against a budget so that no input can exhaust memory.
//!
//! Conversion back to JSON: `undefined`, `NaN` and `±Infinity` have no JSON form and become
//! `Value::Null` (inside objects an `undefined` property is dropped, like `JSON.stringify`).

use super::ScriptError;
use serde_json::{Map, Number, Value};
use std::rc::Rc;

/// Maximum nesting walked by conversions (arrays inside arrays ...).
pub const MAX_VALUE_DEPTH: usize = 200;
/// Work budget: string bytes + 16 per array element / object property created, cumulative.
pub const MAX_WORK: usize = 64 * 1024 * 1024;
/// Maximum number of arrays and objects alive in one evaluation.
pub const MAX_OBJECTS: usize = 1_000_000;

/// A JavaScript value.
#[derive(Debug, Clone)]
pub enum JsValue {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    /// An array in the heap.
    Arr(usize),
    /// A plain object in the heap.
    Obj(usize),
}

impl JsValue {
    pub fn str(s: impl Into<Rc<str>>) -> JsValue {
        JsValue::Str(s.into())
    }
    pub fn is_nullish(&self) -> bool {
        matches!(self, JsValue::Undefined | JsValue::Null)
    }
}

/// Storage of arrays and objects.
#[derive(Debug, Clone)]
pub enum HeapObj {
    Array(Vec<JsValue>),
    /// Properties in insertion order (enumeration order is computed by [`Heap::keys`]).
    Object(Vec<(Rc<str>, JsValue)>),
}

/// The arrays and objects of one evaluation plus its work budget.
#[derive(Debug, Default)]
pub struct Heap {
    objs: Vec<HeapObj>,
    work: usize,
}

fn limit(what: &str) -> ScriptError {
    ScriptError::Limit(what.to_string())
}

fn too_deep() -> ScriptError {
    limit("value nesting too deep")
}

impl Heap {
    pub fn new() -> Heap {
        Heap::default()
    }

    /// Charges `units` of work; fails once the budget is spent.
    pub fn charge(&mut self, units: usize) -> Result<(), ScriptError> {
        self.work = self.work.saturating_add(units);
        if self.work > MAX_WORK {
            return Err(limit("memory/work budget exhausted"));
        }
        Ok(())
    }

    fn alloc(&mut self, obj: HeapObj, size: usize) -> Result<usize, ScriptError> {
        if self.objs.len() >= MAX_OBJECTS {
            return Err(limit("too many objects"));
        }
        self.charge(16usize.saturating_mul(size.saturating_add(1)))?;
        self.objs.push(obj);
        Ok(self.objs.len() - 1)
    }

    pub fn new_array(&mut self, items: Vec<JsValue>) -> Result<JsValue, ScriptError> {
        let n = items.len();
        self.alloc(HeapObj::Array(items), n).map(JsValue::Arr)
    }

    pub fn new_object(&mut self, props: Vec<(Rc<str>, JsValue)>) -> Result<JsValue, ScriptError> {
        let n = props.len();
        self.alloc(HeapObj::Object(props), n).map(JsValue::Obj)
    }

    /// Makes a string value, charging its length.
    pub fn new_str(&mut self, s: String) -> Result<JsValue, ScriptError> {
        self.charge(s.len())?;
        Ok(JsValue::Str(s.into()))
    }

    pub fn array(&self, id: usize) -> &[JsValue] {
        match self.objs.get(id) {
            Some(HeapObj::Array(v)) => v,
            _ => &[],
        }
    }

    pub fn array_mut(&mut self, id: usize) -> Option<&mut Vec<JsValue>> {
        match self.objs.get_mut(id) {
            Some(HeapObj::Array(v)) => Some(v),
            _ => None,
        }
    }

    pub fn props(&self, id: usize) -> &[(Rc<str>, JsValue)] {
        match self.objs.get(id) {
            Some(HeapObj::Object(v)) => v,
            _ => &[],
        }
    }

    pub fn props_mut(&mut self, id: usize) -> Option<&mut Vec<(Rc<str>, JsValue)>> {
        match self.objs.get_mut(id) {
            Some(HeapObj::Object(v)) => Some(v),
            _ => None,
        }
    }

    /// An own property of an object.
    pub fn get_prop(&self, id: usize, key: &str) -> Option<JsValue> {
        self.props(id).iter().find(|(k, _)| &**k == key).map(|(_, v)| v.clone())
    }

    /// Sets (or adds) an own property of an object.
    pub fn set_prop(&mut self, id: usize, key: &str, value: JsValue) -> Result<(), ScriptError> {
        let exists = self.props(id).iter().any(|(k, _)| &**k == key);
        if !exists {
            self.charge(16 + key.len())?;
        }
        if let Some(props) = self.props_mut(id) {
            match props.iter_mut().find(|(k, _)| &**k == key) {
                Some(slot) => slot.1 = value,
                None => props.push((key.into(), value)),
            }
        }
        Ok(())
    }

    /// Own enumerable keys in JavaScript order: array-index keys ascending, then the others in
    /// insertion order.
    pub fn keys(&self, id: usize) -> Vec<Rc<str>> {
        let props = self.props(id);
        let mut ints: Vec<(u32, Rc<str>)> =
            props.iter().filter_map(|(k, _)| array_index(k).map(|i| (i, k.clone()))).collect();
        ints.sort_by_key(|(i, _)| *i);
        let mut out: Vec<Rc<str>> = ints.into_iter().map(|(_, k)| k).collect();
        out.extend(props.iter().filter(|(k, _)| array_index(k).is_none()).map(|(k, _)| k.clone()));
        out
    }

    // ----- conversions -----

    /// Deep-copies a JSON value into the heap.
    pub fn from_json(&mut self, v: &Value) -> Result<JsValue, ScriptError> {
        self.from_json_at(v, 0)
    }

    fn from_json_at(&mut self, v: &Value, depth: usize) -> Result<JsValue, ScriptError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        Ok(match v {
            Value::Null => JsValue::Null,
            Value::Bool(b) => JsValue::Bool(*b),
            Value::Number(n) => JsValue::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => self.new_str(s.clone())?,
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.from_json_at(item, depth + 1)?);
                }
                self.new_array(out)?
            }
            Value::Object(map) => {
                let mut out = Vec::with_capacity(map.len());
                for (k, item) in map {
                    out.push((Rc::from(k.as_str()), self.from_json_at(item, depth + 1)?));
                }
                self.new_object(out)?
            }
        })
    }

    /// Converts back to JSON (see the module notes). Cycles are `Unsupported`.
    pub fn to_json(&self, v: &JsValue) -> Result<Value, ScriptError> {
        let mut stack = Vec::new();
        self.to_json_at(v, &mut stack)
    }

    fn to_json_at(&self, v: &JsValue, stack: &mut Vec<usize>) -> Result<Value, ScriptError> {
        Ok(match v {
            JsValue::Undefined | JsValue::Null => Value::Null,
            JsValue::Bool(b) => Value::Bool(*b),
            JsValue::Num(x) => number_to_json(*x),
            JsValue::Str(s) => Value::String(s.to_string()),
            JsValue::Arr(id) | JsValue::Obj(id) => {
                if stack.contains(id) {
                    return Err(ScriptError::Unsupported("a cyclic object as a result".into()));
                }
                if stack.len() >= MAX_VALUE_DEPTH {
                    return Err(too_deep());
                }
                stack.push(*id);
                let out = if let JsValue::Arr(_) = v {
                    let mut items = Vec::new();
                    for item in self.array(*id) {
                        items.push(self.to_json_at(item, stack)?);
                    }
                    Value::Array(items)
                } else {
                    let mut map = Map::new();
                    for k in self.keys(*id) {
                        match self.get_prop(*id, &k) {
                            None | Some(JsValue::Undefined) => {}
                            Some(item) => {
                                map.insert(k.to_string(), self.to_json_at(&item, stack)?);
                            }
                        }
                    }
                    Value::Object(map)
                };
                stack.pop();
                out
            }
        })
    }

    /// JavaScript `ToPrimitive` (arrays → their `join()`, objects → `"[object Object]"`).
    pub fn to_primitive(&self, v: &JsValue) -> Result<JsValue, ScriptError> {
        Ok(match v {
            JsValue::Arr(_) | JsValue::Obj(_) => JsValue::Str(self.to_str(v)?),
            other => other.clone(),
        })
    }

    /// JavaScript `ToNumber`.
    pub fn to_number(&self, v: &JsValue) -> Result<f64, ScriptError> {
        Ok(match v {
            JsValue::Undefined => f64::NAN,
            JsValue::Null => 0.0,
            JsValue::Bool(b) => f64::from(u8::from(*b)),
            JsValue::Num(x) => *x,
            JsValue::Str(s) => string_to_number(s),
            JsValue::Arr(_) => string_to_number(&self.to_str(v)?),
            JsValue::Obj(_) => f64::NAN,
        })
    }

    /// JavaScript `ToString`.
    pub fn to_str(&self, v: &JsValue) -> Result<Rc<str>, ScriptError> {
        let mut stack = Vec::new();
        self.to_str_at(v, &mut stack)
    }

    fn to_str_at(&self, v: &JsValue, stack: &mut Vec<usize>) -> Result<Rc<str>, ScriptError> {
        Ok(match v {
            JsValue::Undefined => "undefined".into(),
            JsValue::Null => "null".into(),
            JsValue::Bool(b) => if *b { "true" } else { "false" }.into(),
            JsValue::Num(x) => number_to_string(*x).into(),
            JsValue::Str(s) => s.clone(),
            JsValue::Obj(_) => "[object Object]".into(),
            JsValue::Arr(id) => {
                if stack.contains(id) {
                    // Like V8's join: a cyclic reference prints as "".
                    return Ok("".into());
                }
                if stack.len() >= MAX_VALUE_DEPTH {
                    return Err(too_deep());
                }
                stack.push(*id);
                let mut out = String::new();
                for (i, item) in self.array(*id).iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if !item.is_nullish() {
                        out.push_str(&self.to_str_at(item, stack)?);
                    }
                    if out.len() > MAX_WORK {
                        return Err(limit("string too long"));
                    }
                }
                stack.pop();
                out.into()
            }
        })
    }

    /// `Array.prototype.join`.
    pub fn join(&mut self, id: usize, sep: &str) -> Result<JsValue, ScriptError> {
        let items = self.array(id).to_vec();
        let mut out = String::new();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            if !item.is_nullish() {
                let mut stack = vec![id];
                out.push_str(&self.to_str_at(item, &mut stack)?);
            }
            self.charge(sep.len() + 1)?;
        }
        self.new_str(out)
    }

    /// JavaScript `+`.
    pub fn add(&mut self, a: &JsValue, b: &JsValue) -> Result<JsValue, ScriptError> {
        if let (JsValue::Num(x), JsValue::Num(y)) = (a, b) {
            return Ok(JsValue::Num(x + y));
        }
        let pa = self.to_primitive(a)?;
        let pb = self.to_primitive(b)?;
        if matches!(pa, JsValue::Str(_)) || matches!(pb, JsValue::Str(_)) {
            let mut s = self.to_str(&pa)?.to_string();
            s.push_str(&self.to_str(&pb)?);
            return self.new_str(s);
        }
        Ok(JsValue::Num(self.to_number(&pa)? + self.to_number(&pb)?))
    }

    /// Abstract relational comparison `a < b`; `None` when a NaN is involved.
    pub fn less_than(&self, a: &JsValue, b: &JsValue) -> Result<Option<bool>, ScriptError> {
        let pa = self.to_primitive(a)?;
        let pb = self.to_primitive(b)?;
        if let (JsValue::Str(x), JsValue::Str(y)) = (&pa, &pb) {
            return Ok(Some(x.encode_utf16().lt(y.encode_utf16())));
        }
        let x = self.to_number(&pa)?;
        let y = self.to_number(&pb)?;
        if x.is_nan() || y.is_nan() {
            return Ok(None);
        }
        Ok(Some(x < y))
    }

    /// Evaluates `<`, `>`, `<=` or `>=`.
    pub fn compare(&self, op: &str, a: &JsValue, b: &JsValue) -> Result<bool, ScriptError> {
        Ok(match op {
            "<" => self.less_than(a, b)? == Some(true),
            ">" => self.less_than(b, a)? == Some(true),
            "<=" => self.less_than(b, a)? == Some(false),
            _ => self.less_than(a, b)? == Some(false),
        })
    }

    /// Loose equality `==`.
    pub fn loose_eq(&self, a: &JsValue, b: &JsValue) -> Result<bool, ScriptError> {
        use JsValue::*;
        Ok(match (a, b) {
            (Undefined | Null, Undefined | Null) => true,
            (Undefined | Null, _) | (_, Undefined | Null) => false,
            (Num(x), Str(s)) | (Str(s), Num(x)) => *x == string_to_number(s),
            (Bool(x), other) | (other, Bool(x)) if !matches!(other, Bool(_)) => {
                self.loose_eq(&Num(f64::from(u8::from(*x))), other)?
            }
            (Arr(_) | Obj(_), Num(_) | Str(_)) => self.loose_eq(&self.to_primitive(a)?, b)?,
            (Num(_) | Str(_), Arr(_) | Obj(_)) => self.loose_eq(a, &self.to_primitive(b)?)?,
            _ => strict_eq(a, b),
        })
    }

    /// `JSON.stringify(value, null, gap)`; `None` when the result is `undefined`.
    pub fn json_stringify(&mut self, v: &JsValue, gap: &str) -> Result<Option<String>, ScriptError> {
        let mut out = String::new();
        let mut stack = Vec::new();
        let ok = self.stringify_at(v, gap, &mut stack, &mut out)?;
        self.charge(out.len())?;
        Ok(ok.then_some(out))
    }

    fn stringify_at(&self, v: &JsValue, gap: &str, stack: &mut Vec<usize>, out: &mut String) -> Result<bool, ScriptError> {
        if out.len() > MAX_WORK {
            return Err(limit("string too long"));
        }
        match v {
            JsValue::Undefined => return Ok(false),
            JsValue::Null => out.push_str("null"),
            JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsValue::Num(x) if x.is_finite() => out.push_str(&number_to_string(*x)),
            JsValue::Num(_) => out.push_str("null"),
            JsValue::Str(s) => quote_json(s, out),
            JsValue::Arr(id) | JsValue::Obj(id) => {
                if stack.contains(id) {
                    return Err(ScriptError::Thrown("TypeError: Converting circular structure to JSON".into()));
                }
                if stack.len() >= MAX_VALUE_DEPTH {
                    return Err(too_deep());
                }
                stack.push(*id);
                let indent = gap.repeat(stack.len());
                let close_indent = gap.repeat(stack.len() - 1);
                let is_arr = matches!(v, JsValue::Arr(_));
                out.push(if is_arr { '[' } else { '{' });
                let mut first = true;
                let entries: Vec<(Option<Rc<str>>, JsValue)> = if is_arr {
                    self.array(*id).iter().map(|x| (None, x.clone())).collect()
                } else {
                    self.keys(*id)
                        .into_iter()
                        .filter_map(|k| self.get_prop(*id, &k).map(|x| (Some(k), x)))
                        .collect()
                };
                for (key, item) in entries {
                    if key.is_some() && matches!(item, JsValue::Undefined) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    if !gap.is_empty() {
                        out.push('\n');
                        out.push_str(&indent);
                    }
                    if let Some(k) = key {
                        quote_json(&k, out);
                        out.push(':');
                        if !gap.is_empty() {
                            out.push(' ');
                        }
                    }
                    if !self.stringify_at(&item, gap, stack, out)? {
                        out.push_str("null");
                    }
                }
                if !first && !gap.is_empty() {
                    out.push('\n');
                    out.push_str(&close_indent);
                }
                out.push(if is_arr { ']' } else { '}' });
                stack.pop();
            }
        }
        Ok(true)
    }
}

fn quote_json(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Strict equality `===`.
pub fn strict_eq(a: &JsValue, b: &JsValue) -> bool {
    use JsValue::*;
    match (a, b) {
        (Undefined, Undefined) | (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (Num(x), Num(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Arr(x), Arr(y)) | (Obj(x), Obj(y)) => x == y,
        _ => false,
    }
}

/// `SameValueZero` (used by `includes`): like `===` but NaN equals NaN.
pub fn same_value_zero(a: &JsValue, b: &JsValue) -> bool {
    match (a, b) {
        (JsValue::Num(x), JsValue::Num(y)) if x.is_nan() && y.is_nan() => true,
        _ => strict_eq(a, b),
    }
}

/// JavaScript truthiness.
pub fn truthy(v: &JsValue) -> bool {
    match v {
        JsValue::Undefined | JsValue::Null => false,
        JsValue::Bool(b) => *b,
        JsValue::Num(x) => *x != 0.0 && !x.is_nan(),
        JsValue::Str(s) => !s.is_empty(),
        JsValue::Arr(_) | JsValue::Obj(_) => true,
    }
}

/// `typeof`.
pub fn type_of(v: &JsValue) -> &'static str {
    match v {
        JsValue::Undefined => "undefined",
        JsValue::Bool(_) => "boolean",
        JsValue::Num(_) => "number",
        JsValue::Str(_) => "string",
        JsValue::Null | JsValue::Arr(_) | JsValue::Obj(_) => "object",
    }
}

/// A JSON number for `x`; non-finite → null, integers without a fraction, `-0` → `0`.
pub fn number_to_json(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        return Value::from(x as i64);
    }
    Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
}

/// JavaScript `Math.pow` / `**`.
pub fn js_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() {
        return f64::NAN;
    }
    if b == 0.0 {
        return 1.0;
    }
    if a.abs() == 1.0 && b.is_infinite() {
        return f64::NAN;
    }
    a.powf(b)
}

/// JavaScript `%`.
pub fn js_rem(a: f64, b: f64) -> f64 {
    if b.is_infinite() && a.is_finite() {
        return a;
    }
    a % b
}

/// JavaScript `ToInt32`.
pub fn to_int32(x: f64) -> i32 {
    to_uint32(x) as i32
}

/// JavaScript `ToUint32`.
pub fn to_uint32(x: f64) -> u32 {
    if !x.is_finite() {
        return 0;
    }
    x.trunc().rem_euclid(4_294_967_296.0) as u32
}

/// JavaScript `ToIntegerOrInfinity`.
pub fn to_integer(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.trunc() + 0.0
    }
}

/// The index of a canonical array-index key (`"0"`, `"12"`, not `"01"`).
pub fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || k.len() > 10 || (k.len() > 1 && k.starts_with('0')) || !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k.parse::<u64>().ok().filter(|&i| i < u64::from(u32::MAX)).map(|i| i as u32)
}

/// JavaScript white space and line terminators (what `trim` and `Number()` strip).
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{b}'
            | '\u{c}'
            | '\r'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// JavaScript `Number::toString` (shortest round-trip digits, JS exponent rules).
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n - 1 >= 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

/// Length of the longest prefix of `s` that is a JS `StrUnsignedDecimalLiteral` without
/// `Infinity` (digits, optional fraction, optional exponent); 0 when none.
fn decimal_prefix_len(s: &[u8]) -> usize {
    let mut i = 0;
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut has_digits = i > int_start;
    if i < s.len() && s[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if has_digits || j > frac_start {
            has_digits = true;
            i = j;
        }
    }
    if !has_digits {
        return 0;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    i
}

fn parse_decimal(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

fn parse_radix_digits(s: &str, radix: u32) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut acc = 0f64;
    for c in s.chars() {
        acc = acc * f64::from(radix) + f64::from(c.to_digit(radix)?);
    }
    Some(acc)
}

/// JavaScript `StringToNumber` (what `Number("...")` does).
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    let lower2 = t.get(..2).map(str::to_ascii_lowercase);
    if let Some(p) = lower2.as_deref() {
        let radix = match p {
            "0x" => 16,
            "0o" => 8,
            "0b" => 2,
            _ => 0,
        };
        if radix != 0 {
            return parse_radix_digits(&t[2..], radix).unwrap_or(f64::NAN);
        }
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    if decimal_prefix_len(body.as_bytes()) == body.len() && !body.is_empty() {
        return sign * parse_decimal(body);
    }
    f64::NAN
}

/// JavaScript `parseFloat`.
pub fn parse_float(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_whitespace);
    let (sign, body) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let n = decimal_prefix_len(body.as_bytes());
    if n == 0 {
        return f64::NAN;
    }
    sign * parse_decimal(&body[..n])
}

/// JavaScript `parseInt(s, radix)` (`radix` already converted; 0 = absent).
pub fn parse_int(s: &str, radix: i32) -> f64 {
    let t = s.trim_start_matches(is_js_whitespace);
    let (sign, mut body) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    let mut r = radix;
    let has_hex_prefix = body.len() >= 2 && body[..2].eq_ignore_ascii_case("0x");
    if r == 0 {
        r = if has_hex_prefix { 16 } else { 10 };
    }
    if !(2..=36).contains(&r) {
        return f64::NAN;
    }
    if r == 16 && has_hex_prefix {
        body = &body[2..];
    }
    let r = r as u32;
    let end = body.char_indices().find(|(_, c)| c.to_digit(r).is_none()).map(|(i, _)| i).unwrap_or(body.len());
    let digits = &body[..end];
    if digits.is_empty() {
        return f64::NAN;
    }
    let value = if r == 10 { parse_decimal(digits) } else { parse_radix_digits(digits, r).unwrap_or(f64::NAN) };
    sign * value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn number_formatting_follows_js() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-5.0, "-5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (0.0000012, "0.0000012"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (2.5e25, "2.5e+25"),
            (100.0, "100"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, s) in cases {
            assert_eq!(number_to_string(*x), *s, "{x}");
        }
    }

    #[test]
    fn string_to_number_follows_js() {
        let cases: &[(&str, f64)] = &[
            ("", 0.0),
            ("  ", 0.0),
            (" 12 ", 12.0),
            ("1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("-3", -3.0),
            ("+3", 3.0),
            ("1e3", 1000.0),
            ("0x1F", 31.0),
            ("0b101", 5.0),
            ("0o17", 15.0),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ];
        for (s, x) in cases {
            assert_eq!(string_to_number(s), *x, "{s:?}");
        }
        for s in ["abc", "1a", "inf", "nan", "NaN", "1e", "-0x10", ".", "1 2", "infinity", "e5", "--1"] {
            assert!(string_to_number(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn parse_float_and_int() {
        assert_eq!(parse_float("3.14abc"), 3.14);
        assert_eq!(parse_float("  -2e3x"), -2000.0);
        assert_eq!(parse_float("1e"), 1.0);
        assert!(parse_float("abc").is_nan());
        assert_eq!(parse_float("Infinityx"), f64::INFINITY);
        assert_eq!(parse_int("42px", 0), 42.0);
        assert_eq!(parse_int("0x1f", 0), 31.0);
        assert_eq!(parse_int("ff", 16), 255.0);
        assert_eq!(parse_int("-12.9", 0), -12.0);
        assert!(parse_int("x", 0).is_nan());
        assert!(parse_int("1", 1).is_nan());
        assert_eq!(parse_int("101", 2), 5.0);
    }

    #[test]
    fn conversions_and_equality() {
        let mut h = Heap::new();
        let arr = h.from_json(&json!([1, [2, 3], null])).unwrap();
        assert_eq!(&*h.to_str(&arr).unwrap(), "1,2,3,");
        let obj = h.from_json(&json!({"a": 1})).unwrap();
        assert_eq!(&*h.to_str(&obj).unwrap(), "[object Object]");
        let one = JsValue::Num(1.0);
        assert!(h.loose_eq(&one, &JsValue::str("1")).unwrap());
        assert!(h.loose_eq(&one, &JsValue::Bool(true)).unwrap());
        assert!(h.loose_eq(&JsValue::Null, &JsValue::Undefined).unwrap());
        assert!(!h.loose_eq(&JsValue::Null, &JsValue::Num(0.0)).unwrap());
        assert!(h.loose_eq(&JsValue::str(""), &JsValue::Num(0.0)).unwrap());
        assert!(!h.loose_eq(&JsValue::Num(f64::NAN), &JsValue::Num(f64::NAN)).unwrap());
        assert!(h.loose_eq(&obj, &obj).unwrap());
        let obj2 = h.from_json(&json!({"a": 1})).unwrap();
        assert!(!h.loose_eq(&obj, &obj2).unwrap());
        let single = h.from_json(&json!([5])).unwrap();
        assert!(h.loose_eq(&single, &JsValue::Num(5.0)).unwrap());
        assert_eq!(h.to_number(&single).unwrap(), 5.0);
        assert!(h.to_number(&obj).unwrap().is_nan());
        let s = h.add(&JsValue::str("a"), &JsValue::Num(1.0)).unwrap();
        assert!(strict_eq(&s, &JsValue::str("a1")));
        let n = h.add(&JsValue::Bool(true), &JsValue::Null).unwrap();
        assert!(strict_eq(&n, &JsValue::Num(1.0)));
        assert!(h.compare("<", &JsValue::str("10"), &JsValue::str("9")).unwrap());
        assert!(!h.compare("<", &JsValue::str("10"), &JsValue::Num(9.0)).unwrap());
        assert!(!h.compare(">=", &JsValue::Undefined, &JsValue::Num(0.0)).unwrap());
        assert!(h.compare(">=", &JsValue::Null, &JsValue::Num(0.0)).unwrap());
    }

    #[test]
    fn json_round_trip_and_stringify() {
        let mut h = Heap::new();
        let v = json!({"b": [1, 2.5, "x", null, true], "a": {"2": 1, "1": 2, "z": false}});
        let js = h.from_json(&v).unwrap();
        let back = h.to_json(&js).unwrap();
        assert_eq!(back["b"], v["b"]);
        let keys: Vec<&String> = back["a"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["1", "2", "z"]);
        let s = h.json_stringify(&js, "").unwrap().unwrap();
        assert_eq!(s, r#"{"b":[1,2.5,"x",null,true],"a":{"1":2,"2":1,"z":false}}"#);
        let arr = h.from_json(&json!([1, {"a": "q\"\n"}])).unwrap();
        assert_eq!(h.json_stringify(&arr, "  ").unwrap().unwrap(), "[\n  1,\n  {\n    \"a\": \"q\\\"\\n\"\n  }\n]");
        assert_eq!(h.json_stringify(&JsValue::Undefined, "").unwrap(), None);
        assert_eq!(h.json_stringify(&JsValue::Num(f64::NAN), "").unwrap().unwrap(), "null");
        assert_eq!(number_to_json(-0.0), json!(0));
        assert_eq!(number_to_json(2.5), json!(2.5));
        assert_eq!(number_to_json(f64::NAN), Value::Null);
    }

    #[test]
    fn cycles_and_depth_are_caught() {
        let mut h = Heap::new();
        let a = h.new_array(vec![]).unwrap();
        let JsValue::Arr(id) = a else { unreachable!() };
        if let Some(v) = h.array_mut(id) {
            v.push(JsValue::Num(1.0));
            v.push(a.clone());
        }
        assert_eq!(&*h.to_str(&a).unwrap(), "1,");
        assert!(h.to_json(&a).is_err());
        assert!(h.json_stringify(&a, "").is_err());
        let mut deep = h.new_array(vec![]).unwrap();
        for _ in 0..10_000 {
            deep = h.new_array(vec![deep]).unwrap();
        }
        assert!(matches!(h.to_json(&deep), Err(ScriptError::Limit(_))));
        assert!(matches!(h.to_str(&deep), Err(ScriptError::Limit(_))));
    }

    #[test]
    fn pow_rem_and_ints() {
        assert!(js_pow(1.0, f64::INFINITY).is_nan());
        assert_eq!(js_pow(f64::NAN, 0.0), 1.0);
        assert!(js_pow(1.0, f64::NAN).is_nan());
        assert_eq!(js_pow(2.0, 10.0), 1024.0);
        assert_eq!(js_rem(-5.0, 3.0), -2.0);
        assert_eq!(js_rem(5.0, f64::INFINITY), 5.0);
        assert!(js_rem(5.0, 0.0).is_nan());
        assert_eq!(to_int32(4_294_967_295.0), -1);
        assert_eq!(to_int32(-1.5), -1);
        assert_eq!(to_uint32(-1.0), 4_294_967_295);
        assert_eq!(array_index("12"), Some(12));
        assert_eq!(array_index("012"), None);
        assert_eq!(array_index("4294967295"), None);
    }
}
