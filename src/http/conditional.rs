//! Conditional writes on the state routes (`docs/limits.md` § Conditional writes; not in the
//! reference): the `ETag` of a stored session, and the `If-Match` / `If-None-Match` headers of
//! `PUT`, `PATCH …/variables`, `DELETE` and reset (`POST /state/user/{userID}`).
//!
//! The tag is strong and computed from the state's content: `"` + 32 hex digits (128 bits of
//! SHA-256 of the state's JSON, as `GET` answers it) + `"`, so every server process — and
//! every build — gives a stored state the same tag. The preconditions are checked inside the
//! session's write transaction (`super::session::write_session_if`), on the state read under
//! the lock: a refused write (412) changes nothing, and two writers holding the same tag
//! cannot both succeed.

use super::errors::ApiError;
use super::response::Answer;
use crate::engine::State;
use actix_web::body::BoxBody;
use actix_web::http::header::{HeaderValue, ETAG, IF_MATCH, IF_NONE_MATCH};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use sha2::{Digest, Sha256};

/// The tag of a state's JSON bytes.
pub fn etag_of_bytes(json: &[u8]) -> String {
    finish(Sha256::new_with_prefix(json))
}

fn finish(h: Sha256) -> String {
    format!("\"{}\"", hex::encode(&h.finalize()[..16]))
}

/// Feeds serialised JSON straight into the hash (no copy of the state's bytes).
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The tag of a state: the same as [`etag_of_bytes`] of its JSON.
pub fn etag_of(state: &State) -> Result<String, ApiError> {
    let mut w = HashWriter(Sha256::new());
    serde_json::to_writer(&mut w, state)
        .map_err(|e| ApiError::internal(format!("cannot serialise the state: {e}")))?;
    Ok(finish(w.0))
}

/// One entity tag of a header: its opaque part (quotes included) and whether it is weak.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    weak: bool,
    opaque: String,
}

/// `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Any,
    Tags(Vec<Tag>),
}

/// Parses `If-Match` / `If-None-Match` (RFC 9110 §13.1.1–2): `*`, or a comma-separated list
/// of `"opaque"` / `W/"opaque"` (opaque: visible ASCII but `"`, or non-ASCII bytes). An empty
/// value is an empty list (RFC 9110 §5.6.1): `If-Match` then matches nothing, `If-None-Match`
/// everything.
fn parse(value: &[u8]) -> Option<Condition> {
    let trimmed = value.trim_ascii();
    if trimmed == b"*" {
        return Some(Condition::Any);
    }
    let mut tags = Vec::new();
    let mut rest = trimmed;
    loop {
        rest = rest.trim_ascii_start();
        // Empty list elements are allowed (`a, , b`).
        if let Some(r) = rest.strip_prefix(b",") {
            rest = r;
            continue;
        }
        if rest.is_empty() {
            break;
        }
        let (weak, r) = match rest.strip_prefix(b"W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let r = r.strip_prefix(b"\"")?;
        let end = r.iter().position(|&b| b == b'"')?;
        let opaque = &r[..end];
        if !opaque
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push(Tag {
            weak,
            opaque: format!("\"{}\"", String::from_utf8_lossy(opaque)),
        });
        rest = r[end + 1..].trim_ascii_start();
        match rest.first() {
            None => break,
            Some(b',') => rest = &rest[1..],
            Some(_) => return None,
        }
    }
    Some(Condition::Tags(tags))
}

/// The header (its lines joined), parsed; 400 (Validation shape) when malformed.
fn read_header(
    req: &HttpRequest,
    name: actix_web::http::header::HeaderName,
    field: &str,
) -> Result<Option<Condition>, ApiError> {
    let lines: Vec<&HeaderValue> = req.headers().get_all(&name).collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let joined = lines
        .iter()
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>()
        .join(&b", "[..]);
    parse(&joined).map(Some).ok_or_else(|| {
        ApiError::validation(
            field,
            "must be * or a comma-separated list of entity tags (\"…\" or W/\"…\")",
        )
    })
}

/// The preconditions of a write request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    if_match: Option<Condition>,
    if_none_match: Option<Condition>,
}

fn failed(message: String) -> ApiError {
    ApiError::object(StatusCode::PRECONDITION_FAILED, message)
}

impl Preconditions {
    /// Reads `If-Match` and `If-None-Match`; 400 when one is malformed.
    pub fn read(req: &HttpRequest) -> Result<Preconditions, ApiError> {
        Ok(Preconditions {
            if_match: read_header(req, IF_MATCH, "If-Match")?,
            if_none_match: read_header(req, IF_NONE_MATCH, "If-None-Match")?,
        })
    }

    /// No precondition.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Checks the preconditions against the stored state (`None`: no session): 412 when one
    /// fails. `If-Match` compares strongly (a weak tag never matches), `If-None-Match` weakly.
    pub fn check(&self, stored: Option<&State>) -> Result<(), ApiError> {
        if self.is_empty() {
            return Ok(());
        }
        let current = stored.map(etag_of).transpose()?;
        match (&self.if_match, &current) {
            (None, _) => {}
            (Some(_), None) => {
                return Err(failed(
                    "If-Match: there is no session to match; nothing was changed".into(),
                ))
            }
            (Some(Condition::Any), Some(_)) => {}
            (Some(Condition::Tags(tags)), Some(cur)) => {
                if !tags.iter().any(|t| !t.weak && &t.opaque == cur) {
                    return Err(failed(format!(
                        "If-Match: the session changed (its ETag is now {cur}); nothing was changed"
                    )));
                }
            }
        }
        match (&self.if_none_match, &current) {
            (None, _) | (Some(_), None) => Ok(()),
            (Some(Condition::Any), Some(_)) => Err(failed(
                "If-None-Match: * : a session exists; nothing was changed".into(),
            )),
            (Some(Condition::Tags(tags)), Some(cur)) => {
                if tags.iter().any(|t| &t.opaque == cur) {
                    Err(failed(format!(
                        "If-None-Match: the session's ETag is {cur}; nothing was changed"
                    )))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// An answer with the `ETag` of the session it left (none: no header).
#[derive(Debug)]
pub struct Tagged {
    pub answer: Answer,
    pub etag: Option<String>,
}

impl Tagged {
    pub fn untagged(answer: Answer) -> Tagged {
        Tagged { answer, etag: None }
    }
}

impl Responder for Tagged {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let mut res = self.answer.respond_to(req);
        if let Some(v) = self.etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
            res.headers_mut().insert(ETAG, v);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(weak: bool, s: &str) -> Tag {
        Tag {
            weak,
            opaque: format!("\"{s}\""),
        }
    }

    #[test]
    fn headers_parse() {
        assert_eq!(parse(b" * "), Some(Condition::Any));
        assert_eq!(
            parse(br#""a", W/"b" ,"c,d""#),
            Some(Condition::Tags(vec![
                tag(false, "a"),
                tag(true, "b"),
                tag(false, "c,d")
            ]))
        );
        assert_eq!(parse(br#""""#), Some(Condition::Tags(vec![tag(false, "")])));
        assert_eq!(parse(b""), Some(Condition::Tags(vec![])));
        assert_eq!(parse(b" , "), Some(Condition::Tags(vec![])));
        for bad in [
            &b"abc"[..],
            b"\"a",
            b"\"a\" b",
            b"*, \"a\"",
            b"w/\"a\"",
            b"\"a b\"",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn tags_are_stable_and_match_the_json() {
        let state = State::default();
        let bytes = serde_json::to_vec(&state).unwrap();
        let t = etag_of(&state).unwrap();
        assert_eq!(t, etag_of_bytes(&bytes));
        assert_eq!(t.len(), 34);
        assert!(t.starts_with('"') && t.ends_with('"'));
    }

    #[test]
    fn conditions() {
        let state = State::default();
        let cur = etag_of(&state).unwrap();
        let cur_tag = Tag {
            weak: false,
            opaque: cur.clone(),
        };
        let p = |m: Option<Condition>, n: Option<Condition>| Preconditions {
            if_match: m,
            if_none_match: n,
        };
        let ok = |p: Preconditions, s: Option<&State>| p.check(s).is_ok();
        assert!(ok(p(None, None), None));
        assert!(ok(p(Some(Condition::Any), None), Some(&state)));
        assert!(!ok(p(Some(Condition::Any), None), None));
        assert!(ok(
            p(
                Some(Condition::Tags(vec![tag(false, "x"), cur_tag.clone()])),
                None
            ),
            Some(&state)
        ));
        let weak = Tag {
            weak: true,
            ..cur_tag.clone()
        };
        assert!(!ok(
            p(Some(Condition::Tags(vec![weak.clone()])), None),
            Some(&state)
        ));
        assert!(ok(p(None, Some(Condition::Any)), None));
        assert!(!ok(p(None, Some(Condition::Any)), Some(&state)));
        assert!(!ok(
            p(None, Some(Condition::Tags(vec![weak]))),
            Some(&state)
        ));
        assert!(ok(
            p(None, Some(Condition::Tags(vec![tag(false, "x")]))),
            Some(&state)
        ));
        match p(Some(Condition::Tags(vec![tag(false, "x")])), None).check(Some(&state)) {
            Err(e) => assert_eq!(
                actix_web::ResponseError::status_code(&e),
                StatusCode::PRECONDITION_FAILED
            ),
            Ok(()) => panic!("a wrong tag matched"),
        }
    }
}
