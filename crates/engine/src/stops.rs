//! Resumable stops of client-handled custom actions (`docs/custom-actions.md` § "Resuming a
//! stop").
//!
//! A turn that stops on a custom action for the client gives the stop an id (64 bits from the
//! turn's random source), puts it in the custom trace (`stopID`) and records it as the session's
//! **pending stop**. The next turn consumes it: it is recorded as **resumed** (with the event it
//! resumed on), so that a second resume naming it can be told apart from a stale or made-up id
//! ([`check`]). A pending stop can carry a **deadline** (`config.stopDeadline`): the first turn
//! after it resumes the stop on the configured path first, then handles its own request.
//! Traces produced by a turn nobody was waiting for (a server-to-server resume) are kept as
//! **pending traces** and come first in the next turn's answer.
//!
//! Everything lives in the state's `storage` under [`STORAGE_KEY`], taken out at the start of a
//! turn (before a `launch` clears the storage) and put back at its end.

use super::request::Request;
use super::state::State;
use super::trace::Trace;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The storage key of the session's stops.
pub const STORAGE_KEY: &str = "flowdm:stops";
/// Where the custom-action handler leaves the stop it just made (moved into [`Stops`] by the
/// turn; never stored).
pub(crate) const NEW_STOP_KEY: &str = "flowdm:newStop";
/// Resumed stops remembered per session (oldest dropped first).
pub const RESUMED_KEPT: usize = 16;

/// `config.stopDeadline`: a stop not resumed within `seconds` resumes on `path` (a path label or
/// event type of the action) at the next request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StopDeadline {
    pub seconds: u64,
    pub path: String,
}

/// The stop the session waits on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingStop {
    pub id: String,
    /// The custom action's name (its trace type).
    pub action: String,
    #[serde(rename = "nodeID", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// When the stop was made (ms since the epoch).
    pub at: u64,
    /// When it resumes on [`PendingStop::deadline_event`] by itself (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// The request the deadline resumes with (the path's event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_event: Option<Value>,
    /// SHA-256 (hex) of the server-to-server resume token (set by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
}

/// A stop already resumed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResumedStop {
    pub id: String,
    /// The type of the request it resumed on (`null`: a turn without a request).
    pub event: Option<String>,
    /// When (ms since the epoch).
    pub at: u64,
    /// `request` (the next turn), `deadline`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
}

/// The session's stops.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stops {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingStop>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<ResumedStop>,
    /// Traces of a turn nobody was waiting for, answered first by the next turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<Trace>,
}

impl Stops {
    pub fn is_empty(&self) -> bool {
        self.pending.is_none() && self.resumed.is_empty() && self.traces.is_empty()
    }

    /// Records the pending stop as resumed on `event` (keeps the newest [`RESUMED_KEPT`]).
    pub(crate) fn resume(&mut self, stop: PendingStop, event: Option<&Request>, at: u64, by: &str) {
        if self.resumed.len() >= RESUMED_KEPT {
            self.resumed.remove(0);
        }
        self.resumed.push(ResumedStop {
            id: stop.id,
            event: event.map(|r| r.ty().to_string()),
            at,
            by: by.to_string(),
            token_hash: stop.token_hash,
        });
    }

    pub fn find_resumed(&self, id: &str) -> Option<&ResumedStop> {
        self.resumed.iter().rev().find(|r| r.id == id)
    }
}

/// The session's stops (empty when none or unreadable).
pub fn read(state: &State) -> Stops {
    state
        .storage
        .get(STORAGE_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Takes the session's stops out of the state.
pub fn take(state: &mut State) -> Stops {
    state
        .storage
        .shift_remove(STORAGE_KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Puts `stops` into the state (removes the key when there is nothing to keep).
pub fn put(state: &mut State, stops: &Stops) {
    if stops.is_empty() {
        state.storage.shift_remove(STORAGE_KEY);
        return;
    }
    if let Ok(v) = serde_json::to_value(stops) {
        state.storage.insert(STORAGE_KEY.to_string(), v);
    }
}

/// The stop made by the turn that just ran, taken out of the state.
pub(crate) fn take_new(state: &mut State) -> Option<PendingStop> {
    state
        .storage
        .shift_remove(NEW_STOP_KEY)
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The stop a request names: `action.payload.stopID`.
pub fn named(request: Option<&Request>) -> Option<&str> {
    request?.payload()?.get("stopID")?.as_str()
}

/// What a stop id is to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    /// The stop the session waits on.
    Pending,
    /// A stop already resumed.
    Resumed(ResumedStop),
    /// Neither (never made, or forgotten).
    Unknown,
}

/// What `id` is to the session in `state`.
pub fn check(state: &State, id: &str) -> Named {
    let stops = read(state);
    if stops.pending.as_ref().is_some_and(|p| p.id == id) {
        return Named::Pending;
    }
    match stops.find_resumed(id) {
        Some(r) => Named::Resumed(r.clone()),
        None => Named::Unknown,
    }
}

/// Whether the pending stop's deadline has passed at `now_ms`.
pub(crate) fn expired(stop: &PendingStop, now_ms: u64) -> bool {
    stop.deadline.is_some_and(|d| now_ms >= d)
}

/// The request a deadline resumes with.
pub(crate) fn deadline_request(stop: &PendingStop) -> Option<Request> {
    Request::from_value(stop.deadline_event.clone()?).ok()
}
