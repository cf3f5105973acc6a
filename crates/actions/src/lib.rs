//! Server-side effects (`design.md` § Architecture): what a turn needs from the outside world,
//! kept out of the pure engine. `outbound`: HTTP to other hosts behind an SSRF guard; `llm`:
//! the operator's OpenAI-compatible AI provider (through that guard); `effects`: the performer
//! that dispatches a turn's effects to them and to the knowledge base; `sandbox`: the
//! JavaScript engine behind `flowdm_engine::Sandbox`.

pub mod effects;
mod http_effect;
pub mod llm;
pub mod outbound;
pub mod perform;
pub mod sandbox;
