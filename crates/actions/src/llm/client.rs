//! [`LlmClient`]: one completion through the guarded outbound client, with retries.

use super::error::{scrub, LlmError};
use super::{sse, wire, LlmConfig, MAX_REQUEST_BYTES, MAX_RETRY_AFTER};
use crate::outbound::header::{self, HeaderValue};
use crate::outbound::{OutboundClient, OutboundRequest, OutboundResponse};
use backon::{ExponentialBuilder, Retryable};
use flowdm_engine::{LlmRequest, LlmResponse};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A client of the operator's provider. Cheap to clone; share one.
#[derive(Clone)]
pub struct LlmClient {
    http: OutboundClient,
    config: Arc<LlmConfig>,
    endpoint: String,
}

/// The configuration (key hidden), never the client's internals.
impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// A client sending through `http` (whose policy must allow the provider's address; its
    /// response cap bounds an answer, its timeout is replaced by `config.timeout`).
    pub fn new(http: OutboundClient, config: LlmConfig) -> LlmClient {
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        LlmClient {
            http,
            config: Arc::new(config),
            endpoint,
        }
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// One completion of `request`; any failure is a short message (no key, no URL path).
    pub async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, String> {
        self.run(request, None).await.map_err(|e| e.to_string())
    }

    /// The same with `stream: true`: `on_delta` gets every piece of content in order, then the
    /// assembled response is returned. The body is read whole through the guard first, so the
    /// pieces arrive together at the end (`sse` module); a provider that ignores `stream` and
    /// answers plain JSON gives one piece, its whole content.
    pub async fn complete_stream(
        &self,
        request: &LlmRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<LlmResponse, String> {
        self.run(request, Some(on_delta))
            .await
            .map_err(|e| e.to_string())
    }

    async fn run(
        &self,
        request: &LlmRequest,
        on_delta: Option<&mut (dyn FnMut(&str) + Send)>,
    ) -> Result<LlmResponse, LlmError> {
        let model = self
            .config
            .model_for(request.model.as_deref())
            .ok_or(LlmError::NoModel)?;
        let stream = on_delta.is_some();
        let span =
            tracing::info_span!("llm", model = %model, stream, status = tracing::field::Empty);
        async {
            let body = wire::request_body(request, &model, &self.config, stream);
            let body = serde_json::to_vec(&body).map_err(|e| LlmError::Client(e.to_string()))?;
            if body.len() > MAX_REQUEST_BYTES {
                return Err(LlmError::TooLarge {
                    size: body.len(),
                    limit: MAX_REQUEST_BYTES,
                });
            }
            let answer = self.post(body).await?;
            let result = match on_delta {
                Some(on_delta) if !is_json(&answer) => {
                    sse::parse_stream(&answer.body, &model, on_delta)
                }
                Some(on_delta) => wire::parse_completion(&answer.body, &model).inspect(|r| {
                    if !r.content.is_empty() {
                        on_delta(&r.content);
                    }
                }),
                None => wire::parse_completion(&answer.body, &model),
            };
            match &result {
                Ok(r) => tracing::debug!(
                    prompt_tokens = r.prompt_tokens,
                    completion_tokens = r.completion_tokens,
                    tool_calls = r.tool_calls.len(),
                    "AI completion"
                ),
                Err(error) => tracing::warn!(%error, "AI completion failed"),
            }
            result
        }
        .instrument(span)
        .await
    }

    /// POSTs `body`, retrying what [`LlmError::is_retryable`] says up to `config.retries` times
    /// (`config.backoff`, doubled per attempt, or the answer's `Retry-After`); a successful
    /// (2xx) answer is returned whole.
    async fn post(&self, body: Vec<u8>) -> Result<OutboundResponse, LlmError> {
        let attempt = || async {
            match self.attempt(body.clone()).await {
                Ok(answer) if answer.status.is_success() => Ok(answer),
                Ok(answer) => {
                    let message = wire::error_message(&answer.body)
                        .map(|m| scrub(&m, self.config.api_key.as_deref()));
                    let error = LlmError::Status {
                        status: answer.status.as_u16(),
                        message,
                    };
                    Err((error, retry_after(&answer)))
                }
                Err(error) => Err((error, None)),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.backoff)
            .with_max_delay(MAX_RETRY_AFTER.max(self.config.backoff))
            .with_max_times(self.config.retries as usize);
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|(error, _)| error.is_retryable())
            .adjust(|(_, retry_after), wait| wait.map(|w| retry_after.unwrap_or(w)))
            .notify(|(error, _), wait| {
                tracing::warn!(%error, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "AI provider failed: retrying");
            })
            .await
            .map_err(|(error, _)| error)
    }

    async fn attempt(&self, body: Vec<u8>) -> Result<OutboundResponse, LlmError> {
        let mut request = OutboundRequest::post(&self.endpoint)
            .timeout(self.config.timeout)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(body);
        if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| LlmError::Client("the API key is not a valid header value".into()))?;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        Ok(self.http.send(request).await?)
    }
}

/// A `Retry-After: <seconds>` of the answer, at most [`MAX_RETRY_AFTER`] (dates are ignored:
/// the backoff applies).
fn retry_after(answer: &OutboundResponse) -> Option<Duration> {
    let seconds: f64 = answer
        .headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())))
}

/// The answer is plain JSON (a provider that ignored `stream: true`).
fn is_json(answer: &OutboundResponse) -> bool {
    answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let answer = |value: &str| OutboundResponse {
            status: crate::outbound::StatusCode::TOO_MANY_REQUESTS,
            headers: [(header::RETRY_AFTER, HeaderValue::from_str(value).unwrap())]
                .into_iter()
                .collect(),
            body: Vec::new(),
            remote: None,
        };
        assert_eq!(retry_after(&answer("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&answer("3600")), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&answer("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }
}
