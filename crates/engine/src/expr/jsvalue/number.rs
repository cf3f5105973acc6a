//! Number conversions and arithmetic with JavaScript semantics.

/// JavaScript `Math.pow` / `**`.
pub fn js_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() {
        return f64::NAN;
    }
    if b == 0.0 {
        return 1.0;
    }
    if a.abs() == 1.0 && b.is_infinite() {
        return f64::NAN;
    }
    a.powf(b)
}

/// JavaScript `%`.
pub fn js_rem(a: f64, b: f64) -> f64 {
    if b.is_infinite() && a.is_finite() {
        return a;
    }
    a % b
}

/// JavaScript `ToInt32`.
pub fn to_int32(x: f64) -> i32 {
    to_uint32(x) as i32
}

/// JavaScript `ToUint32`.
pub fn to_uint32(x: f64) -> u32 {
    if !x.is_finite() {
        return 0;
    }
    x.trunc().rem_euclid(4_294_967_296.0) as u32
}

/// JavaScript `ToIntegerOrInfinity`.
pub fn to_integer(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.trunc() + 0.0
    }
}

/// The index of a canonical array-index key (`"0"`, `"12"`, not `"01"`).
pub fn array_index(k: &str) -> Option<u32> {
    if k.is_empty()
        || k.len() > 10
        || (k.len() > 1 && k.starts_with('0'))
        || !k.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    k.parse::<u64>()
        .ok()
        .filter(|&i| i < u64::from(u32::MAX))
        .map(|i| i as u32)
}

/// JavaScript white space and line terminators (what `trim` and `Number()` strip).
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript `Number::toString` (shortest round-trip digits, JS exponent rules).
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

/// Length of the longest prefix of `s` that is a JS `StrUnsignedDecimalLiteral` without
/// `Infinity` (digits, optional fraction, optional exponent); 0 when none.
fn decimal_prefix_len(s: &[u8]) -> usize {
    let mut i = 0;
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut has_digits = i > int_start;
    if i < s.len() && s[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if has_digits || j > frac_start {
            has_digits = true;
            i = j;
        }
    }
    if !has_digits {
        return 0;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    i
}

fn parse_decimal(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

fn parse_radix_digits(s: &str, radix: u32) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut acc = 0f64;
    for c in s.chars() {
        acc = acc * f64::from(radix) + f64::from(c.to_digit(radix)?);
    }
    Some(acc)
}

/// JavaScript `StringToNumber` (what `Number("...")` does).
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    let lower2 = t.get(..2).map(str::to_ascii_lowercase);
    if let Some(p) = lower2.as_deref() {
        let radix = match p {
            "0x" => 16,
            "0o" => 8,
            "0b" => 2,
            _ => 0,
        };
        if radix != 0 {
            return parse_radix_digits(&t[2..], radix).unwrap_or(f64::NAN);
        }
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    if decimal_prefix_len(body.as_bytes()) == body.len() && !body.is_empty() {
        return sign * parse_decimal(body);
    }
    f64::NAN
}

/// JavaScript `parseFloat`.
pub fn parse_float(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_whitespace);
    let (sign, body) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let n = decimal_prefix_len(body.as_bytes());
    if n == 0 {
        return f64::NAN;
    }
    sign * parse_decimal(&body[..n])
}

/// JavaScript `parseInt(s, radix)` (`radix` already converted; 0 = absent).
pub fn parse_int(s: &str, radix: i32) -> f64 {
    let t = s.trim_start_matches(is_js_whitespace);
    let (sign, mut body) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    let mut r = radix;
    let has_hex_prefix = body
        .as_bytes()
        .get(..2)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"0x"));
    if r == 0 {
        r = if has_hex_prefix { 16 } else { 10 };
    }
    if !(2..=36).contains(&r) {
        return f64::NAN;
    }
    if r == 16 && has_hex_prefix {
        body = &body[2..];
    }
    let r = r as u32;
    let end = body
        .char_indices()
        .find(|(_, c)| c.to_digit(r).is_none())
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    let digits = &body[..end];
    if digits.is_empty() {
        return f64::NAN;
    }
    let value = if r == 10 {
        parse_decimal(digits)
    } else {
        parse_radix_digits(digits, r).unwrap_or(f64::NAN)
    };
    sign * value
}
