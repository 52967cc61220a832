//! The outgoing half of a client connection, as the session sees it.

use std::fmt::Debug;
use std::future::Future;

use futures::SinkExt;
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::PgWireBackendMessage;

/// Where a session writes backend messages. Implemented for every pgwire client.
pub trait Wire: Send {
    /// Queue a message (written out when the buffer fills or on flush).
    fn feed_msg(
        &mut self,
        m: PgWireBackendMessage,
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
