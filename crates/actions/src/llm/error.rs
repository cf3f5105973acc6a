//! [`LlmError`]: why the provider gave no completion, as a short message for the step's fail
//! path and the logs.

use crate::outbound::OutboundError;
use std::time::Duration;

/// Why a completion failed. No message contains the API key, the `Authorization` header or
/// the URL beyond its host (the provider's own error text is cleaned of the key).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The step names no model and the operator set no default.
    #[error(
        "no model to ask: the step names none and no default model is set (--ai-default-model)"
    )]
    NoModel,
    /// Over [`super::MAX_REQUEST_BYTES`]: refused before sending.
    #[error("the AI request is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The SSRF guard refused the provider's address.
    #[error("AI provider refused: {0} (a provider on a private or loopback address needs --allow-outbound)")]
    Refused(String),
    #[error("AI provider gave no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// DNS, connection, TLS or protocol failure.
    #[error("AI provider unreachable: {0}")]
    Transport(String),
    /// A non-2xx answer, with the provider's `error.message` when it gave one.
    #[error("AI provider answered HTTP {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        status: u16,
        message: Option<String>,
    },
    /// A 2xx answer without what a completion needs (the message names what is missing).
    #[error("AI provider gave a malformed answer: {0}")]
    Malformed(String),
    /// Bad configuration (URL, key not valid in a header, …).
    #[error("AI provider: {0}")]
    Client(String),
}

impl LlmError {
    /// Worth another attempt: rate limits, server errors, timeouts, connection failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::Timeout(_) | LlmError::Transport(_) => true,
            _ => false,
        }
    }
}

impl From<OutboundError> for LlmError {
    fn from(e: OutboundError) -> LlmError {
        match e {
            OutboundError::Refused(r) => LlmError::Refused(r.to_string()),
            OutboundError::Timeout(t) => LlmError::Timeout(t),
            OutboundError::Transport(why) => LlmError::Transport(why),
            OutboundError::TooLarge { .. } => LlmError::Malformed(e.to_string()),
            OutboundError::BadUrl(_) | OutboundError::BadHeader(_) | OutboundError::Client(_) => {
                LlmError::Client(e.to_string())
            }
        }
    }
}

/// `text` without `secret` (providers echo parts of a rejected key) and at most 300 chars.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    let mut out = match secret.filter(|s| !s.is_empty()) {
        Some(s) => text.replace(s, "…"),
        None => text.to_string(),
    };
    if let Some((cut, _)) = out.char_indices().nth(300) {
        out.truncate(cut);
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_short_and_name_the_status() {
        let e = LlmError::Status {
            status: 401,
            message: Some("bad key".into()),
        };
        assert_eq!(e.to_string(), "AI provider answered HTTP 401: bad key");
        assert!(!e.is_retryable());
        assert!(LlmError::Status {
            status: 429,
            message: None
        }
        .is_retryable());
        assert_eq!(scrub("key sk-1 is wrong", Some("sk-1")), "key … is wrong");
        assert_eq!(scrub(&"x".repeat(400), None).chars().count(), 301);
    }
}
