//! Entity extraction (placeholder until the extractors branch lands: custom lists only).

use crate::model::SlotDef;

#[derive(Debug, Clone, PartialEq)]
pub struct EntityMatch {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractContext {
    pub now_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub enum Extractor {
    List(Vec<Vec<String>>),
}

impl Extractor {
    pub fn for_slot(slot: &SlotDef) -> Option<Extractor> {
        let lines = slot.synonym_lines();
        (!lines.is_empty()).then_some(Extractor::List(lines))
    }

    pub fn find_all(&self, text: &str, _cx: &ExtractContext) -> Vec<EntityMatch> {
        let Extractor::List(lines) = self;
        let lower = text.to_lowercase();
        if lower.len() != text.len() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for line in lines {
            for v in line {
                if let Some(start) = lower.find(&v.to_lowercase()) {
                    let end = start + v.len();
                    out.push(EntityMatch {
                        start,
                        end,
                        text: text[start..end].to_string(),
                        value: line[0].clone(),
                    });
                }
            }
        }
        out.sort_by_key(|m| m.start);
        out
    }

    pub fn parse_reply(&self, text: &str, cx: &ExtractContext) -> Option<EntityMatch> {
        self.find_all(text, cx)
            .into_iter()
            .find(|m| m.text.len() == text.trim().len())
    }

    pub fn sample_value(&self) -> Option<String> {
        let Extractor::List(lines) = self;
        lines.first().and_then(|l| l.first()).cloned()
    }

    pub fn kind(&self) -> &'static str {
        "custom list"
    }
}

pub fn supported_types() -> &'static [&'static str] {
    &["Custom"]
}
