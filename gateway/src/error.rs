//! The error every user-visible failure becomes: a PostgreSQL ErrorResponse with a SQLSTATE.

use pgwire::error::{ErrorInfo, PgWireError};

use crate::engine::DbError;
use crate::session::settings::SettingError;
use crate::types::params::ParamError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Fatal,
}

/// An error sent to the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PgError {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl PgError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        PgError {
            severity: Severity::Error,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn fatal(code: &'static str, message: impl Into<String>) -> Self {
        PgError {
            severity: Severity::Fatal,
            ..PgError::new(code, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn info(&self) -> ErrorInfo {
        let mut info = ErrorInfo::new(
            match self.severity {
                Severity::Error => "ERROR",
                Severity::Fatal => "FATAL",
            }
            .to_owned(),
            self.code.to_owned(),
            self.message.clone(),
        );
        info.hint = self.hint.clone();
        info
    }

    pub fn into_pgwire(self) -> PgWireError {
        PgWireError::UserError(Box::new(self.info()))
    }

    pub fn aborted_transaction() -> Self {
        PgError::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    pub fn protocol(message: impl Into<String>) -> Self {
        PgError::new("08P01", message)
    }
}

impl From<DbError> for PgError {
    fn from(e: DbError) -> Self {
        PgError::new(e.sqlstate, e.message)
    }
}

impl From<ParamError> for PgError {
    fn from(e: ParamError) -> Self {
        PgError::new(e.sqlstate(), e.to_string())
    }
}

impl From<SettingError> for PgError {
    fn from(e: SettingError) -> Self {
        PgError::new(e.sqlstate(), e.to_string())
    }
}

impl From<PgError> for PgWireError {
    fn from(e: PgError) -> Self {
        e.into_pgwire()
    }
}
