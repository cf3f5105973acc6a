//! Server-Sent Events framing and the streaming body of the SSE routes (`docs/streaming.md`):
//! the turn task sends finished frames into a channel, the body reads them and sends a
//! keep-alive comment when nothing came for a while. When the client goes away actix drops the
//! body, the channel closes, and the turn task sees it ([`Frames::is_closed`]).

use bytes::Bytes;
use futures_core::Stream;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// The reconnection hint sent first (the reference's SSE library default).
pub const RETRY_MS: u64 = 2000;

/// One event: `event: <name>`, an optional `id:`, `data: <json>` (one line: JSON has no raw
/// newline), a blank line.
pub fn event(name: &str, id: Option<u64>, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    let mut s = format!("event: {name}\n");
    if let Some(id) = id {
        s.push_str(&format!("id: {id}\n"));
    }
    s.push_str("data: ");
    s.push_str(&json);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// The sending side, held by the turn task. Unbounded: a turn's traces are bounded by the
/// engine's limits, and the engine's observer cannot wait.
pub struct Frames {
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Frames {
    /// Queues a frame; `false` when the client is gone.
    pub fn send(&self, frame: Bytes) -> bool {
        self.tx.send(frame).is_ok()
    }

    /// Whether the client is gone (the body was dropped).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The body: frames from the channel, a keep-alive comment after [`KEEP_ALIVE`] of silence.
pub struct Body {
    rx: mpsc::UnboundedReceiver<Bytes>,
    keep_alive: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    started: bool,
}

impl Stream for Body {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if !self.started {
            self.started = true;
            return Poll::Ready(Some(Ok(Bytes::from(format!("retry: {RETRY_MS}\n\n")))));
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(frame)) => {
                let next = tokio::time::Instant::now() + self.keep_alive;
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let next = tokio::time::Instant::now() + self.keep_alive;
                    self.timer.as_mut().reset(next);
                    Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n"))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// A channel: the turn task's [`Frames`] and the response's [`Body`].
pub fn channel(keep_alive: Duration) -> (Frames, Body) {
    let (tx, rx) = mpsc::unbounded_channel();
    let body = Body {
        rx,
        keep_alive,
        timer: Box::pin(tokio::time::sleep(keep_alive)),
        started: false,
    };
    (Frames { tx }, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_one_event_each() {
        let f = event("trace", Some(3), &serde_json::json!({"a": "x\ny"}));
        assert_eq!(&f[..], b"event: trace\nid: 3\ndata: {\"a\":\"x\\ny\"}\n\n");
    }
}
