//! Contact details: e-mail addresses and URLs (found with `linkify`, which gets the boundaries
//! right around surrounding punctuation) and phone numbers (candidate digit runs validated and
//! formatted to E.164 with `phonenumber`, libphonenumber's metadata).

use super::{char_at, char_before, found, EntityMatch};
use linkify::{LinkFinder, LinkKind};
use phonenumber::{country, Mode};

fn finder() -> LinkFinder {
    let mut finder = LinkFinder::new();
    finder
        .kinds(&[LinkKind::Email, LinkKind::Url])
        .url_must_have_scheme(false)
        .email_domain_must_have_dot(true);
    finder
}

/// E-mail addresses → the address lowercased.
pub(super) fn emails(text: &str) -> Vec<EntityMatch> {
    if !text.contains('@') {
        return Vec::new();
    }
    finder()
        .links(text)
        .filter(|l| *l.kind() == LinkKind::Email)
        .map(|l| found(text, l.start(), l.end(), l.as_str().to_lowercase()))
        .collect()
}

/// URLs, with or without a scheme → the URL as typed (parts of e-mail addresses excluded).
pub(super) fn urls(text: &str) -> Vec<EntityMatch> {
    finder()
        .links(text)
        .filter(|l| *l.kind() == LinkKind::Url)
        .map(|l| found(text, l.start(), l.end(), l.as_str()))
        .collect()
}

/// Phone numbers: runs of digits with the usual separators ("(415) 555-0123", "+44 20 7946
/// 0958", "415.555.0123") that `phonenumber` accepts as valid → E.164 ("+14155550123").
/// Numbers without a `+` country code are read as US numbers.
pub(super) fn phones(text: &str) -> Vec<EntityMatch> {
    let Some(re) = regex!(r"\+?\(?[0-9][0-9 ().\-]{5,20}[0-9]") else {
        return Vec::new();
    };
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "+_/.,@".contains(c));
    re.find_iter(text)
        .filter_map(|m| {
            let (start, end) = (m.start(), m.end());
            if joined(char_before(text, start))
                || char_at(text, end).is_some_and(char::is_alphanumeric)
            {
                return None;
            }
            let candidate = m.as_str();
            let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
            if !(7..=15).contains(&digits) {
                return None;
            }
            let number = phonenumber::parse(Some(country::Id::US), candidate).ok()?;
            if !phonenumber::is_valid(&number) {
                return None;
            }
            let e164 = number.format().mode(Mode::E164).to_string();
            Some(found(text, start, end, e164))
        })
        .collect()
}
