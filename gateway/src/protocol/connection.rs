//! One client connection from accept to close: SSL/GSSENC negotiation, a startup deadline,
//! then pgwire's message dispatch with our handlers.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::messages::PgWireFrontendMessage;
use pgwire::tokio::server::PgWireMessageServerCodec;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::ConnectionHandler;
use crate::error::PgError;
use crate::server::{DrainState, Shared};
use crate::session::wire::SocketWire;

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

/// The SQLSTATE pgwire will send for an error returned by a handler.
fn sqlstate_of(e: &pgwire::error::PgWireError) -> String {
    match e {
        pgwire::error::PgWireError::UserError(info) => info.code.clone(),
        pgwire::error::PgWireError::IoError(_) => "08006".into(),
        _ => "08P01".into(),
    }
}

fn admin_shutdown() -> PgError {
    PgError::fatal(
        "57P01",
        "terminating connection due to administrator command",
    )
}

pub async fn serve_connection(tcp: TcpStream, shared: Arc<Shared>) {
    let _live = shared.connection_opened();
    let opened = Instant::now();
    let peer = tcp.peer_addr().ok();
    let startup_deadline =
        Instant::now() + Duration::from_millis(shared.config.limits.startup_timeout_ms);
    // SSLRequest is answered 'S' and PostgreSQL 17 direct TLS (ALPN "postgresql") accepted;
    // GSSENCRequest is answered 'N'. Each connection keeps the certificate it started with,
    // so a reload never disturbs open sessions.
    let negotiation = negotiate_tls::<String>(tcp, Some(shared.tls.acceptor()));
    let socket = match tokio::time::timeout_at(startup_deadline, negotiation).await {
        Ok(Ok(Some(s))) => {
            if s.is_secure() {
                shared.metrics.tls_handshake(true);
            }
            s
        }
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            shared.metrics.tls_handshake(false);
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
    // after ReadyForQuery (a completed Query or Sync, or startup), the session's
    // idle_session_timeout / idle_in_transaction_session_timeout apply
    let mut awaiting_command = true;
    let mut idle_limit: Option<(Duration, &str, &str)> = None;
    let mut in_transaction = false;
    let mut drain = shared.watch_drain();
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
            let idle = idle_limit.filter(|_| awaiting_command);
            // a drain closes a session between commands outside a transaction; at the
            // deadline it closes every session
            let closes = |s: &DrainState| {
                *s == DrainState::Closing
                    || (*s == DrainState::Draining && awaiting_command && !in_transaction)
            };
            tokio::select! {
                biased;
                // (the watch guard is dropped inside: it must not live across an await)
                _ = async { drop(drain.wait_for(closes).await) } => {
                    let _ = process_error(&mut socket, admin_shutdown().into_pgwire(), false).await;
                    break;
                }
                _ = tokio::time::sleep(idle.map(|i| i.0).unwrap_or_default()), if idle.is_some() => {
                    let (_, code, reason) = idle.expect("guarded by the branch condition");
                    shared.metrics.idle_timeouts.inc();
                    shared.metrics.error(code);
                    let e = PgError::fatal(code, format!("terminating connection due to {reason}"));
                    let _ = process_error(&mut socket, e.into_pgwire(), false).await;
                    break;
                }
                m = next => m,
            }
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(TooLarge(len))) => {
                shared.metrics.error("54000");
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
                shared.metrics.error("08P01");
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
        // COPY messages outside COPY mode are ignored, as the protocol says: they are what a
        // client still sends after its COPY failed to start (e.g. CopyFail + Sync).
        if matches!(
            msg,
            PgWireFrontendMessage::CopyData(_)
                | PgWireFrontendMessage::CopyDone(_)
                | PgWireFrontendMessage::CopyFail(_)
        ) && !matches!(socket.state(), PgWireConnectionState::CopyInProgress(_))
        {
            continue;
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
        // Statements that send rows write them straight into the socket's buffer; in the
        // states where pgwire would not run them (startup, COPY, discarding until Sync) its
        // dispatch decides as for every other message.
        let direct = matches!(
            socket.state(),
            PgWireConnectionState::ReadyForQuery | PgWireConnectionState::QueryInProgress
        );
        let outcome = match msg {
            PgWireFrontendMessage::Query(q) if direct => {
                handler.query(&mut SocketWire(&mut socket), q).await
            }
            PgWireFrontendMessage::Execute(e) if direct => {
                handler.execute(&mut SocketWire(&mut socket), e).await
            }
            msg => {
                process_message(
                    msg,
                    &mut socket,
                    handler.clone(),
                    handler.clone(),
                    handler.clone(),
                    handler.clone(),
                    handler.clone(),
                )
                .await
            }
        };
        if let Err(e) = outcome {
            shared.metrics.error(&sqlstate_of(&e));
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
            let state = handler.cycle_state().await;
            if state.fatal_sent {
                break;
            }
            idle_limit = state.idle_limit;
            in_transaction = state.in_transaction;
        }
    }
    handler.close().await;
    tracing::info!(
        ?peer,
        duration_ms = opened.elapsed().as_millis() as u64,
        "connection closed"
    );
}
