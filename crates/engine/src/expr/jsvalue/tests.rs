use super::*;
use serde_json::json;

#[test]
fn number_formatting_follows_js() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-5.0, "-5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.5, "1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (0.0000012, "0.0000012"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (2.5e25, "2.5e+25"),
        (100.0, "100"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ];
    for (x, s) in cases {
        assert_eq!(number_to_string(*x), *s, "{x}");
    }
}

#[test]
fn string_to_number_follows_js() {
    let cases: &[(&str, f64)] = &[
        ("", 0.0),
        ("  ", 0.0),
        (" 12 ", 12.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("-3", -3.0),
        ("+3", 3.0),
        ("1e3", 1000.0),
        ("0x1F", 31.0),
        ("0b101", 5.0),
        ("0o17", 15.0),
        ("Infinity", f64::INFINITY),
        ("-Infinity", f64::NEG_INFINITY),
    ];
    for (s, x) in cases {
        assert_eq!(string_to_number(s), *x, "{s:?}");
    }
    for s in [
        "abc", "1a", "inf", "nan", "NaN", "1e", "-0x10", ".", "1 2", "infinity", "e5", "--1",
    ] {
        assert!(string_to_number(s).is_nan(), "{s:?}");
    }
}

#[test]
fn parse_float_and_int() {
    assert_eq!(parse_float("2.75abc"), 2.75);
    assert_eq!(parse_float("  -2e3x"), -2000.0);
    assert_eq!(parse_float("1e"), 1.0);
    assert!(parse_float("abc").is_nan());
    assert_eq!(parse_float("Infinityx"), f64::INFINITY);
    assert_eq!(parse_int("42px", 0), 42.0);
    assert_eq!(parse_int("0x1f", 0), 31.0);
    assert_eq!(parse_int("ff", 16), 255.0);
    assert_eq!(parse_int("-12.9", 0), -12.0);
    assert!(parse_int("x", 0).is_nan());
    assert!(parse_int("1", 1).is_nan());
    assert_eq!(parse_int("101", 2), 5.0);
    assert!(parse_int("0é", 0) == 0.0);
    assert!(parse_int("é", 0).is_nan());
    assert!(string_to_number("0é").is_nan());
    assert!(string_to_number("é").is_nan());
    assert!(parse_float("-é").is_nan());
}

#[test]
fn conversions_and_equality() {
    let mut h = Heap::new();
    let arr = h.load_json(&json!([1, [2, 3], null])).unwrap();
    assert_eq!(&*h.to_str(&arr).unwrap(), "1,2,3,");
    let obj = h.load_json(&json!({"a": 1})).unwrap();
    assert_eq!(&*h.to_str(&obj).unwrap(), "[object Object]");
    let one = JsValue::Num(1.0);
    assert!(h.loose_eq(&one, &JsValue::str("1")).unwrap());
    assert!(h.loose_eq(&one, &JsValue::Bool(true)).unwrap());
    assert!(h.loose_eq(&JsValue::Null, &JsValue::Undefined).unwrap());
    assert!(!h.loose_eq(&JsValue::Null, &JsValue::Num(0.0)).unwrap());
    assert!(h.loose_eq(&JsValue::str(""), &JsValue::Num(0.0)).unwrap());
    assert!(!h
        .loose_eq(&JsValue::Num(f64::NAN), &JsValue::Num(f64::NAN))
        .unwrap());
    assert!(h.loose_eq(&obj, &obj).unwrap());
    let obj2 = h.load_json(&json!({"a": 1})).unwrap();
    assert!(!h.loose_eq(&obj, &obj2).unwrap());
    let single = h.load_json(&json!([5])).unwrap();
    assert!(h.loose_eq(&single, &JsValue::Num(5.0)).unwrap());
    assert_eq!(h.to_number(&single).unwrap(), 5.0);
    assert!(h.to_number(&obj).unwrap().is_nan());
    let s = h.add(&JsValue::str("a"), &JsValue::Num(1.0)).unwrap();
    assert!(strict_eq(&s, &JsValue::str("a1")));
    let n = h.add(&JsValue::Bool(true), &JsValue::Null).unwrap();
    assert!(strict_eq(&n, &JsValue::Num(1.0)));
    assert!(h
        .compare("<", &JsValue::str("10"), &JsValue::str("9"))
        .unwrap());
    assert!(!h
        .compare("<", &JsValue::str("10"), &JsValue::Num(9.0))
        .unwrap());
    assert!(!h
        .compare(">=", &JsValue::Undefined, &JsValue::Num(0.0))
        .unwrap());
    assert!(h.compare(">=", &JsValue::Null, &JsValue::Num(0.0)).unwrap());
}

#[test]
fn json_round_trip_and_stringify() {
    let mut h = Heap::new();
    let v = json!({"b": [1, 2.5, "x", null, true], "a": {"2": 1, "1": 2, "z": false}});
    let js = h.load_json(&v).unwrap();
    let back = h.to_json(&js).unwrap();
    assert_eq!(back["b"], v["b"]);
    let keys: Vec<&String> = back["a"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["1", "2", "z"]);
    let s = h.json_stringify(&js, "").unwrap().unwrap();
    assert_eq!(
        s,
        r#"{"b":[1,2.5,"x",null,true],"a":{"1":2,"2":1,"z":false}}"#
    );
    let arr = h.load_json(&json!([1, {"a": "q\"\n"}])).unwrap();
    assert_eq!(
        h.json_stringify(&arr, "  ").unwrap().unwrap(),
        "[\n  1,\n  {\n    \"a\": \"q\\\"\\n\"\n  }\n]"
    );
    assert_eq!(h.json_stringify(&JsValue::Undefined, "").unwrap(), None);
    assert_eq!(
        h.json_stringify(&JsValue::Num(f64::NAN), "")
            .unwrap()
            .unwrap(),
        "null"
    );
    assert_eq!(number_to_json(-0.0), json!(0));
    assert_eq!(number_to_json(2.5), json!(2.5));
    assert_eq!(number_to_json(f64::NAN), Value::Null);
}

#[test]
fn cycles_and_depth_are_caught() {
    let mut h = Heap::new();
    let a = h.new_array(vec![]).unwrap();
    let JsValue::Arr(id) = a else { unreachable!() };
    if let Some(v) = h.array_mut(id) {
        v.push(JsValue::Num(1.0));
        v.push(a.clone());
    }
    assert_eq!(&*h.to_str(&a).unwrap(), "1,");
    assert!(h.to_json(&a).is_err());
    assert!(h.json_stringify(&a, "").is_err());
    let mut deep = h.new_array(vec![]).unwrap();
    for _ in 0..10_000 {
        deep = h.new_array(vec![deep]).unwrap();
    }
    assert!(matches!(h.to_json(&deep), Err(ScriptError::Limit(_))));
    assert!(matches!(h.to_str(&deep), Err(ScriptError::Limit(_))));
}

#[test]
fn pow_rem_and_ints() {
    assert!(js_pow(1.0, f64::INFINITY).is_nan());
    assert_eq!(js_pow(f64::NAN, 0.0), 1.0);
    assert!(js_pow(1.0, f64::NAN).is_nan());
    assert_eq!(js_pow(2.0, 10.0), 1024.0);
    assert_eq!(js_rem(-5.0, 3.0), -2.0);
    assert_eq!(js_rem(5.0, f64::INFINITY), 5.0);
    assert!(js_rem(5.0, 0.0).is_nan());
    assert_eq!(to_int32(4_294_967_295.0), -1);
    assert_eq!(to_int32(-1.5), -1);
    assert_eq!(to_uint32(-1.0), 4_294_967_295);
    assert_eq!(array_index("12"), Some(12));
    assert_eq!(array_index("012"), None);
    assert_eq!(array_index("4294967295"), None);
}
