//! Entity extractors: one per slot (entity) type of the model (`spec/dm-api.md` §8.1).
//!
//! An [`Extractor`] finds the values of its type in a text ([`Extractor::find_all`]), reads a
//! capture answer as one value ([`Extractor::parse_reply`]) and names a sample value for
//! training utterances ([`Extractor::sample_value`]). The families live in their own modules:
//! `numbers` (number, ordinal, age, currency, percentage, four-digit number — `text2num` for
//! number words), `contact` (e-mail and URL via `linkify`, phone numbers via `phonenumber`),
//! `datetime` (dates via `interim` + `chrono`, times) and `custom` (synonym lists with exact and
//! fuzzy matching via `strsim` and `unicode-normalization`). `docs/nlu.md` § Entities has the
//! table of types and canonical value formats.

/// A lazily compiled constant pattern: `Option<&'static Regex>` (None only if the pattern is
/// invalid, which the tests rule out; no `unwrap` outside tests).
macro_rules! regex {
    ($pattern:expr) => {{
        static RE: std::sync::LazyLock<Option<regex::Regex>> =
            std::sync::LazyLock::new(|| regex::Regex::new(&$pattern).ok());
        RE.as_ref()
    }};
}

mod contact;
mod custom;
mod datetime;
mod numbers;

use crate::model::SlotDef;
use std::sync::Arc;

pub use custom::{normalize, synonym_score, ListTable};

/// One value found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityMatch {
    /// Byte offset of the first byte of the value in the input (on a char boundary).
    pub start: usize,
    /// Byte offset just past the value (on a char boundary).
    pub end: usize,
    /// The value as typed (`input[start..end]`).
    pub text: String,
    /// The canonical value: "25", "3", "2024-05-01", "17:30", "large", "jane@x.org", "+14155550123".
    pub value: String,
}

/// What extraction may depend on besides the text (dates relative to "today").
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractContext {
    /// Unix time in milliseconds (UTC); `None` → relative dates keep their text as value.
    pub now_ms: Option<u64>,
}

/// The extractor of one slot type.
#[derive(Debug, Clone)]
pub enum Extractor {
    /// Cardinal numbers: digits ("1,200", "3.5", "-4") and English words ("twenty five").
    Number,
    /// Ordinals: "3rd", "third", "first" → "3", "3", "1".
    Ordinal,
    /// Ages: "25", "25 years old", "twenty" → "25".
    Age,
    /// Amounts of money: "$20", "20 dollars", "€5.50", "15 euros" → "20 USD", "5.50 EUR".
    Currency,
    /// Percentages: "15%", "15 percent" → "15".
    Percentage,
    /// Four-digit numbers (PINs, years): "1234", "0042".
    FourDigitNumber,
    /// E-mail addresses, lowercased.
    Email,
    /// Phone numbers in E.164 ("+14155550123"); numbers without a country code are read as US.
    PhoneNumber,
    /// URLs, with or without a scheme ("https://x.org/a", "example.com").
    Url,
    /// Calendar dates → "YYYY-MM-DD".
    Date,
    /// Times of day → "HH:MM" (24 h).
    Time,
    /// A date, a time, or a date with a time → "YYYY-MM-DD", "HH:MM" or "YYYY-MM-DDTHH:MM".
    DateTime,
    /// A list of values with synonyms: a Custom type, or a built-in type that lists sample values.
    List {
        table: Arc<ListTable>,
        /// `true` for a built-in type (`VF.GEOGRAPHY`, …) whose export lists sample values.
        sampled: bool,
    },
}

/// The built-in extractor of a lowercased type name.
fn built_in(type_name: &str) -> Option<Extractor> {
    let extractor = match type_name {
        "vf.number" | "amazon.number" => Extractor::Number,
        "vf.ordinal" | "amazon.ordinal" => Extractor::Ordinal,
        "vf.age" => Extractor::Age,
        "vf.currency" | "vf.amount_of_money" => Extractor::Currency,
        "vf.percentage" => Extractor::Percentage,
        "amazon.four_digit_number" => Extractor::FourDigitNumber,
        "vf.email" | "amazon.emailaddress" => Extractor::Email,
        "vf.phonenumber" | "amazon.phonenumber" => Extractor::PhoneNumber,
        "vf.url" => Extractor::Url,
        "vf.date" | "amazon.date" => Extractor::Date,
        "vf.time" | "amazon.time" => Extractor::Time,
        "vf.datetime" => Extractor::DateTime,
        _ => return None,
    };
    Some(extractor)
}

/// The built-in type names flowdm extracts (for documentation and `flowdm check`).
pub fn supported_types() -> &'static [&'static str] {
    &[
        "VF.NUMBER",
        "AMAZON.NUMBER",
        "VF.ORDINAL",
        "AMAZON.Ordinal",
        "VF.AGE",
        "VF.CURRENCY",
        "VF.AMOUNT_OF_MONEY",
        "VF.PERCENTAGE",
        "AMAZON.FOUR_DIGIT_NUMBER",
        "VF.EMAIL",
        "AMAZON.EmailAddress",
        "VF.PHONENUMBER",
        "AMAZON.PhoneNumber",
        "VF.URL",
        "VF.DATE",
        "AMAZON.DATE",
        "VF.TIME",
        "AMAZON.TIME",
        "VF.DATETIME",
        "Custom",
    ]
}

impl Extractor {
    /// The extractor for a model slot, or None when flowdm has none for its type (the server's
    /// `check` warns about those). Custom types and other types that list values in `inputs`
    /// become list extractors; built-in types above ignore their `inputs`.
    pub fn for_slot(slot: &SlotDef) -> Option<Extractor> {
        let type_name = slot.type_name.trim().to_ascii_lowercase();
        if let Some(extractor) = built_in(&type_name) {
            return Some(extractor);
        }
        let table = ListTable::new(&slot.synonym_lines());
        if table.is_empty() {
            return None;
        }
        Some(Extractor::List {
            table: Arc::new(table),
            sampled: !slot.is_custom(),
        })
    }

    /// Every value in `text`, non-overlapping, leftmost then longest.
    pub fn find_all(&self, text: &str, cx: &ExtractContext) -> Vec<EntityMatch> {
        let mut found = match self {
            Extractor::Number => numbers::numbers(text),
            Extractor::Ordinal => numbers::ordinals(text),
            Extractor::Age => numbers::ages(text),
            Extractor::Currency => numbers::amounts(text),
            Extractor::Percentage => numbers::percentages(text),
            Extractor::FourDigitNumber => numbers::four_digit(text),
            Extractor::Email => contact::emails(text),
            Extractor::PhoneNumber => contact::phones(text),
            Extractor::Url => contact::urls(text),
            Extractor::Date => datetime::dates(text, cx),
            Extractor::Time => datetime::times(text),
            Extractor::DateTime => datetime::date_times(text, cx),
            Extractor::List { table, .. } => table.find_all(text),
        };
        leftmost_longest(&mut found);
        found
    }

    /// The reply as a whole is one value (a capture answer): the text trimmed, surrounding
    /// punctuation removed, and common lead-ins ("it's", "my email is", "i am", "about") and
    /// closings ("please", "thanks") allowed — else None.
    /// Replies over 1,000 bytes are not read as one value.
    pub fn parse_reply(&self, text: &str, cx: &ExtractContext) -> Option<EntityMatch> {
        if text.len() > MAX_REPLY_BYTES {
            return None;
        }
        reply_cores(text).into_iter().find_map(|(start, end)| {
            let core = &text[start..end];
            let found = self.find_all(core, cx);
            let [only] = found.as_slice() else {
                return None;
            };
            (only.start == 0 && only.end == core.len()).then(|| EntityMatch {
                start: start + only.start,
                end: start + only.end,
                text: only.text.clone(),
                value: only.value.clone(),
            })
        })
    }

    /// A representative value used to turn `{slot}` in training utterances into text; None →
    /// the caller keeps a placeholder token.
    pub fn sample_value(&self) -> Option<String> {
        let sample = match self {
            Extractor::Number => "2",
            Extractor::Ordinal => "first",
            Extractor::Age => "25",
            Extractor::Currency => "$20",
            Extractor::Percentage => "10%",
            Extractor::FourDigitNumber => "1234",
            Extractor::Email => "jane@example.com",
            Extractor::PhoneNumber => "+14155550123",
            Extractor::Url => "example.com",
            Extractor::Date => "tomorrow",
            Extractor::Time => "5pm",
            Extractor::DateTime => "tomorrow at 5pm",
            Extractor::List { table, .. } => return table.first_value().map(str::to_string),
        };
        Some(sample.to_string())
    }

    /// A short name for docs/diagnostics.
    pub fn kind(&self) -> &'static str {
        match self {
            Extractor::Number => "number",
            Extractor::Ordinal => "ordinal",
            Extractor::Age => "age",
            Extractor::Currency => "amount of money",
            Extractor::Percentage => "percentage",
            Extractor::FourDigitNumber => "four-digit number",
            Extractor::Email => "email",
            Extractor::PhoneNumber => "phone number",
            Extractor::Url => "url",
            Extractor::Date => "date",
            Extractor::Time => "time",
            Extractor::DateTime => "date and time",
            Extractor::List { sampled: false, .. } => "custom list",
            Extractor::List { sampled: true, .. } => "sample-value list",
        }
    }
}

/// A match of `text[start..end]` with its canonical value.
fn found(text: &str, start: usize, end: usize, value: impl Into<String>) -> EntityMatch {
    EntityMatch {
        start,
        end,
        text: text[start..end].to_string(),
        value: value.into(),
    }
}

/// The character just before byte `i` (a char boundary).
fn char_before(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

/// The character at byte `i` (a char boundary).
fn char_at(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// Sorts by start (then longest first) and drops matches overlapping an earlier kept one.
fn leftmost_longest(found: &mut Vec<EntityMatch>) {
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut last_end = 0;
    found.retain(|m| {
        let keep = m.start >= last_end && m.end > m.start;
        if keep {
            last_end = m.end;
        }
        keep
    });
}

/// The longest text `parse_reply` reads as one value.
const MAX_REPLY_BYTES: usize = 1_000;

/// Lead-ins a capture answer may start with (lowercase, longest first within a family).
const LEAD_INS: &[&str] = &[
    "my email address is",
    "my e-mail address is",
    "my email is",
    "my e-mail is",
    "my phone number is",
    "my number is",
    "my name is",
    "my age is",
    "the answer is",
    "i would like",
    "i'd like",
    "i want",
    "let's say",
    "make it",
    "i think",
    "i guess",
    "it's",
    "it’s",
    "it is",
    "its",
    "that's",
    "that is",
    "i'm",
    "i’m",
    "i am",
    "approximately",
    "around",
    "about",
    "maybe",
    "probably",
    "call me",
    "please",
    "umm",
    "um",
    "uh",
    "ok",
    "okay",
    "well",
    "yes",
    "sure",
    "on",
    "at",
    "by",
    "for",
    "in",
    "the",
    "an",
    "a",
];

/// Closings a capture answer may end with.
const CLOSINGS: &[&str] = &["please", "thanks", "thank you", "thx", "i think"];

/// The byte ranges of `text` a reply's value may span: the text without surrounding
/// punctuation, then with lead-ins and closings removed one at a time (at most 8 steps).
fn reply_cores(text: &str) -> Vec<(usize, usize)> {
    let (mut start, mut end) = trim_punct(text, 0, text.len());
    let mut cores = Vec::new();
    while start < end && cores.len() < 8 {
        cores.push((start, end));
        let rest = &text[start..end];
        let lead = LEAD_INS.iter().find(|lead| {
            rest.len() > lead.len()
                && rest.is_char_boundary(lead.len())
                && rest[..lead.len()].eq_ignore_ascii_case(lead)
                && !rest[lead.len()..].starts_with(|c: char| c.is_alphanumeric())
        });
        let close = CLOSINGS.iter().find(|close| {
            let at = rest.len().saturating_sub(close.len());
            rest.len() > close.len()
                && rest.is_char_boundary(at)
                && rest[at..].eq_ignore_ascii_case(close)
                && !rest[..at].ends_with(|c: char| c.is_alphanumeric())
        });
        (start, end) = match (lead, close) {
            (Some(lead), _) => trim_punct(text, start + lead.len(), end),
            (None, Some(close)) => trim_punct(text, start, end - close.len()),
            (None, None) => break,
        };
    }
    cores
}

/// Narrows `start..end` past whitespace and punctuation on both sides, keeping characters that
/// begin or end values ("$20", "+1 415…", "(415) 555…", "5.50€", "15%", "-3").
fn trim_punct(text: &str, start: usize, end: usize) -> (usize, usize) {
    let keep_lead = |c: char| c.is_alphanumeric() || "$€£¥+(-#@".contains(c);
    let keep_tail = |c: char| c.is_alphanumeric() || "€$£¥%)/".contains(c);
    let slice = &text[start..end];
    let Some(s) = slice.find(keep_lead) else {
        return (end, end);
    };
    let tail = &slice[s..];
    let e = tail
        .char_indices()
        .rev()
        .find(|&(_, c)| keep_tail(c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    (start + s, start + s + e)
}

#[cfg(test)]
mod tests;
