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
        PgError::new(e.sqlstate, public_schema_message(e.message))
    }
}

/// DuckDB's messages about its schema `main` as a client wrote them: `public` is `main`
/// (`sql::compat::public_schema`), so `CREATE SCHEMA public` fails with `Schema with name
/// "public" already exists!` rather than naming a schema the client never mentioned.
fn public_schema_message(message: String) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("Schema with name \"main\"", "Schema with name \"public\""),
        ("entry \"main\" because", "entry \"public\" because"),
    ];
    NAMES.iter().fold(message, |m, (duckdb, pg)| {
        if m.contains(duckdb) {
            m.replace(duckdb, pg)
        } else {
            m
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdbs_main_schema_is_public_in_messages() {
        assert_eq!(
            public_schema_message(
                "Catalog Error: Schema with name \"main\" already exists!".into()
            ),
            "Catalog Error: Schema with name \"public\" already exists!"
        );
        assert_eq!(
            public_schema_message(
                "Catalog Error: Cannot drop entry \"main\" because it is an internal system entry"
                    .into()
            ),
            "Catalog Error: Cannot drop entry \"public\" because it is an internal system entry"
        );
        let other = "Catalog Error: Table with name main does not exist!";
        assert_eq!(public_schema_message(other.into()), other);
    }
}
