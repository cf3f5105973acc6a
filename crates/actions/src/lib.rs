//! Server-side effects (`design.md` § Architecture): what a turn needs from the outside world,
//! kept out of the pure engine. `outbound`: HTTP to other hosts behind an SSRF guard;
//! `sandbox`: the JavaScript engine behind `flowdm_engine::Sandbox`.

mod http_effect;
pub mod outbound;
pub mod perform;
pub mod sandbox;
