//! Property reads, writes and `delete`.

use super::super::ast::Expr;
use super::super::builtins;
use super::super::{limit, thrown, unsupported, R};
use super::{type_name, Interp, Key, MAX_ARRAY_GAP};
use crate::expr::jsvalue::JsValue;

impl Interp {
    pub fn get_member(&mut self, o: &JsValue, key: &Key) -> R<JsValue> {
        match o {
            JsValue::Undefined | JsValue::Null => Err(thrown(
                "TypeError",
                &format!(
                    "Cannot read properties of {} (reading '{}')",
                    type_name(o),
                    key.text()
                ),
            )),
            JsValue::Str(s) => {
                self.heap.charge(s.len() / 32)?;
                let ascii = s.is_ascii();
                match key {
                    Key::Index(i) if ascii => Ok(match s.get(*i..*i + 1) {
                        Some(c) => JsValue::str(c),
                        None => JsValue::Undefined,
                    }),
                    Key::Index(i) => match s.encode_utf16().nth(*i) {
                        None => Ok(JsValue::Undefined),
                        Some(u) => Ok(JsValue::Str(builtins::from_units(&[u])?)),
                    },
                    k if k.is("length") && ascii => Ok(JsValue::Num(s.len() as f64)),
                    k if k.is("length") => Ok(JsValue::Num(s.encode_utf16().count() as f64)),
                    Key::Name(n) => builtins::property_of_primitive("String", n),
                }
            }
            JsValue::Arr(id) => match key {
                Key::Index(i) => Ok(self
                    .heap
                    .array(*id)
                    .get(*i)
                    .cloned()
                    .unwrap_or(JsValue::Undefined)),
                k if k.is("length") => Ok(JsValue::Num(self.heap.array(*id).len() as f64)),
                Key::Name(n) => builtins::property_of_primitive("Array", n),
            },
            JsValue::Obj(id) => {
                let k = key.text();
                match self.heap.get_prop(*id, &k) {
                    Some(v) => Ok(v),
                    None => builtins::property_of_primitive("Object", &k),
                }
            }
            JsValue::Num(_) => builtins::property_of_primitive("Number", &key.text()),
            JsValue::Bool(_) => builtins::property_of_primitive("Boolean", &key.text()),
        }
    }

    pub fn set_member(&mut self, o: &JsValue, key: &Key, v: JsValue) -> R<()> {
        match o {
            JsValue::Undefined | JsValue::Null => Err(thrown(
                "TypeError",
                &format!(
                    "Cannot set properties of {} (setting '{}')",
                    type_name(o),
                    key.text()
                ),
            )),
            JsValue::Obj(id) => {
                let k = key.text();
                if &*k == "__proto__" {
                    return Err(unsupported("__proto__"));
                }
                self.heap.set_prop(*id, &k, v)
            }
            JsValue::Arr(id) => {
                let len = self.heap.array(*id).len();
                let (index, value) = match key {
                    Key::Index(i) => (*i, Some(v)),
                    k if k.is("length") => {
                        let n = self.heap.to_number(&v)?;
                        if n < 0.0 || n.fract() != 0.0 || n >= 4_294_967_296.0 || n.is_nan() {
                            return Err(thrown("RangeError", "Invalid array length"));
                        }
                        (n as usize, None)
                    }
                    Key::Name(n) => {
                        return Err(unsupported(&format!("named property '{n}' on an array")))
                    }
                };
                let new_len = if value.is_some() { index + 1 } else { index };
                if new_len > len {
                    if new_len - len > MAX_ARRAY_GAP {
                        return Err(limit("sparse array too large"));
                    }
                    self.heap.charge(16 * (new_len - len))?;
                }
                if let Some(arr) = self.heap.array_mut(*id) {
                    match value {
                        Some(v) => {
                            if index >= arr.len() {
                                arr.resize(index + 1, JsValue::Undefined);
                            }
                            arr[index] = v;
                        }
                        None => arr.resize(index, JsValue::Undefined),
                    }
                }
                Ok(())
            }
            // Primitives: silently ignored in sloppy mode.
            _ => Ok(()),
        }
    }

    pub(super) fn delete(&mut self, x: &Expr) -> R<JsValue> {
        match x {
            Expr::Member {
                obj,
                prop,
                optional: false,
            } => {
                let o = self.eval(obj)?;
                let key = self.prop_key(prop)?;
                match &o {
                    JsValue::Undefined | JsValue::Null => Err(thrown(
                        "TypeError",
                        "Cannot convert undefined or null to object",
                    )),
                    JsValue::Obj(id) => {
                        let k = key.text();
                        if let Some(props) = self.heap.props_mut(*id) {
                            props.retain(|(name, _)| **name != *k);
                        }
                        Ok(JsValue::Bool(true))
                    }
                    JsValue::Arr(id) => match key {
                        Key::Index(i) => {
                            if let Some(slot) = self.heap.array_mut(*id).and_then(|a| a.get_mut(i))
                            {
                                *slot = JsValue::Undefined;
                            }
                            Ok(JsValue::Bool(true))
                        }
                        k => Ok(JsValue::Bool(!k.is("length"))),
                    },
                    JsValue::Str(s) => Ok(JsValue::Bool(match key {
                        Key::Index(i) => i >= s.encode_utf16().count(),
                        k => !k.is("length"),
                    })),
                    _ => Ok(JsValue::Bool(true)),
                }
            }
            Expr::Paren(inner) => self.delete(inner),
            Expr::Ident(_) | Expr::OptChain(_) | Expr::Member { .. } => {
                Err(unsupported("delete of a variable or optional chain"))
            }
            other => {
                self.eval(other)?;
                Ok(JsValue::Bool(true))
            }
        }
    }
}
