//! String methods (UTF-16 semantics like JavaScript) and `Number.prototype.toFixed`.

use super::super::interp::Interp;
use super::super::{thrown, unsupported, R};
use super::{arg, relative, OBJECT_PROTO, STRING_PROTO};
use crate::expr::jsvalue::{is_js_whitespace, number_to_string, to_integer, to_uint32, JsValue};
use std::rc::Rc;

/// UTF-16 units → string; a lone surrogate (e.g. half an emoji) cannot be represented.
pub fn from_units(units: &[u16]) -> R<Rc<str>> {
    String::from_utf16(units)
        .map(Into::into)
        .map_err(|_| unsupported("strings with lone surrogates"))
}

fn to_units(it: &Interp, v: &JsValue) -> R<Vec<u16>> {
    Ok(it.heap.to_str(v)?.encode_utf16().collect())
}

fn find(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Clamps `ToIntegerOrInfinity(v)` to `0..=len` (`substring`, `startsWith`, ...).
fn clamp_pos(it: &Interp, v: &JsValue, len: usize) -> R<usize> {
    let x = to_integer(it.heap.to_number(v)?);
    Ok(x.clamp(0.0, len as f64) as usize)
}

fn string(it: &mut Interp, units: &[u16]) -> R<JsValue> {
    it.heap.charge(units.len())?;
    Ok(JsValue::Str(from_units(units)?))
}

/// `GetSubstitution` for a string pattern (no capture groups).
fn substitute(units: &[u16], pos: usize, matched: &[u16], repl: &[u16], out: &mut Vec<u16>) {
    let dollar = u16::from(b'$');
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        let next = repl.get(i + 1).copied();
        if c == dollar {
            match next.and_then(|n| u8::try_from(n).ok()) {
                Some(b'$') => {
                    out.push(dollar);
                    i += 2;
                    continue;
                }
                Some(b'&') => {
                    out.extend_from_slice(matched);
                    i += 2;
                    continue;
                }
                Some(b'`') => {
                    out.extend_from_slice(&units[..pos]);
                    i += 2;
                    continue;
                }
                Some(b'\'') => {
                    out.extend_from_slice(&units[(pos + matched.len()).min(units.len())..]);
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
}

fn trim(s: &str, name: &str) -> String {
    match name {
        "trim" => s.trim_matches(is_js_whitespace),
        "trimStart" | "trimLeft" => s.trim_start_matches(is_js_whitespace),
        _ => s.trim_end_matches(is_js_whitespace),
    }
    .to_string()
}

pub fn call_string_method(
    it: &mut Interp,
    s: &Rc<str>,
    name: &str,
    args: &[JsValue],
) -> R<Option<JsValue>> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let len = units.len();
    let a0 = arg(args, 0);
    let a1 = arg(args, 1);
    it.heap.charge(len / 4)?;
    Ok(Some(match name {
        "charAt" | "charCodeAt" | "codePointAt" => {
            let p = to_integer(it.heap.to_number(&a0)?);
            if p < 0.0 || p >= len as f64 {
                match name {
                    "charAt" => JsValue::str(""),
                    "charCodeAt" => JsValue::Num(f64::NAN),
                    _ => JsValue::Undefined,
                }
            } else {
                let p = p as usize;
                let u = units[p];
                match name {
                    "charAt" => JsValue::Str(from_units(&[u])?),
                    "charCodeAt" => JsValue::Num(f64::from(u)),
                    _ => match (u, units.get(p + 1)) {
                        (0xd800..=0xdbff, Some(&lo @ 0xdc00..=0xdfff)) => JsValue::Num(f64::from(
                            0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(lo) - 0xdc00),
                        )),
                        _ => JsValue::Num(f64::from(u)),
                    },
                }
            }
        }
        "at" => {
            let x = to_integer(it.heap.to_number(&a0)?);
            let k = if x < 0.0 { len as f64 + x } else { x };
            if k < 0.0 || k >= len as f64 {
                JsValue::Undefined
            } else {
                JsValue::Str(from_units(&units[k as usize..k as usize + 1])?)
            }
        }
        "indexOf" | "includes" => {
            let needle = to_units(it, &a0)?;
            let from = clamp_pos(it, &a1, len)?;
            let found = find(&units, &needle, from);
            if name == "includes" {
                JsValue::Bool(found.is_some())
            } else {
                JsValue::Num(found.map_or(-1.0, |i| i as f64))
            }
        }
        "lastIndexOf" => {
            let needle = to_units(it, &a0)?;
            let n = it.heap.to_number(&a1)?;
            let pos = if n.is_nan() {
                f64::INFINITY
            } else {
                to_integer(n)
            };
            let start = pos.clamp(0.0, len as f64) as usize;
            let mut found = -1.0;
            if needle.len() <= len {
                for i in (0..=start.min(len - needle.len())).rev() {
                    if units[i..i + needle.len()] == needle[..] {
                        found = i as f64;
                        break;
                    }
                }
            }
            JsValue::Num(found)
        }
        "startsWith" => {
            let needle = to_units(it, &a0)?;
            let start = clamp_pos(it, &a1, len)?;
            JsValue::Bool(units[start..].starts_with(&needle))
        }
        "endsWith" => {
            let needle = to_units(it, &a0)?;
            let end = if matches!(a1, JsValue::Undefined) {
                len
            } else {
                clamp_pos(it, &a1, len)?
            };
            JsValue::Bool(needle.len() <= end && units[end - needle.len()..end] == needle[..])
        }
        "slice" => {
            let from = relative(it, &a0, len, 0)?;
            let to = relative(it, &a1, len, len)?;
            string(it, if from < to { &units[from..to] } else { &[] })?
        }
        "substring" => {
            let a = clamp_pos(it, &a0, len)?;
            let b = if matches!(a1, JsValue::Undefined) {
                len
            } else {
                clamp_pos(it, &a1, len)?
            };
            string(it, &units[a.min(b)..a.max(b)])?
        }
        "substr" => {
            let start = relative(it, &a0, len, 0)?;
            let count = if matches!(a1, JsValue::Undefined) {
                len - start
            } else {
                to_integer(it.heap.to_number(&a1)?).clamp(0.0, (len - start) as f64) as usize
            };
            string(it, &units[start..start + count])?
        }
        "toLowerCase" => it.heap.new_str(s.to_lowercase())?,
        "toUpperCase" => it.heap.new_str(s.to_uppercase())?,
        "trim" | "trimStart" | "trimEnd" | "trimLeft" | "trimRight" => {
            it.heap.new_str(trim(s, name))?
        }
        "split" => {
            let lim = if matches!(a1, JsValue::Undefined) {
                u32::MAX
            } else {
                to_uint32(it.heap.to_number(&a1)?)
            };
            let lim = lim as usize;
            let mut parts: Vec<JsValue> = Vec::new();
            if lim == 0 {
            } else if matches!(a0, JsValue::Undefined) {
                parts.push(JsValue::Str(s.clone()));
            } else {
                let sep = to_units(it, &a0)?;
                if sep.is_empty() {
                    it.heap.charge(16 * units.len().min(lim))?;
                    for u in units.iter().take(lim) {
                        parts.push(JsValue::Str(from_units(&[*u])?));
                    }
                } else if units.is_empty() {
                    parts.push(JsValue::str(""));
                } else {
                    let mut start = 0;
                    while parts.len() < lim {
                        match find(&units, &sep, start) {
                            Some(i) => {
                                it.heap.charge(16 + i - start)?;
                                parts.push(JsValue::Str(from_units(&units[start..i])?));
                                start = i + sep.len();
                            }
                            None => {
                                parts.push(JsValue::Str(from_units(&units[start..])?));
                                break;
                            }
                        }
                    }
                }
            }
            it.heap.new_array(parts)?
        }
        "replace" | "replaceAll" => {
            if matches!(a0, JsValue::Obj(_) | JsValue::Arr(_)) && name == "replaceAll" {
                return Err(unsupported("replaceAll with a non-string pattern"));
            }
            let pat = to_units(it, &a0)?;
            let repl = to_units(it, &a1)?;
            let mut positions = Vec::new();
            let mut from = 0;
            while let Some(p) = find(&units, &pat, from) {
                positions.push(p);
                if name == "replace" {
                    break;
                }
                from = p + pat.len().max(1);
                it.heap.charge(repl.len() + 1)?;
            }
            let mut out: Vec<u16> = Vec::with_capacity(len);
            let mut last = 0;
            for p in positions {
                out.extend_from_slice(&units[last..p]);
                substitute(&units, p, &pat, &repl, &mut out);
                last = p + pat.len();
            }
            out.extend_from_slice(&units[last.min(len)..]);
            string(it, &out)?
        }
        "repeat" => {
            let n = to_integer(it.heap.to_number(&a0)?);
            if n < 0.0 || n.is_infinite() {
                return Err(thrown(
                    "RangeError",
                    &format!("Invalid count value: {}", number_to_string(n)),
                ));
            }
            it.heap
                .charge((len as f64 * n).min(usize::MAX as f64) as usize)?;
            it.heap.new_str(s.repeat(n as usize))?
        }
        "padStart" | "padEnd" => {
            let target = to_integer(it.heap.to_number(&a0)?);
            let fill: Vec<u16> = if matches!(a1, JsValue::Undefined) {
                vec![u16::from(b' ')]
            } else {
                to_units(it, &a1)?
            };
            if target <= len as f64 || fill.is_empty() {
                JsValue::Str(s.clone())
            } else {
                let extra = target - len as f64;
                it.heap.charge(extra.min(usize::MAX as f64) as usize)?;
                let pad: Vec<u16> = fill.iter().copied().cycle().take(extra as usize).collect();
                let joined: Vec<u16> = if name == "padStart" {
                    [pad, units].concat()
                } else {
                    [units, pad].concat()
                };
                string(it, &joined)?
            }
        }
        "concat" => {
            let mut out = s.to_string();
            for a in args {
                out.push_str(&it.heap.to_str(a)?);
            }
            it.heap.new_str(out)?
        }
        "toString" | "valueOf" => JsValue::Str(s.clone()),
        n if STRING_PROTO.contains(&n) || OBJECT_PROTO.contains(&n) => {
            return Err(unsupported(&format!("String.prototype.{n}")))
        }
        _ => return Ok(None),
    }))
}

/// How many binary (hence decimal) fraction digits the exact value of finite `x` has.
fn fraction_bits(x: f64) -> usize {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = bits & ((1u64 << 52) - 1);
    let (m, e) = if exponent == 0 {
        (mantissa, -1074)
    } else {
        (mantissa | (1u64 << 52), exponent - 1075)
    };
    if m == 0 {
        return 0;
    }
    let e = e + i64::from(m.trailing_zeros());
    if e >= 0 {
        0
    } else {
        (-e) as usize
    }
}

/// `Number.prototype.toFixed` (exact decimal value, ties away from zero like the spec's
/// "pick the larger n").
pub fn to_fixed(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.abs() >= 1e21 {
        return number_to_string(x);
    }
    // Enough digits for the exact decimal value of the double (binary fractions terminate).
    let precision = fraction_bits(x.abs()).max(digits + 1);
    let exact = format!("{:.*}", precision, x.abs());
    let (int_part, frac) = exact.split_once('.').unwrap_or((exact.as_str(), ""));
    let mut ds: Vec<u8> = int_part
        .bytes()
        .chain(frac.bytes().take(digits))
        .map(|b| b - b'0')
        .collect();
    while ds.len() < int_part.len() + digits {
        ds.push(0);
    }
    if frac.as_bytes().get(digits).is_some_and(|&b| b >= b'5') {
        let mut i = ds.len();
        loop {
            if i == 0 {
                ds.insert(0, 1);
                break;
            }
            i -= 1;
            if ds[i] == 9 {
                ds[i] = 0;
            } else {
                ds[i] += 1;
                break;
            }
        }
    }
    let int_len = ds.len() - digits;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    out.extend(ds[..int_len].iter().map(|d| char::from(b'0' + d)));
    if digits > 0 {
        out.push('.');
        out.extend(ds[int_len..].iter().map(|d| char::from(b'0' + d)));
    }
    out
}
