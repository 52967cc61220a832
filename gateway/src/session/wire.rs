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
}
