//! The HTTP client of an OpenAI-compatible embeddings API: `POST {base}/embeddings` with
//! `{model, input: [...]}` → `{data: [{embedding: [...], index}]}`.

use crate::config::{EmbeddingsConfig, Secret};
use flowdm_actions::outbound::{
    header, OutboundClient, OutboundConfig, OutboundError, OutboundRequest, Policy,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Largest embeddings request: a batch of utterances.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// Largest embeddings answer: 64 vectors of 3072 numbers in JSON are about 4 MB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
const USER_AGENT: &str = concat!("flowdm/", env!("CARGO_PKG_VERSION"));

/// Why the provider gave no vectors. Its messages never contain the key (and, for transport
/// errors, not the URL either, which could carry credentials).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The SSRF guard refused the provider's address (`--allow-outbound`, docs/outbound.md).
    #[error("{0} (a provider on a private or loopback address needs --allow-outbound)")]
    Refused(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("request failed: {0}")]
    Transport(String),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("unexpected answer: {0}")]
    Body(String),
}

impl ProviderError {
    /// The provider could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ProviderError::Timeout(_) | ProviderError::Transport(_) | ProviderError::Refused(_)
        )
    }
}

impl From<OutboundError> for ProviderError {
    fn from(e: OutboundError) -> ProviderError {
        match e {
            OutboundError::Refused(_) => ProviderError::Refused(e.to_string()),
            OutboundError::Timeout(t) => ProviderError::Timeout(t),
            OutboundError::TooLarge { .. } => ProviderError::Body(e.to_string()),
            OutboundError::BadUrl(_) | OutboundError::BadHeader(_) | OutboundError::Client(_) => {
                ProviderError::Client(e.to_string())
            }
            OutboundError::Transport(_) => ProviderError::Transport(e.to_string()),
        }
    }
}

#[derive(Serialize)]
struct EmbeddingsRequest<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    index: Option<usize>,
}

/// A client of one provider and model, through the SSRF guard.
pub struct EmbeddingsClient {
    http: OutboundClient,
    endpoint: String,
    model: String,
    key: Option<Secret>,
}

impl std::fmt::Debug for EmbeddingsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingsClient")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl EmbeddingsClient {
    /// A client whose requests may reach what `outbound` allows besides public addresses.
    pub fn new(
        config: &EmbeddingsConfig,
        outbound: &Policy,
    ) -> Result<EmbeddingsClient, ProviderError> {
        let http = OutboundClient::new(OutboundConfig {
            policy: outbound.clone(),
            timeout: config.load_timeout.max(config.timeout),
            connect_timeout: Some(config.timeout),
            max_request_bytes: MAX_REQUEST_BYTES,
            max_response_bytes: MAX_RESPONSE_BYTES,
            user_agent: USER_AGENT.to_string(),
            ..OutboundConfig::default()
        })?;
        Ok(EmbeddingsClient {
            http,
            endpoint: format!("{}/embeddings", config.url.trim_end_matches('/')),
            model: config.model.clone(),
            key: config.api_key.clone(),
        })
    }

    /// One vector per input, in input order; the whole exchange within `timeout`.
    pub async fn embed(
        &self,
        inputs: &[String],
        timeout: Duration,
    ) -> Result<Vec<Vec<f32>>, ProviderError> {
        let body = serde_json::to_vec(&EmbeddingsRequest {
            model: &self.model,
            input: inputs,
        })
        .map_err(|e| ProviderError::Client(e.to_string()))?;
        let mut request = OutboundRequest::post(&self.endpoint)
            .timeout(timeout)
            .header(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            )
            .body(body);
        if let Some(Secret(key)) = &self.key {
            let mut value = header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| ProviderError::Client("the API key is not a valid header".into()))?;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = self.http.send(request).await?;
        if !response.status.is_success() {
            return Err(ProviderError::Status(response.status.as_u16()));
        }
        let body: EmbeddingsResponse = serde_json::from_slice(&response.body)
            .map_err(|e| ProviderError::Body(e.to_string()))?;
        in_input_order(body.data, inputs.len())
    }
}

/// The vectors by their `index` (position when absent): exactly one per input.
fn in_input_order(data: Vec<EmbeddingItem>, n: usize) -> Result<Vec<Vec<f32>>, ProviderError> {
    if data.len() != n {
        return Err(ProviderError::Body(format!(
            "{} embeddings for {n} inputs",
            data.len()
        )));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
    for (position, item) in data.into_iter().enumerate() {
        let i = item.index.unwrap_or(position);
        match out.get_mut(i) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => {
                return Err(ProviderError::Body(format!(
                    "embedding index {i} out of range or repeated"
                )))
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(index: Option<usize>, x: f32) -> EmbeddingItem {
        EmbeddingItem {
            embedding: vec![x],
            index,
        }
    }

    #[test]
    fn vectors_come_back_in_input_order() {
        let v = in_input_order(vec![item(Some(1), 1.0), item(Some(0), 0.0)], 2).unwrap();
        assert_eq!(v, vec![vec![0.0], vec![1.0]]);
        let v = in_input_order(vec![item(None, 5.0), item(None, 6.0)], 2).unwrap();
        assert_eq!(v, vec![vec![5.0], vec![6.0]]);
        assert!(in_input_order(vec![item(Some(0), 1.0)], 2).is_err());
        assert!(in_input_order(vec![item(Some(0), 1.0), item(Some(0), 1.0)], 2).is_err());
        assert!(in_input_order(vec![item(Some(0), 1.0), item(Some(7), 1.0)], 2).is_err());
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let client = EmbeddingsClient::new(
            &EmbeddingsConfig {
                url: "http://127.0.0.1:9/v1/".into(),
                model: "m".into(),
                api_key: Some(Secret("sk-very-secret".into())),
                timeout: Duration::from_secs(1),
                load_timeout: Duration::from_secs(1),
                batch: 8,
                weight: 0.5,
            },
            &Policy::strict(),
        )
        .unwrap();
        assert_eq!(client.endpoint, "http://127.0.0.1:9/v1/embeddings");
        assert!(!format!("{client:?}").contains("sk-very-secret"));
    }
}
