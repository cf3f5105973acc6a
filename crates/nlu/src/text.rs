//! Text → features: Unicode words (lowercased), word 1–2-grams and character 2–5-grams inside
//! word boundaries, each hashed to a 64-bit id. Case, punctuation and word order are gone at
//! this point; small typos keep most character n-grams.

use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Longest text (in bytes) that is featurised; the rest is ignored (a 100 KB paste is not an
/// utterance).
pub const MAX_TEXT_BYTES: usize = 2_000;

/// Longer "words" (a pasted token, a run of one letter) have no features.
pub const MAX_WORD_CHARS: usize = 40;

/// Character n-gram lengths (inclusive).
const CHAR_MIN: usize = 2;
const CHAR_MAX: usize = 5;

/// Which family a feature belongs to; the two are weighted and normalised separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Block {
    Words = 0,
    Chars = 1,
}

/// The lowercased words of `text` (letters and digits; apostrophes inside words kept), after
/// compatibility normalisation (NFKC: "𝓬𝓪𝓷𝓬𝓮𝓵" and full-width letters read as "cancel").
pub fn words(text: &str) -> Vec<String> {
    let text = truncate(text);
    if text.is_ascii() {
        // ASCII is its own NFKC form.
        return text.unicode_words().map(str::to_ascii_lowercase).collect();
    }
    let text: String = text.nfkc().collect();
    text.unicode_words().map(str::to_lowercase).collect()
}

/// `text` cut to [`MAX_TEXT_BYTES`] on a character boundary.
pub fn truncate(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn hash(block: Block, parts: &[&str]) -> u64 {
    let mut h = FxHasher::default();
    (block as u8).hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// Every feature occurrence of `text`, as `(id, block)` (repeated ids = term frequency).
pub fn features(text: &str) -> Vec<(u64, Block)> {
    features_of(&words(text))
}

/// [`features`] of words already split by [`words`].
pub fn features_of(words: &[String]) -> Vec<(u64, Block)> {
    let words: Vec<&String> = words
        .iter()
        .filter(|w| w.chars().count() <= MAX_WORD_CHARS)
        .collect();
    let mut out = Vec::with_capacity(words.len() * 16);
    for (i, w) in words.iter().enumerate() {
        out.push((hash(Block::Words, &[w]), Block::Words));
        if let Some(next) = words.get(i + 1) {
            out.push((hash(Block::Words, &[w, " ", next]), Block::Words));
        }
        char_ngrams(w, &mut out);
    }
    out
}

/// Character n-grams of one word padded with a space on each side (scikit-learn's `char_wb`).
fn char_ngrams(word: &str, out: &mut Vec<(u64, Block)>) {
    let padded: Vec<char> = std::iter::once(' ')
        .chain(word.chars())
        .chain(std::iter::once(' '))
        .collect();
    let mut buf = String::with_capacity(CHAR_MAX * 4);
    for n in CHAR_MIN..=CHAR_MAX {
        if padded.len() < n {
            break;
        }
        for window in padded.windows(n) {
            buf.clear();
            buf.extend(window);
            out.push((hash(Block::Chars, &[&buf]), Block::Chars));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_ignore_case_and_punctuation() {
        assert_eq!(
            words("What's the TIME, please?!"),
            vec!["what's", "the", "time", "please"]
        );
        assert!(words("😀😀 !!").is_empty());
        assert_eq!(words("𝓘 𝔀𝓪𝓷𝓽 ＣＡＮＣＥＬ"), vec!["i", "want", "cancel"]);
    }

    #[test]
    fn features_are_order_free_for_single_words() {
        let mut a = features("alarm set");
        let mut b = features("set alarm");
        a.retain(|(_, b)| *b == Block::Chars);
        b.retain(|(_, b)| *b == Block::Chars);
        a.sort_unstable_by_key(|f| f.0);
        b.sort_unstable_by_key(|f| f.0);
        assert_eq!(a, b);
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let text = "été ".repeat(2_000);
        assert!(truncate(&text).len() <= MAX_TEXT_BYTES);
        assert!(!features(&text).is_empty());
    }
}
