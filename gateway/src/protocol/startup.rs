//! Connection start: startup parameters, database routing, the session's DuckDB connection,
//! and the reply (AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery).

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    protocol_negotiation, save_startup_parameters_to_metadata, StartupHandler,
};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::response::{ReadyForQuery, TransactionStatus};
use pgwire::messages::startup::{Authentication, BackendKeyData, ParameterStatus, SecretKey};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::ConnectionHandler;
use crate::auth::{scram, Identity, ScramSession};
use crate::engine::Engine;
use crate::error::PgError;
use crate::metrics::Rejection;
use crate::session::settings::{is_session_setting, SessionSettings};
use crate::session::{Session, SessionInfo};
use crate::sql::SetValue;
use duckgate_config::AuthMethod;

/// Startup packet keys that are connection metadata, not settings.
const NOT_SETTINGS: &[&str] = &["user", "database", "options", "replication"];

/// Split `options` (`-c a=b --c=d -cx=y`) into settings. Backslash escapes a space.
pub fn parse_options(options: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let kv = if w == "-c" {
            i += 1;
            words.get(i).cloned()
        } else if let Some(rest) = w.strip_prefix("--") {
            Some(rest.to_owned())
        } else {
            w.strip_prefix("-c").map(str::to_owned)
        };
        if let Some((k, v)) = kv.as_deref().and_then(|s| s.split_once('=')) {
            out.push((k.replace('-', "_"), v.to_owned()));
        }
        i += 1;
    }
    out
}

/// Build the session settings from startup parameters. Unknown names are ignored (drivers
/// send many); invalid values of known ones fail the connection, as in PostgreSQL.
pub fn settings_from_startup(
    params: &BTreeMap<String, String>,
    base: SessionSettings,
) -> Result<SessionSettings, PgError> {
    let mut s = base.clone();
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !NOT_SETTINGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(o) = params.get("options") {
        pairs.extend(parse_options(o));
    }
    for (k, v) in pairs {
        let name = k.to_ascii_lowercase();
        if !is_session_setting(&name) {
            continue;
        }
        match s.set(&name, &SetValue::Values(vec![v]), &base) {
            Ok(_) => {}
            // read-only parameters sent at startup are simply ignored
            Err(crate::session::settings::SettingError::ReadOnly(_)) => {}
            Err(e) => return Err(PgError::fatal(e.sqlstate(), e.to_string())),
        }
    }
    Ok(s)
}

/// Where a connection is in the authentication exchange.
pub enum AuthPhase {
    /// Startup not yet received.
    Start,
    /// AuthenticationCleartextPassword sent.
    Password(BTreeMap<String, String>),
    /// AuthenticationSASL sent, waiting for SASLInitialResponse.
    ScramInitial(BTreeMap<String, String>),
    /// SASLContinue sent, waiting for SASLResponse.
    ScramFinal(BTreeMap<String, String>, Box<ScramSession>),
}

fn auth_failed(user: &str) -> PgWireError {
    // the same answer whatever was wrong (unknown token, bad proof, malformed exchange)
    PgError::fatal(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
    .into_pgwire()
}

fn user_of(params: &BTreeMap<String, String>) -> String {
    params.get("user").cloned().unwrap_or_default()
}

impl ConnectionHandler {
    async fn start_session(
        &self,
        params: &BTreeMap<String, String>,
        identity: Identity,
    ) -> Result<Session, PgError> {
        let user = user_of(params);
        if user.is_empty() {
            return Err(PgError::fatal(
                "28000",
                "no PostgreSQL user name specified in startup packet",
            ));
        }
        let dbname = params.get("database").cloned().unwrap_or_default();
        let database = self
            .shared
            .registry
            .resolve(&dbname)
            .map_err(PgError::from)?;
        if !identity.allows_database(&database) {
            return Err(PgError::fatal(
                "42501",
                format!("permission denied for database \"{database}\""),
            )
            .with_hint("the token does not list this database"));
        }
        let base = SessionSettings {
            statement_timeout_ms: self.shared.config.limits.statement_timeout_ms,
            idle_in_transaction_session_timeout_ms: self
                .shared
                .config
                .limits
                .idle_in_transaction_timeout_ms,
            idle_session_timeout_ms: self.shared.config.limits.idle_session_timeout_ms,
            ..Default::default()
        };
        let settings = settings_from_startup(params, base.clone())?;
        let (database, opened) = self.shared.registry.route(&dbname).await?;
        let catalog = opened.catalog.clone();
        let db = opened.db;
        let conn = tokio::task::spawn_blocking(move || db.connect())
            .await
            .expect("connect task panicked")
            .map_err(PgError::from)?;
        let mut session = Session::new(
            SessionInfo {
                user,
                database,
                identity: identity.name,
                read_only: identity.read_only,
            },
            Engine::new(conn),
            settings,
            self.shared.metrics.clone(),
        );
        session.init(catalog.as_deref()).await?;
        Ok(session)
    }

    /// Authentication succeeded: open the session and send the startup reply.
    async fn complete<C>(
        &self,
        client: &mut C,
        params: &BTreeMap<String, String>,
        identity: Identity,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(slot) = self.shared.try_acquire_connection() else {
            self.shared.metrics.rejected(Rejection::MaxConnections);
            return Err(PgError::fatal("53300", "sorry, too many clients already").into_pgwire());
        };
        let Some(token_slot) = self.shared.try_acquire_token_slot(&identity.name) else {
            self.shared
                .metrics
                .rejected(Rejection::MaxConnectionsPerToken);
            return Err(PgError::fatal(
                "53300",
                format!("too many connections for token \"{}\"", identity.name),
            )
            .into_pgwire());
        };
        let session = match self.start_session(params, identity).await {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(code = e.code, error = %e.message, "connection refused");
                return Err(e.into_pgwire());
            }
        };
        tracing::info!(
            user = %session.info.user,
            identity = %session.info.identity,
            database = %session.info.database,
            peer = %client.socket_addr(),
            tls = client.is_secure(),
            "session started"
        );
        let (pid, secret) = self.shared.register_cancel(session.cancel_state());
        *self.backend_pid.lock().unwrap() = Some(pid);
        client.set_pid_and_secret_key(pid, SecretKey::I32(secret));
        client
            .feed(PgWireBackendMessage::Authentication(Authentication::Ok))
            .await?;
        for (k, v) in session.settings.reported(&session.info.user) {
            client
                .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                    k.to_owned(),
                    v,
                )))
                .await?;
        }
        client
            .feed(PgWireBackendMessage::BackendKeyData(BackendKeyData::new(
                pid,
                SecretKey::I32(secret),
            )))
            .await?;
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                TransactionStatus::Idle,
            )))
            .await?;
        client.set_state(PgWireConnectionState::ReadyForQuery);
        let info = session.info.clone();
        *self.session.lock().await = Some(session);
        *self.slot.lock().unwrap() = Some((slot, token_slot));
        *self.session_gauge.lock().unwrap() = Some(
            self.shared
                .metrics
                .session_started(&info.database, &info.identity),
        );
        Ok(())
    }

    fn fail<C: ClientInfo>(&self, client: &C, params: &BTreeMap<String, String>) -> PgWireError {
        self.shared
            .limiter
            .record_failure(client.socket_addr().ip());
        self.shared.metrics.auth_failures.inc();
        tracing::info!(peer = %client.socket_addr(), "authentication failed");
        auth_failed(&user_of(params))
    }
}

#[async_trait]
impl StartupHandler for ConnectionHandler {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let phase = std::mem::replace(&mut *self.auth_phase.lock().await, AuthPhase::Start);
        match (phase, message) {
            (AuthPhase::Start, PgWireFrontendMessage::Startup(startup)) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                let params = startup.parameters;
                if !client.is_secure() && !self.shared.config.tls.allow_plaintext {
                    return Err(PgError::fatal(
                        "28000",
                        "this server requires TLS: connect with sslmode=require or stronger",
                    )
                    .into_pgwire());
                }
                let Some(store) = &self.shared.tokens else {
                    // auth.trust (loopback development only): the user name is the identity
                    let identity = Identity {
                        name: user_of(&params),
                        databases: vec!["*".into()],
                        read_only: false,
                    };
                    return self.complete(client, &params, identity).await;
                };
                let _ = store;
                if self.shared.limiter.is_blocked(client.socket_addr().ip()) {
                    self.shared.metrics.rejected(Rejection::AuthRateLimited);
                    return Err(auth_failed(&user_of(&params)));
                }
                let (request, next) = match self.shared.config.auth.method {
                    AuthMethod::Password => (
                        Authentication::CleartextPassword,
                        AuthPhase::Password(params),
                    ),
                    AuthMethod::Scram => (
                        Authentication::SASL(vec![scram::MECHANISM.to_owned()]),
                        AuthPhase::ScramInitial(params),
                    ),
                };
                client
                    .send(PgWireBackendMessage::Authentication(request))
                    .await?;
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                *self.auth_phase.lock().await = next;
                Ok(())
            }
            (AuthPhase::Password(params), PgWireFrontendMessage::PasswordMessageFamily(m)) => {
                let store = self
                    .shared
                    .tokens
                    .clone()
                    .expect("password phase needs tokens");
                let Ok(password) = m.into_password() else {
                    return Err(self.fail(client, &params));
                };
                // PBKDF2 is deliberately slow: keep it off the async threads
                let token = password.password;
                let identity = tokio::task::spawn_blocking(move || store.verify_password(&token))
                    .await
                    .expect("verify task panicked");
                match identity {
                    Some(id) => self.complete(client, &params, id).await,
                    None => Err(self.fail(client, &params)),
                }
            }
            (AuthPhase::ScramInitial(params), PgWireFrontendMessage::PasswordMessageFamily(m)) => {
                let store = self
                    .shared
                    .tokens
                    .clone()
                    .expect("SCRAM phase needs tokens");
                let initial = match m.into_sasl_initial_response() {
                    Ok(i) if i.auth_method == scram::MECHANISM => i,
                    _ => return Err(self.fail(client, &params)),
                };
                let data = initial.data.unwrap_or_default();
                let Ok((session, server_first)) = store.scram_start(&data) else {
                    return Err(self.fail(client, &params));
                };
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::SASLContinue(server_first.into_bytes().into()),
                    ))
                    .await?;
                *self.auth_phase.lock().await = AuthPhase::ScramFinal(params, Box::new(session));
                Ok(())
            }
            (
                AuthPhase::ScramFinal(params, session),
                PgWireFrontendMessage::PasswordMessageFamily(m),
            ) => {
                let Ok(response) = m.into_sasl_response() else {
                    return Err(self.fail(client, &params));
                };
                let outcome = tokio::task::spawn_blocking(move || session.finish(&response.data))
                    .await
                    .expect("SCRAM task panicked");
                match outcome {
                    Ok(Some((identity, server_final))) => {
                        client
                            .feed(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(server_final.into_bytes().into()),
                            ))
                            .await?;
                        self.complete(client, &params, identity).await
                    }
                    _ => Err(self.fail(client, &params)),
                }
            }
            _ => Err(PgError::protocol("unexpected message during authentication").into_pgwire()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parsing() {
        assert_eq!(
            parse_options("-c statement_timeout=5s --search-path=a,b -cTimeZone=UTC -c a\\ b=c d"),
            vec![
                ("statement_timeout".into(), "5s".into()),
                ("search_path".into(), "a,b".into()),
                ("TimeZone".into(), "UTC".into()),
                ("a b".into(), "c".into()),
            ]
        );
    }

    #[test]
    fn startup_settings() {
        let mut p = BTreeMap::new();
        p.insert("TimeZone".into(), "Europe/Paris".into());
        p.insert("application_name".into(), "app".into());
        p.insert("some_unknown_thing".into(), "x".into());
        p.insert("options".into(), "-c statement_timeout=250".into());
        let s = settings_from_startup(&p, SessionSettings::default()).unwrap();
        assert_eq!(s.time_zone.name(), "Europe/Paris");
        assert_eq!(s.application_name, "app");
        assert_eq!(s.statement_timeout_ms, 250);
        p.insert("DateStyle".into(), "Postgres".into());
        assert_eq!(
            settings_from_startup(&p, SessionSettings::default())
                .unwrap_err()
                .code,
            "22023"
        );
    }
}
