//! Properties of the JavaScript bridge (`crates/actions/src/sandbox/`, QuickJS behind
//! `engine::Sandbox`): random JSON values given as variables or function arguments come back
//! unchanged (up to number representation and key order, as JSON allows), random variable names
//! and small scripts (throwing, returning anything, looping, recursing, allocating) never panic
//! the host nor poison the next call, and the literal fast path answers what QuickJS answers.
//! Each case runs a JavaScript engine: few cases (`PROPTEST_CASES=5000` for a deeper run).

use crate::arbitrary_json::{self as arb, bounded};
use flowdm_actions::sandbox::{same_json, QuickJs};
use flowdm_engine::{FunctionRun, HttpRequest, HttpResponse, Sandbox, ScriptEnv};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ENV: ScriptEnv = ScriptEnv {
    now_ms: 1_709_649_000_000,
    seed: 42,
    budget_ms: None,
};

/// A short budget, so that a looping script ends fast (`ScriptError::OverBudget`).
const SHORT: ScriptEnv = ScriptEnv {
    now_ms: 1_709_649_000_000,
    seed: 7,
    budget_ms: Some(20),
};

fn one(name: &str, v: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(name.into(), v);
    m
}

/// The sandbox still answers a plain call correctly (nothing leaked from the previous one).
fn healthy() -> Result<(), TestCaseError> {
    let r = QuickJs.eval_expression("typeof leaked + ':' + (a + 1)", &one("a", json!(1)), &ENV);
    prop_assert_eq!(r, Ok(json!("undefined:2")));
    Ok(())
}

/// Names a variable may have, the dangerous ones included.
fn name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z_][a-z0-9_]{0,6}",
        2 => prop::sample::select(vec![
            "undefined", "NaN", "Infinity", "globalThis", "global", "eval", "Object", "JSON",
            "Date", "Math", "Promise", "__proto__", "constructor", "toString", "valueOf",
            "hasOwnProperty", "fetch", "console", "Function", "Symbol", "Reflect", "Proxy",
            "arguments", "this", "let", "v", "", "0", "a b", "1x", "ä", "\u{1f600}",
        ])
        .prop_map(str::to_string),
        1 => arb::string(),
    ]
    .boxed()
}

/// A small script: statements that throw, return, loop, recurse, allocate, touch globals.
fn script() -> BoxedStrategy<String> {
    let statement = prop_oneof![
        arb::string().prop_map(|s| format!("throw new Error({});", json!(s))),
        arb::json(2).prop_map(|v| format!("throw {v};")),
        arb::json(2).prop_map(|v| format!("return {v};")),
        arb::json(2).prop_map(|v| format!("leaked = {v};")),
        name().prop_map(|n| format!("{n} = {n};")),
        name().prop_map(|n| format!("delete globalThis[{}];", json!(n))),
        Just("while (true) {}".to_string()),
        Just("function f() { return f() + 1; } f();".to_string()),
        Just("let s = 'x'; while (true) s += s;".to_string()),
        Just("Object.prototype.x = 1; Array.prototype.push = null;".to_string()),
        Just(
            "Object.defineProperty(globalThis, 'stuck', {value: 1, configurable: false});"
                .to_string()
        ),
        Just("Object.freeze(globalThis);".to_string()),
        Just("globalThis.__proto__ = null;".to_string()),
        Just("a.b.c.d;".to_string()),
        Just("return Symbol('s');".to_string()),
        Just("return () => 1;".to_string()),
        Just("return 10n;".to_string()),
        Just("return new Date();".to_string()),
        Just("return Math.random();".to_string()),
        Just("let o = {}; o.o = o; return o;".to_string()),
        arb::string(),
    ];
    prop::collection::vec(statement, 1..4)
        .prop_map(|s| s.join("\n"))
        .boxed()
}

/// White space JavaScript and Rust may disagree on, around literal-looking expressions.
fn space() -> BoxedStrategy<&'static str> {
    prop::sample::select(vec![
        "", "", " ", "\t", "\n", "\u{85}", "\u{a0}", "\u{feff}", "\u{2028}", "\u{3000}", "\u{180e}",
    ])
    .boxed()
}

/// Expressions that look like literals (numbers, quoted strings, keywords) or nearly.
fn literalish() -> BoxedStrategy<String> {
    let core = prop_oneof![
        "-?(0|[1-9][0-9]{0,20}|0[0-9]{1,3})(\\.[0-9]{0,4})?([eE][-+]?[0-9]{1,3})?",
        "0[xXoObB][0-9a-fA-F_]{1,4}",
        "'([a-z \"]|\\\\[nrtbfv0'\"\\\\xu]|\\\\x[0-9a-f]{2}|\\\\u[0-9a-f]{4})*'",
        "\"[^\"\\\\`$]{0,6}\"",
        "'[^'\\\\`$]{0,6}'",
        prop::sample::select(vec![
            "true", "false", "null", "-0", "+1", "1_000", ".5", "5."
        ])
        .prop_map(str::to_string),
    ];
    (space(), core, space())
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"))
        .boxed()
}

proptest! {
    #![proptest_config(bounded(64))]

    #[test]
    fn variables_round_trip(v in arb::json(4)) {
        let out = QuickJs.eval_expression("v", &one("v", v.clone()), &ENV);
        prop_assert!(out.as_ref().is_ok_and(|o| same_json(o, &v)), "{} -> {:?}", v, out);
        // Through JSON text in JavaScript as well.
        let out = QuickJs.eval_expression("JSON.parse(JSON.stringify(v))", &one("v", v.clone()), &ENV);
        prop_assert!(out.as_ref().is_ok_and(|o| same_json(o, &v)), "{} -> {:?}", v, out);
    }

    #[test]
    fn code_steps_keep_untouched_variables(vars in prop::collection::vec(("[a-z_]{1,6}", arb::json(3)), 0..5)) {
        let vars: Map<String, Value> = vars.into_iter().collect();
        let out = QuickJs.run_code("let unused = 1;", &vars, false, &ENV);
        let out = out.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for (k, v) in &out.variables {
            prop_assert!(vars.get(k).is_some_and(|w| same_json(v, w)), "{}: {} vs {:?}", k, v, vars.get(k));
        }
    }

    #[test]
    fn function_arguments_round_trip(args in arb::json(4)) {
        let mut fetch = |_: &HttpRequest| -> Option<Result<HttpResponse, String>> { None };
        let code = "export default async function main(args) { return args; }";
        let out = QuickJs.run_function(code, &args, &ENV, &mut fetch);
        match out {
            Ok(FunctionRun::Returned(v)) => prop_assert!(same_json(&v, &args), "{} -> {}", args, v),
            other => prop_assert!(false, "{} -> {:?}", args, other),
        }
    }

    #[test]
    fn random_names_and_scripts_never_panic(
        names in prop::collection::vec((name(), arb::json(2)), 0..4),
        code in script(),
        as_function in any::<bool>(),
    ) {
        let vars: Map<String, Value> = names.into_iter().collect();
        let _ = QuickJs.eval_expression("1", &vars, &SHORT);
        let _ = QuickJs.run_code(&code, &vars, as_function, &SHORT);
        let sets: Vec<(String, String)> = vars.keys().map(|k| (k.clone(), code.clone())).collect();
        let _ = QuickJs.run_sets(&sets, &vars, &SHORT);
        let module = format!("export default async function main(args) {{ {code} }}");
        let mut fetch = |_: &HttpRequest| -> Option<Result<HttpResponse, String>> { None };
        let _ = QuickJs.run_function(&module, &Value::Object(vars), &SHORT, &mut fetch);
        healthy()?;
    }

    #[test]
    fn returned_values_round_trip(v in arb::json(3)) {
        // An object literal's `__proto__` sets the prototype (JavaScript, not JSON).
        prop_assume!(!v.to_string().contains("__proto__"));
        let out = QuickJs.run_code(&format!("return {v};"), &Map::new(), true, &ENV);
        let returned = out.map(|o| o.returned.unwrap_or(Value::Null));
        prop_assert!(returned.as_ref().is_ok_and(|r| same_json(r, &v)), "{} -> {:?}", v, returned);
    }
}

proptest! {
    #![proptest_config(bounded(256))]

    #[test]
    fn literals_answer_what_quickjs_answers(e in literalish()) {
        let fast = QuickJs.eval_expression(&e, &Map::new(), &ENV);
        let slow = QuickJs.eval_expression(&format!("({e})"), &Map::new(), &ENV);
        match (&fast, &slow) {
            (Ok(a), Ok(b)) => prop_assert!(same_json(a, b), "{:?}: {} vs {}", e, a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "{:?}: {:?} vs {:?}", e, fast, slow),
        }
    }
}

/// Found by `variables_round_trip`: serde_json's default float parser read QuickJS's
/// `2.0408020368223362e-85` back one ULP off (fixed with its `float_roundtrip` feature, root
/// `Cargo.toml`).
#[test]
fn floats_come_back_exactly() {
    for x in [
        2.0408020368223362e-85,
        -2.7652366199908546e-306,
        -1.4890394718302442e+304,
    ] {
        let v = json!({ "type": x, "list": [[x]] });
        let out = QuickJs
            .eval_expression("v", &one("v", v.clone()), &ENV)
            .unwrap();
        assert_eq!(out, v, "{x:e}");
        let parsed: Value = serde_json::from_str(&v.to_string()).unwrap();
        assert_eq!(parsed, v, "{x:e}");
    }
}
