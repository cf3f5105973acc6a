//! The actix route of the socket.io path, handing each request to socketioxide in-process.
//!
//! * A polling request (`transport=polling`: the handshake, long-poll `GET`s, `POST`ed packets)
//!   is one call of the service with the request's method, URI, headers and body; its answer
//!   is copied back.
//! * A WebSocket request is accepted by actix (`actix-ws`); socketioxide gets one end of an
//!   in-memory duplex as the upgraded connection, and the other end, read and written as the
//!   client role of the same WebSocket (`tokio-tungstenite`), is joined frame by frame to the
//!   actix side until either closes.
//!
//! Every request carries the accepting worker's arbiter in its extensions: the connection's
//! turns run there (`super::protocol`).

use super::SocketChannel;
use crate::http::errors::ApiError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{Message as AxMessage, Session};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::service::Service as _;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// Bytes buffered between the two WebSocket ends.
const DUPLEX_BYTES: usize = 64 * 1024;

/// The arbiter (actix worker) a connection's turns run on.
#[derive(Clone)]
pub struct TurnArbiter(pub actix_rt::ArbiterHandle);

/// `GET|POST /v4/interact/socket/`: socket.io's transports.
pub async fn handle(
    req: HttpRequest,
    body: web::Payload,
    channel: web::Data<SocketChannel>,
    data: web::Data<crate::http::AppState>,
) -> Result<HttpResponse, ApiError> {
    let is_ws = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_ws {
        websocket(&req, body, &channel)
    } else {
        polling(&req, body, &channel, data.limits.body_bytes).await
    }
}

/// The request's method, URI and headers, with the worker's arbiter.
fn parts<B>(req: &HttpRequest, body: B) -> Result<http::Request<B>, ApiError> {
    let mut builder = http::Request::builder()
        .method(req.method().as_str())
        .uri(req.uri().to_string());
    for (name, value) in req.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let mut out = builder
        .body(body)
        .map_err(|e| ApiError::validation("request", e.to_string()))?;
    out.extensions_mut()
        .insert(TurnArbiter(actix_rt::Arbiter::current()));
    Ok(out)
}

/// A polling request, its body read up to `limit` bytes (the server's body limit, which is
/// also engine.io's `max_payload`): more is a 413 before socketioxide sees it.
async fn polling(
    req: &HttpRequest,
    body: web::Payload,
    channel: &SocketChannel,
    limit: usize,
) -> Result<HttpResponse, ApiError> {
    let bytes = crate::http::limits::read_limited(body, limit).await?;
    let request = parts(req, Full::new(Bytes::from(bytes)))?;
    let answer = channel
        .svc
        .call(request)
        .await
        .map_err(|e| ApiError::internal(format!("socket.io: {e:?}")))?;
    let (head, body) = answer.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| ApiError::internal(format!("socket.io body: {e:?}")))?
        .to_bytes();
    let status = StatusCode::from_u16(head.status.as_u16()).unwrap_or(StatusCode::OK);
    if body.is_empty() && !status.is_success() {
        // engine.io's bare refusals (a WebSocket request without its upgrade headers, …).
        return Err(ApiError::verror(
            status,
            "not a socket.io request: see docs/clients.md § The v4 socket",
        ));
    }
    let mut out = HttpResponse::build(status);
    for (name, value) in &head.headers {
        // CORS is the actix middleware's (one policy for every route).
        if !name.as_str().starts_with("access-control-") {
            out.append_header((name.as_str(), value.as_bytes()));
        }
    }
    Ok(out.body(body))
}

fn websocket(
    req: &HttpRequest,
    body: web::Payload,
    channel: &SocketChannel,
) -> Result<HttpResponse, ApiError> {
    let (response, session, stream) =
        actix_ws::handle(req, body).map_err(|e| ApiError::validation("upgrade", e.to_string()))?;
    let (inner, outer) = tokio::io::duplex(DUPLEX_BYTES);
    let request = parts(req, ())?;
    channel
        .svc
        .call((inner, request))
        .into_inner()
        .map_err(|e| ApiError::validation("socket.io", format!("{e:?}")))?;
    actix_web::rt::spawn(async move {
        let peer = WebSocketStream::from_raw_socket(outer, Role::Client, None).await;
        join(session, stream, peer).await;
    });
    Ok(response)
}

/// Copies frames both ways until one side closes, then closes the other.
async fn join(
    mut session: Session,
    mut client: actix_ws::MessageStream,
    peer: WebSocketStream<tokio::io::DuplexStream>,
) {
    let (mut to_peer, mut from_peer) = peer.split();
    loop {
        tokio::select! {
            msg = client.next() => {
                let forwarded = match msg {
                    Some(Ok(AxMessage::Text(t))) => to_peer.send(WsMessage::text(t.to_string())).await,
                    Some(Ok(AxMessage::Binary(b))) => to_peer.send(WsMessage::binary(b)).await,
                    Some(Ok(AxMessage::Ping(p))) => {
                        let _ = session.pong(&p).await;
                        Ok(())
                    }
                    Some(Ok(AxMessage::Pong(_) | AxMessage::Nop | AxMessage::Continuation(_))) => Ok(()),
                    Some(Ok(AxMessage::Close(_))) | Some(Err(_)) | None => break,
                };
                if forwarded.is_err() {
                    break;
                }
            }
            msg = from_peer.next() => {
                let sent = match msg {
                    Some(Ok(WsMessage::Text(t))) => session.text(t.as_str().to_string()).await,
                    Some(Ok(WsMessage::Binary(b))) => session.binary(b).await,
                    Some(Ok(WsMessage::Ping(p))) => session.ping(&p).await,
                    Some(Ok(WsMessage::Pong(_) | WsMessage::Frame(_))) => Ok(()),
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to_peer.close().await;
    let _ = session.close(None).await;
}
