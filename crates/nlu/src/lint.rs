//! Where understanding will fail, found before anyone talks to the agent (`flowdm check`):
//! entity types flowdm cannot extract, intents with too few utterances to be learnt, the same
//! utterance under two intents, and entity captures that wait for a value nothing can read.
//! `docs/nlu.md` § flowdm check.

use crate::entities::Extractor;
use crate::model::{IntentDef, NluModel, SlotDef};
use crate::nlc::normalize;
use flowdm_model::{NodeKind, Program, Project};
use std::collections::HashMap;
use std::fmt;

/// Fewer utterances than this and the classifier has too little to learn an intent from.
pub const MIN_UTTERANCES: usize = 3;

/// Why a slot type has no extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unextractable {
    /// A Custom type without a single value.
    EmptyCustom,
    /// A type flowdm has no extractor for, and whose export lists no sample values.
    UnknownType(String),
}

impl fmt::Display for Unextractable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unextractable::EmptyCustom => write!(f, "a Custom type without values"),
            Unextractable::UnknownType(t) if t.is_empty() => write!(f, "a slot without a type"),
            Unextractable::UnknownType(t) => {
                write!(f, "type {t}, which flowdm has no extractor for")
            }
        }
    }
}

/// One NLU warning of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A slot intents use, that flowdm cannot extract from text.
    UnsupportedSlot {
        slot: String,
        reason: Unextractable,
        /// The intents that use it, in model order.
        intents: Vec<String>,
    },
    /// An intent with fewer than [`MIN_UTTERANCES`] utterances.
    FewUtterances { intent: String, count: usize },
    /// The same (normalised) utterance under several intents.
    DuplicateUtterance {
        utterance: String,
        intents: Vec<String>,
    },
    /// An entity capture (captureV2 / capture-v3 step) waiting for an entity flowdm cannot read.
    UnextractableCapture {
        program: String,
        node: String,
        entity: String,
        /// None: the entity is not a slot of the model.
        reason: Option<Unextractable>,
    },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnsupportedSlot {
                slot,
                reason,
                intents,
            } => write!(
                f,
                "entity \"{slot}\" cannot be extracted ({reason}); intents {} will not fill it",
                quoted(intents)
            ),
            Warning::FewUtterances { intent, count } => write!(
                f,
                "intent \"{intent}\" has {count} utterance{}; give it at least {MIN_UTTERANCES} \
                 so it can be told from the others",
                if *count == 1 { "" } else { "s" }
            ),
            Warning::DuplicateUtterance { utterance, intents } => write!(
                f,
                "utterance \"{utterance}\" belongs to intents {}; only the first can match it",
                quoted(intents)
            ),
            Warning::UnextractableCapture {
                program,
                node,
                entity,
                reason,
            } => {
                write!(
                    f,
                    "capture step {node} (program {program}) waits for entity \"{entity}\", "
                )?;
                match reason {
                    Some(r) => write!(
                        f,
                        "which cannot be extracted ({r}): it will never be filled"
                    ),
                    None => write!(f, "which is not in the model: it will never be filled"),
                }
            }
        }
    }
}

/// Why `slot` has no extractor, or None when it has one.
pub fn unextractable(slot: &SlotDef) -> Option<Unextractable> {
    if Extractor::for_slot(slot).is_some() {
        return None;
    }
    Some(if slot.is_custom() {
        Unextractable::EmptyCustom
    } else {
        Unextractable::UnknownType(slot.type_name.trim().to_string())
    })
}

/// Whether `intent` uses `slot` (as one of its slots or in an utterance).
fn uses(model: &NluModel, intent: &IntentDef, slot: &SlotDef) -> bool {
    let placeholder = format!("{{{}}}", slot.name);
    intent.slots.iter().any(|s| s.id == slot.key)
        || intent
            .utterances
            .iter()
            .any(|u| model.rewrite_annotations(u).contains(&placeholder))
}

/// The utterance is slot placeholders and nothing else (`{size}`): an entity answer.
fn slots_only(utterance: &str) -> bool {
    let mut rest = utterance.trim();
    while let Some(after) = rest.strip_prefix('{') {
        let Some(close) = after.find('}') else {
            return false;
        };
        rest = after[close + 1..].trim_start();
    }
    rest.is_empty()
}

/// The entity captures of the programs: `(program, node, capture intent, entities)`, sorted.
fn captures<'a>(programs: &[&'a Program]) -> Vec<(&'a str, &'a str, &'a str, &'a [String])> {
    let mut out: Vec<_> = programs
        .iter()
        .flat_map(|p| {
            p.lines.values().filter_map(|node| match &node.kind {
                NodeKind::CaptureV2(c) => c.intent.as_ref().map(|(intent, entities)| {
                    (
                        p.id.as_str(),
                        node.id.as_str(),
                        intent.as_str(),
                        entities.as_slice(),
                    )
                }),
                _ => None,
            })
        })
        .collect();
    out.sort();
    out
}

/// The NLU warnings of a model and the programs that use it: unsupported slots (model order),
/// intents with few utterances, duplicate utterances, then captures (by program and node).
pub fn lint(model: &NluModel, programs: &[&Program]) -> Vec<Warning> {
    lint_used(model, None, programs)
}

/// [`lint`] where only the intents in `used` (`usedIntentsSet`: keys or names) can be
/// predicted, so only they need utterances.
pub fn lint_used(model: &NluModel, used: Option<&[String]>, programs: &[&Program]) -> Vec<Warning> {
    let is_used =
        |i: &IntentDef| used.is_none_or(|u| u.iter().any(|x| *x == i.name || *x == i.key));
    let used_name = |name: &str| model.intent(name).is_some_and(is_used);
    let captures = captures(programs);
    // Intents an entity capture made of `{slot}` answers: the dialog manager fills them, the
    // classifier does not need to tell them apart.
    let entity_capture = |i: &IntentDef| {
        captures.iter().any(|c| c.2 == i.name)
            && i.utterances
                .iter()
                .all(|u| slots_only(&model.rewrite_annotations(u)))
    };
    let mut warnings = Vec::new();
    for slot in &model.slots {
        let Some(reason) = unextractable(slot) else {
            continue;
        };
        let intents: Vec<String> = model
            .intents
            .iter()
            .filter(|i| uses(model, i, slot))
            .map(|i| i.name.clone())
            .collect();
        if !intents.is_empty() {
            warnings.push(Warning::UnsupportedSlot {
                slot: slot.name.clone(),
                reason,
                intents,
            });
        }
    }
    let learnt: Vec<&IntentDef> = model
        .intents
        .iter()
        .filter(|i| !entity_capture(i))
        .collect();
    for intent in learnt.iter().filter(|i| is_used(i)) {
        if intent.utterances.len() < MIN_UTTERANCES {
            warnings.push(Warning::FewUtterances {
                intent: intent.name.clone(),
                count: intent.utterances.len(),
            });
        }
    }
    // Normalised utterance → the intents that have it, in the order first seen.
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for intent in &learnt {
        for u in &intent.utterances {
            let key = normalize(&model.rewrite_annotations(u));
            let at = *index.entry(key.clone()).or_insert_with(|| {
                seen.push((key, Vec::new()));
                seen.len() - 1
            });
            let names = &mut seen[at].1;
            if !names.contains(&intent.name) {
                names.push(intent.name.clone());
            }
        }
    }
    warnings.extend(
        seen.into_iter()
            // A problem when two intents the diagrams use share it, or an unused one is first
            // (it wins, and an unused prediction is `None`).
            .filter(|(_, intents)| {
                let used_count = intents.iter().filter(|n| used_name(n)).count();
                intents.len() > 1 && (used_count > 1 || !used_name(&intents[0]))
            })
            .map(|(utterance, intents)| Warning::DuplicateUtterance { utterance, intents }),
    );
    for (program, node, _, entities) in captures {
        for entity in entities {
            let slot = model
                .slot_by_name(entity)
                .or_else(|| model.slot_by_key(entity));
            let reason = match slot {
                Some(s) => match unextractable(s) {
                    Some(r) => Some(r),
                    None => continue,
                },
                None => None,
            };
            warnings.push(Warning::UnextractableCapture {
                program: program.to_string(),
                node: node.to_string(),
                entity: entity.clone(),
                reason,
            });
        }
    }
    warnings
}

/// [`lint`] for a loaded project: its version's model and all its programs.
pub fn lint_project(project: &Project) -> Vec<Warning> {
    let model = NluModel::from_value(project.version.model.as_ref());
    let programs: Vec<&Program> = project.programs.values().map(|p| p.as_ref()).collect();
    lint_used(&model, project.version.used_intents.as_deref(), &programs)
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
