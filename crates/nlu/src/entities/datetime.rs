//! Dates and times. Candidate phrases are found with `regex`; absolute dates are built with
//! `chrono`, relative ones ("next friday", "May 1st") are resolved by `interim` against
//! `ExtractContext::now_ms` (UTC). Without a clock, relative dates keep their text as value.

use super::{char_at, char_before, found, EntityMatch, ExtractContext};
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use interim::{parse_date_string, Dialect};

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

fn now(cx: &ExtractContext) -> Option<DateTime<Utc>> {
    let ms = i64::try_from(cx.now_ms?).ok()?;
    Utc.timestamp_millis_opt(ms).single()
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Month number of a (possibly abbreviated) English month name.
fn month_number(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    months
        .iter()
        .position(|m| *m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// A four- or two-digit year (two digits: 2000–2069, else 1900s).
fn full_year(year: &str) -> Option<i32> {
    let y: i32 = year.parse().ok()?;
    Some(match year.len() {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    })
}

/// A relative phrase resolved by interim against `now`: the date, or its text without a clock.
fn relative(phrase: &str, text: &str, cx: &ExtractContext) -> Option<String> {
    let Some(now) = now(cx) else {
        return Some(text.to_string());
    };
    let at = parse_date_string(phrase, now, Dialect::Us).ok()?;
    Some(iso(at.date_naive()))
}

/// Dates: "2024-05-01", "1/5/2024" (US order unless the first number is over 12), "May 1st",
/// "the 1st of May 2024", "today", "tomorrow", "next friday" → "YYYY-MM-DD".
pub(super) fn dates(text: &str, cx: &ExtractContext) -> Vec<EntityMatch> {
    let mut out = Vec::new();
    let boundary_ok = |s: usize, e: usize| {
        !char_before(text, s).is_some_and(|c| c.is_alphanumeric() || "/-.:".contains(c))
            && !char_at(text, e).is_some_and(|c| c.is_alphanumeric() || c == '/')
    };
    if let Some(re) = regex!(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})") {
        for c in re.captures_iter(text) {
            let (Some(m), Some(y), Some(mo), Some(d)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            else {
                continue;
            };
            let date = NaiveDate::from_ymd_opt(
                y.as_str().parse().unwrap_or(0),
                mo.as_str().parse().unwrap_or(0),
                d.as_str().parse().unwrap_or(0),
            );
            if let (Some(date), true) = (date, boundary_ok(m.start(), m.end())) {
                out.push(found(text, m.start(), m.end(), iso(date)));
            }
        }
    }
    if let Some(re) = regex!(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?") {
        for c in re.captures_iter(text) {
            let (Some(m), Some(a), Some(b)) = (c.get(0), c.get(1), c.get(2)) else {
                continue;
            };
            if !boundary_ok(m.start(), m.end()) {
                continue;
            }
            let (a, b): (u32, u32) = (
                a.as_str().parse().unwrap_or(0),
                b.as_str().parse().unwrap_or(0),
            );
            let (month, day) = if a > 12 { (b, a) } else { (a, b) };
            let year = match c.get(3) {
                Some(y) => full_year(y.as_str()),
                None => match now(cx) {
                    Some(now) => Some(now.year()),
                    None => {
                        if NaiveDate::from_ymd_opt(2000, month, day).is_some() {
                            out.push(found(text, m.start(), m.end(), m.as_str()));
                        }
                        continue;
                    }
                },
            };
            if let Some(date) = year.and_then(|y| NaiveDate::from_ymd_opt(y, month, day)) {
                out.push(found(text, m.start(), m.end(), iso(date)));
            }
        }
    }
    let day_month = regex!(format!(
        r"(?i)\b(?:(?:the\s+)?([0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTHS})|({MONTHS})\.?\s+(?:the\s+)?([0-9]{{1,2}})(?:st|nd|rd|th)?)(?:,?\s+([0-9]{{4}}))?\b"
    ));
    if let Some(re) = day_month {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let day = c.get(1).or(c.get(4)).map_or("", |d| d.as_str());
            let month = c.get(2).or(c.get(3)).map_or("", |d| d.as_str());
            // "I may 5 times", "march 3 miles": a lowercase verb-like month before a bare day.
            let verb = matches!(month, "may" | "march")
                && c.get(3).is_some()
                && c.get(5).is_none()
                && m.as_str().ends_with(|ch: char| ch.is_ascii_digit());
            if verb {
                continue;
            }
            let (Ok(day), Some(month)) = (day.parse::<u32>(), month_number(month)) else {
                continue;
            };
            let value = match c.get(5) {
                Some(y) => {
                    NaiveDate::from_ymd_opt(y.as_str().parse().unwrap_or(0), month, day).map(iso)
                }
                None if NaiveDate::from_ymd_opt(2000, month, day).is_none() => None,
                None => relative(&format!("{} {day}", month_name(month)), m.as_str(), cx),
            };
            if let Some(value) = value {
                out.push(found(text, m.start(), m.end(), value));
            }
        }
    }
    if let Some(re) = regex!(
        r"(?i)\b(?:(?:the\s+)?day\s+after\s+tomorrow|(?:the\s+)?day\s+before\s+yesterday|today|tonight|tomorrow|yesterday|(?:(?:next|last|this|coming)\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b"
    ) {
        for m in re.find_iter(text) {
            let lower = m.as_str().to_lowercase();
            let phrase = lower.split_whitespace().collect::<Vec<_>>().join(" ");
            let value = match phrase.trim_start_matches("the ") {
                "today" | "tonight" => offset_days(cx, 0, m.as_str()),
                "tomorrow" => offset_days(cx, 1, m.as_str()),
                "yesterday" => offset_days(cx, -1, m.as_str()),
                "day after tomorrow" => offset_days(cx, 2, m.as_str()),
                "day before yesterday" => offset_days(cx, -2, m.as_str()),
                other => {
                    let other = other
                        .trim_start_matches("this ")
                        .trim_start_matches("coming ");
                    relative(other, m.as_str(), cx)
                }
            };
            if let Some(value) = value {
                out.push(found(text, m.start(), m.end(), value));
            }
        }
    }
    out
}

fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("January")
}

/// Today plus `days` (chrono), or the text without a clock.
fn offset_days(cx: &ExtractContext, days: i64, text: &str) -> Option<String> {
    let Some(now) = now(cx) else {
        return Some(text.to_string());
    };
    let today = now.date_naive();
    let date = if days >= 0 {
        today.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs()))
    }?;
    Some(iso(date))
}

/// Words for the hours one to twelve.
fn hour_word(word: &str) -> Option<u32> {
    const HOURS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let lower = word.to_ascii_lowercase();
    if let Some(i) = HOURS.iter().position(|h| *h == lower) {
        return u32::try_from(i + 1).ok();
    }
    lower.parse().ok().filter(|h| (1..=12).contains(h))
}

/// Times of day: "5pm", "5:30 p.m.", "17:30", "noon", "midnight", "half past five",
/// "quarter to 6", "five o'clock" → "HH:MM" (24 h; a bare "half past five" is 05:30).
pub(super) fn times(text: &str) -> Vec<EntityMatch> {
    let mut out = Vec::new();
    let hm = |h: u32, m: u32| format!("{h:02}:{m:02}");
    if let Some(re) = regex!(
        r"(?i)\b([0-9]{1,2})(?:[:.]([0-5][0-9]))?\s*(a\.?m\.?|p\.?m\.?)(?:\W|$)|\b([01]?[0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9])?\b"
    ) {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            if char_before(text, m.start()).is_some_and(|c| c == ':' || c == '.') {
                continue;
            }
            let num = |i: usize| c.get(i).and_then(|g| g.as_str().parse::<u32>().ok());
            let (end, value) = if let (Some(h), Some(ampm)) = (num(1), c.get(3)) {
                if !(1..=12).contains(&h) {
                    continue;
                }
                let pm = ampm.as_str().to_ascii_lowercase().starts_with('p');
                (
                    ampm.end(),
                    hm(h % 12 + if pm { 12 } else { 0 }, num(2).unwrap_or(0)),
                )
            } else if let (Some(h), Some(mi)) = (num(4), num(5)) {
                (m.end(), hm(h, mi))
            } else {
                continue;
            };
            out.push(found(text, m.start(), end, value));
        }
    }
    if let Some(re) = regex!(
        r"(?i)\b(?:(noon|midday)|(midnight)|(half\s+past|quarter\s+past|quarter\s+to)\s+([a-z]+|[0-9]{1,2})|([a-z]+|[0-9]{1,2})\s+o'?clock)\b"
    ) {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let value = if c.get(1).is_some() {
                Some(hm(12, 0))
            } else if c.get(2).is_some() {
                Some(hm(0, 0))
            } else if let (Some(rel), Some(h)) =
                (c.get(3), c.get(4).and_then(|h| hour_word(h.as_str())))
            {
                match rel.as_str().to_ascii_lowercase().chars().next() {
                    Some('h') => Some(hm(h, 30)),
                    _ if rel.as_str().to_ascii_lowercase().ends_with("past") => Some(hm(h, 15)),
                    _ => Some(hm(h - 1, 45)),
                }
            } else {
                c.get(5)
                    .and_then(|h| hour_word(h.as_str()))
                    .map(|h| hm(h, 0))
            };
            if let Some(value) = value {
                out.push(found(text, m.start(), m.end(), value));
            }
        }
    }
    out
}

/// Dates, times, and a date with a time next to it ("tomorrow at 5pm", "5pm on May 1st")
/// → "YYYY-MM-DDTHH:MM" (the typed text when the date needs a clock that is missing).
pub(super) fn date_times(text: &str, cx: &ExtractContext) -> Vec<EntityMatch> {
    let mut dates = dates(text, cx);
    let mut times = times(text);
    super::leftmost_longest(&mut dates);
    super::leftmost_longest(&mut times);
    let joiner = |from: usize, to: usize| {
        from <= to
            && to - from <= 16
            && text[from..to].split_whitespace().all(|w| {
                matches!(
                    w.to_ascii_lowercase().as_str(),
                    "at" | "on" | "," | "@" | "around"
                )
            })
    };
    let mut out = Vec::new();
    let mut used_times = vec![false; times.len()];
    for d in dates {
        let pair = times
            .iter()
            .enumerate()
            .find(|(i, t)| !used_times[*i] && (joiner(d.end, t.start) || joiner(t.end, d.start)));
        let Some((i, t)) = pair else {
            out.push(d);
            continue;
        };
        used_times[i] = true;
        let (start, end) = (d.start.min(t.start), d.end.max(t.end));
        let value = if d.value.len() == 10 && d.value.as_bytes().get(4) == Some(&b'-') {
            format!("{}T{}", d.value, t.value)
        } else {
            text[start..end].to_string()
        };
        out.push(found(text, start, end, value));
    }
    out.extend(
        times
            .into_iter()
            .zip(used_times)
            .filter(|(_, used)| !used)
            .map(|(t, _)| t),
    );
    out
}
