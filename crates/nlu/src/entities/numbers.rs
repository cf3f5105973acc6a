//! Numbers and the types built on them: cardinals, ordinals, ages, amounts of money,
//! percentages and four-digit numbers. Digits are read with `regex`; English number words
//! ("twenty five", "third", "three point five") with `text2num`.

use super::{char_at, char_before, found, EntityMatch};
use std::borrow::Cow;
use std::sync::LazyLock;
use text2num::{find_numbers, BasicAnnotate, LangInterpreter, Language, Token};

/// A number in a text: its span, canonical digits and whether it is an ordinal.
#[derive(Debug, Clone)]
struct Num {
    start: usize,
    end: usize,
    value: String,
    ordinal: bool,
}

/// One word or separator run of the text, with its byte span (text2num's tokenisation).
struct Tok<'a> {
    text: &'a str,
    lower: String,
    start: usize,
    nan: bool,
}

impl Token for &Tok<'_> {
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.text)
    }
    fn text_lowercase(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.lower)
    }
    fn nt_separated(&self, _previous: &Self) -> bool {
        false
    }
    fn not_a_number_part(&self) -> bool {
        self.nan
    }
}

impl BasicAnnotate for Tok<'_> {
    fn text_lowercase(&self) -> &str {
        &self.lower
    }
    fn set_nan(&mut self, val: bool) {
        self.nan = val;
    }
}

static ENGLISH: LazyLock<Language> = LazyLock::new(Language::english);

/// Splits `text` into words (alphanumerics, `-`, `'`) and separator runs, as text2num does.
fn tokens(text: &str) -> Vec<Tok<'_>> {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '\'';
    let mut out = Vec::new();
    let mut start = 0;
    let mut word = None;
    for (i, c) in text.char_indices() {
        let w = is_word(c);
        if word != Some(w) {
            if i > start {
                out.push(&text[start..i]);
            }
            start = i;
            word = Some(w);
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out.into_iter()
        .map(|t| Tok {
            text: t,
            lower: t.to_lowercase(),
            start: t.as_ptr() as usize - text.as_ptr() as usize,
            nan: false,
        })
        .collect()
}

/// Numbers written in English words ("twenty five", "third", "three point five").
fn word_numbers(text: &str) -> Vec<Num> {
    if !text.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Vec::new();
    }
    let mut toks = tokens(text);
    ENGLISH.basic_annotate(&mut toks);
    find_numbers(toks.iter(), &*ENGLISH, 0.0)
        .into_iter()
        .filter_map(|occ| {
            let first = toks.get(occ.start)?;
            let last = toks.get(occ.end.checked_sub(1)?)?;
            let start = first.start;
            let full = &text[start..last.start + last.text.len()];
            let end = start + full.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
            // Digit-only spans are read by `digit_numbers` (with their own boundary rules).
            if text[start..end].bytes().all(|b| !b.is_ascii_alphabetic()) {
                return None;
            }
            let value = if occ.is_ordinal {
                format!("{}", occ.value)
            } else {
                occ.text.clone()
            };
            Some(Num {
                start,
                end,
                value,
                ordinal: occ.is_ordinal,
            })
        })
        .collect()
}

/// Canonical digits: no thousands separators, no leading zeros ("1,200" → "1200", "007" → "7").
fn canonical_digits(digits: &str) -> String {
    let plain: String = digits.chars().filter(|&c| c != ',').collect();
    let (sign, body) = match plain.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", plain.as_str()),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Numbers written with digits ("25", "1,200", "3.5", "-4", "3rd"), not parts of dates, times,
/// phone numbers or words.
fn digit_numbers(text: &str) -> Vec<Num> {
    let Some(re) = regex!(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?(st|nd|rd|th)?") else {
        return Vec::new();
    };
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "._/:,".contains(c));
    re.captures_iter(text)
        .filter_map(|caps| {
            let m = caps.get(0)?;
            let (mut start, end) = (m.start(), m.end());
            let ordinal = caps.get(1).is_some();
            let before = char_before(text, start);
            if joined(before) {
                return None;
            }
            if before == Some('-') {
                let sign_at = start - 1;
                if joined(char_before(text, sign_at)) || char_before(text, sign_at) == Some('-') {
                    return None;
                }
                if !ordinal {
                    start = sign_at;
                }
            }
            let after = char_at(text, end);
            if after.is_some_and(char::is_alphanumeric) {
                return None;
            }
            if after.is_some_and(|c| "/:-.,".contains(c))
                && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit())
            {
                return None;
            }
            let digits = caps
                .get(1)
                .map_or(&text[start..end], |s| &text[start..s.start()]);
            if ordinal && digits.contains(['.', ',']) {
                return None;
            }
            Some(Num {
                start,
                end,
                value: canonical_digits(digits),
                ordinal,
            })
        })
        .collect()
}

/// Every number (digits and words), leftmost-longest, cardinals and ordinals.
fn all_numbers(text: &str) -> Vec<Num> {
    let mut nums = digit_numbers(text);
    nums.extend(word_numbers(text));
    nums.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut last_end = 0;
    nums.retain(|n| {
        let keep = n.start >= last_end;
        if keep {
            last_end = n.end;
        }
        keep
    });
    nums
}

fn cardinals(text: &str) -> impl Iterator<Item = Num> {
    all_numbers(text).into_iter().filter(|n| !n.ordinal)
}

/// Cardinal numbers.
pub(super) fn numbers(text: &str) -> Vec<EntityMatch> {
    cardinals(text)
        .map(|n| found(text, n.start, n.end, n.value))
        .collect()
}

/// Ordinals ("3rd", "third", "first") → the rank.
pub(super) fn ordinals(text: &str) -> Vec<EntityMatch> {
    all_numbers(text)
        .into_iter()
        .filter(|n| n.ordinal)
        .map(|n| found(text, n.start, n.end, n.value))
        .collect()
}

/// Ages: whole numbers up to 150, with an optional "years old" ("25-year-old", "25 yo").
pub(super) fn ages(text: &str) -> Vec<EntityMatch> {
    let suffix = regex!(r"(?i)^(?:[\s-]*(?:years?|yrs?)(?:[\s-]*old)?|\s*y/?o)\b");
    cardinals(text)
        .filter(|n| n.value.parse::<u32>().is_ok_and(|v| v <= 150))
        .map(|n| {
            let end = suffix
                .and_then(|re| re.find(&text[n.end..]))
                .map_or(n.end, |m| n.end + m.end());
            found(text, n.start, end, n.value)
        })
        .collect()
}

/// The ISO code of a currency marker (a symbol, code or word).
fn currency_code(marker: &str) -> Option<&'static str> {
    let m = marker.to_lowercase();
    let code = match m.as_str() {
        "us$" | "$" | "usd" => "USD",
        "c$" | "cad" => "CAD",
        "a$" | "aud" => "AUD",
        "€" | "eur" => "EUR",
        "£" | "gbp" | "quid" => "GBP",
        "¥" | "jpy" | "yen" => "JPY",
        "₹" | "inr" => "INR",
        "chf" => "CHF",
        _ if m.starts_with("canadian") => "CAD",
        _ if m.starts_with("australian") => "AUD",
        _ if m.starts_with("swiss") => "CHF",
        _ if m.starts_with("dollar") || m.starts_with("buck") => "USD",
        _ if m.starts_with("euro") => "EUR",
        _ if m.starts_with("pound") => "GBP",
        _ if m.starts_with("rupee") => "INR",
        _ => return None,
    };
    Some(code)
}

/// A currency marker right before (`before`) or after the amount: its length in bytes and code.
fn currency_at(s: &str, before: bool) -> Option<(usize, &'static str)> {
    let leading = regex!(
        r"(?i)(?:^|[^\p{L}\p{N}])(US\$|C\$|A\$|\$|€|£|¥|₹|usd|eur|gbp|jpy|inr|cad|aud|chf)\s?$"
    );
    let trailing = regex!(
        r"(?i)^\s?(US\$|C\$|A\$|\$|€|£|¥|₹|usd|eur|gbp|jpy|inr|cad|aud|chf|canadian dollars?|australian dollars?|swiss francs?|dollars?|bucks?|euros?|pounds?(?: sterling)?|quid|yen|rupees?)(?:[^\p{L}\p{N}]|$)"
    );
    let caps = if before { leading } else { trailing }?.captures(s)?;
    let marker = caps.get(1)?;
    let code = currency_code(marker.as_str())?;
    let len = if before {
        s.len() - marker.start()
    } else {
        marker.end()
    };
    Some((len, code))
}

/// Amounts of money: "$20", "20 dollars", "€5.50", "15 euros" → "20 USD", "5.50 EUR".
pub(super) fn amounts(text: &str) -> Vec<EntityMatch> {
    cardinals(text)
        .filter_map(|n| {
            if let Some((len, code)) = currency_at(&text[n.end..], false) {
                return Some(found(
                    text,
                    n.start,
                    n.end + len,
                    format!("{} {code}", n.value),
                ));
            }
            // Markers are short: look at most 12 bytes back (from a char boundary).
            let mut from = n.start.saturating_sub(12);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let (len, code) = currency_at(&text[from..n.start], true)?;
            if n.start - len == from && char_before(text, from).is_some_and(char::is_alphanumeric) {
                return None;
            }
            Some(found(
                text,
                n.start - len,
                n.end,
                format!("{} {code}", n.value),
            ))
        })
        .collect()
}

/// Percentages: "15%", "15 percent", "twelve per cent" → "15".
pub(super) fn percentages(text: &str) -> Vec<EntityMatch> {
    let suffix = regex!(r"(?i)^(?:\s?%|\s+(?:percent|per cent|pct)\b)");
    cardinals(text)
        .filter_map(|n| {
            let m = suffix?.find(&text[n.end..])?;
            Some(found(text, n.start, n.end + m.end(), n.value))
        })
        .collect()
}

/// Four-digit numbers ("1234", "0042"), kept as typed.
pub(super) fn four_digit(text: &str) -> Vec<EntityMatch> {
    let Some(re) = regex!(r"[0-9]{4}") else {
        return Vec::new();
    };
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "._,-/:".contains(c));
    let continued = |end: usize| {
        let next = char_at(text, end);
        next.is_some_and(char::is_alphanumeric)
            || next.is_some_and(|c| "._,-/:".contains(c))
                && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit())
    };
    re.find_iter(text)
        .filter(|m| !joined(char_before(text, m.start())) && !continued(m.end()))
        .map(|m| found(text, m.start(), m.end(), m.as_str()))
        .collect()
}
