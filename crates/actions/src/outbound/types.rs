//! The configuration, requests, responses and errors of [`super::OutboundClient`].

use super::policy::{Policy, Verdict};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The API step's timeout (`dm-api.md` §5.6.13).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The API step's request and response body caps: 1 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The `User-Agent` sent when a request names none (the API step's).
pub const DEFAULT_USER_AGENT: &str = "Voiceflow/1.0.0 (+https://voiceflow.com)";
/// Redirect hops followed before giving up.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// How an [`super::OutboundClient`] behaves. `Default`: the API step's values and no
/// allow-list.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Which addresses may be reached.
    pub policy: Policy,
    /// The whole exchange, connection to last body byte, unless a request sets its own.
    pub timeout: Duration,
    /// Connecting alone (unset: only `timeout`).
    pub connect_timeout: Option<Duration>,
    /// Largest request body; a larger one is refused before connecting.
    pub max_request_bytes: usize,
    /// Largest response body; reading stops as soon as it is exceeded.
    pub max_response_bytes: usize,
    /// Sent when a request has no `User-Agent` header.
    pub user_agent: String,
    /// Redirect hops followed (each one vetted); 0: redirects are returned, not followed.
    pub max_redirects: usize,
}

impl Default for OutboundConfig {
    fn default() -> OutboundConfig {
        OutboundConfig {
            policy: Policy::strict(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            max_request_bytes: DEFAULT_MAX_BODY_BYTES,
            max_response_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            max_redirects: DEFAULT_MAX_REDIRECTS,
        }
    }
}

/// One request: method, absolute URL, headers, optional body, optional own timeout.
#[derive(Clone)]
pub struct OutboundRequest {
    pub(super) method: Method,
    pub(super) url: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<Vec<u8>>,
    pub(super) timeout: Option<Duration>,
}

/// Header values can carry credentials: never printed.
impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl OutboundRequest {
    pub fn new(method: Method, url: impl Into<String>) -> OutboundRequest {
        OutboundRequest {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
        }
    }

    pub fn get(url: impl Into<String>) -> OutboundRequest {
        OutboundRequest::new(Method::GET, url)
    }

    pub fn post(url: impl Into<String>) -> OutboundRequest {
        OutboundRequest::new(Method::POST, url)
    }

    /// Adds a header (repeated names are kept).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> OutboundRequest {
        self.headers.append(name, value);
        self
    }

    /// Adds a header given as text; an invalid name or value is [`OutboundError::BadHeader`]
    /// (which names the header, never its value).
    pub fn try_header(self, name: &str, value: &str) -> Result<OutboundRequest, OutboundError> {
        let bad = || OutboundError::BadHeader(name.chars().take(64).collect());
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let v = HeaderValue::from_str(value).map_err(|_| bad())?;
        Ok(self.header(n, v))
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> OutboundRequest {
        self.body = Some(body.into());
        self
    }

    /// This request's own timeout instead of [`OutboundConfig::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> OutboundRequest {
        self.timeout = Some(timeout);
        self
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// A complete answer (any status), its body read to the end within the cap.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The address the answer came from.
    pub remote: Option<SocketAddr>,
}

/// A refused destination: the host as written, the address refused (none when the name
/// itself is, e.g. `localhost`), and why. Contains no URL path, query or credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    pub host: String,
    pub address: Option<IpAddr>,
    pub verdict: Verdict,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.address {
            Some(ip) if ip.to_string() != self.host => {
                write!(f, "{} ({ip}) is {}", self.host, self.verdict)
            }
            _ => write!(f, "{} is {}", self.host, self.verdict),
        }
    }
}

/// Which body went over its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Request,
    Response,
}

impl fmt::Display for BodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BodyKind::Request => "request",
            BodyKind::Response => "response",
        })
    }
}

/// Why a request gave no response. Messages never contain header values, bodies, or the URL
/// beyond its host.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Unparsable URL, no host, or a scheme other than http/https.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// The header of this name has an invalid name or value.
    #[error("bad header {0:?}")]
    BadHeader(String),
    /// The destination (or a redirect hop) is not allowed; nothing was sent to it.
    #[error("outbound request refused: {0}")]
    Refused(Refusal),
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("{body} body larger than {limit} bytes")]
    TooLarge { body: BodyKind, limit: usize },
    /// DNS, connection, TLS or protocol failure.
    #[error("request failed: {0}")]
    Transport(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
