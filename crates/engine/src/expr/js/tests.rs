use super::MiniJs;
use crate::env::Sandbox;
use crate::expr::ScriptError;
use crate::state::Vars;
use serde_json::{json, Value};

fn vars() -> Vars {
    json!({
        "age": 20, "name": "bob", "arr": [1, 2], "user": {"name": "Ann", "address": {"city": "Paris"}},
        "nothing": null, "empty": "", "flag": true, "price": 2.5, "qty": 4, "numstr": "42"
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn ev(src: &str) -> Result<Value, ScriptError> {
    MiniJs.eval_expression(src, &vars())
}

fn ok(src: &str) -> Value {
    match ev(src) {
        Ok(v) => v,
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn thrown(src: &str) -> String {
    match ev(src) {
        Err(ScriptError::Thrown(m)) => m,
        other => panic!("{src}: expected a throw, got {other:?}"),
    }
}

fn unsupported(src: &str) -> bool {
    matches!(ev(src), Err(ScriptError::Unsupported(_)))
}

fn code(src: &str, as_function: bool) -> Result<crate::env::CodeOutcome, ScriptError> {
    MiniJs.run_code(src, &vars(), as_function)
}

fn code_vars(src: &str) -> Vars {
    match code(src, false) {
        Ok(o) => o.variables,
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn check(cases: &[(&str, Value)]) {
    for (src, want) in cases {
        assert_eq!(ok(src), *want, "{src}");
    }
}

#[test]
fn arithmetic() {
    check(&[
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("2 ** 3 ** 2", json!(512)),
        ("(-2) ** 2", json!(4)),
        ("7 % 3", json!(1)),
        ("-7 % 3", json!(-1)),
        ("5.5 % 2", json!(1.5)),
        ("0.1 + 0.2", json!(0.30000000000000004)),
        ("10 / 4", json!(2.5)),
        ("1 / 0", Value::Null),
        ("0 / 0", Value::Null),
        ("0x1f + 0b11 + 0o10", json!(42)),
        ("1e3 + .5", json!(1000.5)),
        ("price * qty", json!(10)),
        ("'5' * '2'", json!(10)),
        ("'5' + 2", json!("52")),
        ("5 + '2'", json!("52")),
        ("'5' - 2", json!(3)),
        ("+'3'", json!(3)),
        ("-'x'", Value::Null),
        ("1 + null", json!(1)),
        ("1 + undefined", Value::Null),
        ("true + 1", json!(2)),
        ("[1, 2] + 'x'", json!("1,2x")),
        ("({}) + ''", json!("[object Object]")),
        ("'a' + null", json!("anull")),
        ("'' + undefined", json!("undefined")),
        ("7 & 3 | 8 ^ 1", json!(11)),
        ("1 << 3", json!(8)),
        ("-1 >>> 28", json!(15)),
        ("-16 >> 2", json!(-4)),
        ("~5", json!(-6)),
        ("numstr * 1 + 1", json!(43)),
        ("age++ + age", json!(41)),
        ("(1, 2, 3)", json!(3)),
        ("void 0", Value::Null),
    ]);
}

#[test]
fn number_to_string() {
    check(&[
        ("String(1e21)", json!("1e+21")),
        (
            "String(123456789012345680000)",
            json!("123456789012345680000"),
        ),
        ("String(0.000001)", json!("0.000001")),
        ("String(1e-7)", json!("1e-7")),
        ("'' + -0", json!("0")),
        ("String(NaN)", json!("NaN")),
        ("String(-Infinity)", json!("-Infinity")),
        ("String(0.1 + 0.2)", json!("0.30000000000000004")),
        ("String(100)", json!("100")),
        ("(1.005).toFixed(2)", json!("1.00")),
        ("(2.5).toFixed(0)", json!("3")),
        ("(1234.5678).toFixed(2)", json!("1234.57")),
        ("(-1.5).toFixed(0)", json!("-2")),
        ("(0).toFixed(2)", json!("0.00")),
        ("(-0.001).toFixed(2)", json!("-0.00")),
        ("(999.995).toFixed(2)", json!("1000.00")),
        ("(1.45).toFixed(1)", json!("1.4")),
        ("(8.345).toFixed(2)", json!("8.35")),
        ("(1.255).toFixed(2)", json!("1.25")),
        ("(0.5).toFixed(0)", json!("1")),
        ("(0.125).toFixed(2)", json!("0.13")),
        ("(1e-10).toFixed(2)", json!("0.00")),
        ("(5e-324).toFixed(3)", json!("0.000")),
        ("(123.456).toFixed(10)", json!("123.4560000000")),
        ("(0.1).toFixed(20)", json!("0.10000000000000000555")),
        ("(9.995).toFixed(1)", json!("10.0")),
        ("(1e21).toFixed(2)", json!("1e+21")),
        ("price.toFixed(2)", json!("2.50")),
        ("(12).toString()", json!("12")),
    ]);
    assert!(thrown("(1).toFixed(101)").starts_with("RangeError"));
    assert!(unsupported("(255).toString(16)"));
}

#[test]
fn comparisons_and_equality() {
    check(&[
        ("age > 17 && name === 'bob'", json!(true)),
        ("'10' < '9'", json!(true)),
        ("'10' < 9", json!(false)),
        ("'b' > 'a'", json!(true)),
        ("null >= 0", json!(true)),
        ("undefined >= 0", json!(false)),
        ("undefined == null", json!(true)),
        ("undefined === null", json!(false)),
        ("NaN == NaN", json!(false)),
        ("NaN != NaN", json!(true)),
        ("'1' == 1", json!(true)),
        ("'1' === 1", json!(false)),
        ("'1' !== 1", json!(true)),
        ("0 == ''", json!(true)),
        ("0 == '0'", json!(true)),
        ("'' == '0'", json!(false)),
        ("false == '0'", json!(true)),
        ("false == ''", json!(true)),
        ("true == '1'", json!(true)),
        ("true == 'true'", json!(false)),
        ("null == 0", json!(false)),
        ("null == false", json!(false)),
        ("[1] == 1", json!(true)),
        ("[1, 2] == '1,2'", json!(true)),
        ("arr == arr", json!(true)),
        ("arr === arr", json!(true)),
        ("[] == []", json!(false)),
        ("({}) === ({})", json!(false)),
        ("user.address === user.address", json!(true)),
        ("-0 === 0", json!(true)),
        ("numstr == 42", json!(true)),
        ("nothing == undefined", json!(true)),
        ("empty == 0", json!(true)),
    ]);
}

#[test]
fn logic_and_conditional() {
    check(&[
        ("0 || 'x'", json!("x")),
        ("'' && 'y'", json!("")),
        ("1 && 'y'", json!("y")),
        ("null ?? 5", json!(5)),
        ("0 ?? 5", json!(0)),
        ("nothing ?? 'dflt'", json!("dflt")),
        ("!flag", json!(false)),
        ("!!name", json!(true)),
        ("age >= 18 ? 'adult' : 'minor'", json!("adult")),
        (
            "age < 18 ? 'minor' : age < 65 ? 'adult' : 'senior'",
            json!("adult"),
        ),
        ("(0 || null) ?? 3", json!(3)),
    ]);
    assert!(thrown("0 || null ?? 3").starts_with("SyntaxError"));
    assert!(thrown("-2 ** 2").starts_with("SyntaxError"));
    // the right side is not evaluated when short-circuiting
    assert_eq!(ok("true || nope"), json!(true));
    assert_eq!(ok("false && nope"), json!(false));
}

#[test]
fn identifiers_and_typeof() {
    assert_eq!(thrown("foo"), "ReferenceError: foo is not defined");
    assert_eq!(thrown("foo + 1"), "ReferenceError: foo is not defined");
    check(&[
        ("typeof foo", json!("undefined")),
        ("typeof age", json!("number")),
        ("typeof name", json!("string")),
        ("typeof arr", json!("object")),
        ("typeof nothing", json!("object")),
        ("typeof flag", json!("boolean")),
        ("typeof Math", json!("object")),
        ("typeof parseInt", json!("function")),
        ("typeof undefined", json!("undefined")),
        ("undefined", Value::Null),
        ("Infinity > 1e308", json!(true)),
        ("nothing", Value::Null),
    ]);
    assert!(unsupported("typeof fetch"));
}

#[test]
fn members() {
    check(&[
        ("user.name", json!("Ann")),
        ("user['name']", json!("Ann")),
        ("user.address.city", json!("Paris")),
        ("user.missing", Value::Null),
        ("user.missing?.x", Value::Null),
        ("user?.address?.city", json!("Paris")),
        ("nothing?.a.b.c", Value::Null),
        ("nothing?.[0]", Value::Null),
        ("arr[0]", json!(1)),
        ("arr['1']", json!(2)),
        ("arr[10]", Value::Null),
        ("arr.length", json!(2)),
        ("name.length", json!(3)),
        ("name[0]", json!("b")),
        ("'héllo'.length", json!(5)),
        ("'😀'.length", json!(2)),
        ("user", json!({"name": "Ann", "address": {"city": "Paris"}})),
        ("({b: 1, a: 2, 1: 'x'})", json!({"1": "x", "b": 1, "a": 2})),
        ("({['k' + 1]: 1, age})", json!({"k1": 1, "age": 20})),
        ("({a: undefined, b: 1})", json!({"b": 1})),
        ("[1, , 3]", json!([1, null, 3])),
        ("'a' in user", json!(false)),
        ("'name' in user", json!(true)),
        ("1 in arr", json!(true)),
        ("(5).foo", Value::Null),
    ]);
    assert_eq!(
        thrown("user.missing.x"),
        "TypeError: Cannot read properties of undefined (reading 'x')"
    );
    assert_eq!(
        thrown("nothing.x"),
        "TypeError: Cannot read properties of null (reading 'x')"
    );
    assert!(thrown("'a' in name").starts_with("TypeError"));
    assert!(unsupported("name.includes"));
    assert!(unsupported("user.hasOwnProperty"));
}

#[test]
fn string_methods() {
    check(&[
        ("name.includes('o')", json!(true)),
        ("name.includes('z')", json!(false)),
        ("'abc'.startsWith('ab')", json!(true)),
        ("'abc'.startsWith('b', 1)", json!(true)),
        ("'abc'.endsWith('bc')", json!(true)),
        ("'abc'.endsWith('b', 2)", json!(true)),
        ("'banana'.indexOf('an')", json!(1)),
        ("'banana'.indexOf('an', 2)", json!(3)),
        ("'banana'.indexOf('x')", json!(-1)),
        ("'banana'.lastIndexOf('an')", json!(3)),
        ("'ÉcoLe'.toLowerCase()", json!("école")),
        ("'straße'.toUpperCase()", json!("STRASSE")),
        ("'  hi \\n'.trim()", json!("hi")),
        ("'  hi '.trimStart()", json!("hi ")),
        ("'  hi '.trimEnd()", json!("  hi")),
        ("'a,b,c'.split(',')", json!(["a", "b", "c"])),
        ("'abc'.split('')", json!(["a", "b", "c"])),
        ("'a,b,c'.split(',', 2)", json!(["a", "b"])),
        ("'abc'.split()", json!(["abc"])),
        ("''.split(',')", json!([""])),
        ("''.split('')", json!([])),
        ("'hello'.slice(-3)", json!("llo")),
        ("'hello'.slice(1, -1)", json!("ell")),
        ("'hello'.slice(3, 1)", json!("")),
        ("'hello'.substring(3, 1)", json!("el")),
        ("'hello'.substring(-2)", json!("hello")),
        ("'hello'.substr(1, 3)", json!("ell")),
        ("'a-b-c'.replace('-', '+')", json!("a+b-c")),
        ("'a-b-c'.replaceAll('-', '+')", json!("a+b+c")),
        ("'abc'.replace('b', '[$&]')", json!("a[b]c")),
        ("'abc'.replace('b', '$$')", json!("a$c")),
        ("'abc'.replace('b', \"$'\")", json!("acc")),
        ("'abc'.replace('b', '$1')", json!("a$1c")),
        ("'abc'.replace('x', 'y')", json!("abc")),
        ("'aaa'.replaceAll('', '-')", json!("-a-a-a-")),
        ("'abc'.charAt(1)", json!("b")),
        ("'abc'.charAt(5)", json!("")),
        ("'abc'.charCodeAt(0)", json!(97)),
        ("'😀'.codePointAt(0)", json!(128512)),
        ("'abc'.at(-1)", json!("c")),
        ("'5'.padStart(3, '0')", json!("005")),
        ("'5'.padEnd(4, 'ab')", json!("5aba")),
        ("'ab'.repeat(3)", json!("ababab")),
        ("'a'.concat(1, null)", json!("a1null")),
        ("name.toString()", json!("bob")),
        ("'😀x'.slice(2)", json!("x")),
        ("'x😀'.slice(1)", json!("😀")),
        ("String.fromCharCode(104, 105)", json!("hi")),
    ]);
    assert!(unsupported("'😀x'.charAt(0)"));
    assert!(unsupported("name.localeCompare('a')"));
    assert!(unsupported("name.match('b')"));
    assert!(thrown("'a'.repeat(-1)").starts_with("RangeError"));
    assert_eq!(
        thrown("name.nope()"),
        "TypeError: name.nope is not a function"
    );
}

#[test]
fn array_methods() {
    check(&[
        ("arr.includes(2)", json!(true)),
        ("arr.includes('2')", json!(false)),
        ("[NaN].includes(NaN)", json!(true)),
        ("[NaN].indexOf(NaN)", json!(-1)),
        ("arr.indexOf(2)", json!(1)),
        ("[1, 2, 1].lastIndexOf(1)", json!(2)),
        ("arr.join('-')", json!("1-2")),
        ("[1, [2, 3]].join(';')", json!("1;2,3")),
        ("[null, undefined, 1].join()", json!(",,1")),
        ("[1, 2, 3, 4].slice(1, -1)", json!([2, 3])),
        ("arr.concat([3], 4)", json!([1, 2, 3, 4])),
        (
            "[3, 1, 10, undefined, 2].sort()",
            json!([1, 10, 2, 3, null]),
        ),
        ("[1, 2, 3].reverse()", json!([3, 2, 1])),
        ("arr.at(-1)", json!(2)),
        ("arr.push(3)", json!(3)),
        ("[1, 2, 3].pop()", json!(3)),
        ("[1, 2, 3].shift()", json!(1)),
        ("[1, 2, 3, 4].splice(1, 2)", json!([2, 3])),
        ("[0, 0, 0].fill(7, 1)", json!([0, 7, 7])),
        ("arr.toString()", json!("1,2")),
        ("Array.isArray(arr)", json!(true)),
        ("Array.isArray(user)", json!(false)),
    ]);
    assert!(unsupported("arr.map(x => x * 2)"));
    assert!(unsupported("arr.forEach(age)"));
    assert_eq!(
        thrown("arr.forEach(print)"),
        "ReferenceError: print is not defined"
    );
    assert!(unsupported("arr.flat()"));
}

#[test]
fn global_functions_math_json() {
    check(&[
        ("Number('12')", json!(12)),
        ("Number('')", json!(0)),
        ("Number(' 12 ')", json!(12)),
        ("Number('x')", Value::Null),
        ("Number(null)", json!(0)),
        ("Number([5])", json!(5)),
        ("Number(true)", json!(1)),
        ("Number()", json!(0)),
        ("String(123)", json!("123")),
        ("String([1, [2]])", json!("1,2")),
        ("String(user)", json!("[object Object]")),
        ("Boolean('')", json!(false)),
        ("Boolean('0')", json!(true)),
        ("Boolean([])", json!(true)),
        ("parseInt('42px')", json!(42)),
        ("parseInt('0x1f')", json!(31)),
        ("parseInt('ff', 16)", json!(255)),
        ("parseInt('abc')", Value::Null),
        ("parseFloat('3.5kg')", json!(3.5)),
        ("isNaN('abc')", json!(true)),
        ("isNaN('12')", json!(false)),
        ("isFinite('12')", json!(true)),
        ("Math.round(2.5)", json!(3)),
        ("Math.round(-2.5)", json!(-2)),
        ("Math.round(0.49999999999999994)", json!(0)),
        ("Math.floor(-1.5)", json!(-2)),
        ("Math.ceil(1.2)", json!(2)),
        ("Math.abs(-3)", json!(3)),
        ("Math.min(3, 1, 2)", json!(1)),
        ("Math.max(3, '7', 2)", json!(7)),
        ("Math.max(1, NaN)", Value::Null),
        ("Math.max()", Value::Null),
        ("Math.pow(2, 10)", json!(1024)),
        ("Math.sqrt(16)", json!(4)),
        ("Math.trunc(-4.7)", json!(-4)),
        ("Math.sign(-3)", json!(-1)),
        ("Math.PI > 3.14", json!(true)),
        ("Number.MAX_SAFE_INTEGER", json!(9007199254740991i64)),
        ("Number.isInteger(5)", json!(true)),
        ("Number.isInteger('5')", json!(false)),
        (
            "JSON.stringify({a: [1, 'x', null], b: undefined})",
            json!(r#"{"a":[1,"x",null]}"#),
        ),
        ("JSON.stringify('x\"')", json!(r#""x\"""#)),
        ("JSON.stringify({a: 1}, null, 2)", json!("{\n  \"a\": 1\n}")),
        ("JSON.stringify(undefined)", Value::Null),
        ("JSON.stringify(NaN)", json!("null")),
        ("JSON.parse('{\"a\": [1, 2]}').a[1]", json!(2)),
        (
            "JSON.parse(JSON.stringify(user)).address.city",
            json!("Paris"),
        ),
        ("Object.keys(user)", json!(["name", "address"])),
        ("Object.values({a: 1, b: 2})", json!([1, 2])),
        ("Object.entries({a: 1})", json!([["a", 1]])),
        ("Object.keys(arr)", json!(["0", "1"])),
        ("user.hasOwnProperty('name')", json!(true)),
    ]);
    assert!(thrown("JSON.parse('bad')").starts_with("SyntaxError"));
    assert!(thrown("Object.keys(nothing)").starts_with("TypeError"));
    assert!(thrown("undefined()").starts_with("TypeError"));
    assert_eq!(thrown("age()"), "TypeError: age is not a function");
    assert_eq!(
        thrown("user.name()"),
        "TypeError: user.name is not a function"
    );
    assert_eq!(
        thrown("user.address.city()"),
        "TypeError: user.address.city is not a function"
    );
    assert_eq!(ok("user.nothing?.()"), Value::Null);
    assert_eq!(
        thrown("user.name?.()"),
        "TypeError: user.name is not a function"
    );
    assert_eq!(thrown("nope()"), "ReferenceError: nope is not defined");
    assert!(thrown("user.nope()").contains("is not a function"));
    assert_eq!(ok("user.nope?.()"), Value::Null);
}

#[test]
fn unsupported_constructs() {
    for src in [
        "Math.random()",
        "Math.random() > 0.5",
        "fetch('http://x')",
        "require('fs')",
        "new Date()",
        "Date.now()",
        "console.log(1)",
        "setTimeout(1)",
        "this",
        "Math",
        "JSON.foo(1)",
        "Math.sin(1)",
        "Object.assign({}, user)",
        "/re/.test(name)",
        "`x`",
        "'${x}'",
        "function f() {}",
        "(() => 1)()",
        "(a) => a",
        "x => x",
        "async x => x",
        "[...arr]",
        "({...user})",
        "({get a() { return 1 }})",
        "({a() {}})",
        "class A {}",
        "arr instanceof Array",
        "await x",
        "1n",
        "1_000",
        "010",
        "'\\101'",
        "'\\uD800'",
        "@dec",
        "#x",
        "globalThis.age",
        "user.__proto__",
        "({__proto__: null})",
        "arr.constructor",
        "{}",
        "{a: 1}",
        "age; name",
        "age\nname",
    ] {
        assert!(unsupported(src), "{src}: {:?}", ev(src));
    }
    for src in [
        "switch (age) { case 1: break }",
        "try { x } catch (e) {}",
        "function f() {}",
        "let {a} = user",
        "let [a] = arr",
        "[a, b] = arr",
        "lbl: for (;;) {}",
        "for (const [k, v] of Object.entries(user)) {}",
        "arr.foo = 1",
    ] {
        assert!(
            matches!(code(src, false), Err(ScriptError::Unsupported(_))),
            "{src}: {:?}",
            code(src, false)
        );
    }
}

#[test]
fn syntax_errors() {
    for src in [
        "1 +", "(1", "1)", "a b", "'abc", "1 = 2", "{", "if", ")", "3in x", "a.", "'a\nb'", "var",
    ] {
        let r = ev(src);
        assert!(
            matches!(&r, Err(ScriptError::Thrown(m)) if m.starts_with("SyntaxError"))
                || matches!(r, Err(ScriptError::Unsupported(_))),
            "{src}: {r:?}"
        );
    }
    assert!(ev("age > 1;").is_ok());
    assert!(
        matches!(code("x = 1 y = 2", false), Err(ScriptError::Thrown(m)) if m.starts_with("SyntaxError"))
    );
    assert!(
        matches!(code("break", false), Err(ScriptError::Thrown(m)) if m.contains("Illegal break"))
    );
    assert!(
        matches!(code("let a = 1; let a = 2;", false), Err(ScriptError::Thrown(m)) if m.contains("already been declared"))
    );
    assert!(
        matches!(code("{ var a; } let a;", false), Err(ScriptError::Thrown(m)) if m.contains("already been declared"))
    );
    assert!(
        matches!(code("const c;", false), Err(ScriptError::Thrown(m)) if m.contains("Missing initializer"))
    );
    assert!(matches!(
        code("if (age) let z = 1;", false),
        Err(ScriptError::Thrown(_))
    ));
}

mod programs;
