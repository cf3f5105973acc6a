//! List types: the values of a Custom slot type (or the sample values a built-in type lists),
//! each a line of comma-separated synonyms whose first value is canonical. Matching is by
//! words, case- and accent-insensitive (`unicode-normalization`: NFD, combining marks removed),
//! longest phrase first; a phrase without an exact match may match a synonym with a small typo,
//! scored as in `spec/dm-api.md` §8.5 with `strsim` (Damerau-Levenshtein and Sørensen–Dice).

use super::{found, EntityMatch};
use std::collections::HashMap;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Lowercase, NFD, combining marks removed ("Crème" → "creme").
pub fn normalize(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// §8.5: `floor((DamerauLevenshteinSimilarity + Dice + (0.1 if same first char)) / 0.021)`,
/// at most 100, for normalized strings.
pub fn synonym_score(a: &str, b: &str) -> u32 {
    let dl = strsim::normalized_damerau_levenshtein(a, b);
    let dice = strsim::sorensen_dice(a, b);
    let bonus = if a.chars().next() == b.chars().next() {
        0.1
    } else {
        0.0
    };
    let score = ((dl + dice + bonus) / 0.021).floor();
    // The sum is at most 2.1 → 100; the cast only drops a fraction already floored.
    score.clamp(0.0, 100.0) as u32
}

/// A phrase of the text shorter than this (in characters) is only matched exactly.
const FUZZY_MIN_CHARS: usize = 4;
/// Up to this length a fuzzy match must keep the first letter and differ by one edit.
const FUZZY_SHORT_CHARS: usize = 5;
/// The most fuzzy comparisons one `find_all` makes (keeps long texts fast).
const FUZZY_BUDGET: usize = 5_000;

#[derive(Debug, Clone)]
struct Synonym {
    /// Normalized words joined by one space.
    phrase: String,
    chars: usize,
    words: usize,
    line: usize,
}

/// The values of one list type, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct ListTable {
    /// The canonical (first) value of each line, as written.
    canonical: Vec<String>,
    /// Each line's values, normalized (for §8.5 resolution).
    lines: Vec<Vec<String>>,
    synonyms: Vec<Synonym>,
    exact: HashMap<String, usize>,
    max_words: usize,
}

/// The words of `text` (alphanumeric runs) with their byte spans, normalized.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i, normalize(&text[s..i])));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn phrase_of(words: &[(usize, usize, String)]) -> String {
    words
        .iter()
        .map(|(_, _, w)| w.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl ListTable {
    /// A table from synonym lines (each line's first value canonical; see
    /// `SlotDef::synonym_lines`). The first line wins a synonym listed twice.
    pub fn new(lines: &[Vec<String>]) -> ListTable {
        let mut table = ListTable::default();
        for values in lines {
            let Some(first) = values.first() else {
                continue;
            };
            let line = table.canonical.len();
            table.canonical.push(first.clone());
            table
                .lines
                .push(values.iter().map(|v| normalize(v.trim())).collect());
            for value in values {
                let ws = words(value);
                if ws.is_empty() {
                    continue;
                }
                let phrase = phrase_of(&ws);
                table.max_words = table.max_words.max(ws.len());
                if table.exact.contains_key(&phrase) {
                    continue;
                }
                table.exact.insert(phrase.clone(), line);
                table.synonyms.push(Synonym {
                    chars: phrase.chars().count(),
                    words: ws.len(),
                    phrase,
                    line,
                });
            }
        }
        table
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// The canonical value of the first line.
    pub fn first_value(&self) -> Option<&str> {
        self.canonical.first().map(String::as_str)
    }

    /// The best fuzzy synonym for a phrase of `words` words, if one is close enough.
    fn fuzzy(&self, phrase: &str, words: usize, budget: &mut usize) -> Option<usize> {
        let chars = phrase.chars().count();
        if chars < FUZZY_MIN_CHARS {
            return None;
        }
        let mut best: Option<(u32, usize)> = None;
        for s in self.synonyms.iter().filter(|s| s.words == words) {
            if s.chars < FUZZY_MIN_CHARS || s.chars.abs_diff(chars) > s.chars.max(chars) / 3 + 1 {
                continue;
            }
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            let score = synonym_score(phrase, &s.phrase);
            if score <= 60 {
                continue;
            }
            if s.chars.max(chars) <= FUZZY_SHORT_CHARS
                && (phrase.chars().next() != s.phrase.chars().next()
                    || strsim::damerau_levenshtein(phrase, &s.phrase) > 1)
            {
                continue;
            }
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, s.line));
            }
        }
        best.map(|(_, line)| line)
    }

    /// Every value in `text`: at each word, the longest exact phrase, else the longest fuzzy one.
    pub fn find_all(&self, text: &str) -> Vec<EntityMatch> {
        let words = words(text);
        let mut out = Vec::new();
        let mut budget = FUZZY_BUDGET;
        let mut i = 0;
        while i < words.len() {
            let longest = self.max_words.min(words.len() - i);
            let phrases: Vec<String> = (1..=longest).map(|n| phrase_of(&words[i..i + n])).collect();
            let exact = (1..=longest)
                .rev()
                .find_map(|n| Some((n, *self.exact.get(&phrases[n - 1])?)));
            let hit = exact.or_else(|| {
                (1..=longest)
                    .rev()
                    .find_map(|n| Some((n, self.fuzzy(&phrases[n - 1], n, &mut budget)?)))
            });
            match hit {
                Some((n, line)) => {
                    let (start, end) = (words[i].0, words[i + n - 1].1);
                    let value = self.canonical.get(line).cloned().unwrap_or_default();
                    out.push(found(text, start, end, value));
                    i += n;
                }
                None => i += 1,
            }
        }
        out
    }
}
