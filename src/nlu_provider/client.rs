//! The HTTP client of an OpenAI-compatible embeddings API: `POST {base}/embeddings` with
//! `{model, input: [...]}` → `{data: [{embedding: [...], index}]}`.

use crate::config::{EmbeddingsConfig, Secret};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why the provider gave no vectors. Its messages never contain the key (and, for transport
/// errors, not the URL either, which could carry credentials).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
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
            ProviderError::Timeout(_) | ProviderError::Transport(_)
        )
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

/// A client of one provider and model.
pub struct EmbeddingsClient {
    http: reqwest::Client,
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

/// `e` and its sources in one line, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl EmbeddingsClient {
    pub fn new(config: &EmbeddingsConfig) -> Result<EmbeddingsClient, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ProviderError::Client(describe(e)))?;
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
        let mut request =
            self.http
                .post(&self.endpoint)
                .timeout(timeout)
                .json(&EmbeddingsRequest {
                    model: &self.model,
                    input: inputs,
                });
        if let Some(Secret(key)) = &self.key {
            request = request.bearer_auth(key);
        }
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                ProviderError::Timeout(timeout)
            } else if e.is_decode() || e.is_body() {
                ProviderError::Body(describe(e))
            } else {
                ProviderError::Transport(describe(e))
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(ProviderError::Status(status.as_u16()));
        }
        let bytes = response.bytes().await.map_err(failed)?;
        let body: EmbeddingsResponse =
            serde_json::from_slice(&bytes).map_err(|e| ProviderError::Body(e.to_string()))?;
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
        let client = EmbeddingsClient::new(&EmbeddingsConfig {
            url: "http://127.0.0.1:9/v1/".into(),
            model: "m".into(),
            api_key: Some(Secret("sk-very-secret".into())),
            timeout: Duration::from_secs(1),
            load_timeout: Duration::from_secs(1),
            batch: 8,
            weight: 0.5,
        })
        .unwrap();
        assert_eq!(client.endpoint, "http://127.0.0.1:9/v1/embeddings");
        assert!(!format!("{client:?}").contains("sk-very-secret"));
    }
}
