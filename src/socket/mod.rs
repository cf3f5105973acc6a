//! The v4 socket.io channel at `/v4/interact/socket` (`docs/clients.md` § "The v4 socket"),
//! which `@voiceflow/sdk-runtime` 1.69.1 (today's web chat) talks instead of the HTTP routes.
//!
//! The protocol is served by socketioxide, a maintained socket.io server that is a tower/hyper
//! service, in the same process and on the same port as the actix routes: [`bridge`] hands it
//! every request of the path — a polling request as a direct service call, a WebSocket as a
//! raw stream over an in-memory duplex whose other end carries the frames the actix WebSocket
//! receives and sends. No second listener, no port of its own. [`protocol`] answers the
//! client's events; a turn runs on the actix worker that accepted the connection (the turn's
//! futures hold per-request state that stays on one thread) and is written to the socket as it
//! is produced, by the streaming routes' emitter (`super::http::stream`).

pub mod bridge;
pub mod protocol;

use crate::http::AppState;
use actix_web::web;
use socketioxide::service::SocketIoService;
use socketioxide::SocketIo;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The path of the channel.
pub const PATH: &str = "/v4/interact/socket";

/// What the shutdown needs to know of the channel: the turns running, and whether new ones
/// are refused.
#[derive(Debug, Default)]
pub struct Activity {
    pub running: AtomicUsize,
    pub closing: AtomicBool,
}

/// The socket.io service and its handle.
pub struct SocketChannel {
    svc: SocketIoService<engineioxide::service::NotFoundService>,
    io: SocketIo,
    activity: Arc<Activity>,
}

impl SocketChannel {
    /// The channel serving `data`'s agents. Engine.io's ping interval stays under the request
    /// timeout, so a polling request always answers before the server's own timeout.
    pub fn new(data: web::Data<AppState>) -> SocketChannel {
        let timeout = data.limits.request_timeout;
        let ping = (timeout / 2).clamp(Duration::from_millis(200), Duration::from_secs(15));
        let (svc, io) = SocketIo::builder()
            .req_path(PATH)
            .ping_interval(ping)
            .ping_timeout(ping)
            .max_payload(data.limits.body_bytes as u64)
            .build_svc();
        let activity = Arc::new(Activity::default());
        protocol::register(&io, data, activity.clone());
        SocketChannel { svc, io, activity }
    }

    /// The shutdown's part (`docs/operations.md`): new actions are refused (`action`
    /// `{status: "rejected", error: {code: 503}}`), the running turns get up to `drain` to
    /// finish and commit, then every connection is closed with engine.io's close packet
    /// (`session-ended` is not sent: the sessions live on; the client sees a transport close and
    /// reconnects — to another server behind a load balancer — with its key).
    pub async fn drain(&self, drain: Duration) {
        self.activity.closing.store(true, Ordering::SeqCst);
        let until = std::time::Instant::now() + drain;
        while self.activity.running.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.io.close().await;
    }
}
