//! Effects: what a turn needs from the outside world (`design.md` § Architecture). A step that
//! needs the network does not perform it: the turn stops with an [`Effect`] (and the traces so
//! far); the caller performs it and runs the turn again from the same input with the result
//! appended to [`crate::TurnInput::effects`]. The engine is pure, so the new run retraces the
//! same steps up to that step, which now finds its result and goes on: resumption by
//! deterministic replay, with the results as the turn's effect log. The caller keeps the random
//! source's seed for the replays (`docs/effects.md`).

/// A request to the outside world.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// An HTTP call (the API step, §5.6.13; `fetch` in a function, §5.6.24).
    Http(HttpRequest),
}

/// An outbound HTTP request, every `{var}` replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Absolute `http`/`https` URL, query parameters included.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
}

/// The body of an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    None,
    /// Sent as is.
    Raw(String),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `multipart/form-data`.
    Multipart(Vec<(String, String)>),
}

/// What the caller got for an [`Effect`].
#[derive(Debug, Clone, PartialEq)]
pub enum EffectResult {
    /// The HTTP answer, or why there is none (refused address, timeout, too large, …).
    Http(Result<HttpResponse, String>),
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Response headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}
