//! The §8.2 cascade on a small model.

use super::*;
use crate::training::name_in_words;
use serde_json::json;

fn pizza() -> Value {
    json!({
        "intents": [
            { "key": "k1", "name": "order_pizza", "inputs": [
                { "text": "i want a {{[size].s1}} pizza" },
                { "text": "i would like to order a pizza" },
                { "text": "can i get a pizza" },
                { "text": "pizza please" } ],
              "slots": [ { "id": "s1", "required": true } ] },
            { "key": "k2", "name": "opening_hours", "inputs": [
                { "text": "when are you open" },
                { "text": "what are your opening hours" },
                { "text": "are you open on sunday" } ] },
            { "key": "k3", "name": "leave_feedback", "inputs": [
                { "text": "my feedback is {{[comment].s2}}" } ],
              "slots": [ { "id": "s2" } ] },
            { "key": "k4", "name": "unused_intent", "inputs": [ { "text": "secret words" } ] }
        ],
        "slots": [
            { "key": "s1", "name": "size", "type": { "value": "Custom" }, "inputs": ["small, little", "large, big"] },
            { "key": "s2", "name": "comment", "type": { "value": "VF.SEARCHQUERY" }, "inputs": [] }
        ]
    })
}

fn nlu() -> Nlu {
    let used: Vec<String> = ["k1", "opening_hours", "leave_feedback"]
        .map(String::from)
        .to_vec();
    Nlu::build(Some(&pizza()), Some(&used), None)
}

fn cx() -> ExtractContext {
    ExtractContext::default()
}

#[test]
fn strict_nlc_wins_with_confidence_one() {
    let p = nlu().predict("I want a BIG pizza", &cx());
    assert_eq!(
        (p.intent.as_str(), p.confidence, p.source),
        ("order_pizza", Some(1.0), Source::Nlc)
    );
    assert_eq!(
        p.entities,
        vec![Entity {
            name: "size".into(),
            value: "BIG".into()
        }]
    );
}

#[test]
fn paraphrases_go_to_the_classifier() {
    let p = nlu().predict("When do you open?", &cx());
    assert_eq!(p.intent, "opening_hours");
    assert_eq!(p.source, Source::Classifier);
    assert!(p.confidence.unwrap() >= DEFAULT_THRESHOLD);
    let p = nlu().predict("id like to order a large pizza.", &cx());
    assert_eq!(p.intent, "order_pizza");
    assert_eq!(
        p.entities,
        vec![Entity {
            name: "size".into(),
            value: "large".into()
        }]
    );
}

#[test]
fn a_high_threshold_sends_guesses_to_open_nlc_or_none() {
    let strict = Nlu::build(Some(&pizza()), None, Some(1.0));
    let p = strict.predict("When do you open?", &cx());
    assert_eq!(
        (p.intent.as_str(), p.confidence, p.source),
        ("None", Some(1.0), Source::Nothing)
    );
    assert_eq!(
        p.intents[0].0, "opening_hours",
        "the ranking is still reported"
    );
    let p = strict.predict("my feedback is great pizza", &cx());
    assert_eq!(
        (p.intent.as_str(), p.confidence, p.source),
        ("leave_feedback", Some(0.5), Source::OpenNlc)
    );
    assert_eq!(
        p.entities,
        vec![Entity {
            name: "comment".into(),
            value: "great pizza".into()
        }]
    );
}

#[test]
fn unused_intents_become_none_without_confidence() {
    let p = nlu().predict("secret words", &cx());
    assert_eq!(
        (p.intent.as_str(), p.confidence, p.source),
        ("None", None, Source::Unused)
    );
    let all = Nlu::build(Some(&pizza()), None, None);
    assert_eq!(all.predict("secret words", &cx()).intent, "unused_intent");
}

#[test]
fn junk_is_none_quickly() {
    let n = nlu();
    for text in ["", "   ", "😀😀😀", "\u{0}\u{1}\u{fffd}\u{7f}", "qwxz vbnm", &"a".repeat(100_000), "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="] {
        let started = std::time::Instant::now();
        let p = n.predict(text, &cx());
        assert_eq!(p.intent, "None", "{:?}", &text[..text.len().min(20)]);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}

#[test]
fn no_model_means_no_classifier() {
    let n = Nlu::build(None, None, None);
    assert!(n.is_empty());
    assert_eq!(n.predict("hello", &cx()).source, Source::Nothing);
}

#[test]
fn intent_names_read_as_words() {
    assert_eq!(name_in_words("AMAZON.StopIntent"), "stop");
    assert_eq!(name_in_words("order_pizza"), "order pizza");
    assert_eq!(
        name_in_words("checkAccountBalance"),
        "check account balance"
    );
    assert_eq!(name_in_words("VF.START_OVER"), "start over");
}

fn external(text: &str, intents: &[(&str, f64)]) -> semantic::ExternalRanking {
    semantic::ExternalRanking {
        text: text.into(),
        intents: intents.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
        weight: semantic::DEFAULT_WEIGHT,
    }
}

#[test]
fn an_external_ranking_is_combined_before_the_threshold() {
    let n = nlu();
    // Nothing the local classifier knows (as an embeddings model might place a paraphrase).
    let text = "qwxz vbnm";
    let alone = n.predict(text, &cx());
    assert_eq!(alone.intent, "None", "{alone:?}");
    let ext = external(text, &[("order_pizza", 0.98), ("opening_hours", 0.01)]);
    let p = n.predict_with(text, &cx(), Some(&ext));
    assert_eq!(
        (p.intent.as_str(), p.source),
        ("order_pizza", Source::Classifier),
        "{p:?}"
    );
    let c = p.confidence.unwrap();
    assert!(
        (0.7 * 0.98..=classifier::MAX_CONFIDENCE).contains(&c),
        "{c}"
    );
    assert_eq!(p.intents[0].0, "order_pizza");
    // A ranking of another text is ignored.
    let other = external("something else", &[("order_pizza", 0.98)]);
    assert_eq!(n.predict_with(text, &cx(), Some(&other)), alone);
    // Strict NLC and the usedIntentsSet filter still come first and last.
    let p = n.predict_with(
        "pizza please",
        &cx(),
        Some(&external("pizza please", &[("opening_hours", 1.0)])),
    );
    assert_eq!((p.intent.as_str(), p.source), ("order_pizza", Source::Nlc));
    let p = n.predict_with(
        "hush",
        &cx(),
        Some(&external("hush", &[("unused_intent", 1.0)])),
    );
    assert_eq!((p.intent.as_str(), p.source), ("None", Source::Unused));
}

#[test]
fn training_texts_fill_slots_and_name_intents() {
    let texts = nlu().training_texts();
    assert!(
        texts.contains(&(
            "order_pizza".to_string(),
            "i want a small pizza".to_string()
        )),
        "{texts:?}"
    );
    assert!(texts.contains(&("opening_hours".to_string(), "opening hours".to_string())));
    assert_eq!(
        texts.iter().filter(|(i, _)| i == "opening_hours").count(),
        4
    );
}
