//! The HTTP effect (`flowdm_engine::Effect::Http`, the API step) performed by the guarded
//! [`OutboundClient`] (for [`crate::effects::Effects`]): method, headers, the body as the step asked (raw, form-encoded or
//! multipart), and the answer as text. A request's [`CallPolicy`] sets its timeout and its
//! retries (registered webhooks, `docs/custom-actions.md`): a failure to connect, a timeout, a
//! 429 or a 5xx answer is tried again after an exponential backoff (`backon`).

use crate::outbound::header::{HeaderValue, CONTENT_TYPE};
use crate::outbound::{Method, OutboundClient, OutboundError, OutboundRequest};
use backon::{ExponentialBuilder, Retryable};
use flowdm_engine::{CallPolicy, HttpBody, HttpRequest, HttpResponse};
use std::time::Duration;

/// The wait before the first retry (doubled for each further one, with jitter).
pub const RETRY_DELAY: Duration = Duration::from_millis(200);

/// Why one attempt did not give a final answer.
enum Attempt {
    /// No answer; worth another attempt when `retry`.
    Failed { message: String, retry: bool },
    /// An answer worth another attempt (429, 5xx); the last one is the result.
    Answered(HttpResponse),
}

impl Attempt {
    fn retryable(&self) -> bool {
        match self {
            Attempt::Failed { retry, .. } => *retry,
            Attempt::Answered(_) => true,
        }
    }
}

/// Sends `r` (retried as its policy says); any failure (refused address, timeout, too large,
/// …) is its message.
pub(crate) async fn send(client: &OutboundClient, r: &HttpRequest) -> Result<HttpResponse, String> {
    let CallPolicy { retries, .. } = r.policy;
    let attempt = || async {
        match send_once(client, r).await {
            Ok(a) if retries > 0 && (a.status == 429 || a.status >= 500) => {
                Err(Attempt::Answered(a))
            }
            Ok(a) => Ok(a),
            Err(failed) => Err(failed),
        }
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(RETRY_DELAY)
        .with_jitter()
        .with_max_times(retries as usize);
    let result = attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(Attempt::retryable)
        .notify(|why, wait| {
            let why = match why {
                Attempt::Failed { message, .. } => message.clone(),
                Attempt::Answered(a) => format!("status {}", a.status),
            };
            tracing::warn!(%why, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "outbound call failed: retrying");
        })
        .await;
    match result {
        Ok(answer) | Err(Attempt::Answered(answer)) => Ok(answer),
        Err(Attempt::Failed { message, .. }) => Err(message),
    }
}

/// One attempt.
async fn send_once(client: &OutboundClient, r: &HttpRequest) -> Result<HttpResponse, Attempt> {
    let fail = |message: String| Attempt::Failed {
        message,
        retry: false,
    };
    let method = Method::from_bytes(r.method.as_bytes())
        .map_err(|_| fail(format!("unknown HTTP method {:?}", r.method)))?;
    let mut out = OutboundRequest::new(method, r.url.clone());
    if let Some(ms) = r.policy.timeout_ms {
        out = out.timeout(Duration::from_millis(ms));
    }
    for (name, value) in &r.headers {
        out = out
            .try_header(name, value)
            .map_err(|e| fail(e.to_string()))?;
    }
    let has_type = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let typed = |out: OutboundRequest, ty: &str| match HeaderValue::from_str(ty) {
        Ok(v) if !has_type => out.header(CONTENT_TYPE, v),
        _ => out,
    };
    out = match &r.body {
        HttpBody::None => out,
        HttpBody::Raw(text) => out.body(text.clone().into_bytes()),
        HttpBody::Form(pairs) => {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            typed(out, "application/x-www-form-urlencoded").body(body.into_bytes())
        }
        HttpBody::Multipart(pairs) => {
            let (boundary, body) = multipart(pairs);
            typed(out, &format!("multipart/form-data; boundary={boundary}")).body(body)
        }
    };
    let answer = client.send(out).await.map_err(|e| Attempt::Failed {
        retry: matches!(e, OutboundError::Timeout(_) | OutboundError::Transport(_)),
        message: e.to_string(),
    })?;
    let headers = answer
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    Ok(HttpResponse {
        status: answer.status.as_u16(),
        headers,
        body: String::from_utf8_lossy(&answer.body).into_owned(),
    })
}

/// A `multipart/form-data` body of text fields, and its boundary (one no value contains).
fn multipart(pairs: &[(String, String)]) -> (String, Vec<u8>) {
    let mut boundary = String::from("flowdm-form-boundary");
    while pairs
        .iter()
        .any(|(k, v)| k.contains(&boundary) || v.contains(&boundary))
    {
        boundary.push('x');
    }
    let mut body = Vec::new();
    for (name, value) in pairs {
        let name = name.replace(['"', '\r', '\n'], "");
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

#[cfg(test)]
mod tests {
    use super::multipart;

    #[test]
    fn multipart_bodies_have_a_boundary_no_value_contains() {
        let (b, body) = multipart(&[
            ("a".into(), "1".into()),
            ("b".into(), "flowdm-form-boundary".into()),
        ]);
        assert_eq!(b, "flowdm-form-boundaryx");
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(
            "--flowdm-form-boundaryx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
        ));
        assert!(text.ends_with("--flowdm-form-boundaryx--\r\n"));
    }
}
