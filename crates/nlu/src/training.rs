//! What the classifier learns from: the model's utterances with their slots filled, and the
//! intents' names in words.

use crate::classifier::{self, Classifier};
use crate::entities::Extractor;
use crate::model::NluModel;
use crate::vectors::WordVectors;
use std::collections::HashMap;
use std::sync::Arc;

/// Training examples `(text, label)` and the labels (intent names): every utterance with
/// `{slot}` replaced by one of the slot's values (the utterances of an intent take a list's values
/// in turn, so each value is seen), and each intent's name in words.
pub(crate) fn examples(
    model: &NluModel,
    extractors: &HashMap<String, Extractor>,
) -> (Vec<(String, usize)>, Vec<String>) {
    let values: HashMap<&str, Vec<String>> = model
        .slots
        .iter()
        .map(|s| {
            let mut list: Vec<String> = s
                .synonym_lines()
                .into_iter()
                .map(|mut l| l.swap_remove(0))
                .collect();
            if list.is_empty() || !s.is_custom() {
                list = extractors
                    .get(&s.name)
                    .and_then(Extractor::sample_value)
                    .into_iter()
                    .chain(list)
                    .collect();
            }
            (s.name.as_str(), list)
        })
        .collect();
    let mut examples = Vec::new();
    let mut labels = Vec::new();
    for intent in &model.intents {
        let label = labels.len();
        labels.push(intent.name.clone());
        let mut turn = 0usize;
        for raw in &intent.utterances {
            let text = fill_slots(&model.rewrite_annotations(raw), &values, &mut turn);
            if !text.trim().is_empty() {
                examples.push((text, label));
            }
        }
        let name = name_in_words(&intent.name);
        if !name.is_empty() {
            examples.push((name, label));
        }
    }
    (examples, labels)
}

pub(crate) fn train(
    model: &NluModel,
    extractors: &HashMap<String, Extractor>,
    params: classifier::Params,
    vectors: Option<&Arc<WordVectors>>,
) -> Option<Classifier> {
    let (examples, labels) = examples(model, extractors);
    Classifier::train_with(&examples, labels, params, vectors)
}

/// `{slot}` → the slot's next value (its name when it has none).
fn fill_slots(text: &str, values: &HashMap<&str, Vec<String>>, turn: &mut usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&rest[..open]);
        match values.get(name).filter(|v| !v.is_empty()) {
            Some(list) => out.push_str(&list[*turn % list.len()]),
            None => out.push_str(name),
        }
        *turn += 1;
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// `AMAZON.StopIntent` → "stop", `order_pizza` → "order pizza", `checkBalance` → "check balance".
pub(crate) fn name_in_words(name: &str) -> String {
    let name = name
        .strip_prefix("AMAZON.")
        .or_else(|| name.strip_prefix("VF."))
        .unwrap_or(name);
    let name = name.strip_suffix("Intent").unwrap_or(name);
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == '.' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
