//! Properties of the NLU on random text (any unicode, control characters, right-to-left
//! scripts, emoji, number-like and date-like words, very long texts): prediction and every
//! built-in extractor never panic, confidences are in [0, 1], matches are slices of the input,
//! and the same input gives the same output. Bounded case counts (`PROPTEST_CASES=5000` for a
//! deeper run, `docs/property-tests.md`).

use crate::arbitrary_json::bounded;
use flowdm_nlu::classifier::Params;
use flowdm_nlu::entities::{supported_types, ExtractContext, Extractor};
use flowdm_nlu::model::SlotDef;
use flowdm_nlu::vectors::WordVectors;
use flowdm_nlu::{normalize, Nlu};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::sync::OnceLock;

/// A model with a slot of every built-in type and a custom one, utterances using them.
fn model() -> Value {
    let mut slots = vec![
        json!({ "key": "size", "name": "size", "type": { "value": "Custom" },
        "inputs": ["small, little, petit", "large, big, grand", "extra large, xl"] }),
    ];
    let mut intents = vec![
        json!({ "key": "order", "name": "order_pizza", "inputs": [
            { "text": "i want a {{[size].size}} pizza" }, { "text": "can i get a pizza" },
            { "text": "pizza please" } ], "slots": [ { "id": "size", "required": true } ] }),
        json!({ "key": "hours", "name": "opening_hours", "inputs": [
            { "text": "when are you open" }, { "text": "what are your opening hours" } ] }),
        json!({ "key": "يوم", "name": "مرحبا", "inputs": [ { "text": "مرحبا كيف حالك" } ] }),
    ];
    for (i, t) in supported_types().iter().enumerate() {
        let key = format!("s{i}");
        slots.push(json!({ "key": key, "name": key, "type": { "value": t }, "inputs": [] }));
        intents.push(
            json!({ "key": format!("i{i}"), "name": format!("give_{i}"), "inputs": [
            { "text": format!("it is {{{{[{key}].{key}}}}}") },
            { "text": format!("my {} is {{{{[{key}].{key}}}}}", t.to_lowercase()) } ],
            "slots": [ { "id": key } ] }),
        );
    }
    json!({ "intents": intents, "slots": slots })
}

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| Nlu::build(Some(&model()), None, None))
}

/// The same model with word vectors: a few pieces (words of the model, suffixes, non-Latin
/// ones) with fixed 8-dimensional vectors.
fn nlu_with_vectors() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| {
        let pieces = [
            "[UNK]",
            "pizza",
            "want",
            "open",
            "hours",
            "##s",
            "##ing",
            "a",
            "i",
            "é",
            "مرحبا",
            "it",
            "is",
            "my",
            "large",
            "##e",
            "1",
            "##2",
        ];
        let data: Vec<f32> = (0..pieces.len() * 8)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
            .collect();
        let vectors = Arc::new(WordVectors::from_parts(&pieces, 8, data).expect("vectors"));
        Nlu::build_with(
            Some(&model()),
            None,
            None,
            Params::with_vectors(),
            Some(&vectors),
        )
    })
}

/// One extractor per supported type, and a custom list.
fn extractors() -> Vec<(String, Extractor)> {
    let mut types: Vec<&str> = supported_types().to_vec();
    types.push("AMAZON.US_CITY");
    types
        .into_iter()
        .filter_map(|t| {
            let slot = SlotDef {
                key: t.into(),
                name: t.into(),
                type_name: t.into(),
                inputs: vec![
                    "small, little".into(),
                    "large, big, XL".into(),
                    "paris, city of light".into(),
                ],
            };
            Extractor::for_slot(&slot).map(|e| (t.to_string(), e))
        })
        .collect()
}

/// Words the extractors look for, and words they nearly look for.
const WORDS: &[&str] = &[
    "pizza",
    "large",
    "Big",
    "xl",
    "twenty five",
    "one hundred and three",
    "3rd",
    "third",
    "$20",
    "€5.50",
    "15 euros",
    "15%",
    "15 percent",
    "1,200.5",
    "-4",
    "0042",
    "1e5",
    "٣",
    "１２",
    "jane@x.org",
    "a@b",
    "@@",
    "+1 415 555 0123",
    "(415) 555-0123",
    "example.com",
    "https://x.org/a?b#c",
    "http://",
    "tomorrow",
    "next friday",
    "at 5pm",
    "17:30",
    "25:99",
    "12/31/2024",
    "31/02/2024",
    "2024-02-30",
    "in 3 days",
    "noon",
    "midnight",
    "years old",
    "paris",
    "city of light",
    "my email is",
    "it's",
    "please",
    "مرحبا",
    "שלום",
    "\u{202e}",
    "\u{200f}",
    "😀",
    "🇫🇷",
    "\u{0}",
    "\u{7}",
    "\r\n",
    "\u{feff}",
    "İ",
    "ß",
    "ǅ",
    "Σ",
    "ﬁ",
    "\u{301}",
    "9999999999999999999999",
    "0.0000001",
];

fn text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_string),
        2 => any::<String>(),
        1 => "[0-9.,:/ -]{1,12}",
        1 => prop::sample::select(vec![" ", "  ", "\t", "\n", ",", ".", "?", "!", "-"]).prop_map(str::to_string),
    ];
    prop_oneof![
        8 => prop::collection::vec(piece.clone(), 0..12).prop_map(|p| p.join(" ")),
        1 => (piece, 200usize..1000).prop_map(|(p, n)| vec![p; n].join(" ")),
    ]
    .boxed()
}

fn unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

proptest! {
    #![proptest_config(bounded(256))]

    #[test]
    fn prediction_never_panics_is_bounded_and_deterministic(t in text(), now in prop::option::of(0u64..4_102_444_800_000)) {
        let cx = ExtractContext { now_ms: now };
        for nlu in [nlu(), nlu_with_vectors()] {
            let p = nlu.predict(&t, &cx);
            prop_assert!(p.confidence.is_none_or(unit), "{:?}: {:?}", t, p);
            prop_assert!(p.intents.iter().all(|(_, c)| unit(*c)), "{:?}: {:?}", t, p.intents);
            prop_assert_eq!(&p, &nlu.predict(&t, &cx), "{:?}", t);
            let ranked = nlu.rank(&t);
            prop_assert!(ranked.iter().all(|(_, c)| unit(*c)), "{:?}: {:?}", t, ranked);
            prop_assert_eq!(ranked, nlu.rank(&t));
        }
        prop_assert_eq!(normalize(&t), normalize(&t));
    }

}

proptest! {
    // Every extractor on each text: fewer cases.
    #![proptest_config(bounded(128))]

    #[test]
    fn extractors_never_panic_and_answer_slices(t in text(), now in prop::option::of(0u64..4_102_444_800_000)) {
        let cx = ExtractContext { now_ms: now };
        for (ty, e) in extractors() {
            let found = e.find_all(&t, &cx);
            let mut last = 0;
            for m in &found {
                prop_assert!(m.start >= last && m.start <= m.end, "{}: {:?} in {:?}", ty, found, t);
                prop_assert_eq!(t.get(m.start..m.end), Some(m.text.as_str()), "{}: {:?}", ty, t);
                last = m.end;
            }
            prop_assert_eq!(&found, &e.find_all(&t, &cx), "{}: {:?}", ty, t);
            let reply = e.parse_reply(&t, &cx);
            if let Some(m) = &reply {
                prop_assert_eq!(t.get(m.start..m.end), Some(m.text.as_str()), "{}: {:?}", ty, t);
            }
            prop_assert_eq!(reply, e.parse_reply(&t, &cx), "{}: {:?}", ty, t);
        }
    }
}
