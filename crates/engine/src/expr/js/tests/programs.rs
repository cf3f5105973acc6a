//! Code steps, setV2 sets and limits.

use super::{code, code_vars, ev, vars};
use crate::env::Sandbox;
use crate::expr::{MiniJs, ScriptError};
use serde_json::{json, Value};

fn sets(list: &[(&str, &str)]) -> Result<Vec<(String, Value)>, ScriptError> {
    let owned: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    MiniJs.run_sets(&owned, &vars())
}

fn returned(src: &str) -> Option<Value> {
    match code(src, true) {
        Ok(o) => o.returned,
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn is_limit<T: std::fmt::Debug>(r: Result<T, ScriptError>) -> bool {
    matches!(r, Err(ScriptError::Limit(_)))
}

#[test]
fn set_v2_is_sequential() {
    let got = sets(&[("a", "1"), ("b", "a + 1"), ("c", "b * 2")]);
    assert_eq!(
        got,
        Ok(vec![
            ("a".into(), json!(1)),
            ("b".into(), json!(2)),
            ("c".into(), json!(4))
        ])
    );
    // a variable that does not exist yet starts at 0
    assert_eq!(sets(&[("n", "n + 1")]), Ok(vec![("n".into(), json!(1))]));
    assert_eq!(
        sets(&[("a", "zz"), ("zz", "5")]),
        Ok(vec![("a".into(), json!(0)), ("zz".into(), json!(5))])
    );
    // NaN becomes undefined (null)
    assert_eq!(
        sets(&[("x", "'a' * 2"), ("y", "typeof x")]),
        Ok(vec![
            ("x".into(), Value::Null),
            ("y".into(), json!("undefined"))
        ])
    );
    assert_eq!(
        sets(&[("total", "price * qty")]),
        Ok(vec![("total".into(), json!(10))])
    );
    assert_eq!(
        sets(&[("age", "age + 1"), ("age", "age * 2")]),
        Ok(vec![("age".into(), json!(42)), ("age".into(), json!(42))])
    );
    assert_eq!(
        sets(&[("s", "name.toUpperCase();")]),
        Ok(vec![("s".into(), json!("BOB"))])
    );
    // any error discards every assignment
    assert_eq!(
        sets(&[("a", "1"), ("b", "nope")]),
        Err(ScriptError::Thrown(
            "ReferenceError: nope is not defined".into()
        ))
    );
    assert!(matches!(
        sets(&[("a", "1"), ("b", "Math.random()")]),
        Err(ScriptError::Unsupported(_))
    ));
    assert!(matches!(
        sets(&[("a", "`x`")]),
        Err(ScriptError::Unsupported(_))
    ));
}

#[test]
fn code_reads_back_existing_globals_only() {
    let v = code_vars("age = age + 1; name = name.toUpperCase(); newVar = 5; var other = 1;");
    assert_eq!(v.get("age"), Some(&json!(21)));
    assert_eq!(v.get("name"), Some(&json!("BOB")));
    assert_eq!(v.get("newVar"), None);
    assert_eq!(v.get("other"), None);
    assert_eq!(v.get("price"), Some(&json!(2.5)));
    assert_eq!(v.len(), vars().len());
    let keys: Vec<&String> = v.keys().collect();
    let want: Vec<String> = vars().keys().cloned().collect();
    assert_eq!(keys, want.iter().collect::<Vec<_>>());

    let v = code_vars(
        "arr.push(3); user.name = 'Zed'; user.address.zip = '75001'; delete user.address.city",
    );
    assert_eq!(v["arr"], json!([1, 2, 3]));
    assert_eq!(
        v["user"],
        json!({"name": "Zed", "address": {"zip": "75001"}})
    );
    let v = code_vars("var age = 99");
    assert_eq!(v["age"], json!(99));
    // a top-level let shadows the global (script semantics)
    let v = code_vars("let age = 99; name = age");
    assert_eq!(v["age"], json!(20));
    assert_eq!(v["name"], json!(99));
    let v = code_vars("nothing = undefined; flag = NaN; empty = [1, undefined]");
    assert_eq!(v["nothing"], Value::Null);
    assert_eq!(v["flag"], Value::Null);
    assert_eq!(v["empty"], json!([1, null]));
    let v = code_vars("arr[3] = 'x'; arr.length = 5");
    assert_eq!(v["arr"], json!([1, 2, null, "x", null]));
    let v = code_vars("const t = `Hi ${name}, you are ${age + 1} (${`nested ${arr}`})`; name = t");
    assert_eq!(v["name"], json!("Hi bob, you are 21 (nested 1,2)"));
    let v = code_vars("name = 'abc'.replace('b', \"$`$'\")");
    assert_eq!(v["name"], json!("aacc"));
}

#[test]
fn code_errors() {
    assert_eq!(
        code("user.missing.x = 1", false),
        Err(ScriptError::Thrown(
            "TypeError: Cannot set properties of undefined (setting 'x')".into()
        ))
    );
    assert_eq!(
        code("const c = 1; c = 2", false),
        Err(ScriptError::Thrown(
            "TypeError: Assignment to constant variable.".into()
        ))
    );
    assert_eq!(
        code("x = 1; let x = 2;", false),
        Err(ScriptError::Thrown(
            "ReferenceError: Cannot access 'x' before initialization".into()
        ))
    );
    assert_eq!(
        code("throw 'boom'", false),
        Err(ScriptError::Thrown("Uncaught boom".into()))
    );
    assert_eq!(
        code("return 1", false),
        Err(ScriptError::Thrown(
            "SyntaxError: Illegal return statement".into()
        ))
    );
    assert!(matches!(
        code("age = 1; fetch('x')", false),
        Err(ScriptError::Unsupported(_))
    ));
    assert!(
        matches!(code("x = 1\n(age)", false), Err(ScriptError::Thrown(m)) if m == "TypeError: 1 is not a function")
    );
}

#[test]
fn code_with_return() {
    assert_eq!(
        returned("if (age > 18) { return 'adult' } return 'minor'"),
        Some(json!("adult"))
    );
    assert_eq!(
        returned("if (age > 30) return 'old'\nelse return 'young'"),
        Some(json!("young"))
    );
    assert_eq!(returned("age = 5"), None);
    assert_eq!(returned("return"), None);
    assert_eq!(returned("return\n5"), None);
    assert_eq!(returned("return undefined"), None);
    assert_eq!(returned("return {a: 1}"), Some(json!({"a": 1})));
    assert_eq!(
        returned("for (const x of arr) { if (x > 1) return x }"),
        Some(json!(2))
    );
    assert_eq!(returned("var age = 1; return age"), Some(json!(1)));
    // in a function body `var` is local: the global is unchanged
    let out = code("var age = 1; name = 'x'; return age", true);
    assert!(
        matches!(&out, Ok(o) if o.variables["age"] == json!(20) && o.variables["name"] == json!("x"))
    );
}

#[test]
fn statements_and_loops() {
    let v = code_vars("let s = 0; for (let i = 1; i <= 10; i++) { s += i } age = s");
    assert_eq!(v["age"], json!(55));
    let v = code_vars("let i = 0; while (true) { i++; if (i > 4) break; } age = i");
    assert_eq!(v["age"], json!(5));
    let v =
        code_vars("let i = 0, n = 0; do { i++; if (i % 2) continue; n++ } while (i < 10); age = n");
    assert_eq!(v["age"], json!(5));
    let v = code_vars("let out = []; for (const x of arr) out.push(x * 10); arr = out");
    assert_eq!(v["arr"], json!([10, 20]));
    let v = code_vars("let ks = ''; for (const k in user) ks += k + ';'; name = ks");
    assert_eq!(v["name"], json!("name;address;"));
    let v = code_vars("let cs = []; for (const c of 'a😀') cs.push(c); arr = cs");
    assert_eq!(v["arr"], json!(["a", "😀"]));
    let v = code_vars("for (var i = 0; i < 3; i++) {} age = i");
    assert_eq!(v["age"], json!(3));
    let v = code_vars(
        "if (age > 30) { name = 'a' } else if (age > 10) { name = 'b' } else { name = 'c' }",
    );
    assert_eq!(v["name"], json!("b"));
    let v = code_vars("{ let age = 1; name = age } ");
    assert_eq!((v["age"].clone(), v["name"].clone()), (json!(20), json!(1)));
    let v = code_vars("user.visits ??= 1; user.visits += 2; arr[0] *= 10; age--; --age; qty **= 2");
    assert_eq!(v["user"]["visits"], json!(3));
    assert_eq!(v["arr"], json!([10, 2]));
    assert_eq!(v["age"], json!(18));
    assert_eq!(v["qty"], json!(16));
    let v = code_vars("a = 1\nb = 2\nage = a + b\n++age\nname = age");
    assert_eq!(v["name"], json!(4));
    let v = code_vars("// comment\nage = /* inline */ 7 /* multi\nline */\n");
    assert_eq!(v["age"], json!(7));
    let v = code_vars(
        "const o = JSON.parse('{\"k\": [1, {\"z\": true}]}'); user = o; arr = Object.keys(o)",
    );
    assert_eq!(v["user"], json!({"k": [1, {"z": true}]}));
    assert_eq!(v["arr"], json!(["k"]));
    let v = code_vars("let total = 0; const items = [{p: 2, q: 3}, {p: 1.5, q: 2}]; for (const it of items) total += it.p * it.q; price = total.toFixed(2)");
    assert_eq!(v["price"], json!("9.00"));
}

#[test]
fn runaway_programs_hit_limits() {
    assert!(is_limit(code("while (true) {}", false)));
    assert!(is_limit(code("for (;;) {}", false)));
    assert!(is_limit(code(
        "let i = 0; do { i++ } while (i >= 0)",
        false
    )));
    assert!(is_limit(code("let a = []; while (true) a.push(1)", false)));
    assert!(is_limit(code("let s = 'x'; while (true) s += s", false)));
    assert!(is_limit(code("let s = 'x'.repeat(1e9)", false)));
    assert!(is_limit(code("let a = []; a[1e9] = 1", false)));
    assert!(is_limit(code("let a = []; a.length = 4294967295", false)));
    // cyclic structures are not silently written back
    assert!(matches!(
        code("user.self = user", false),
        Err(ScriptError::Unsupported(_))
    ));
    assert!(matches!(
        code("arr.push(arr); name = String(arr)", false),
        Err(ScriptError::Unsupported(_))
    ));
    assert!(
        matches!(code("user.self = user; name = JSON.stringify(user)", false), Err(ScriptError::Thrown(m)) if m.contains("circular"))
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let n = 10_000;
    let deep_parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert!(is_limit(ev(&deep_parens)));
    assert!(is_limit(code(&format!("age = {deep_parens}"), false)));
    assert!(is_limit(ev(&format!(
        "{}1{}",
        "[".repeat(n),
        "]".repeat(n)
    ))));
    assert!(is_limit(ev(&format!(
        "({}1{})",
        "{a:".repeat(n),
        "}".repeat(n)
    ))));
    assert!(is_limit(ev(&format!("{}age", "!".repeat(n)))));
    assert!(is_limit(ev(&format!("{}age", "- ".repeat(n)))));
    assert!(is_limit(ev(&vec!["1"; n].join(" + "))));
    assert!(is_limit(ev(&vec!["2"; n].join(" ** "))));
    assert!(is_limit(ev(&format!("user{}", ".a".repeat(n)))));
    assert!(is_limit(ev(&format!("{}1", "age = ".repeat(n)))));
    assert!(is_limit(ev(&format!(
        "{}1{}",
        "age ? ".repeat(n),
        " : 0".repeat(n)
    ))));
    assert!(is_limit(code(
        &format!("{}{}", "{".repeat(n), "}".repeat(n)),
        false
    )));
    assert!(is_limit(code(
        &format!("{}age = 1", "if (age) ".repeat(n)),
        false
    )));
    assert!(is_limit(code(&"if (age) {} else ".repeat(n), false)));
    let tpl = format!("name = {}1{}", "`${".repeat(n), "}`".repeat(n));
    assert!(is_limit(code(&tpl, false)));
    // moderate nesting works
    let ok_parens = format!("{}1{}", "(".repeat(20), ")".repeat(20));
    assert_eq!(ev(&ok_parens), Ok(json!(1)));
    assert_eq!(ev(&vec!["1"; 40].join(" + ")), Ok(json!(40)));
}

#[test]
fn hostile_inputs_never_panic() {
    let inputs = [
        "",
        " ",
        ";",
        "}",
        "{",
        "(",
        ")",
        "[",
        "]",
        "'",
        "\"",
        "`",
        "${",
        "\\",
        "/*",
        "*/",
        "//",
        "\u{0}",
        "\u{feff}",
        "a?.",
        "a?.[",
        "?.5",
        "a ?.5 : 1",
        "1..toString()",
        "1.e",
        "0x",
        "0b2",
        "'\\x4'",
        "'\\u{110000}'",
        "'\\u{'",
        "1e999",
        "-1e999",
        "a\u{2028}b",
        "x = {",
        "x = }",
        "for (",
        "for (;;",
        "for (x of",
        "while",
        "do",
        "do x",
        "if (1) else",
        "var 1",
        "let",
        "let let = 1",
        "const",
        "return",
        "break",
        "continue",
        "throw",
        "throw\n1",
        "++",
        "--",
        "1++",
        "++1",
        "a++++",
        "a = b = ",
        "delete",
        "typeof",
        "void",
        "new",
        "x?.y = 1",
        "x?.()",
        "arr[-1]",
        "arr[1.5]",
        "arr[NaN]",
        "'abc'[-1]",
        "'abc'[1e10]",
        "arr.length = -1",
        "arr.length = 1.5",
        "arr.slice(NaN, Infinity)",
        "'abc'.slice(-Infinity)",
        "'abc'.padStart(Infinity)",
        "'x'.repeat(Infinity)",
        "parseInt('1', 37)",
        "'abc'.split('', -1)",
        "[].pop().x",
        "JSON.parse('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')",
        "JSON.parse('1e400')",
        "String.fromCharCode(55357)",
        "Math.max(...arr)",
        "'😀'.split('')",
        "'😀'[0]",
    ];
    for src in inputs {
        let _ = ev(src);
        let _ = code(src, false);
        let _ = code(src, true);
        let _ = super::super::super::legacy::evaluate(&json!(src), &vars());
    }
    assert!(is_limit(ev(&format!(
        "JSON.parse('{}{}')",
        "[".repeat(1000),
        "]".repeat(1000)
    ))));
    assert!(
        matches!(ev("arr.length = -1"), Err(ScriptError::Thrown(m)) if m.starts_with("RangeError"))
    );
}

#[test]
fn unchanged_variables_keep_their_json_form() {
    let vars = json!({"big": 12345678901234567890u64, "f": 2.0, "o": {"2": 1, "1": 2}, "undefined": 5, "n": 1})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let out = MiniJs.run_code("n = n + 1; f = f * 1", &vars, false);
    let Ok(out) = out else { panic!("{out:?}") };
    assert_eq!(out.variables["big"], vars["big"]);
    assert_eq!(out.variables["f"], vars["f"]);
    assert_eq!(out.variables["o"], vars["o"]);
    assert_eq!(out.variables["n"], json!(2));
    // `undefined` cannot be replaced by a variable
    assert_eq!(MiniJs.eval_expression("undefined", &vars), Ok(Value::Null));
    assert_eq!(
        MiniJs.eval_expression("typeof undefined", &vars),
        Ok(json!("undefined"))
    );
}
