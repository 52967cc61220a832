//! The outgoing half of a client connection, as the session sees it.

use std::fmt::Debug;
use std::future::Future;

use bytes::{Buf, BytesMut};
use futures::SinkExt;
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::PgWireBackendMessage;
use pgwire::tokio::server::PgWireMessageServerCodec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;

/// Where a session writes backend messages. Implemented for every pgwire client.
pub trait Wire: Send {
    /// Queue a message (written out when the buffer fills or on flush).
    fn feed_msg(
        &mut self,
        m: PgWireBackendMessage,
    ) -> impl Future<Output = PgWireResult<()>> + Send;
    /// Queue `messages` whole backend messages of one type, already framed: DataRows (as
    /// the engine encodes them) or CopyData. A connection writes them with one copy instead
    /// of a message at a time.
    fn feed_frames(
        &mut self,
        frames: BytesMut,
        messages: usize,
    ) -> impl Future<Output = PgWireResult<()>> + Send;
    fn flush_msgs(&mut self) -> impl Future<Output = PgWireResult<()>> + Send;
    fn set_tx_status(&mut self, s: TransactionStatus);
    /// Hand the connection to the COPY-in sub-protocol (CopyData until CopyDone/CopyFail).
    fn start_copy_in(&mut self, extended: bool);
}

impl<C> Wire for C
where
    C: ClientInfo + futures::Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    async fn feed_msg(&mut self, m: PgWireBackendMessage) -> PgWireResult<()> {
        self.feed(m).await.map_err(PgWireError::from)
    }

    /// Any client: the frames are split back into messages (the connection loop uses
    /// [`SocketWire`] for the statements that send rows).
    async fn feed_frames(&mut self, frames: BytesMut, _messages: usize) -> PgWireResult<()> {
        for m in split_frames(frames)? {
            self.feed(m).await.map_err(PgWireError::from)?;
        }
        Ok(())
    }

    async fn flush_msgs(&mut self) -> PgWireResult<()> {
        SinkExt::<PgWireBackendMessage>::flush(self)
            .await
            .map_err(PgWireError::from)
    }

    fn set_tx_status(&mut self, s: TransactionStatus) {
        self.set_transaction_status(s)
    }

    fn start_copy_in(&mut self, extended: bool) {
        self.set_state(pgwire::api::PgWireConnectionState::CopyInProgress(extended))
    }
}

/// Framed DataRow / CopyData messages back into pgwire messages (for clients other than the
/// socket itself). Malformed frames are an internal error, never a panic.
fn split_frames(mut frames: BytesMut) -> PgWireResult<Vec<PgWireBackendMessage>> {
    let malformed = || {
        crate::error::PgError::new("XX000", "internal error: malformed result frames").into_pgwire()
    };
    let mut out = Vec::new();
    while !frames.is_empty() {
        if frames.len() < FRAME_HEADER {
            return Err(malformed());
        }
        let ty = frames[0];
        let len = i32::from_be_bytes(frames[1..5].try_into().expect("4 bytes")).max(0) as usize;
        if len < 4 || 1 + len > frames.len() {
            return Err(malformed());
        }
        let mut body = frames.split_to(1 + len);
        body.advance(FRAME_HEADER);
        out.push(match ty {
            b'D' if body.len() >= 2 => {
                let fields = body.get_i16();
                PgWireBackendMessage::DataRow(DataRow::new(body, fields))
            }
            b'd' => PgWireBackendMessage::CopyData(CopyData::new(body.freeze())),
            _ => return Err(malformed()),
        });
    }
    Ok(out)
}

/// Type byte and length: what precedes every backend message's body.
const FRAME_HEADER: usize = 5;

/// Written to the socket once this much output is buffered (pgwire's Framed flushes at 8 KiB
/// per message; whole batches of rows go out in larger writes).
const FLUSH_AT: usize = 64 * 1024;

/// The client socket itself, for the statements that send rows: frames go straight into the
/// connection's write buffer.
pub struct SocketWire<'a, S>(pub &'a mut Framed<S, PgWireMessageServerCodec<String>>);

impl<S> Wire for SocketWire<'_, S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
{
    async fn feed_msg(&mut self, m: PgWireBackendMessage) -> PgWireResult<()> {
        self.0.feed(m).await.map_err(PgWireError::from)
    }

    async fn feed_frames(&mut self, frames: BytesMut, _messages: usize) -> PgWireResult<()> {
        self.0.write_buffer_mut().extend_from_slice(&frames);
        if self.0.write_buffer().len() >= FLUSH_AT {
            self.flush_msgs().await?;
        }
        Ok(())
    }

    async fn flush_msgs(&mut self) -> PgWireResult<()> {
        SinkExt::<PgWireBackendMessage>::flush(self.0)
            .await
            .map_err(PgWireError::from)
    }

    fn set_tx_status(&mut self, s: TransactionStatus) {
        self.0.set_transaction_status(s)
    }

    fn start_copy_in(&mut self, extended: bool) {
        self.0
            .set_state(pgwire::api::PgWireConnectionState::CopyInProgress(extended))
    }
}

/// A [`Wire`] that counts what one statement sends: rows, row bytes and its command tag.
pub struct Tally<'a, W> {
    inner: &'a mut W,
    pub rows: u64,
    pub bytes: u64,
    pub tag: Option<String>,
}

impl<'a, W: Wire> Tally<'a, W> {
    pub fn new(inner: &'a mut W) -> Self {
        Tally {
            inner,
            rows: 0,
            bytes: 0,
            tag: None,
        }
    }
}

impl<W: Wire> Wire for Tally<'_, W> {
    async fn feed_msg(&mut self, m: PgWireBackendMessage) -> PgWireResult<()> {
        match &m {
            PgWireBackendMessage::DataRow(r) => {
                self.rows += 1;
                self.bytes += r.data.len() as u64;
            }
            PgWireBackendMessage::CommandComplete(c) => self.tag = Some(c.tag.clone()),
            PgWireBackendMessage::CopyData(d) => self.bytes += d.data.len() as u64,
            _ => {}
        }
        self.inner.feed_msg(m).await
    }

    async fn feed_frames(&mut self, frames: BytesMut, messages: usize) -> PgWireResult<()> {
        // row bytes are the bodies, as for single messages
        let header = match frames.first() {
            Some(b'D') => {
                self.rows += messages as u64;
                crate::engine::encode::DATA_ROW_HEADER
            }
            _ => FRAME_HEADER,
        };
        self.bytes += (frames.len() - header * messages) as u64;
        self.inner.feed_frames(frames, messages).await
    }

    async fn flush_msgs(&mut self) -> PgWireResult<()> {
        self.inner.flush_msgs().await
    }

    fn set_tx_status(&mut self, s: TransactionStatus) {
        self.inner.set_tx_status(s)
    }

    fn start_copy_in(&mut self, extended: bool) {
        self.inner.start_copy_in(extended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![ty];
        f.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn frames_split_back_into_messages_and_malformed_ones_are_errors() {
        let mut bytes = frame(b'D', &[0, 1, 0, 0, 0, 1, b'7']);
        bytes.extend(frame(b'd', b"a\tb\n"));
        let msgs = split_frames(BytesMut::from(&bytes[..])).unwrap();
        assert!(matches!(&msgs[0], PgWireBackendMessage::DataRow(r)
            if r.field_count == 1 && r.data[..] == [0, 0, 0, 1, b'7']));
        assert!(matches!(&msgs[1], PgWireBackendMessage::CopyData(c) if c.data[..] == *b"a\tb\n"));
        // truncated, an unknown type, a DataRow too short for its field count
        for bad in [
            bytes[..bytes.len() - 1].to_vec(),
            frame(b'Z', b"I"),
            frame(b'D', &[0]),
            vec![b'D', 0, 0],
        ] {
            assert!(split_frames(BytesMut::from(&bad[..])).is_err(), "{bad:?}");
        }
    }
}
