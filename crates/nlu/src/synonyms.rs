//! Synonym resolution on the dialog-manager path (`spec/dm-api.md` §8.5): an entity value is
//! mapped to the canonical (first) value of the synonym line it resembles most.

use crate::model::SlotDef;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A score of 100 (an exact match after normalisation) ends the search at once.
const EXACT: u32 = 100;
/// The best line's canonical value is used only above this score.
const THRESHOLD: u32 = 60;
/// `floor(sum / STEP)`: the sum of the two similarities and the first-letter bonus (≤ 2.1)
/// scaled to at most 100.
const STEP: f64 = 0.021;
const SAME_FIRST_CHAR_BONUS: f64 = 0.1;

/// Unicode NFD, combining marks removed, lowercase.
fn normalize(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// `floor((DamerauLevenshteinSimilarity + Dice + bonus) / 0.021)` of two normalised strings.
fn score(a: &str, b: &str) -> u32 {
    let dl = strsim::normalized_damerau_levenshtein(a, b);
    let dice = strsim::sorensen_dice(a, b);
    let same_first = match (a.chars().next(), b.chars().next()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    };
    let bonus = if same_first {
        SAME_FIRST_CHAR_BONUS
    } else {
        0.0
    };
    // Rounding: 2.1 / 0.021 must give exactly 100.
    let scaled = (dl + dice + bonus) / STEP;
    (scaled + 1e-9).floor().max(0.0) as u32
}

/// The canonical value for `value` among `slot`'s synonym lines (lines with at least two
/// values), or `None` to keep the value as it is.
pub fn canonical(slot: &SlotDef, value: &str) -> Option<String> {
    let wanted = normalize(value);
    let mut best: Option<(u32, &str)> = None;
    let lines = slot.synonym_lines();
    for line in lines.iter().filter(|l| l.len() >= 2) {
        let first = line[0].as_str();
        for synonym in line {
            let s = score(&wanted, &normalize(synonym));
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
        assert_eq!(score("hugee", "huge"), 83);
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
        assert_eq!(score("big", "big"), 100);
        // No similarity at all and different first letters.
        assert_eq!(score("ab", "xy"), 0);
        // "abcd" vs "abdc": one transposition of 4 → 0.75; bigrams {ab,bc,cd} vs {ab,bd,dc}:
        // Dice 2·1/6 ≈ 0.333; bonus 0.1 → floor(1.1833 / 0.021) = 56.
        assert_eq!(score("abcd", "abdc"), 56);
    }
}
