//! Redis key layout (`docs/redis.md`). Every key of one session carries the same hash tag
//! `{<project>:<user>}`, every key of one project `{<project>}`, so a session's keys (and a
//! project's transcripts) live in one Redis Cluster slot and one Lua script may touch them all.
//!
//! ```text
//! <prefix>{<project>:<user>}:d          the state (JSON)                          idle TTL
//! <prefix>{<project>:<user>}:v          its version (a counter)                   idle TTL
//! <prefix>{<project>:<user>}:l          the lock: a random token                  lock TTL
//! <prefix>{<project>:<user>}:w:<token>  a new state staged by a commit            lock TTL
//! <prefix>{<project>:<user>}:r:<token>  a response staged by a commit             lock TTL
//! <prefix>{<project>:<user>}:i:<key>    the response stored for Idempotency-Key   idle TTL
//! <prefix>{<project>:<user>}:q          the idempotency keys, oldest first        idle TTL
//! <prefix>{<project>}:t                 hash {sessionID: transcript JSON}
//! <prefix>{<project>}:to                list of sessionIDs, oldest first (capped)
//! <prefix>{<project>}:f                 list of feedback JSON, oldest first (capped)
//! ```
//!
//! Large values (the state, responses) never pass through Lua: a commit stages them with
//! `PSETEX` in the same pipeline as its script, which `RENAME`s them into place once the lock
//! token and the version check out (Redis hashes every byte of a string handed to Lua).
//!
//! Project and user ids are escaped (`%` → `%25`, `{` → `%7B`, `}` → `%7D`, `:` → `%3A`) so a
//! key names exactly one (project, user) and the hash tag is always the whole pair.

use super::SessionKey;

/// Escapes the characters that would make a key ambiguous or move its hash tag.
fn escape(out: &mut String, id: &str) {
    for c in id.chars() {
        match c {
            '%' => out.push_str("%25"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
}

/// The keys of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// `…:` — every key of the session starts with it.
    base: String,
    pub state: String,
    pub version: String,
    pub lock: String,
    pub idempotency_order: String,
}

impl SessionKeys {
    pub fn new(prefix: &str, key: &SessionKey) -> SessionKeys {
        let mut base =
            String::with_capacity(prefix.len() + key.project_id.len() + key.user_id.len() + 6);
        base.push_str(prefix);
        base.push('{');
        escape(&mut base, &key.project_id);
        base.push(':');
        escape(&mut base, &key.user_id);
        base.push_str("}:");
        let with = |suffix: &str| {
            let mut k = String::with_capacity(base.len() + suffix.len());
            k.push_str(&base);
            k.push_str(suffix);
            k
        };
        SessionKeys {
            state: with("d"),
            version: with("v"),
            lock: with("l"),
            idempotency_order: with("q"),
            base,
        }
    }

    /// Where a commit stages the new state.
    pub fn staged_state(&self, token: &str) -> String {
        format!("{}w:{token}", self.base)
    }

    /// Where a commit stages the response to remember.
    pub fn staged_response(&self, token: &str) -> String {
        format!("{}r:{token}", self.base)
    }

    /// The prefix of idempotency records (`record_prefix() + key` is a record).
    pub fn record_prefix(&self) -> String {
        format!("{}i:", self.base)
    }

    /// The response stored under an idempotency key.
    pub fn record(&self, idempotency_key: &str) -> String {
        format!("{}i:{idempotency_key}", self.base)
    }
}

/// The keys of one project (transcripts and feedback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectKeys {
    pub transcripts: String,
    pub transcript_order: String,
    pub feedback: String,
}

impl ProjectKeys {
    pub fn new(prefix: &str, project_id: &str) -> ProjectKeys {
        let mut base = String::with_capacity(prefix.len() + project_id.len() + 4);
        base.push_str(prefix);
        base.push('{');
        escape(&mut base, project_id);
        base.push_str("}:");
        ProjectKeys {
            transcripts: format!("{base}t"),
            transcript_order: format!("{base}to"),
            feedback: format!("{base}f"),
        }
    }
}

/// The hash tag Redis Cluster hashes for `key`: the text between the first `{` and the next
/// `}` when that is not empty, else the whole key.
pub fn hash_tag(key: &str) -> &str {
    if let Some(open) = key.find('{') {
        if let Some(len) = key[open + 1..].find('}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tag_per_session_and_per_project() {
        let k = SessionKeys::new("flowdm:", &SessionKey::new("p1", "alice"));
        assert_eq!(k.state, "flowdm:{p1:alice}:d");
        assert_eq!(k.version, "flowdm:{p1:alice}:v");
        assert_eq!(k.lock, "flowdm:{p1:alice}:l");
        assert_eq!(k.idempotency_order, "flowdm:{p1:alice}:q");
        assert_eq!(k.staged_state("t1"), "flowdm:{p1:alice}:w:t1");
        assert_eq!(k.staged_response("t1"), "flowdm:{p1:alice}:r:t1");
        assert_eq!(k.record("a{b}"), "flowdm:{p1:alice}:i:a{b}");
        assert_eq!(k.record_prefix(), "flowdm:{p1:alice}:i:");
        for key in [
            k.state.clone(),
            k.version.clone(),
            k.lock.clone(),
            k.idempotency_order.clone(),
            k.staged_state("t"),
            k.staged_response("t"),
            k.record("x}y{z"),
        ] {
            assert_eq!(hash_tag(&key), "p1:alice");
        }
        let p = ProjectKeys::new("x/", "p1");
        assert_eq!(p.transcripts, "x/{p1}:t");
        assert_eq!(p.transcript_order, "x/{p1}:to");
        assert_eq!(p.feedback, "x/{p1}:f");
        assert_eq!(hash_tag(&p.transcripts), "p1");
    }

    #[test]
    fn ids_are_escaped() {
        // Without escaping, (p "a:b", u "c") and (p "a", u "b:c") would share keys, and a `}` in
        // a user id would cut the hash tag short.
        let a = SessionKeys::new("", &SessionKey::new("a:b", "c"));
        let b = SessionKeys::new("", &SessionKey::new("a", "b:c"));
        assert_ne!(a.state, b.state);
        let k = SessionKeys::new("", &SessionKey::new("p", "we}ird{%"));
        assert_eq!(k.state, "{p:we%7Dird%7B%25}:d");
        assert_eq!(hash_tag(&k.state), "p:we%7Dird%7B%25");
        assert_eq!(hash_tag("plain"), "plain");
        assert_eq!(hash_tag("a{}b"), "a{}b");
    }
}
