//! Values between serde_json and QuickJS. In: every variable becomes a global by deep copy (a
//! JSON round trip). Out: like `JSON.stringify`: `undefined`, functions, `NaN` and `±Infinity`
//! become `null` (which the engine treats as unset), undefined properties are dropped.

use super::engine::Failure;
use flowdm_engine::expr::ScriptError;
use flowdm_engine::state::Vars;
use rquickjs::object::Property;
use rquickjs::{Ctx, Object, Value as JsValue};
use serde_json::Value;

/// Sets every variable as a global.
pub fn set_globals<'js>(ctx: &Ctx<'js>, vars: &Vars) -> Result<(), Failure> {
    let globals = ctx.globals();
    for (name, value) in vars {
        define(&globals, name, to_js(ctx, value)?)?;
    }
    Ok(())
}

/// Defines a writable global (assignment would not shadow a built-in: they are read-only
/// properties of the global object's prototype, `prelude.rs`).
pub fn define<'js>(globals: &Object<'js>, name: &str, value: JsValue<'js>) -> Result<(), Failure> {
    let property = Property::from(value).writable().configurable().enumerable();
    globals.prop(name, property)?;
    Ok(())
}

pub fn to_js<'js>(ctx: &Ctx<'js>, value: &Value) -> Result<JsValue<'js>, Failure> {
    let v = match value {
        Value::Null => JsValue::new_null(ctx.clone()),
        Value::Bool(b) => JsValue::new_bool(ctx.clone(), *b),
        Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => JsValue::new_int(ctx.clone(), i),
            None => JsValue::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        compound => ctx.json_parse(serde_json::to_string(compound).map_err(json_error)?)?,
    };
    Ok(v)
}

pub fn to_json<'js>(ctx: &Ctx<'js>, value: JsValue<'js>) -> Result<Value, Failure> {
    if let Some(n) = value.as_int() {
        return Ok(Value::from(n));
    }
    if let Some(x) = value.as_float() {
        return Ok(number(x));
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s.to_string()?));
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    match ctx.json_stringify(value)? {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str(&text.to_string()?).map_err(|e| json_error(e).into()),
    }
}

/// A JavaScript number as JSON: whole numbers as integers, `NaN`/`±Infinity` as `null`.
pub fn number(x: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if x.fract() == 0.0 && x.abs() <= SAFE {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn json_error(e: serde_json::Error) -> ScriptError {
    ScriptError::Thrown(format!("TypeError: cannot convert the value: {e}"))
}

/// The same JSON up to number representation and key order.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
