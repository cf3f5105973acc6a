//! The NLU with the real word vectors (`scripts/nlu-vectors`; `FLOWDM_TEST_NLU_VECTORS=DIR`,
//! set by `scripts/test`): paraphrases that share no word with the training phrases are
//! understood, and what the classifier refused without vectors (small talk near a one-word
//! intent, junk) is still refused. Skipped when the variable is unset.

use flowdm_nlu::entities::ExtractContext;
use flowdm_nlu::vectors::WordVectors;
use flowdm_nlu::Nlu;
use serde_json::{json, Value};
use std::sync::Arc;

fn vectors() -> Option<Arc<WordVectors>> {
    let Some(dir) = std::env::var_os("FLOWDM_TEST_NLU_VECTORS") else {
        eprintln!("FLOWDM_TEST_NLU_VECTORS unset (scripts/test installs the vectors): skipped");
        return None;
    };
    Some(Arc::new(
        WordVectors::load(std::path::Path::new(&dir)).expect("the installed vectors load"),
    ))
}

fn intent(name: &str, texts: &[&str]) -> Value {
    let inputs: Vec<Value> = texts.iter().map(|t| json!({ "text": t })).collect();
    json!({ "key": name, "name": name, "inputs": inputs })
}

fn build(model: &Value, vectors: Option<&Arc<WordVectors>>) -> Nlu {
    Nlu::build_with_vectors(Some(model), None, None, vectors)
}

#[test]
fn paraphrases_without_a_shared_word_are_understood() {
    let Some(v) = vectors() else { return };
    let model = json!({ "intents": [
        intent("alarm_set", &["set an alarm for 7am", "alarm at six please", "create an alarm"]),
        intent("weather_query", &["what is the weather", "will it rain today", "is it sunny"]),
        intent("play_music", &["play some music", "put on a song", "play jazz"]),
        intent("order_taxi", &["book a taxi", "order a cab to the airport", "i need a taxi"]),
    ], "slots": [] });
    let cx = ExtractContext::default();
    let plain = build(&model, None);
    let with = build(&model, Some(&v));
    for (text, expected) in [
        ("wake me up at dawn", "alarm_set"),
        ("do i need an umbrella", "weather_query"),
        ("i wanna hear the beatles", "play_music"),
        ("get me an uber", "order_taxi"),
    ] {
        let p = with.predict(text, &cx);
        assert_eq!(p.intent, expected, "{text}: {:?}", p.intents);
        eprintln!(
            "{text:?}: {} with vectors, {} without",
            p.intent,
            plain.predict(text, &cx).intent
        );
    }
}

#[test]
fn what_was_refused_without_vectors_still_is() {
    let Some(v) = vectors() else { return };
    let model = json!({ "intents": [
        intent("help", &["help", "I need help", "can you help me"]),
        intent("agent", &["talk to an agent", "speak to a human", "customer service"]),
        intent("weather", &["what is the weather", "will it rain"]),
    ], "slots": [] });
    let plain = build(&model, None);
    let with = build(&model, Some(&v));
    let cx = ExtractContext::default();
    let long = "a".repeat(100_000);
    for text in [
        "hello",
        "good morning",
        "banana bread recipe",
        "",
        "😀😀😀",
        "qwxz vbnm",
        long.as_str(),
        "\u{0}\u{1}\u{fffd}",
    ] {
        assert_eq!(plain.predict(text, &cx).intent, "None", "{text:.20}");
        let p = with.predict(text, &cx);
        assert_eq!(p.intent, "None", "{:.20}: {:?}", text, p.intents);
    }
    assert_eq!(with.predict("hlep me please", &cx).intent, "help");
    assert_eq!(
        with.predict("connect me with a person", &cx).intent,
        "agent"
    );
}
