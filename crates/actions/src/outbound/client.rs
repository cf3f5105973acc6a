//! [`OutboundClient`]: reqwest with a resolver that vets what it resolves, a redirect policy
//! that vets every hop, and body caps read incrementally.

use super::policy::{Policy, Verdict};
use super::types::Refusal;
use super::types::{BodyKind, OutboundConfig, OutboundError, OutboundRequest, OutboundResponse};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use reqwest::Url;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The addresses of a host name.
pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Resolves host names: the system resolver ([`SystemLookup`]) in production, anything in
/// tests. Called once per connection; the client connects only to what it returned and what
/// the policy accepted.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The operating system's resolver (`getaddrinfo`, on tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_string();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// The resolver reqwest uses: looks the name up once and hands over the addresses only when
/// every one of them passes the policy (or the name is allowed).
struct GuardedResolver {
    policy: Arc<Policy>,
    lookup: Arc<dyn Lookup>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let lookup = Arc::clone(&self.lookup);
        let host = name.as_str().to_string();
        Box::pin(async move {
            vet_name(&policy, &host)?;
            let ips = lookup.lookup(&host).await?;
            if ips.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !policy.allows_host(&host) {
                for ip in &ips {
                    policy.check_ip(*ip).map_err(|verdict| Refusal {
                        host: host.clone(),
                        address: Some(*ip),
                        verdict,
                    })?;
                }
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// A redirect target that is not an http(s) URL with a host.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadRedirect(String);

fn vet_name(policy: &Policy, host: &str) -> Result<(), Refusal> {
    policy.check_name(host).map_err(|verdict: Verdict| Refusal {
        host: host.to_string(),
        address: None,
        verdict,
    })
}

/// The checks possible before connecting: scheme, host present, IP-literal hosts against the
/// policy, `localhost` names. Names are vetted again, by address, when they are resolved.
fn vet_url(policy: &Policy, url: &Url) -> Result<(), OutboundError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(OutboundError::BadUrl(format!(
                "scheme {other:?} is not allowed (http and https only)"
            )))
        }
    }
    let refused = |address: IpAddr, verdict| {
        OutboundError::Refused(Refusal {
            host: address.to_string(),
            address: Some(address),
            verdict,
        })
    };
    match url.host() {
        None => Err(OutboundError::BadUrl("no host".into())),
        Some(url::Host::Domain(name)) => vet_name(policy, name).map_err(OutboundError::Refused),
        Some(url::Host::Ipv4(ip)) => policy
            .check_ip(IpAddr::V4(ip))
            .map_err(|v| refused(IpAddr::V4(ip), v)),
        Some(url::Host::Ipv6(ip)) => policy
            .check_ip(IpAddr::V6(ip))
            .map_err(|v| refused(IpAddr::V6(ip), v)),
    }
}

/// HTTP to other hosts under a [`Policy`] (module documentation). Cheap to clone; share one.
#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    policy: Arc<Policy>,
    config: Arc<OutboundConfig>,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClient")
            .field("config", &self.config)
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

/// A reqwest error as ours: a refusal from the resolver or the redirect policy is found
/// among its sources.
fn classify_error(e: reqwest::Error, timeout: Duration) -> OutboundError {
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<Refusal>() {
            return OutboundError::Refused(refusal.clone());
        }
        if let Some(BadRedirect(why)) = s.downcast_ref::<BadRedirect>() {
            return OutboundError::BadUrl(format!("redirect: {why}"));
        }
        source = s.source();
    }
    if e.is_timeout() {
        OutboundError::Timeout(timeout)
    } else {
        OutboundError::Transport(describe(e))
    }
}

impl OutboundClient {
    /// A client resolving names with the system resolver.
    pub fn new(config: OutboundConfig) -> Result<OutboundClient, OutboundError> {
        OutboundClient::with_lookup(config, Arc::new(SystemLookup))
    }

    /// A client resolving names with `lookup` (tests, custom resolvers).
    pub fn with_lookup(
        config: OutboundConfig,
        lookup: Arc<dyn Lookup>,
    ) -> Result<OutboundClient, OutboundError> {
        let policy = Arc::new(config.policy.clone());
        let resolver = GuardedResolver {
            policy: Arc::clone(&policy),
            lookup,
        };
        let hop_policy = Arc::clone(&policy);
        let max_redirects = config.max_redirects;
        let redirects = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(BadRedirect(format!("more than {max_redirects} redirects")));
            }
            match vet_url(&hop_policy, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(OutboundError::Refused(refusal)) => attempt.error(refusal),
                Err(other) => attempt.error(BadRedirect(other.to_string())),
            }
        });
        let mut builder = reqwest::Client::builder()
            // A proxy would resolve and connect on its own, out of the guard's reach.
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .redirect(if max_redirects == 0 {
                redirect::Policy::none()
            } else {
                redirects
            })
            .user_agent(config.user_agent.as_str());
        if let Some(t) = config.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        let http = builder
            .build()
            .map_err(|e| OutboundError::Client(describe(e)))?;
        Ok(OutboundClient {
            http,
            policy,
            config: Arc::new(config),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// Sends `request` and reads the whole answer (any status). Refusals are logged.
    pub async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let result = self.exchange(request).await;
        if let Err(OutboundError::Refused(r)) = &result {
            tracing::warn!(
                host = %r.host,
                address = ?r.address,
                reason = %r.verdict,
                "outbound request refused"
            );
        }
        result
    }

    async fn exchange(&self, request: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let url = Url::parse(&request.url).map_err(|e| OutboundError::BadUrl(e.to_string()))?;
        vet_url(&self.policy, &url)?;
        let limit = self.config.max_request_bytes;
        if request.body.as_ref().is_some_and(|b| b.len() > limit) {
            return Err(OutboundError::TooLarge {
                body: BodyKind::Request,
                limit,
            });
        }
        let timeout = request.timeout.unwrap_or(self.config.timeout);
        let mut builder = self
            .http
            .request(request.method, url)
            .headers(request.headers)
            .timeout(timeout);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let max = self.config.max_response_bytes;
        let exchange = async move {
            let mut response = builder
                .send()
                .await
                .map_err(|e| classify_error(e, timeout))?;
            let too_large = OutboundError::TooLarge {
                body: BodyKind::Response,
                limit: max,
            };
            if response
                .content_length()
                .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
            {
                return Err(too_large);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| classify_error(e, timeout))?
            {
                if body.len() + chunk.len() > max {
                    return Err(too_large);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(OutboundResponse {
                status: response.status(),
                headers: response.headers().clone(),
                remote: response.remote_addr(),
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(OutboundError::Timeout(timeout)))
    }
}
