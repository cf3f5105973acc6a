//! NLC, the reference's regular-expression matcher (`spec/dm-api.md` §8.3): every utterance an
//! anchored, case-insensitive pattern, `{slot}` a capture group, list slot types checked against
//! their synonyms, first match in registration order wins (except single-slot utterances), and
//! the intent name itself as a last resort.

use crate::model::{NluModel, SlotDef};
use crate::text::MAX_TEXT_BYTES;
use regex::{Regex, RegexBuilder};
use std::collections::{HashMap, HashSet};

/// Compiled pattern size limit (bytes); longer utterances are not registered.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// What a slot's captured text must be.
#[derive(Debug, Clone)]
enum SlotType {
    /// One of these lowercased synonyms exactly.
    List(HashSet<String>),
    /// Anything non-empty (open-slot mode only).
    Any,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// No slot and no regex operator: whitespace-normalised, lowercased equality.
    Exact(String),
    /// `(slot name, type)` per capture group, in group order.
    Pattern(Regex, Vec<(String, SlotType)>),
}

#[derive(Debug, Clone)]
struct Utterance {
    intent: usize,
    matcher: Matcher,
    /// The utterance is a single `{slot}` and nothing else.
    single_slot: bool,
}

/// A match: the intent and the slots it captured (`(name, text as typed)`).
#[derive(Debug, Clone, PartialEq)]
pub struct NlcMatch {
    pub intent: String,
    pub entities: Vec<(String, String)>,
}

/// The matcher of one model in one mode.
#[derive(Debug, Clone, Default)]
pub struct Nlc {
    intents: Vec<String>,
    utterances: Vec<Utterance>,
    /// Exact utterance → its first position in `utterances`.
    exact: HashMap<String, usize>,
}

/// Lowercase and collapse whitespace runs.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn has_regex_operator(text: &str) -> bool {
    text.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

/// A list type for a custom slot with values; `Any` for every other slot in open mode.
fn slot_type(slot: Option<&SlotDef>, open: bool) -> Option<SlotType> {
    match slot {
        Some(s) if s.is_custom() && !s.inputs.is_empty() => Some(SlotType::List(
            s.synonym_lines()
                .into_iter()
                .flatten()
                .map(|v| v.to_lowercase())
                .collect(),
        )),
        _ if open => Some(SlotType::Any),
        _ => None,
    }
}

/// Splits `{name}` placeholders out of an utterance: literal parts and slot names alternate.
fn split_slots(text: &str) -> (Vec<&str>, Vec<&str>) {
    let mut literals = Vec::new();
    let mut slots = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty() || name.contains('{') {
            break;
        }
        literals.push(&rest[..open]);
        slots.push(name);
        rest = &rest[open + close + 1..];
    }
    literals.push(rest);
    (literals, slots)
}

impl Nlc {
    /// Registers every intent's utterances; `open` registers non-list slots as catch-alls
    /// (strict mode drops the utterances that use them).
    pub fn build(model: &NluModel, open: bool) -> Nlc {
        let mut nlc = Nlc::default();
        for (i, intent) in model.intents.iter().enumerate() {
            nlc.intents.push(intent.name.clone());
            for raw in &intent.utterances {
                let text = model.rewrite_annotations(raw);
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                if let Some(u) = Self::compile(model, i, text, open) {
                    if let Matcher::Exact(e) = &u.matcher {
                        nlc.exact.entry(e.clone()).or_insert(nlc.utterances.len());
                    }
                    nlc.utterances.push(u);
                }
            }
        }
        nlc
    }

    fn compile(model: &NluModel, intent: usize, text: &str, open: bool) -> Option<Utterance> {
        let (literals, names) = split_slots(text);
        if names.is_empty() && !has_regex_operator(text) {
            return Some(Utterance {
                intent,
                matcher: Matcher::Exact(normalize(text)),
                single_slot: false,
            });
        }
        let mut slots = Vec::with_capacity(names.len());
        for name in &names {
            slots.push((name.to_string(), slot_type(model.slot_by_name(name), open)?));
        }
        let mut pattern = String::from(r"^\s*");
        for (k, literal) in literals.iter().enumerate() {
            let words: Vec<&str> = literal.split_whitespace().collect();
            if literal.starts_with(char::is_whitespace) && k > 0 {
                pattern.push_str(r"\s+");
            }
            pattern.push_str(&words.join(r"\s+"));
            if literal.ends_with(char::is_whitespace) && k + 1 < literals.len() && !words.is_empty()
            {
                pattern.push_str(r"\s+");
            }
            if k < names.len() {
                pattern.push_str("(.+)");
            }
        }
        pattern.push_str(r"\s*$");
        let regex = RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .ok()?;
        Some(Utterance {
            intent,
            single_slot: names.len() == 1 && literals.iter().all(|l| l.trim().is_empty()),
            matcher: Matcher::Pattern(regex, slots),
        })
    }

    /// The first matching utterance's intent and slots, or the intent named exactly `query`.
    pub fn matches(&self, query: &str) -> Option<NlcMatch> {
        if query.len() > MAX_TEXT_BYTES {
            return None;
        }
        let exact_at = self.exact.get(&normalize(query)).copied();
        let mut found: Option<NlcMatch> = None;
        for (at, u) in self.utterances.iter().enumerate() {
            if exact_at == Some(at) {
                return Some(NlcMatch {
                    intent: self.intents[u.intent].clone(),
                    entities: Vec::new(),
                });
            }
            let Matcher::Pattern(regex, slots) = &u.matcher else {
                continue;
            };
            let Some(entities) = capture(regex, slots, query) else {
                continue;
            };
            found = Some(NlcMatch {
                intent: self.intents[u.intent].clone(),
                entities,
            });
            if !u.single_slot {
                break;
            }
        }
        found.or_else(|| {
            self.intents
                .iter()
                .find(|n| n.as_str() == query)
                .map(|n| NlcMatch {
                    intent: n.clone(),
                    entities: Vec::new(),
                })
        })
    }
}

/// The slots of `query` if `regex` matches it and every captured value fits its type.
fn capture(
    regex: &Regex,
    slots: &[(String, SlotType)],
    query: &str,
) -> Option<Vec<(String, String)>> {
    let caps = regex.captures(query)?;
    let mut out = Vec::with_capacity(slots.len());
    for (k, (name, ty)) in slots.iter().enumerate() {
        let value = caps.get(k + 1)?.as_str();
        let fits = match ty {
            SlotType::List(values) => values.contains(&value.to_lowercase()),
            SlotType::Any => !value.trim().is_empty(),
        };
        if !fits {
            return None;
        }
        out.push((name.clone(), value.to_string()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> NluModel {
        NluModel::from_value(Some(&json!({
            "intents": [
                { "key": "i1", "name": "order", "inputs": [
                    { "text": "i want a {{[size].s1}} pizza" },
                    { "text": "send it to {{[city].s2}}" },
                    { "text": "order  pizza" } ] },
                { "key": "i2", "name": "flavour", "inputs": [ { "text": "{{[flavor].s3}}" } ] },
                { "key": "i3", "name": "flavour_again", "inputs": [ { "text": "{{[flavor].s3}}" } ] },
                { "key": "i4", "name": "greet", "inputs": [ { "text": "hi." }, { "text": "hello?" } ] },
                { "key": "i5", "name": "Help_Me", "inputs": [] }
            ],
            "slots": [
                { "key": "s1", "name": "size", "type": { "value": "Custom" }, "inputs": ["small, tiny", "large, big"] },
                { "key": "s2", "name": "city", "type": { "value": "VF.GEOGRAPHY" }, "inputs": [] },
                { "key": "s3", "name": "flavor", "type": { "value": "custom" }, "inputs": ["vanilla", "chocolate, choc"] }
            ]
        })))
    }

    fn m(intent: &str, entities: &[(&str, &str)]) -> Option<NlcMatch> {
        Some(NlcMatch {
            intent: intent.into(),
            entities: entities
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        })
    }

    #[test]
    fn strict_mode_matches_list_slots_only() {
        let nlc = Nlc::build(&model(), false);
        assert_eq!(
            nlc.matches("  I want a BIG pizza "),
            m("order", &[("size", "BIG")])
        );
        assert_eq!(nlc.matches("i want a huge pizza"), None);
        assert_eq!(nlc.matches("send it to paris"), None);
        assert_eq!(nlc.matches("ORDER \t pizza"), m("order", &[]));
    }

    #[test]
    fn open_mode_captures_anything_for_other_types() {
        let nlc = Nlc::build(&model(), true);
        assert_eq!(
            nlc.matches("send it to New York"),
            m("order", &[("city", "New York")])
        );
    }

    #[test]
    fn single_slot_utterances_let_later_ones_win() {
        let nlc = Nlc::build(&model(), false);
        assert_eq!(
            nlc.matches("Vanilla"),
            m("flavour_again", &[("flavor", "Vanilla")])
        );
    }

    #[test]
    fn utterances_are_not_escaped() {
        let nlc = Nlc::build(&model(), false);
        // "hi." needs a character after "hi"; "hello?" makes the "o" optional.
        assert_eq!(nlc.matches("hi"), None);
        assert_eq!(nlc.matches("hi!"), m("greet", &[]));
        assert_eq!(nlc.matches("hell"), m("greet", &[]));
    }

    #[test]
    fn intent_name_is_the_last_resort() {
        let nlc = Nlc::build(&model(), false);
        assert_eq!(nlc.matches("Help_Me"), m("Help_Me", &[]));
        assert_eq!(nlc.matches("help_me"), None);
        assert_eq!(nlc.matches(&"x".repeat(100_000)), None);
    }
}
