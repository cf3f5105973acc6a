//! Text → intent and entities (`spec/dm-api.md` §8), trained from the agent's own model when it
//! loads: strict NLC (§8.3) → the local classifier ([`classifier`]) above the agent's confidence
//! threshold → open-slot NLC → `None`, then the `usedIntentsSet` filter (§8.2). A ranking made
//! outside from an embeddings provider ([`semantic`]) can be mixed into the classifier's before
//! the threshold ([`Nlu::predict_with`]).

pub mod classifier;
pub mod entities;
pub mod lint;
pub mod model;
pub mod nlc;
pub mod semantic;
pub mod synonyms;
pub mod text;
mod training;
pub mod vectors;
pub mod vocabulary;

use classifier::Classifier;
use entities::{ExtractContext, Extractor};
use flowdm_model::VersionInfo;
use model::NluModel;
use nlc::Nlc;
use semantic::ExternalRanking;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use training::{examples, train};
use vectors::WordVectors;

pub use nlc::normalize;

/// The confidence threshold when the version sets none (§8.2 step 2).
pub const DEFAULT_THRESHOLD: f64 = 0.6;
/// The confidence of an open-slot NLC match (§8.2 step 4.3).
pub const OPEN_SLOT_CONFIDENCE: f64 = 0.5;
/// How many ranked intents a prediction lists.
pub const RANKED_INTENTS: usize = 10;
/// The intent of text nothing understood.
pub const NONE_INTENT: &str = "None";

/// An entity found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub name: String,
    pub value: String,
}

/// Which step of the cascade decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Strict NLC (confidence 1).
    Nlc,
    /// The local classifier (combined with an external ranking when there was one), above the
    /// threshold.
    Classifier,
    /// Open-slot NLC (confidence 0.5).
    OpenNlc,
    /// Nothing understood the text (`None`, confidence 1).
    Nothing,
    /// An intent the diagrams do not use (`None`, no confidence).
    Unused,
}

/// What the NLU made of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub intent: String,
    pub confidence: Option<f64>,
    pub entities: Vec<Entity>,
    /// The classifier's ranking (best first), whatever was decided; combined with the external
    /// ranking when [`Nlu::predict_with`] was given one for this text.
    pub intents: Vec<(String, f64)>,
    pub source: Source,
}

impl Prediction {
    pub fn is_none(&self) -> bool {
        self.intent == NONE_INTENT
    }
}

/// The NLU of one loaded version.
#[derive(Debug, Clone, Default)]
pub struct Nlu {
    model: NluModel,
    /// `usedIntentsSet` (keys and names); `None` = every intent is used.
    used: Option<HashSet<String>>,
    strict: Nlc,
    open: Nlc,
    classifier: Option<Classifier>,
    threshold: f64,
    /// Slot name → its extractor (slots flowdm cannot extract are absent).
    extractors: HashMap<String, Extractor>,
}

impl Nlu {
    /// The NLU of a loaded version: its model, `usedIntentsSet` and threshold, and word vectors
    /// for the classifier when there are some ([`vectors`]).
    pub fn for_version(version: &VersionInfo, vectors: Option<&Arc<WordVectors>>) -> Nlu {
        Nlu::build_with_vectors(
            version.model.as_ref(),
            version.used_intents.as_deref(),
            version.settings.intent_confidence,
            vectors,
        )
    }

    /// [`Nlu::build`] with word vectors when there are some (and their constants,
    /// [`classifier::Params::with_vectors`]).
    pub fn build_with_vectors(
        model: Option<&Value>,
        used: Option<&[String]>,
        threshold: Option<f64>,
        vectors: Option<&Arc<WordVectors>>,
    ) -> Nlu {
        let params = match vectors {
            Some(_) => classifier::Params::with_vectors(),
            None => classifier::Params::default(),
        };
        Nlu::build_with(model, used, threshold, params, vectors)
    }

    /// Builds matchers and trains the classifier from `prototype.model`.
    pub fn build(model: Option<&Value>, used: Option<&[String]>, threshold: Option<f64>) -> Nlu {
        Nlu::build_with(model, used, threshold, classifier::Params::default(), None)
    }

    /// [`Nlu::build`] with other classifier constants (cross-validation).
    pub fn build_with(
        model: Option<&Value>,
        used: Option<&[String]>,
        threshold: Option<f64>,
        params: classifier::Params,
        vectors: Option<&Arc<WordVectors>>,
    ) -> Nlu {
        let model = NluModel::from_value(model);
        let extractors: HashMap<String, Extractor> = model
            .slots
            .iter()
            .filter_map(|s| Extractor::for_slot(s).map(|e| (s.name.clone(), e)))
            .collect();
        let classifier = train(&model, &extractors, params, vectors);
        Nlu {
            strict: Nlc::build(&model, false),
            open: Nlc::build(&model, true),
            used: used.map(|u| u.iter().cloned().collect()),
            threshold: threshold.unwrap_or(DEFAULT_THRESHOLD),
            classifier,
            extractors,
            model,
        }
    }

    pub fn model(&self) -> &NluModel {
        &self.model
    }

    /// Approximate heap size of the trained classifier.
    pub fn size_bytes(&self) -> usize {
        self.classifier.as_ref().map_or(0, Classifier::size_bytes)
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn extractor(&self, slot_name: &str) -> Option<&Extractor> {
        self.extractors.get(slot_name)
    }

    pub fn is_empty(&self) -> bool {
        self.model.intents.is_empty()
    }

    /// What the classifier learns from, as `(intent name, text)`: each utterance with its slots
    /// filled by sample values, and each intent's name in words. An embeddings index
    /// ([`semantic::EmbeddingIndex`]) is built from the same texts.
    pub fn training_texts(&self) -> Vec<(String, String)> {
        let (examples, labels) = examples(&self.model, &self.extractors);
        examples
            .into_iter()
            .filter_map(|(text, label)| labels.get(label).map(|name| (name.clone(), text)))
            .collect()
    }

    /// Whether predictions of `intent` count (§8.1: `None` always does).
    pub fn is_used(&self, intent: &str) -> bool {
        intent == NONE_INTENT
            || match &self.used {
                None => true,
                Some(used) => {
                    used.contains(intent)
                        || self
                            .model
                            .intent(intent)
                            .is_some_and(|i| used.contains(&i.key))
                }
            }
    }

    /// The classifier's ranking of `text`: `(intent, confidence)`, best first.
    pub fn rank(&self, text: &str) -> Vec<(String, f64)> {
        let Some(clf) = &self.classifier else {
            return Vec::new();
        };
        clf.rank(text)
            .into_iter()
            .take(RANKED_INTENTS)
            .map(|(i, p)| (clf.labels()[i].clone(), p))
            .collect()
    }

    /// §8.2 step 4–5: strict NLC → classifier above the threshold → open-slot NLC → `None`;
    /// unused intents become `None` without a confidence.
    pub fn predict(&self, text: &str, cx: &ExtractContext) -> Prediction {
        self.predict_with(text, cx, None)
    }

    /// [`Nlu::predict`] with the classifier's ranking combined with `external`
    /// ([`semantic::combine`]) before the threshold, when `external` ranks this very text
    /// (otherwise it is ignored). NLC matches and the `usedIntentsSet` filter are unchanged.
    pub fn predict_with(
        &self,
        text: &str,
        cx: &ExtractContext,
        external: Option<&ExternalRanking>,
    ) -> Prediction {
        let local = self.rank(text);
        let intents = match external.filter(|e| e.text == text) {
            Some(e) => {
                let mut combined = semantic::combine(&local, &e.intents, e.weight);
                combined.retain(|(_, p)| *p > 0.0);
                for (_, p) in &mut combined {
                    *p = p.min(classifier::MAX_CONFIDENCE);
                }
                combined.truncate(RANKED_INTENTS);
                combined
            }
            None => local,
        };
        let mut prediction = if let Some(m) = self.strict.matches(text) {
            self.nlc_prediction(m, 1.0, Source::Nlc, &intents)
        } else if let Some((name, p)) = intents.first().filter(|(_, p)| *p >= self.threshold) {
            Prediction {
                intent: name.clone(),
                confidence: Some(*p),
                entities: self.extract(name, text, cx),
                intents: intents.clone(),
                source: Source::Classifier,
            }
        } else if let Some(m) = self.open.matches(text) {
            self.nlc_prediction(m, OPEN_SLOT_CONFIDENCE, Source::OpenNlc, &intents)
        } else {
            Prediction {
                intent: NONE_INTENT.into(),
                confidence: Some(1.0),
                entities: Vec::new(),
                intents: intents.clone(),
                source: Source::Nothing,
            }
        };
        if !self.is_used(&prediction.intent) {
            prediction.intent = NONE_INTENT.into();
            prediction.confidence = None;
            prediction.entities.clear();
            prediction.source = Source::Unused;
        }
        prediction
    }

    fn nlc_prediction(
        &self,
        m: nlc::NlcMatch,
        confidence: f64,
        source: Source,
        intents: &[(String, f64)],
    ) -> Prediction {
        Prediction {
            intent: m.intent,
            confidence: Some(confidence),
            entities: m
                .entities
                .into_iter()
                .map(|(name, value)| Entity { name, value })
                .collect(),
            intents: intents.to_vec(),
            source,
        }
    }

    /// The intent's slots found in `text`, in slot order, without overlaps.
    pub fn extract(&self, intent: &str, text: &str, cx: &ExtractContext) -> Vec<Entity> {
        let Some(def) = self.model.intent(intent) else {
            return Vec::new();
        };
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut out = Vec::new();
        for slot in &def.slots {
            let Some(extractor) = self.extractors.get(&slot.name) else {
                continue;
            };
            let found = extractor
                .find_all(text, cx)
                .into_iter()
                .find(|m| taken.iter().all(|(s, e)| m.end <= *s || m.start >= *e));
            if let Some(m) = found {
                taken.push((m.start, m.end));
                out.push(Entity {
                    name: slot.name.clone(),
                    value: m.value,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
