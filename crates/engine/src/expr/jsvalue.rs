//! JavaScript values and conversions of the legacy evaluator (`legacy.rs`, `legacy/math.rs`).
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

mod number;
#[cfg(test)]
mod tests;

pub use number::{
    array_index, is_js_whitespace, js_pow, js_rem, number_to_string, parse_float, parse_int,
    string_to_number, to_int32, to_integer, to_uint32,
};

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
    work: std::cell::Cell<usize>,
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
    pub fn charge(&self, units: usize) -> Result<(), ScriptError> {
        let work = self.work.get().saturating_add(units);
        self.work.set(work);
        if work > MAX_WORK {
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
        self.props(id)
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v.clone())
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
        let mut ints: Vec<(u32, Rc<str>)> = props
            .iter()
            .filter_map(|(k, _)| array_index(k).map(|i| (i, k.clone())))
            .collect();
        ints.sort_by_key(|(i, _)| *i);
        let mut out: Vec<Rc<str>> = ints.into_iter().map(|(_, k)| k).collect();
        out.extend(
            props
                .iter()
                .filter(|(k, _)| array_index(k).is_none())
                .map(|(k, _)| k.clone()),
        );
        out
    }

    // ----- conversions -----

    /// Deep-copies a JSON value into the heap.
    pub fn load_json(&mut self, v: &Value) -> Result<JsValue, ScriptError> {
        self.load_json_at(v, 0)
    }

    fn load_json_at(&mut self, v: &Value, depth: usize) -> Result<JsValue, ScriptError> {
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
                    out.push(self.load_json_at(item, depth + 1)?);
                }
                self.new_array(out)?
            }
            Value::Object(map) => {
                let mut out = Vec::with_capacity(map.len());
                for (k, item) in map {
                    out.push((Rc::from(k.as_str()), self.load_json_at(item, depth + 1)?));
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
                    return Err(ScriptError::Unsupported(
                        "a cyclic object as a result".into(),
                    ));
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
                        let part = self.to_str_at(item, stack)?;
                        self.charge(part.len() + 1)?;
                        out.push_str(&part);
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
    pub fn json_stringify(
        &mut self,
        v: &JsValue,
        gap: &str,
    ) -> Result<Option<String>, ScriptError> {
        let mut out = String::new();
        let mut stack = Vec::new();
        let ok = self.stringify_at(v, gap, &mut stack, &mut out)?;
        self.charge(out.len())?;
        Ok(ok.then_some(out))
    }

    fn stringify_at(
        &self,
        v: &JsValue,
        gap: &str,
        stack: &mut Vec<usize>,
        out: &mut String,
    ) -> Result<bool, ScriptError> {
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
                    return Err(ScriptError::Thrown(
                        "TypeError: Converting circular structure to JSON".into(),
                    ));
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
    if x.fract() == 0.0 && x.abs() < 9.2e18 {
        return Value::from(x as i64);
    }
    Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}
