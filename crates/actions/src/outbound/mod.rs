//! Outbound HTTP behind an SSRF guard (`docs/outbound.md`): what the API step, webhooks and AI
//! providers use to reach other hosts.
//!
//! * [`Policy`] decides which addresses may be contacted: public addresses only, unless the
//!   operator's allow-list (`--allow-outbound`) names the network or the host;
//! * [`OutboundClient`] sends one request under that policy: it resolves names itself, vets
//!   every resolved address and lets the connection use only those (no second lookup), vets
//!   IP-literal hosts and every redirect hop the same way, refuses schemes other than http(s),
//!   and enforces a timeout, request and response body caps and a default `User-Agent`.
//!
//! A refused request never opens a connection; it is logged (`tracing`, host and reason only).

mod client;
mod policy;
mod types;

pub use client::{Lookup, LookupFuture, OutboundClient, SystemLookup};
pub use policy::{classify, embedded_v4, AllowListError, Policy, Reason, Verdict};
pub use reqwest::{header, Method, StatusCode, Url};
pub use types::{
    BodyKind, OutboundConfig, OutboundError, OutboundRequest, OutboundResponse, Refusal,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
};

#[cfg(test)]
mod policy_tests;
