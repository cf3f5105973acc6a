//! The whitelisted built-ins: global functions, `Math`, `JSON`, `Number`, `Object.keys/values/
//! entries`, `Array.isArray`, `String.fromCharCode`, and methods of strings, arrays, numbers and
//! plain objects. Anything else that exists in JavaScript is `Unsupported` (never guessed).

use super::interp::{Interp, Key};
use super::{thrown, unsupported, R};
use crate::expr::jsvalue::{
    js_pow, number_to_string, parse_float, parse_int, same_value_zero, strict_eq, to_int32,
    to_integer, to_uint32, truthy, JsValue,
};
use std::rc::Rc;

mod strings;
pub use strings::from_units;
use strings::{call_string_method, to_fixed};

/// Global names of JavaScript and of the reference sandbox that the subset does not model.
const KNOWN_GLOBALS: &[&str] = &[
    "globalThis",
    "global",
    "eval",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "unescape",
    "Array",
    "ArrayBuffer",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Boolean",
    "DataView",
    "Date",
    "Error",
    "EvalError",
    "FinalizationRegistry",
    "Float32Array",
    "Float64Array",
    "Function",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Map",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "RegExp",
    "Set",
    "SharedArrayBuffer",
    "String",
    "Symbol",
    "SyntaxError",
    "TypeError",
    "Uint8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "Uint32Array",
    "URIError",
    "WeakMap",
    "WeakRef",
    "WeakSet",
    "Atomics",
    "JSON",
    "Math",
    "Reflect",
    "Intl",
    "WebAssembly",
    "console",
    "fetch",
    "require",
    "module",
    "exports",
    "process",
    "Buffer",
    "setTimeout",
    "setInterval",
    "setImmediate",
    "clearTimeout",
    "clearInterval",
    "queueMicrotask",
    "structuredClone",
    "TextEncoder",
    "TextDecoder",
    "URL",
    "URLSearchParams",
    "AbortController",
    "atob",
    "btoa",
    "crypto",
    "performance",
    "XMLHttpRequest",
    "window",
    "self",
    "document",
    "this",
    "arguments",
];

const NAMESPACES: &[&str] = &["Math", "JSON", "Number", "Object", "Array", "String"];

const OBJECT_PROTO: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

const STRING_PROTO: &[&str] = &[
    "at",
    "charAt",
    "charCodeAt",
    "codePointAt",
    "concat",
    "endsWith",
    "includes",
    "indexOf",
    "lastIndexOf",
    "localeCompare",
    "match",
    "matchAll",
    "normalize",
    "padEnd",
    "padStart",
    "repeat",
    "replace",
    "replaceAll",
    "search",
    "slice",
    "split",
    "startsWith",
    "substr",
    "substring",
    "toLocaleLowerCase",
    "toLocaleUpperCase",
    "toLowerCase",
    "toUpperCase",
    "toWellFormed",
    "isWellFormed",
    "trim",
    "trimEnd",
    "trimStart",
    "trimLeft",
    "trimRight",
    "anchor",
    "big",
    "blink",
    "bold",
    "fixed",
    "fontcolor",
    "fontsize",
    "italics",
    "link",
    "small",
    "strike",
    "sub",
    "sup",
];

const ARRAY_PROTO: &[&str] = &[
    "at",
    "concat",
    "copyWithin",
    "entries",
    "every",
    "fill",
    "filter",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "flat",
    "flatMap",
    "forEach",
    "includes",
    "indexOf",
    "join",
    "keys",
    "lastIndexOf",
    "map",
    "pop",
    "push",
    "reduce",
    "reduceRight",
    "reverse",
    "shift",
    "slice",
    "some",
    "sort",
    "splice",
    "toReversed",
    "toSorted",
    "toSpliced",
    "unshift",
    "values",
    "with",
];

const NUMBER_PROTO: &[&str] = &["toExponential", "toFixed", "toPrecision"];

pub fn is_known_global(name: &str) -> bool {
    KNOWN_GLOBALS.contains(&name)
}

pub fn is_namespace(name: &str) -> bool {
    NAMESPACES.contains(&name)
}

/// `typeof name` for a name that is not a variable.
pub fn typeof_global(name: &str) -> R<&'static str> {
    Ok(match name {
        "Math" | "JSON" | "Reflect" | "Intl" | "Atomics" | "globalThis" | "global" => "object",
        "console" | "fetch" | "require" | "module" | "exports" | "process" | "Buffer"
        | "setTimeout" | "setInterval" | "setImmediate" | "clearTimeout" | "clearInterval"
        | "queueMicrotask" | "structuredClone" | "TextEncoder" | "TextDecoder" | "URL"
        | "URLSearchParams" | "AbortController" | "atob" | "btoa" | "crypto" | "performance"
        | "XMLHttpRequest" | "window" | "self" | "document" | "this" | "arguments" | "Promise" => {
            return Err(unsupported(&format!(
                "typeof {name} (depends on the sandbox)"
            )))
        }
        n if is_known_global(n) => "function",
        _ => "undefined",
    })
}

/// Reading a property that is not an own data property: prototype members are unsupported
/// (they would be functions), anything else is `undefined`.
pub fn property_of_primitive(kind: &str, name: &str) -> R<JsValue> {
    let proto: &[&str] = match kind {
        "String" => STRING_PROTO,
        "Array" => ARRAY_PROTO,
        "Number" => NUMBER_PROTO,
        _ => &[],
    };
    if proto.contains(&name) || OBJECT_PROTO.contains(&name) {
        return Err(unsupported(&format!(
            "{kind}.prototype.{name} used as a value"
        )));
    }
    Ok(JsValue::Undefined)
}

/// `key in value`.
pub fn has_property(it: &Interp, v: &JsValue, key: &Key) -> R<bool> {
    match v {
        JsValue::Obj(id) => {
            let k = key.text();
            Ok(it.heap.get_prop(*id, &k).is_some() || OBJECT_PROTO.contains(&&*k))
        }
        JsValue::Arr(id) => Ok(match key {
            Key::Index(i) => *i < it.heap.array(*id).len(),
            Key::Name(n) => {
                &**n == "length" || ARRAY_PROTO.contains(&&**n) || OBJECT_PROTO.contains(&&**n)
            }
        }),
        other => {
            let shown = it.heap.to_str(other)?;
            Err(thrown(
                "TypeError",
                &format!(
                    "Cannot use 'in' operator to search for '{}' in {shown}",
                    key.text()
                ),
            ))
        }
    }
}

/// `Math.PI`, `Number.MAX_SAFE_INTEGER`, ...
pub fn static_value(ns: &str, name: &str) -> R<JsValue> {
    use std::f64::consts;
    let x = match (ns, name) {
        ("Math", "PI") => consts::PI,
        ("Math", "E") => consts::E,
        ("Math", "LN2") => consts::LN_2,
        ("Math", "LN10") => consts::LN_10,
        ("Math", "LOG2E") => consts::LOG2_E,
        ("Math", "LOG10E") => consts::LOG10_E,
        ("Math", "SQRT2") => consts::SQRT_2,
        ("Math", "SQRT1_2") => consts::FRAC_1_SQRT_2,
        ("Number", "MAX_SAFE_INTEGER") => 9_007_199_254_740_991.0,
        ("Number", "MIN_SAFE_INTEGER") => -9_007_199_254_740_991.0,
        ("Number", "EPSILON") => f64::EPSILON,
        ("Number", "MAX_VALUE") => f64::MAX,
        ("Number", "MIN_VALUE") => 5e-324,
        ("Number", "POSITIVE_INFINITY") => f64::INFINITY,
        ("Number", "NEGATIVE_INFINITY") => f64::NEG_INFINITY,
        ("Number", "NaN") => f64::NAN,
        _ => return Err(unsupported(&format!("{ns}.{name} used as a value"))),
    };
    Ok(JsValue::Num(x))
}

fn arg(args: &[JsValue], i: usize) -> JsValue {
    args.get(i).cloned().unwrap_or(JsValue::Undefined)
}

fn num_arg(it: &Interp, args: &[JsValue], i: usize) -> R<f64> {
    it.heap.to_number(&arg(args, i))
}

/// Relative index (`slice`, `at`): negative counts from the end; clamped to `0..=len`.
pub fn relative(it: &Interp, v: &JsValue, len: usize, default: usize) -> R<usize> {
    if matches!(v, JsValue::Undefined) {
        return Ok(default);
    }
    let x = to_integer(it.heap.to_number(v)?);
    Ok(if x < 0.0 {
        (len as f64 + x).max(0.0) as usize
    } else {
        x.min(len as f64) as usize
    })
}

/// Global function calls: `Number()`, `String()`, `Boolean()`, `parseInt()`, ...
pub fn call_global(it: &mut Interp, name: &str, args: Vec<JsValue>) -> R<JsValue> {
    let a0 = arg(&args, 0);
    Ok(match name {
        "Number" => JsValue::Num(if args.is_empty() {
            0.0
        } else {
            it.heap.to_number(&a0)?
        }),
        "String" => {
            if args.is_empty() {
                JsValue::str("")
            } else {
                JsValue::Str(it.heap.to_str(&a0)?)
            }
        }
        "Boolean" => JsValue::Bool(truthy(&a0)),
        "parseInt" => {
            let radix = to_int32(num_arg(it, &args, 1)?);
            JsValue::Num(parse_int(&it.heap.to_str(&a0)?, radix))
        }
        "parseFloat" => JsValue::Num(parse_float(&it.heap.to_str(&a0)?)),
        "isNaN" => JsValue::Bool(it.heap.to_number(&a0)?.is_nan()),
        "isFinite" => JsValue::Bool(it.heap.to_number(&a0)?.is_finite()),
        "undefined" | "NaN" | "Infinity" => {
            return Err(thrown("TypeError", &format!("{name} is not a function")))
        }
        n if is_known_global(n) => return Err(unsupported(&format!("{n}()"))),
        n => return Err(thrown("ReferenceError", &format!("{n} is not defined"))),
    })
}

fn math(it: &mut Interp, name: &str, args: &[JsValue]) -> R<JsValue> {
    let x = num_arg(it, args, 0)?;
    Ok(JsValue::Num(match name {
        "abs" => x.abs(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "trunc" => x.trunc(),
        "sqrt" => x.sqrt(),
        "sign" => {
            if x == 0.0 || x.is_nan() {
                x
            } else {
                x.signum()
            }
        }
        "round" => {
            if !x.is_finite() {
                x
            } else {
                let f = x.floor();
                let r = if x - f >= 0.5 { f + 1.0 } else { f };
                if r == 0.0 && x < 0.0 {
                    -0.0
                } else {
                    r
                }
            }
        }
        "pow" => js_pow(x, num_arg(it, args, 1)?),
        "min" | "max" => {
            let is_max = name == "max";
            let mut acc = if is_max {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            for a in args {
                let v = it.heap.to_number(a)?;
                if v.is_nan() || acc.is_nan() {
                    acc = f64::NAN;
                } else if (is_max
                    && (v > acc || (v == 0.0 && acc == 0.0 && acc.is_sign_negative())))
                    || (!is_max && (v < acc || (v == 0.0 && acc == 0.0 && v.is_sign_negative())))
                {
                    acc = v;
                }
            }
            acc
        }
        "random" => {
            return Err(unsupported(
                "Math.random (the engine must stay deterministic)",
            ))
        }
        other => return Err(unsupported(&format!("Math.{other}"))),
    }))
}

fn json(it: &mut Interp, name: &str, args: &[JsValue]) -> R<JsValue> {
    match name {
        "stringify" => {
            if !arg(args, 1).is_nullish() {
                return Err(unsupported("JSON.stringify with a replacer"));
            }
            let gap: String = match arg(args, 2) {
                JsValue::Num(n) => " ".repeat(to_integer(n).clamp(0.0, 10.0) as usize),
                JsValue::Str(s) => s.chars().take(10).collect(),
                _ => String::new(),
            };
            match it.heap.json_stringify(&arg(args, 0), &gap)? {
                Some(s) => Ok(JsValue::str(s)),
                None => Ok(JsValue::Undefined),
            }
        }
        "parse" => {
            if !matches!(arg(args, 1), JsValue::Undefined) {
                return Err(unsupported("JSON.parse with a reviver"));
            }
            let text = it.heap.to_str(&arg(args, 0))?;
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => it.heap.load_json(&v),
                Err(e) => {
                    let msg = e.to_string();
                    if msg.contains("recursion limit") {
                        Err(super::limit("JSON nesting too deep"))
                    } else if msg.contains("number out of range") {
                        Err(unsupported("JSON numbers beyond the double range"))
                    } else {
                        Err(thrown(
                            "SyntaxError",
                            &format!("Unexpected token in JSON ({msg})"),
                        ))
                    }
                }
            }
        }
        other => Err(unsupported(&format!("JSON.{other}"))),
    }
}

fn object_static(it: &mut Interp, name: &str, args: &[JsValue]) -> R<JsValue> {
    if !matches!(name, "keys" | "values" | "entries") {
        return Err(unsupported(&format!("Object.{name}")));
    }
    let o = arg(args, 0);
    let pairs: Vec<(Rc<str>, JsValue)> = match &o {
        JsValue::Undefined | JsValue::Null => {
            return Err(thrown(
                "TypeError",
                "Cannot convert undefined or null to object",
            ));
        }
        JsValue::Obj(id) => it
            .heap
            .keys(*id)
            .into_iter()
            .filter_map(|k| it.heap.get_prop(*id, &k).map(|v| (k, v)))
            .collect(),
        JsValue::Arr(id) => it
            .heap
            .array(*id)
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string().into(), v.clone()))
            .collect(),
        JsValue::Str(s) => {
            let units: Vec<u16> = s.encode_utf16().collect();
            let mut out = Vec::with_capacity(units.len());
            for (i, u) in units.iter().enumerate() {
                out.push((
                    Rc::from(i.to_string().as_str()),
                    JsValue::Str(from_units(&[*u])?),
                ));
            }
            out
        }
        _ => Vec::new(),
    };
    let mut items = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        items.push(match name {
            "keys" => JsValue::Str(k),
            "values" => v,
            _ => it.heap.new_array(vec![JsValue::Str(k), v])?,
        });
    }
    it.heap.new_array(items)
}

/// `Math.x()`, `JSON.x()`, `Number.x()`, `Object.x()`, `Array.x()`, `String.x()`.
pub fn call_static(it: &mut Interp, ns: &str, name: &str, args: Vec<JsValue>) -> R<JsValue> {
    let a0 = arg(&args, 0);
    match (ns, name) {
        ("Math", _) => math(it, name, &args),
        ("JSON", _) => json(it, name, &args),
        ("Object", _) => object_static(it, name, &args),
        ("Array", "isArray") => Ok(JsValue::Bool(matches!(a0, JsValue::Arr(_)))),
        ("Number", "isInteger" | "isSafeInteger" | "isFinite" | "isNaN") => {
            Ok(JsValue::Bool(match a0 {
                JsValue::Num(x) => match name {
                    "isInteger" => x.is_finite() && x.trunc() == x,
                    "isSafeInteger" => {
                        x.is_finite() && x.trunc() == x && x.abs() <= 9_007_199_254_740_991.0
                    }
                    "isFinite" => x.is_finite(),
                    _ => x.is_nan(),
                },
                _ => false,
            }))
        }
        ("Number", "parseFloat" | "parseInt") => call_global(it, name, args),
        ("String", "fromCharCode") => {
            let mut units = Vec::with_capacity(args.len());
            for a in &args {
                units.push((to_uint32(it.heap.to_number(a)?) & 0xffff) as u16);
            }
            Ok(JsValue::Str(from_units(&units)?))
        }
        _ => Err(unsupported(&format!("{ns}.{name}"))),
    }
}

/// Calls method `key` on `recv`; `Ok(None)` when there is no such method (`undefined`).
pub fn call_method(
    it: &mut Interp,
    recv: &JsValue,
    key: &Key,
    args: Vec<JsValue>,
) -> R<Option<JsValue>> {
    let name = key.text();
    match recv {
        JsValue::Undefined | JsValue::Null => Err(thrown(
            "TypeError",
            &format!(
                "Cannot read properties of {} (reading '{name}')",
                if matches!(recv, JsValue::Null) {
                    "null"
                } else {
                    "undefined"
                }
            ),
        )),
        JsValue::Str(s) => call_string_method(it, s, &name, &args),
        JsValue::Arr(id) => call_array_method(it, recv, *id, &name, &args),
        JsValue::Obj(id) => {
            if let Some(v) = it.heap.get_prop(*id, &name) {
                if matches!(v, JsValue::Undefined) {
                    return Ok(None);
                }
                return Err(thrown("TypeError", &format!("{name} is not a function")));
            }
            Ok(Some(match &*name {
                "hasOwnProperty" | "propertyIsEnumerable" => {
                    let k = it.heap.to_str(&arg(&args, 0))?;
                    JsValue::Bool(it.heap.get_prop(*id, &k).is_some())
                }
                "toString" => JsValue::str("[object Object]"),
                "valueOf" => recv.clone(),
                n if OBJECT_PROTO.contains(&n) => {
                    return Err(unsupported(&format!("Object.prototype.{n}")))
                }
                _ => return Ok(None),
            }))
        }
        JsValue::Num(x) => Ok(Some(match &*name {
            "toFixed" => {
                let d = to_integer(num_arg(it, &args, 0)?);
                if !(0.0..=100.0).contains(&d) {
                    return Err(thrown(
                        "RangeError",
                        "toFixed() digits argument must be between 0 and 100",
                    ));
                }
                JsValue::str(to_fixed(*x, d as usize))
            }
            "toString" => match arg(&args, 0) {
                JsValue::Undefined => JsValue::str(number_to_string(*x)),
                r if it.heap.to_number(&r)? == 10.0 => JsValue::str(number_to_string(*x)),
                _ => return Err(unsupported("Number.prototype.toString with a radix")),
            },
            "valueOf" => JsValue::Num(*x),
            n if NUMBER_PROTO.contains(&n) || OBJECT_PROTO.contains(&n) => {
                return Err(unsupported(&format!("Number.prototype.{n}")))
            }
            _ => return Ok(None),
        })),
        JsValue::Bool(b) => Ok(Some(match &*name {
            "toString" => JsValue::str(if *b { "true" } else { "false" }),
            "valueOf" => JsValue::Bool(*b),
            n if OBJECT_PROTO.contains(&n) => {
                return Err(unsupported(&format!("Boolean.prototype.{n}")))
            }
            _ => return Ok(None),
        })),
    }
}

fn call_array_method(
    it: &mut Interp,
    recv: &JsValue,
    id: usize,
    name: &str,
    args: &[JsValue],
) -> R<Option<JsValue>> {
    let len = it.heap.array(id).len();
    // Linear-time methods are charged by length (push/pop/at are constant time).
    if !matches!(name, "push" | "pop" | "at") {
        it.heap.charge(len)?;
    }
    let items = |it: &Interp| it.heap.array(id).to_vec();
    let a0 = arg(args, 0);
    Ok(Some(match name {
        "push" | "unshift" => {
            it.heap.charge(16 * args.len())?;
            if let Some(arr) = it.heap.array_mut(id) {
                if name == "push" {
                    arr.extend(args.iter().cloned());
                } else {
                    arr.splice(0..0, args.iter().cloned());
                }
            }
            JsValue::Num(it.heap.array(id).len() as f64)
        }
        "pop" => it
            .heap
            .array_mut(id)
            .and_then(Vec::pop)
            .unwrap_or(JsValue::Undefined),
        "shift" => match it.heap.array_mut(id) {
            Some(arr) if !arr.is_empty() => arr.remove(0),
            _ => JsValue::Undefined,
        },
        "includes" | "indexOf" => {
            let from = relative(it, &arg(args, 1), len, 0)?;
            let found = it.heap.array(id)[from.min(len)..].iter().position(|x| {
                if name == "includes" {
                    same_value_zero(x, &a0)
                } else {
                    strict_eq(x, &a0)
                }
            });
            match (name, found) {
                ("includes", f) => JsValue::Bool(f.is_some()),
                (_, Some(i)) => JsValue::Num((from + i) as f64),
                (_, None) => JsValue::Num(-1.0),
            }
        }
        "lastIndexOf" => {
            let start = match args.get(1) {
                None => len as f64 - 1.0,
                Some(v) => {
                    let x = to_integer(it.heap.to_number(v)?);
                    if x < 0.0 {
                        len as f64 + x
                    } else {
                        x.min(len as f64 - 1.0)
                    }
                }
            };
            let mut found = -1.0;
            if start >= 0.0 {
                let arr = it.heap.array(id);
                for i in (0..=start as usize).rev() {
                    if arr.get(i).is_some_and(|x| strict_eq(x, &a0)) {
                        found = i as f64;
                        break;
                    }
                }
            }
            JsValue::Num(found)
        }
        "join" | "toString" => {
            let sep = match (name, &a0) {
                ("join", JsValue::Undefined) | ("toString", _) => Rc::from(","),
                _ => it.heap.to_str(&a0)?,
            };
            it.heap.join(id, &sep)?
        }
        "slice" => {
            let from = relative(it, &a0, len, 0)?;
            let to = relative(it, &arg(args, 1), len, len)?;
            let part = if from < to {
                it.heap.array(id)[from..to].to_vec()
            } else {
                Vec::new()
            };
            it.heap.new_array(part)?
        }
        "splice" => {
            let start = relative(it, &a0, len, 0)?;
            let count = match args.len() {
                0 => 0,
                1 => len - start,
                _ => (to_integer(num_arg(it, args, 1)?).max(0.0) as usize).min(len - start),
            };
            let inserted: Vec<JsValue> = args.iter().skip(2).cloned().collect();
            it.heap.charge(16 * inserted.len())?;
            let removed: Vec<JsValue> = match it.heap.array_mut(id) {
                Some(arr) => arr.splice(start..start + count, inserted).collect(),
                None => Vec::new(),
            };
            it.heap.new_array(removed)?
        }
        "concat" => {
            let mut out = items(it);
            for a in args {
                match a {
                    JsValue::Arr(other) => out.extend(it.heap.array(*other).iter().cloned()),
                    v => out.push(v.clone()),
                }
            }
            it.heap.new_array(out)?
        }
        "reverse" => {
            if let Some(arr) = it.heap.array_mut(id) {
                arr.reverse();
            }
            recv.clone()
        }
        "at" => {
            let x = to_integer(it.heap.to_number(&a0)?);
            let k = if x < 0.0 { len as f64 + x } else { x };
            if k < 0.0 || k >= len as f64 {
                JsValue::Undefined
            } else {
                it.heap.array(id)[k as usize].clone()
            }
        }
        "fill" => {
            let from = relative(it, &arg(args, 1), len, 0)?;
            let to = relative(it, &arg(args, 2), len, len)?;
            if let Some(arr) = it.heap.array_mut(id) {
                for slot in arr.iter_mut().take(to).skip(from) {
                    *slot = a0.clone();
                }
            }
            recv.clone()
        }
        "sort" => {
            if !matches!(a0, JsValue::Undefined) {
                return Err(thrown(
                    "TypeError",
                    "The comparison function must be either a function or undefined",
                ));
            }
            let mut keyed = Vec::with_capacity(len);
            let mut undefined = 0;
            for v in items(it) {
                if matches!(v, JsValue::Undefined) {
                    undefined += 1;
                } else {
                    let k: Vec<u16> = it.heap.to_str(&v)?.encode_utf16().collect();
                    keyed.push((k, v));
                }
            }
            it.heap.charge(16 * len)?;
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            let mut sorted: Vec<JsValue> = keyed.into_iter().map(|(_, v)| v).collect();
            sorted.extend(std::iter::repeat_n(JsValue::Undefined, undefined));
            if let Some(arr) = it.heap.array_mut(id) {
                *arr = sorted;
            }
            recv.clone()
        }
        "valueOf" => recv.clone(),
        n if ARRAY_PROTO.contains(&n) || OBJECT_PROTO.contains(&n) => {
            return Err(unsupported(&format!("Array.prototype.{n}")))
        }
        _ => return Ok(None),
    }))
}
