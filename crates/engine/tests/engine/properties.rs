//! Properties of `{var}` interpolation (`crates/engine/src/interpolate.rs`) on random templates
//! (`{var}`, `{{[var].var}}`, stray braces, unicode) and random variables: it never panics,
//! texts without a known placeholder come out unchanged, a known variable is substituted, and
//! numbers print as JavaScript's `String(n)` does (checked against QuickJS). Bounded case
//! counts; `PROPTEST_CASES=5000` for a deeper run (`docs/property-tests.md`).

use crate::arbitrary_json::{self as arb, bounded};
use flowdm_actions::sandbox::QuickJs;
use flowdm_engine::interpolate::{js_number, js_string, replace, replace_deep};
use flowdm_engine::{Sandbox, ScriptEnv};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A piece of a template.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        3 => arb::string(),
        2 => "[a-z_]{1,4}".prop_map(|n| format!("{{{n}}}")),
        1 => "[a-z_]{1,4}".prop_map(|n| format!("{{{{[{n}].{n}}}}}")),
        1 => prop::sample::select(vec!["{", "}", "{{", "}}", "{}", "{ a }", "{a b}", "{é}"])
            .prop_map(str::to_string),
        1 => "[a-z]{65}".prop_map(|n| format!("{{{n}}}")),
    ]
    .boxed()
}

fn template() -> BoxedStrategy<String> {
    prop::collection::vec(piece(), 0..8)
        .prop_map(|p| p.concat())
        .boxed()
}

/// Variables named like the placeholders (`[a-z_]{1,4}`), any values.
fn vars() -> BoxedStrategy<Map<String, Value>> {
    prop::collection::vec(("[a-z_]{1,4}", arb::json(2)), 0..6)
        .prop_map(|kv| kv.into_iter().collect())
        .boxed()
}

/// Whether `text` has `{name}` for a name of `vars` (1–64 word characters).
fn has_known_placeholder(text: &str, vars: &Map<String, Value>) -> bool {
    vars.keys().any(|k| text.contains(&format!("{{{k}}}")))
}

fn quickjs_string(x: f64) -> Option<Value> {
    let mut vars = Map::new();
    vars.insert("x".into(), serde_json::Number::from_f64(x)?.into());
    let env = ScriptEnv {
        now_ms: 0,
        seed: 1,
        budget_ms: None,
    };
    QuickJs.eval_expression("String(x)", &vars, &env).ok()
}

proptest! {
    #![proptest_config(bounded(512))]

    #[test]
    fn replace_never_panics(t in template(), vars in vars(), sanitize in any::<bool>()) {
        let out = replace(&t, &vars, sanitize);
        if !has_known_placeholder(&t, &vars) {
            prop_assert_eq!(&out, &t);
        }
    }

    #[test]
    fn texts_without_braces_are_unchanged(t in any::<String>(), vars in vars(), sanitize in any::<bool>()) {
        let t = t.replace('{', "");
        prop_assert_eq!(replace(&t, &vars, sanitize), t.clone());
        let v = Value::String(t.clone());
        prop_assert_eq!(replace_deep(&v, &vars, sanitize), v);
    }

    #[test]
    fn a_known_variable_is_substituted(
        prefix in "[^{}]{0,12}",
        suffix in "[^{}]{0,12}",
        name in "[A-Za-z0-9_]{1,64}",
        value in arb::json(2),
    ) {
        let mut vars = Map::new();
        vars.insert(name.clone(), value.clone());
        let t = format!("{prefix}{{{name}}}{suffix}");
        prop_assert_eq!(replace(&t, &vars, false), format!("{prefix}{}{suffix}", js_string(&value)));
        let sanitized = replace(&t, &vars, true);
        prop_assert!(sanitized.starts_with(&prefix) && sanitized.ends_with(&suffix), "{}", sanitized);
    }

    #[test]
    fn replace_deep_keeps_the_shape(v in arb::json(3), vars in vars()) {
        fn shape(v: &Value) -> Value {
            match v {
                Value::String(_) => Value::Null,
                Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
                Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), shape(x))).collect()),
                other => other.clone(),
            }
        }
        let out = replace_deep(&v, &vars, true);
        prop_assert_eq!(shape(&out), shape(&v));
    }
}

proptest! {
    #![proptest_config(bounded(128))]

    #[test]
    fn numbers_print_as_javascript_does(x in prop_oneof![
        any::<f64>(),
        (-1e-5f64..1e-5),
        (1e15f64..1e22),
        (-1e17f64..1e17),
        any::<i64>().prop_map(|i| i as f64),
    ]) {
        if let Some(Value::String(js)) = quickjs_string(x) {
            prop_assert_eq!(js_number(x), js, "{:e}", x);
        }
    }
}
