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
    /// A chat completion from the operator's OpenAI-compatible provider (AI steps).
    Llm(LlmRequest),
    /// A search of the project's knowledge base (KB steps, KB answers).
    Kb(KbQuery),
}

/// The model an AI step asks for when the export names none (Voiceflow's default); the
/// provider maps it like any export model (`--ai-model`, `--ai-default-model`).
pub const DEFAULT_AI_MODEL: &str = "gpt-4o-mini";

/// A chat completion request, every `{var}` replaced. The provider maps `model` (a model name
/// of the export, e.g. `gpt-4o`) to one of the operator's models.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmRequest {
    pub model: Option<String>,
    /// The system prompt, sent as the first message when not empty.
    pub system: Option<String>,
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Tools the model may call (the agent step); empty: none.
    pub tools: Vec<ToolSpec>,
}

/// One message of a chat: `role` is `system`, `user`, `assistant` or `tool`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
    /// The calls an assistant message made (the agent step's history).
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: the call it answers.
    pub tool_call_id: Option<String>,
}

/// A tool offered to the model: a function `name` with a JSON-Schema `parameters` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// A tool call the model made: `arguments` is the JSON text it wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// The provider's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmResponse {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    /// The model that answered (as the provider names it).
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// A knowledge-base search: the best `chunk_limit` chunks for `question`.
#[derive(Debug, Clone, PartialEq)]
pub struct KbQuery {
    /// The project whose documents are searched.
    pub project_id: String,
    pub question: String,
    pub chunk_limit: usize,
}

/// A chunk the knowledge base found.
#[derive(Debug, Clone, PartialEq)]
pub struct KbChunk {
    /// Higher is better; comparable within one answer only.
    pub score: f64,
    pub chunk_id: String,
    pub document_id: String,
    pub content: String,
    /// The document's file name (or URL).
    pub source: String,
}

/// An outbound HTTP request, every `{var}` replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Absolute `http`/`https` URL, query parameters included.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
    /// Timeout and retries (default: the server's timeout, no retry).
    pub policy: CallPolicy,
}

/// How an [`HttpRequest`] is delivered: registered webhooks set their own timeout and retries;
/// the API step and function `fetch`es use the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallPolicy {
    /// This call's timeout in milliseconds (`None`: the outbound client's).
    pub timeout_ms: Option<u64>,
    /// Further attempts after a failure to connect, a timeout, a 429 or a 5xx answer.
    pub retries: u32,
    /// Which step made the request (for the server's metrics; never sent).
    pub origin: HttpOrigin,
}

/// Which step made an [`HttpRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpOrigin {
    /// The API step.
    #[default]
    Api,
    /// A webhook custom action the server runs.
    Webhook,
    /// A `fetch` of JavaScript (a function step, a JavaScript custom action).
    Fetch,
}

impl HttpOrigin {
    /// A short name (`api`, `webhook`, `js`).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpOrigin::Api => "api",
            HttpOrigin::Webhook => "webhook",
            HttpOrigin::Fetch => "js",
        }
    }
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
    /// The completion, or why there is none (no provider, refused, timeout, over budget, …).
    Llm(Result<LlmResponse, String>),
    /// The chunks found (best first, possibly none), or why the search failed (no knowledge
    /// base for the project, …).
    Kb(Result<Vec<KbChunk>, String>),
}

/// What a step reads from a logged result of another kind: the log is not this turn's.
const LOG_MISMATCH: &str = "the effect log does not match this step";

impl EffectResult {
    /// The HTTP answer of an [`Effect::Http`].
    pub fn into_http(self) -> Result<HttpResponse, String> {
        match self {
            EffectResult::Http(r) => r,
            _ => Err(LOG_MISMATCH.into()),
        }
    }

    /// The completion of an [`Effect::Llm`].
    pub fn into_llm(self) -> Result<LlmResponse, String> {
        match self {
            EffectResult::Llm(r) => r,
            _ => Err(LOG_MISMATCH.into()),
        }
    }

    /// The chunks of an [`Effect::Kb`].
    pub fn into_kb(self) -> Result<Vec<KbChunk>, String> {
        match self {
            EffectResult::Kb(r) => r,
            _ => Err(LOG_MISMATCH.into()),
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Response headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}
