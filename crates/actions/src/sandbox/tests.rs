#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;
use std::time::Instant;

/// 2024-03-05T14:30:00Z.
pub(super) const NOW: u64 = 1_709_649_000_000;
/// The script environment of the sandbox tests (no budget).
pub(super) const ENV: ScriptEnv = ScriptEnv {
    now_ms: NOW,
    seed: 42,
    budget_ms: None,
};

fn vars(v: Value) -> Vars {
    match v {
        Value::Object(m) => m,
        _ => Vars::new(),
    }
}

fn eval(expr: &str, v: Value) -> Result<Value, ScriptError> {
    QuickJs.eval_expression(expr, &vars(v), &ENV)
}

fn code(src: &str, v: Value) -> Result<CodeOutcome, ScriptError> {
    QuickJs.run_code(src, &vars(v), false, &ENV)
}

fn function(src: &str, v: Value) -> Result<CodeOutcome, ScriptError> {
    QuickJs.run_code(src, &vars(v), true, &ENV)
}

#[test]
fn expressions_see_variables_as_globals() {
    assert_eq!(
        eval("a + b.c[1]", json!({ "a": 1, "b": { "c": [0, 2] } })),
        Ok(json!(3))
    );
    assert_eq!(
        eval("name === 'x' && n > 1", json!({ "name": "x", "n": 2 })),
        Ok(json!(true))
    );
    assert_eq!(eval("undefined", json!({})), Ok(Value::Null));
    assert_eq!(eval("0/0", json!({})), Ok(Value::Null));
    assert_eq!(eval("1.5 * 2", json!({})), Ok(json!(3)));
    assert_eq!(
        eval("({a: 1, b: undefined})", json!({})),
        Ok(json!({ "a": 1 }))
    );
    assert_eq!(
        eval("global === globalThis && Promise === null", json!({})),
        Ok(json!(true))
    );
}

#[test]
fn errors_are_thrown_with_their_message() {
    assert_eq!(
        eval("missing > 1", json!({})),
        Err(ScriptError::Thrown(
            "ReferenceError: missing is not defined".into()
        ))
    );
    assert_eq!(
        code("throw 'boom'", json!({})),
        Err(ScriptError::Thrown("Uncaught boom".into()))
    );
    assert!(
        matches!(code("fetch('https://x')", json!({})), Err(ScriptError::Thrown(m)) if m.contains("fetch"))
    );
    assert!(
        matches!(eval("1 +", json!({})), Err(ScriptError::Thrown(m)) if m.starts_with("SyntaxError"))
    );
    assert!(matches!(
        eval("`a`", json!({})),
        Err(ScriptError::Unsupported(_))
    ));
}

#[test]
fn date_uses_the_turn_clock() {
    assert_eq!(eval("Date.now()", json!({})), Ok(json!(NOW)));
    assert_eq!(eval("new Date().getTime()", json!({})), Ok(json!(NOW)));
    assert_eq!(
        eval("new Date().toISOString()", json!({})),
        Ok(json!("2024-03-05T14:30:00.000Z"))
    );
    assert_eq!(eval("new Date(0).getTime()", json!({})), Ok(json!(0)));
    assert_eq!(
        eval("new Date() instanceof Date", json!({})),
        Ok(json!(true))
    );
    assert_eq!(
        eval("new Date(2020, 0, 2).getFullYear()", json!({})),
        Ok(json!(2020))
    );
    assert_eq!(eval("Date.UTC(1970, 0, 1)", json!({})), Ok(json!(0)));
    assert_eq!(eval("typeof Date()", json!({})), Ok(json!("string")));
    let formatted = eval(
        "new Date(Date.UTC(2024, 2, 5)).toLocaleDateString('en-US')",
        json!({}),
    );
    assert!(
        matches!(&formatted, Ok(Value::String(s)) if s.contains("2024")),
        "{formatted:?}"
    );
}

#[test]
fn math_random_is_seeded() {
    let draw = |seed| {
        let env = ScriptEnv {
            now_ms: NOW,
            seed,
            budget_ms: None,
        };
        QuickJs.eval_expression("[Math.random(), Math.random()]", &Vars::new(), &env)
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
    let r = eval("Math.random()", json!({})).unwrap().as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
}

#[test]
fn the_language_is_complete() {
    let out = code(
        r#"
        try { parsed = JSON.parse('{"a": [1, 2]}'); } catch (e) { parsed = 'bad'; }
        try { JSON.parse('{oops'); } catch (e) { err = e.name; }
        doubled = [1, 2, 3].map((x) => x * 2).filter(x => x > 2);
        class Point { constructor(x) { this.x = x; } get double() { return this.x * 2; } }
        cls = new Point(21).double;
        m = 'order 1234-XY'.match(/(\d+)-([A-Z]+)/);
        re = m[1] + m[2];
        const { a: [first, ...rest] } = parsed;
        spread = [...rest, first];
        switch (first) { case 1: sw = 'one'; break; default: sw = 'other'; }
        "#,
        json!({ "parsed": null, "err": null, "doubled": null, "cls": null, "re": null, "spread": null, "sw": null }),
    )
    .unwrap();
    assert_eq!(
        Value::Object(out.variables),
        json!({ "parsed": { "a": [1, 2] }, "err": "SyntaxError", "doubled": [4, 6], "cls": 42, "re": "1234XY", "spread": [2, 1], "sw": "one" })
    );
}

#[test]
fn code_reads_back_only_existing_variables() {
    let out = code(
        "count = count + 1; created = 5; let kept = 9; obj.list.push(3); gone = undefined; same = 2;",
        json!({ "count": 1, "kept": 1, "obj": { "list": [1] }, "gone": "x", "same": 2.0, "big": 12345678901234567890u64 }),
    )
    .unwrap();
    assert_eq!(
        Value::Object(out.variables),
        json!({ "count": 2, "kept": 1, "obj": { "list": [1, 3] }, "gone": null, "same": 2.0, "big": 12345678901234567890u64 })
    );
    assert_eq!(out.returned, None);
}

#[test]
fn function_code_reports_its_return_value() {
    let out = function("if (n > 1) { return 'big'; } n = 0;", json!({ "n": 5 })).unwrap();
    assert_eq!(out.returned, Some(json!("big")));
    let out = function("n = 0;", json!({ "n": 5 })).unwrap();
    assert_eq!(out.returned, None);
    assert_eq!(out.variables.get("n"), Some(&json!(0)));
    assert!(
        matches!(code("return 1", json!({})), Err(ScriptError::Thrown(m)) if m.starts_with("SyntaxError"))
    );
}

#[test]
fn variables_are_deep_copies() {
    let input = json!({ "o": { "a": 1 } });
    let out = code("o.a = 2;", input.clone()).unwrap();
    assert_eq!(out.variables.get("o"), Some(&json!({ "a": 2 })));
    assert_eq!(input["o"]["a"], json!(1));
    // Nothing leaks from one call to the next.
    code(
        "leak = 1; Array.prototype.evil = 1; Math.random = () => 1;",
        json!({}),
    )
    .unwrap();
    assert_eq!(
        eval("typeof leak + typeof [].evil", json!({})),
        Ok(json!("undefinedundefined"))
    );
}

#[test]
fn sets_run_in_order_and_create_targets() {
    let sets = [
        ("total".to_string(), "n * 3".to_string()),
        ("label".to_string(), "'t' + total".to_string()),
        ("bad".to_string(), "'x' * 2".to_string()),
    ];
    let out = QuickJs
        .run_sets(&sets, &vars(json!({ "n": 2 })), &ENV)
        .unwrap();
    assert_eq!(
        out,
        vec![
            ("total".into(), json!(6)),
            ("label".into(), json!("t6")),
            ("bad".into(), Value::Null)
        ]
    );
    let sets = [("x".to_string(), "nope()".to_string())];
    assert!(QuickJs.run_sets(&sets, &Vars::new(), &ENV).is_err());
}

#[test]
fn an_endless_loop_stops_after_the_time_limit() {
    let start = Instant::now();
    let e = code("while (true) {}", json!({})).unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 2.5, "{:?}", start.elapsed());
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("1 s")),
        "{e:?}"
    );
    // A try/catch cannot swallow it, and the next call works.
    let e = code(
        "for (;;) { try { while (true) {} } catch (e) {} }",
        json!({}),
    )
    .unwrap_err();
    assert!(matches!(e, ScriptError::Limit(_)), "{e:?}");
    assert_eq!(eval("1 + 1", json!({})), Ok(json!(2)));
}

#[test]
fn an_allocation_bomb_stops_at_the_memory_limit() {
    let e = code(
        "let a = []; while (true) { a.push('x'.repeat(1000) + a.length); }",
        json!({}),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("memory")),
        "{e:?}"
    );
    let e = code(
        "const m = {}; for (let i = 0; ; i++) { m['k' + i] = [i, i + 1]; }",
        json!({}),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("memory")),
        "{e:?}"
    );
    // Strings are ropes: doubling one hits the length limit first.
    assert!(code("let s = 'x'; while (true) { s = s + s; }", json!({})).is_err());
    assert_eq!(eval("2 * 2", json!({})), Ok(json!(4)));
}

#[test]
fn a_stack_overflow_is_an_error() {
    let e = code("function f(n) { return f(n + 1) + 1; } f(0);", json!({})).unwrap_err();
    assert!(matches!(e, ScriptError::Thrown(_)), "{e:?}");
    assert_eq!(eval("3", json!({})), Ok(json!(3)));
}

#[test]
fn calls_share_nothing() {
    for _ in 0..2 {
        let out = code(
            "const k = 1; let j = 2; var v = 3; function f() {} n = k + j + v;",
            json!({ "n": 0 }),
        )
        .unwrap();
        assert_eq!(out.variables.get("n"), Some(&json!(6)));
    }
    assert_eq!(
        eval("typeof k + typeof v + typeof f", json!({})),
        Ok(json!("undefinedundefinedundefined"))
    );
    code(
        "Object.defineProperty(globalThis, 'stuck', { value: 1 }); JSON = 1; delete Math;",
        json!({}),
    )
    .unwrap();
    assert_eq!(
        eval("typeof stuck + typeof JSON + typeof Math", json!({})),
        Ok(json!("undefinedobjectobject"))
    );
    code("Object.freeze(globalThis);", json!({})).unwrap();
    assert_eq!(eval("x + 1", json!({ "x": 1 })), Ok(json!(2)));
    // Built-ins are frozen: patching them has no effect (sloppy mode: silently).
    assert_eq!(
        eval("String.prototype.shout = 1; typeof ''.shout", json!({})),
        Ok(json!("undefined"))
    );
    assert_eq!(
        eval("typeof performance", json!({})),
        Ok(json!("undefined"))
    );
}

#[test]
fn queued_jobs_run_within_the_call() {
    let out = code(
        "(async () => { await 0; n = 2; })(); n = 1;",
        json!({ "n": 0 }),
    )
    .unwrap();
    assert_eq!(out.variables.get("n"), Some(&json!(1)));
    let e = code("const f = async () => { await 0; f(); }; f();", json!({})).unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("time")),
        "{e:?}"
    );
    // And the next call works.
    assert_eq!(eval("1", json!({})), Ok(json!(1)));
}

#[test]
fn a_budget_shorter_than_the_limit_stops_the_script_first() {
    let env = ScriptEnv {
        budget_ms: Some(10),
        ..ENV
    };
    let start = Instant::now();
    let e = QuickJs
        .run_code("while (true) {}", &Vars::new(), false, &env)
        .unwrap_err();
    assert_eq!(e, ScriptError::OverBudget);
    assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
    // A script within the budget runs as without one; so does the next call.
    assert_eq!(
        QuickJs.eval_expression("1 + 1", &Vars::new(), &env),
        Ok(json!(2))
    );
    assert_eq!(eval("2 + 2", json!({})), Ok(json!(4)));
}
