//! The operator's AI provider: an OpenAI-compatible chat-completions client
//! (`POST {base_url}/chat/completions`) that performs `flowdm_engine::Effect::Llm`.
//!
//! Every request goes through the SSRF-guarded [`crate::outbound::OutboundClient`]: a provider
//! on a private or loopback address (Ollama, vLLM, llama.cpp on the same machine) needs the
//! operator's `--allow-outbound`, like any other outbound call. The API key is sent as
//! `Authorization: Bearer …` and appears in no error, log line or `Debug` output.
//!
//! * [`LlmConfig`]: where the provider is, which of its models answers for each model name of
//!   the export, the defaults, the timeout and the retry policy;
//! * [`LlmClient::complete`]: one completion, retried on 429, 5xx, timeouts and connection
//!   failures;
//! * [`LlmClient::complete_stream`]: the same with `stream: true`, its server-sent events
//!   assembled into one answer.

mod client;
mod error;
mod sse;
mod wire;

pub use client::LlmClient;
pub use error::LlmError;

use std::time::Duration;

/// Largest serialised request body (the prompt size cap): a larger one is refused before
/// anything is sent, so one runaway history cannot cost a large bill.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Longest `content` kept from an answer, in characters (the response cap); the rest is cut.
pub const MAX_CONTENT_CHARS: usize = 100_000;
/// Longest wait a `Retry-After` header may impose between two attempts.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Per-attempt timeout when the operator sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts after the first when the operator sets none.
pub const DEFAULT_RETRIES: u32 = 2;
/// First wait between attempts when the operator sets none (doubled per attempt).
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);

/// How flowdm talks to the operator's provider (`docs/ai.md`).
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    /// Base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`; requests go
    /// to `{base_url}/chat/completions`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (from the environment only).
    pub api_key: Option<String>,
    /// Model name of the export (`gpt-4o`, `claude-3-haiku`, …) → the operator's model.
    pub models: Vec<(String, String)>,
    /// The model for export names not in `models` (and for steps that name none); `None`: the
    /// export's name is sent as is.
    pub default_model: Option<String>,
    /// The temperature when the step gives none (`None`: the provider's default).
    pub temperature: Option<f64>,
    /// The `max_tokens` when the step gives none (`None`: the provider's default).
    pub max_tokens: Option<u32>,
    /// One attempt, connection to last byte.
    pub timeout: Duration,
    /// Attempts after the first one, on 429, 5xx, timeouts and connection failures.
    pub retries: u32,
    /// The wait before the first retry, doubled for each further one (a `Retry-After` header,
    /// up to [`MAX_RETRY_AFTER`], takes its place).
    pub backoff: Duration,
}

impl Default for LlmConfig {
    fn default() -> LlmConfig {
        LlmConfig {
            base_url: String::new(),
            api_key: None,
            models: Vec::new(),
            default_model: None,
            temperature: None,
            max_tokens: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
        }
    }
}

/// The key never shows: only whether there is one.
impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("models", &self.models)
            .field("default_model", &self.default_model)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl LlmConfig {
    /// The operator's model for the export's `model`: the mapped one, else the default, else
    /// the export's own name. `None` when the step names no model and there is no default.
    pub fn model_for(&self, export: Option<&str>) -> Option<String> {
        let export = export.map(str::trim).filter(|m| !m.is_empty());
        if let Some(name) = export {
            if let Some((_, operator)) = self.models.iter().find(|(e, _)| e == name) {
                return Some(operator.clone());
            }
        }
        self.default_model
            .clone()
            .or_else(|| export.map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_map_then_default_then_pass_through() {
        let mut c = LlmConfig {
            models: vec![("gpt-4o".into(), "llama3.1:8b".into())],
            ..LlmConfig::default()
        };
        assert_eq!(c.model_for(Some("gpt-4o")).as_deref(), Some("llama3.1:8b"));
        assert_eq!(c.model_for(Some("gpt-4")).as_deref(), Some("gpt-4"));
        assert_eq!(c.model_for(None), None);
        c.default_model = Some("qwen".into());
        assert_eq!(c.model_for(Some("gpt-4")).as_deref(), Some("qwen"));
        assert_eq!(c.model_for(Some(" ")).as_deref(), Some("qwen"));
        assert_eq!(c.model_for(Some("gpt-4o")).as_deref(), Some("llama3.1:8b"));
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let c = LlmConfig {
            api_key: Some("sk-very-secret".into()),
            ..LlmConfig::default()
        };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }
}
