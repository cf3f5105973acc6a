//! Synonym resolution on the dialog-manager path (`spec/dm-api.md` §8.5): an entity value is
//! mapped to the canonical (first) value of the synonym line it resembles most.

use crate::entities::{normalize, synonym_score};
use crate::model::SlotDef;

/// A score of 100 (an exact match after normalisation) ends the search at once.
const EXACT: u32 = 100;
/// The best line's canonical value is used only above this score.
const THRESHOLD: u32 = 60;

/// The canonical value for `value` among `slot`'s synonym lines (lines with at least two
/// values), or `None` to keep the value as it is.
pub fn canonical(slot: &SlotDef, value: &str) -> Option<String> {
    let wanted = normalize(value);
    let mut best: Option<(u32, &str)> = None;
    let lines = slot.synonym_lines();
    for line in lines.iter().filter(|l| l.len() >= 2) {
        let first = line[0].as_str();
        for synonym in line {
            let s = synonym_score(&wanted, &normalize(synonym));
            if s >= EXACT {
                return Some(first.to_string());
            }
            if best.map(|(b, _)| s > b).unwrap_or(true) {
                best = Some((s, first));
            }
        }
    }
    best.filter(|(s, _)| *s > THRESHOLD)
        .map(|(_, first)| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(lines: &[&str]) -> SlotDef {
        SlotDef {
            key: "k".into(),
            name: "size".into(),
            type_name: "Custom".into(),
            inputs: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn an_exact_synonym_gives_its_line_s_first_value() {
        let s = slot(&["small, tiny, little", "large, big, huge"]);
        assert_eq!(canonical(&s, "big").as_deref(), Some("large"));
        assert_eq!(canonical(&s, "tiny").as_deref(), Some("small"));
        // The canonical value itself scores 100 too.
        assert_eq!(canonical(&s, "large").as_deref(), Some("large"));
    }

    #[test]
    fn case_and_accents_do_not_matter() {
        let s = slot(&["creme brulee, brulee", "cafe, coffee"]);
        assert_eq!(
            canonical(&s, "Crème Brûlée").as_deref(),
            Some("creme brulee")
        );
        assert_eq!(canonical(&s, "CAFÉ").as_deref(), Some("cafe"));
    }

    #[test]
    fn a_close_misspelling_maps_above_60() {
        let s = slot(&["large, big, huge", "small, tiny"]);
        // "hugee": distance 1 of 5 → 0.8, Dice 6/7 ≈ 0.857, same first char → floor(83.67) = 83.
        assert_eq!(synonym_score("hugee", "huge"), 83);
        assert_eq!(canonical(&s, "hugee").as_deref(), Some("large"));
    }

    #[test]
    fn a_dissimilar_value_is_kept() {
        let s = slot(&["large, big, huge", "small, tiny"]);
        assert_eq!(canonical(&s, "medium"), None);
    }

    #[test]
    fn lines_with_a_single_value_are_ignored() {
        let s = slot(&["large", "small, tiny"]);
        assert_eq!(canonical(&s, "large"), None);
        assert_eq!(canonical(&s, "tiny").as_deref(), Some("small"));
    }

    #[test]
    fn the_score_is_the_spec_formula() {
        assert_eq!(synonym_score("big", "big"), 100);
        // No similarity at all and different first letters.
        assert_eq!(synonym_score("ab", "xy"), 0);
        // "abcd" vs "abdc": one transposition of 4 → 0.75; bigrams {ab,bc,cd} vs {ab,bd,dc}:
        // Dice 2·1/6 ≈ 0.333; bonus 0.1 → floor(1.1833 / 0.021) = 56.
        assert_eq!(synonym_score("abcd", "abdc"), 56);
    }
}
