//! The PostgreSQL protocol layer: pgwire handlers for startup, simple and extended queries and
//! cancel requests, all delegating to the connection's [`Session`].

pub mod connection;
pub mod startup;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::Portal as PgPortal;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::Response;
use pgwire::api::stmt::NoopQueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::extendedquery::{
    Bind, Close, Describe, Execute, Parse, Sync as PgSync, TARGET_TYPE_BYTE_PORTAL,
    TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::simplequery::Query;
use pgwire::messages::PgWireBackendMessage;
use tokio::sync::Mutex;

use crate::error::PgError;
use crate::server::Shared;
use crate::session::stream::CANCEL_USER;
use crate::session::wire::Wire;
use crate::session::Session;

/// Per-connection handler state. pgwire processes one message at a time per connection, so
/// the session lock is never contended.
pub struct ConnectionHandler {
    pub shared: Arc<Shared>,
    pub session: Mutex<Option<Session>>,
    /// The backend key registered for cancel requests (pid), once started.
    pub backend_pid: std::sync::Mutex<Option<i32>>,
    /// Counts against `limits.maxConnections` while the session lives.
    pub slot: std::sync::Mutex<Option<(crate::server::ConnectionSlot, crate::server::TokenSlot)>>,
    /// Authentication exchange state before the session exists.
    pub auth_phase: Mutex<startup::AuthPhase>,
    /// Keeps the session counted in `duckgate_sessions`.
    pub session_gauge: std::sync::Mutex<Option<crate::metrics::SessionGauge>>,
}

/// What the connection loop needs to know between commands.
pub struct CycleState {
    /// The idle timeout in force: (limit, SQLSTATE, reason).
    pub idle_limit: Option<(std::time::Duration, &'static str, &'static str)>,
    pub in_transaction: bool,
    /// A FATAL error already went out (e.g. the shutdown interrupted a statement).
    pub fatal_sent: bool,
}

impl ConnectionHandler {
    pub fn new(shared: Arc<Shared>) -> Self {
        ConnectionHandler {
            shared,
            session: Mutex::new(None),
            backend_pid: std::sync::Mutex::new(None),
            slot: std::sync::Mutex::new(None),
            auth_phase: Mutex::new(startup::AuthPhase::Start),
            session_gauge: std::sync::Mutex::new(None),
        }
    }

    /// The session's state after a command cycle (before startup: no limits, no transaction).
    pub async fn cycle_state(&self) -> CycleState {
        let guard = self.session.lock().await;
        let Some(s) = guard.as_ref() else {
            return CycleState {
                idle_limit: None,
                in_transaction: false,
                fatal_sent: false,
            };
        };
        let (ms, code, reason) = if s.in_transaction() {
            (
                s.settings.idle_in_transaction_session_timeout_ms,
                "25P03",
                "idle-in-transaction timeout",
            )
        } else {
            (
                s.settings.idle_session_timeout_ms,
                "57P05",
                "idle-session timeout",
            )
        };
        CycleState {
            idle_limit: (ms > 0).then(|| (std::time::Duration::from_millis(ms), code, reason)),
            in_transaction: s.in_transaction(),
            fatal_sent: s.fatal_sent(),
        }
    }

    /// A simple-protocol Query. The connection loop calls it directly with the socket (rows
    /// go into its write buffer a batch at a time); pgwire's dispatch reaches it otherwise.
    pub async fn query<W: Wire>(&self, w: &mut W, query: Query) -> PgWireResult<()> {
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or_else(no_session)?;
        session.simple_query(w, &query.query).await
    }

    /// An extended-protocol Execute; called like [`ConnectionHandler::query`].
    pub async fn execute<W: Wire>(&self, w: &mut W, message: Execute) -> PgWireResult<()> {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        let max_rows = message.max_rows.max(0) as usize;
        let r = s.execute(w, name_of(&message.name), max_rows).await?;
        extended_result(s, r)
    }

    /// Called when the connection ends: forget the cancel key, stop any running query.
    pub async fn close(&self) {
        if let Some(pid) = self.backend_pid.lock().unwrap().take() {
            self.shared.unregister_cancel(pid);
        }
        if let Some(s) = self.session.lock().await.as_ref() {
            s.cancel_state().interrupter.interrupt();
        }
        self.slot.lock().unwrap().take();
        self.session_gauge.lock().unwrap().take();
    }
}

fn no_session() -> PgWireError {
    PgError::protocol("no session: startup has not completed").into_pgwire()
}

fn name_of(n: &Option<String>) -> &str {
    n.as_deref().unwrap_or("")
}

#[async_trait]
impl SimpleQueryHandler for ConnectionHandler {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.query(client, query).await
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        unreachable!("on_query is implemented by the session")
    }
}

/// Turn a session-level error into a pgwire error after recording it in the session.
fn extended_result(session: &mut Session, r: Result<(), PgError>) -> PgWireResult<()> {
    r.map_err(|e| {
        session.extended_error();
        e.into_pgwire()
    })
}

#[async_trait]
impl ExtendedQueryHandler for ConnectionHandler {
    type Statement = String;
    type QueryParser = NoopQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::new(NoopQueryParser)
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        let r = s
            .parse(
                client,
                name_of(&message.name),
                &message.query,
                &message.type_oids,
            )
            .await?;
        extended_result(s, r)
    }

    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        let r = s
            .bind(
                client,
                name_of(&message.portal_name),
                name_of(&message.statement_name),
                &message.parameter_format_codes,
                &message.parameters,
                &message.result_column_format_codes,
            )
            .await?;
        extended_result(s, r)
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.execute(client, message).await
    }

    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        let name = name_of(&message.name);
        let r = match message.target_type {
            TARGET_TYPE_BYTE_STATEMENT => s.describe_statement(client, name).await?,
            TARGET_TYPE_BYTE_PORTAL => s.describe_portal(client, name).await?,
            other => Err(PgError::protocol(format!(
                "invalid DESCRIBE message subtype {other}"
            ))),
        };
        extended_result(s, r)
    }

    async fn on_close<C>(&self, client: &mut C, message: Close) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        let name = name_of(&message.name);
        match message.target_type {
            TARGET_TYPE_BYTE_STATEMENT => s.close_statement(client, name).await,
            TARGET_TYPE_BYTE_PORTAL => s.close_portal(client, name).await,
            other => {
                let r = Err(PgError::protocol(format!(
                    "invalid CLOSE message subtype {other}"
                )));
                extended_result(s, r)
            }
        }
    }

    async fn on_sync<C>(&self, client: &mut C, _message: PgSync) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        s.sync(client).await
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        _portal: &PgPortal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        unreachable!("on_execute is implemented by the session")
    }
}

#[async_trait]
impl CopyHandler for ConnectionHandler {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        s.copy_data(&copy_data.data).await;
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        let s = guard.as_mut().ok_or_else(no_session)?;
        s.copy_done(client).await?.map_err(PgError::into_pgwire)
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.session.lock().await;
        match guard.as_mut() {
            Some(s) => s.copy_fail(client, &fail.message).await.into_pgwire(),
            None => no_session(),
        }
    }
}

#[async_trait]
impl CancelHandler for ConnectionHandler {
    async fn on_cancel_request(&self, request: CancelRequest) {
        // a 4-byte key may arrive decoded as bytes, depending on the protocol version
        let Some(secret) = request.secret_key.as_i32() else {
            return;
        };
        if let Some(target) = self.shared.cancel_target(request.pid, secret) {
            tracing::info!(pid = request.pid, "cancel request");
            self.shared.metrics.cancels.inc();
            target.cancel(CANCEL_USER);
        }
    }
}
