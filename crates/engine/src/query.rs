//! The Mongo-style queries a function's `next: {listen: true, to: [{on, dest}]}` matches the
//! next request with (`spec/dm-api.md` §5.6.24; the reference uses the `sift` package). A
//! hand-written subset, because no maintained Rust crate matches JSON values with this
//! language (the two small ones found lack comparisons, `$exists` and `$regex`): field paths
//! with dots (arrays on the way are searched element by element), implicit equality, `$eq`,
//! `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$exists`, `$regex` (+ `$options`),
//! `$not`, `$size`, `$all`, `$elemMatch`, `$mod`, and `$and`, `$or`, `$nor`. An unknown
//! operator is an error, as in `sift`.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Whether `doc` matches `query`.
pub fn matches(query: &Map<String, Value>, doc: &Value) -> Result<bool, String> {
    for (key, cond) in query {
        let ok = match key.as_str() {
            "$and" => each(cond, key)?
                .iter()
                .try_fold(true, |acc, q| Ok::<_, String>(acc && matches(q, doc)?))?,
            "$or" => any_query(cond, key, doc)?,
            "$nor" => !any_query(cond, key, doc)?,
            op if op.starts_with('$') => return Err(format!("unsupported operation: {op}")),
            path => field(&values_at(doc, path), cond)?,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn each<'a>(cond: &'a Value, op: &str) -> Result<Vec<&'a Map<String, Value>>, String> {
    cond.as_array()
        .and_then(|a| a.iter().map(Value::as_object).collect())
        .ok_or_else(|| format!("{op} needs a list of queries"))
}

fn any_query(cond: &Value, op: &str, doc: &Value) -> Result<bool, String> {
    for q in each(cond, op)? {
        if matches(q, doc)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The values at a dotted path; an array on the way contributes each of its elements.
fn values_at<'a>(doc: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![doc];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(m) => next.extend(m.get(part)),
                Value::Array(items) => match part.parse::<usize>() {
                    Ok(i) => next.extend(items.get(i)),
                    Err(_) => next.extend(items.iter().filter_map(|item| item.get(part))),
                },
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn is_operator_object(cond: &Value) -> Option<&Map<String, Value>> {
    cond.as_object()
        .filter(|m| !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
}

/// A field's condition: an operator object, or a value to equal.
fn field(values: &[&Value], cond: &Value) -> Result<bool, String> {
    match is_operator_object(cond) {
        Some(ops) => {
            for (op, arg) in ops {
                if op == "$options" {
                    continue;
                }
                if !operator(values, op, arg, ops)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        None => Ok(equals(values, cond)),
    }
}

/// Equality as `sift`: a value, or any element of an array value, equals `target`; `null`
/// also matches a missing field.
fn equals(values: &[&Value], target: &Value) -> bool {
    if values.is_empty() {
        return target.is_null();
    }
    values.iter().any(|v| {
        *v == target || matches!(v, Value::Array(items) if items.iter().any(|i| i == target))
    })
}

/// Each candidate, with the elements of array candidates.
fn scalars<'a>(values: &[&'a Value]) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for v in values {
        out.push(*v);
        if let Value::Array(items) = v {
            out.extend(items.iter());
        }
    }
    out
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn operator(
    values: &[&Value],
    op: &str,
    arg: &Value,
    ops: &Map<String, Value>,
) -> Result<bool, String> {
    let ordered = |want: &dyn Fn(Ordering) -> bool| {
        scalars(values)
            .iter()
            .any(|v| compare(v, arg).is_some_and(want))
    };
    let list = || {
        arg.as_array()
            .ok_or_else(|| format!("{op} needs a list of values"))
    };
    Ok(match op {
        "$eq" => equals(values, arg),
        "$ne" => !equals(values, arg),
        "$gt" => ordered(&|o| o == Ordering::Greater),
        "$gte" => ordered(&|o| o != Ordering::Less),
        "$lt" => ordered(&|o| o == Ordering::Less),
        "$lte" => ordered(&|o| o != Ordering::Greater),
        "$in" => list()?.iter().any(|t| equals(values, t)),
        "$nin" => !list()?.iter().any(|t| equals(values, t)),
        "$exists" => values.is_empty() != flowdm_model::truthy(arg),
        "$regex" => {
            let source = arg.as_str().ok_or("$regex needs a string")?;
            let flags = ops.get("$options").and_then(Value::as_str).unwrap_or("");
            let re = regex::RegexBuilder::new(source)
                .case_insensitive(flags.contains('i'))
                .multi_line(flags.contains('m'))
                .dot_matches_new_line(flags.contains('s'))
                .build()
                .map_err(|e| format!("$regex: {e}"))?;
            scalars(values)
                .iter()
                .any(|v| v.as_str().is_some_and(|s| re.is_match(s)))
        }
        "$not" => !field(values, arg)?,
        "$size" => values
            .iter()
            .any(|v| v.as_array().map(Vec::len).map(|n| n as f64) == arg.as_f64()),
        "$all" => list()?.iter().all(|t| equals(values, t)),
        "$elemMatch" => {
            let q = arg.as_object().ok_or("$elemMatch needs a query")?;
            let mut found = false;
            for v in values {
                for item in v.as_array().into_iter().flatten() {
                    let hit = match is_operator_object(arg) {
                        Some(_) => field(&[item], arg)?,
                        None => matches(q, item)?,
                    };
                    if hit {
                        found = true;
                    }
                }
            }
            found
        }
        "$mod" => {
            let pair = list()?;
            let (Some(d), Some(r)) = (
                pair.first().and_then(Value::as_f64),
                pair.get(1).and_then(Value::as_f64),
            ) else {
                return Err("$mod needs [divisor, remainder]".into());
            };
            scalars(values)
                .iter()
                .any(|v| v.as_f64().is_some_and(|x| d != 0.0 && x % d == r))
        }
        other => return Err(format!("unsupported operation: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::matches;
    use serde_json::{json, Value};

    fn m(query: Value, doc: Value) -> bool {
        matches(query.as_object().unwrap(), &doc).unwrap()
    }

    #[test]
    fn the_operators_of_sift() {
        let doc = json!({"event": {"type": "text", "payload": "Hello there", "n": 3, "tags": ["a", "b"]}});
        assert!(m(json!({"event.type": "text"}), doc.clone()));
        assert!(!m(json!({"event.type": "intent"}), doc.clone()));
        assert!(m(
            json!({"event.type": {"$in": ["intent", "text"]}}),
            doc.clone()
        ));
        assert!(m(json!({"event.type": {"$nin": ["intent"]}}), doc.clone()));
        assert!(m(
            json!({"event.payload": {"$regex": "^hello", "$options": "i"}}),
            doc.clone()
        ));
        assert!(!m(
            json!({"event.payload": {"$regex": "^hello"}}),
            doc.clone()
        ));
        assert!(m(json!({"event.n": {"$gt": 2, "$lte": 3}}), doc.clone()));
        assert!(m(json!({"event.missing": {"$exists": false}}), doc.clone()));
        assert!(m(json!({"event.missing": null}), doc.clone()));
        assert!(m(json!({"event.tags": "b"}), doc.clone()));
        assert!(m(
            json!({"event.tags": {"$all": ["a", "b"], "$size": 2}}),
            doc.clone()
        ));
        assert!(m(json!({"event.n": {"$not": {"$gt": 5}}}), doc.clone()));
        assert!(m(
            json!({"$or": [{"event.type": "x"}, {"event.n": 3}]}),
            doc.clone()
        ));
        assert!(!m(json!({"$nor": [{"event.type": "text"}]}), doc.clone()));
        assert!(m(
            json!({"$and": [{"event.type": "text"}, {"event.n": {"$mod": [2, 1]}}]}),
            doc.clone()
        ));
        assert!(m(
            json!({"event": {"type": "text", "payload": "Hello there", "n": 3, "tags": ["a", "b"]}}),
            doc.clone()
        ));
        assert!(m(json!({}), doc.clone()));
        assert!(matches(json!({"event": {"$where": "1"}}).as_object().unwrap(), &doc).is_err());
    }

    #[test]
    fn arrays_on_the_path_are_searched() {
        let doc = json!({"event": {"payload": {"entities": [{"name": "size", "value": "large"}]}}});
        assert!(m(
            json!({"event.payload.entities.name": "size"}),
            doc.clone()
        ));
        assert!(m(
            json!({"event.payload.entities.0.value": "large"}),
            doc.clone()
        ));
        assert!(m(
            json!({"event.payload.entities": {"$elemMatch": {"name": "size", "value": {"$in": ["large"]}}}}),
            doc
        ));
    }
}
