//! Which words a model was taught, to tell a text it has evidence for from one that merely
//! shares letters with its utterances ("hello" is not "help"). A content word (not an English
//! stop word, NLTK's list from the `stop-words` crate) counts when it was taught, or is one
//! edit (deletion, insertion, substitution, transposition) away from a taught word of four
//! letters or more (the symmetric-deletion index of SymSpell), or starts with the same five
//! letters as a taught word.

use crate::text;
use rustc_hash::FxHashSet;
use std::sync::OnceLock;

/// Words shorter than this are only known exactly (too many neighbours otherwise).
const TYPO_MIN_CHARS: usize = 4;
/// Words sharing their first this-many characters are forms of one word ("define",
/// "definition"; "economics", "economy").
const STEM_CHARS: usize = 5;

fn stop_words() -> &'static FxHashSet<String> {
    static WORDS: OnceLock<FxHashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        stop_words::get(stop_words::LANGUAGE::English)
            .into_iter()
            .collect()
    })
}

pub fn is_stop_word(word: &str) -> bool {
    stop_words().contains(word)
}

/// The taught words and the one-deletion variants of the longer ones.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    words: FxHashSet<String>,
    deletions: FxHashSet<String>,
    stems: FxHashSet<String>,
}

/// The first [`STEM_CHARS`] characters of a word that long.
fn stem(word: &str) -> Option<&str> {
    word.char_indices()
        .nth(STEM_CHARS)
        .map(|(i, _)| &word[..i])
        .or_else(|| (word.chars().count() == STEM_CHARS).then_some(word))
}

/// `word` with one character removed, for every position.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    word.char_indices().map(move |(i, c)| {
        let mut out = String::with_capacity(word.len());
        out.push_str(&word[..i]);
        out.push_str(&word[i + c.len_utf8()..]);
        out
    })
}

impl Vocabulary {
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vocabulary {
        let mut v = Vocabulary::default();
        for t in texts {
            for w in text::words(t) {
                if w.chars().count() >= TYPO_MIN_CHARS {
                    v.deletions.extend(deletions(&w));
                }
                if let Some(s) = stem(&w) {
                    v.stems.insert(s.to_string());
                }
                v.words.insert(w);
            }
        }
        v
    }

    /// Taught, starting like a taught word (five letters), or one edit from a taught word of
    /// at least four letters.
    pub fn knows(&self, word: &str) -> bool {
        if self.words.contains(word) {
            return true;
        }
        if word.chars().count() < TYPO_MIN_CHARS {
            return false;
        }
        if stem(word).is_some_and(|s| self.stems.contains(s)) {
            return true;
        }
        // One more letter than a taught word, one letter less, or one different.
        self.deletions.contains(word)
            || deletions(word).any(|d| self.words.contains(&d) || self.deletions.contains(&d))
    }

    /// Whether the text has a known content word; a text of stop words only needs one of its
    /// words known ("no", "not now").
    pub fn has_evidence(&self, words: &[String]) -> bool {
        let content: Vec<&String> = words.iter().filter(|w| !is_stop_word(w)).collect();
        if content.is_empty() {
            words.iter().any(|w| self.words.contains(w))
        } else {
            content.iter().any(|w| self.knows(w))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::new(["I need help", "what is the weather", "no", "not now"])
    }

    fn words(t: &str) -> Vec<String> {
        text::words(t)
    }

    #[test]
    fn taught_words_and_typos_are_evidence() {
        let v = vocab();
        assert!(v.has_evidence(&words("help!")));
        assert!(v.has_evidence(&words("wether please")));
        assert!(v.has_evidence(&words("helpp")));
        assert!(v.has_evidence(&words("hlep")));
        assert!(v.has_evidence(&words("No")));
        assert!(v.has_evidence(&words("weathery")));
    }

    #[test]
    fn look_alikes_and_small_talk_are_not() {
        let v = vocab();
        assert!(!v.has_evidence(&words("hello")));
        assert!(!v.has_evidence(&words("I am doing well")));
        assert!(!v.has_evidence(&words("a")));
        assert!(!v.has_evidence(&[]));
    }
}
