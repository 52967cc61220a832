//! One client connection from accept to close: SSL/GSSENC negotiation, a startup deadline,
//! then pgwire's message dispatch with our handlers.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use pgwire::api::{ClientInfo, NoopHandler, PgWireConnectionState};
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::server::PgWireMessageServerCodec;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::ConnectionHandler;
use crate::error::PgError;
use crate::server::Shared;

enum ReadError {
    TooLarge(usize),
    Decode(pgwire::error::PgWireError),
}
use ReadError::{Decode, TooLarge};

/// The next frontend message, refusing one whose declared length exceeds `limit` as soon as
/// its header is buffered (before its body is read into memory).
async fn next_message<S>(
    socket: &mut Framed<S, PgWireMessageServerCodec<String>>,
    limit: usize,
) -> Option<Result<PgWireFrontendMessage, ReadError>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    fn oversized(buf: &[u8], limit: usize) -> Option<usize> {
        let len = i32::from_be_bytes(buf.get(1..5)?.try_into().ok()?).max(0) as usize;
        (len > limit).then_some(len)
    }
    std::future::poll_fn(|cx| {
        if let Some(len) = oversized(socket.read_buffer(), limit) {
            return std::task::Poll::Ready(Some(Err(TooLarge(len))));
        }
        match socket.poll_next_unpin(cx) {
            // the header may have just arrived with an incomplete body: check it now
            std::task::Poll::Pending => match oversized(socket.read_buffer(), limit) {
                Some(len) => std::task::Poll::Ready(Some(Err(TooLarge(len)))),
                None => std::task::Poll::Pending,
            },
            ready => ready.map(|m| m.map(|r| r.map_err(Decode))),
        }
    })
    .await
}

pub async fn serve_connection(tcp: TcpStream, shared: Arc<Shared>) {
    let peer = tcp.peer_addr().ok();
    let startup_deadline =
        Instant::now() + Duration::from_millis(shared.config.limits.startup_timeout_ms);
    // SSLRequest is answered 'S' and PostgreSQL 17 direct TLS (ALPN "postgresql") accepted;
    // GSSENCRequest is answered 'N'. Each connection keeps the certificate it started with,
    // so a reload never disturbs open sessions.
    let negotiation = negotiate_tls::<String>(tcp, Some(shared.tls.acceptor()));
    let socket = match tokio::time::timeout_at(startup_deadline, negotiation).await {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::debug!(?peer, error = %e, "negotiation failed");
            return;
        }
        Err(_) => {
            tracing::info!(?peer, "startup timeout");
            return;
        }
    };
    let mut socket = socket;
    let handler = Arc::new(ConnectionHandler::new(shared.clone()));
    let noop = Arc::new(NoopHandler);
    // after ReadyForQuery (a completed Query or Sync, or startup), the session's
    // idle_session_timeout / idle_in_transaction_session_timeout apply
    let mut awaiting_command = true;
    let mut idle_limit = None;
    loop {
        let starting = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        let msg = if starting {
            match tokio::time::timeout_at(startup_deadline, socket.next()).await {
                Ok(m) => m.map(|r| r.map_err(Decode)),
                Err(_) => {
                    let e = PgError::fatal(
                        "08006",
                        "timeout expired while waiting for the startup packet",
                    );
                    let _ = process_error(&mut socket, e.into_pgwire(), false).await;
                    break;
                }
            }
        } else {
            let next = next_message(&mut socket, shared.config.limits.max_message_bytes);
            // idle timeouts count only while the client owes us a new command
            match idle_limit.filter(|_| awaiting_command) {
                Some((limit, code, reason)) => match tokio::time::timeout(limit, next).await {
                    Ok(m) => m,
                    Err(_) => {
                        let e =
                            PgError::fatal(code, format!("terminating connection due to {reason}"));
                        let _ = process_error(&mut socket, e.into_pgwire(), false).await;
                        break;
                    }
                },
                None => next.await,
            }
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(TooLarge(len))) => {
                let e = PgError::fatal(
                    "54000",
                    format!(
                        "message of {len} bytes exceeds the limit of {} bytes",
                        shared.config.limits.max_message_bytes
                    ),
                );
                let _ = process_error(&mut socket, e.into_pgwire(), false).await;
                break;
            }
            Some(Err(Decode(e))) => {
                // undecodable input: report and drop the connection
                let e = PgError::fatal("08P01", format!("invalid frontend message: {e}"));
                let _ = process_error(&mut socket, e.into_pgwire(), false).await;
                break;
            }
            None => break,
        };
        if matches!(msg, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_cancel = matches!(msg, PgWireFrontendMessage::CancelRequest(_));
        let ends_cycle = matches!(
            msg,
            PgWireFrontendMessage::Query(_)
                | PgWireFrontendMessage::Sync(_)
                | PgWireFrontendMessage::Startup(_)
                | PgWireFrontendMessage::PasswordMessageFamily(_)
        );
        let is_extended = match socket.state() {
            PgWireConnectionState::CopyInProgress(ext) => ext,
            _ => msg.is_extended_query(),
        };
        if let Err(e) = process_message(
            msg,
            &mut socket,
            handler.clone(),
            handler.clone(),
            handler.clone(),
            noop.clone(),
            handler.clone(),
        )
        .await
        {
            let fatal = e.is_fatal();
            if process_error(&mut socket, e, is_extended).await.is_err() || fatal {
                break;
            }
        }
        if is_cancel {
            break;
        }
        awaiting_command = ends_cycle;
        if ends_cycle {
            idle_limit = handler.idle_limit().await;
        }
    }
    handler.close().await;
}
