//! DuckDB errors and their PostgreSQL SQLSTATEs.

use duckdb::ffi;

/// DuckDB's error classes (its `ExceptionType`), as far as the SQLSTATE mapping needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Parser,
    Catalog,
    Binder,
    Conversion,
    OutOfRange,
    DivideByZero,
    InvalidInput,
    Constraint,
    Transaction,
    NotImplemented,
    Interrupt,
    Permission,
    Dependency,
    Io,
    OutOfMemory,
    TypeMismatch,
    Sequence,
    MissingExtension,
    ParameterNotResolved,
    Settings,
    ObjectSize,
    Internal,
    Other,
}

pub const PLAN_CHANGED: &str = "cached plan must not change result type";

/// DuckDB refuses ALTER COLUMN TYPE on a column a CHECK names.
const TYPE_CHANGE_WITH_CHECK: &str =
    "Cannot change the type of a column that has a CHECK constraint specified";

/// An error raised by DuckDB (or by our use of it), with the SQLSTATE we answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub class: ErrorClass,
    pub message: String,
    pub sqlstate: &'static str,
}

impl DbError {
    fn new(class: ErrorClass, message: String) -> Self {
        if let Some(message) = length_violation(&message) {
            return DbError {
                class: ErrorClass::Constraint,
                message,
                sqlstate: "22001",
            };
        }
        let sqlstate = sqlstate_for(class, &message);
        let message = if message.contains(TYPE_CHANGE_WITH_CHECK) {
            // the CHECK may be one the user never wrote: say which, and the way around it
            format!(
                "{message} (a varchar(n) or char(n) column keeps its declared length as a CHECK \
                 constraint; to change its type, add a column of the new type, copy the values \
                 over, drop the old column and rename the new one)"
            )
        } else {
            message
        };
        DbError {
            class,
            message,
            sqlstate,
        }
    }

    /// A prepared statement now produces other columns than it described (DuckDB rebound it
    /// after a schema change); PostgreSQL's error and wording, which pgJDBC recognises and
    /// answers by preparing again.
    pub fn plan_changed() -> Self {
        DbError {
            class: ErrorClass::NotImplemented,
            message: PLAN_CHANGED.to_owned(),
            sqlstate: "0A000",
        }
    }

    pub fn is_plan_changed(&self) -> bool {
        self.sqlstate == "0A000" && self.message == PLAN_CHANGED
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        DbError::new(ErrorClass::Internal, msg.into())
    }

    pub fn invalid_input(msg: impl Into<String>) -> Self {
        DbError::new(ErrorClass::InvalidInput, msg.into())
    }

    /// Classify a DuckDB message by its `<Class> Error:` prefix.
    pub fn from_message(msg: &str) -> Self {
        DbError::new(class_from_prefix(msg), msg.to_owned())
    }

    pub(crate) unsafe fn from_result(res: *mut ffi::duckdb_result) -> Self {
        let msg_ptr = ffi::duckdb_result_error(res);
        let msg = if msg_ptr.is_null() {
            "unknown DuckDB error".to_owned()
        } else {
            std::ffi::CStr::from_ptr(msg_ptr)
                .to_string_lossy()
                .into_owned()
        };
        let class = match class_from_type(ffi::duckdb_result_error_type(res)) {
            ErrorClass::Other => class_from_prefix(&msg),
            c => c,
        };
        DbError::new(class, msg)
    }

    pub fn with_context(mut self, ctx: String) -> Self {
        self.message = format!("{} ({ctx})", self.message);
        self
    }
}

/// A failed CHECK that stands for a `varchar(n)` / `char(n)` length
/// (`sql::compat::declared_lengths`), on INSERT, UPDATE or COPY (`Failed to append: …`):
/// PostgreSQL's 22001 message.
fn length_violation(msg: &str) -> Option<String> {
    let at = msg.find("CHECK constraint failed")?;
    let rest = &msg[at..];
    let expression = rest[rest.find("with expression CHECK(")? + "with expression CHECK(".len()..]
        .trim_end()
        .strip_suffix(')')?;
    let (kind, n) = crate::sql::compat::parse_length_check(expression)?;
    Some(format!(
        "value too long for type {}",
        crate::sql::compat::length_type_name(kind, n)
    ))
}

fn class_from_type(t: ffi::duckdb_error_type) -> ErrorClass {
    use ErrorClass::*;
    match t {
        ffi::duckdb_error_type_DUCKDB_ERROR_PARSER | ffi::duckdb_error_type_DUCKDB_ERROR_SYNTAX => {
            Parser
        }
        ffi::duckdb_error_type_DUCKDB_ERROR_CATALOG => Catalog,
        ffi::duckdb_error_type_DUCKDB_ERROR_BINDER => Binder,
        ffi::duckdb_error_type_DUCKDB_ERROR_CONVERSION => Conversion,
        ffi::duckdb_error_type_DUCKDB_ERROR_OUT_OF_RANGE
        | ffi::duckdb_error_type_DUCKDB_ERROR_DECIMAL => OutOfRange,
        ffi::duckdb_error_type_DUCKDB_ERROR_DIVIDE_BY_ZERO => DivideByZero,
        ffi::duckdb_error_type_DUCKDB_ERROR_INVALID_INPUT => InvalidInput,
        ffi::duckdb_error_type_DUCKDB_ERROR_CONSTRAINT => Constraint,
        ffi::duckdb_error_type_DUCKDB_ERROR_TRANSACTION => Transaction,
        ffi::duckdb_error_type_DUCKDB_ERROR_NOT_IMPLEMENTED => NotImplemented,
        ffi::duckdb_error_type_DUCKDB_ERROR_INTERRUPT => Interrupt,
        ffi::duckdb_error_type_DUCKDB_ERROR_PERMISSION => Permission,
        ffi::duckdb_error_type_DUCKDB_ERROR_DEPENDENCY => Dependency,
        ffi::duckdb_error_type_DUCKDB_ERROR_IO
        | ffi::duckdb_error_type_DUCKDB_ERROR_HTTP
        | ffi::duckdb_error_type_DUCKDB_ERROR_NETWORK
        | ffi::duckdb_error_type_DUCKDB_ERROR_CONNECTION => Io,
        ffi::duckdb_error_type_DUCKDB_ERROR_OUT_OF_MEMORY => OutOfMemory,
        ffi::duckdb_error_type_DUCKDB_ERROR_MISMATCH_TYPE
        | ffi::duckdb_error_type_DUCKDB_ERROR_INVALID_TYPE
        | ffi::duckdb_error_type_DUCKDB_ERROR_UNKNOWN_TYPE => TypeMismatch,
        ffi::duckdb_error_type_DUCKDB_ERROR_SEQUENCE => Sequence,
        ffi::duckdb_error_type_DUCKDB_ERROR_MISSING_EXTENSION
        | ffi::duckdb_error_type_DUCKDB_ERROR_AUTOLOAD => MissingExtension,
        ffi::duckdb_error_type_DUCKDB_ERROR_PARAMETER_NOT_RESOLVED => ParameterNotResolved,
        ffi::duckdb_error_type_DUCKDB_ERROR_SETTINGS => Settings,
        ffi::duckdb_error_type_DUCKDB_ERROR_OBJECT_SIZE => ObjectSize,
        ffi::duckdb_error_type_DUCKDB_ERROR_INTERNAL
        | ffi::duckdb_error_type_DUCKDB_ERROR_FATAL => Internal,
        _ => Other,
    }
}

/// DuckDB prefixes messages with the exception class: `Catalog Error: ...`.
pub fn class_from_prefix(msg: &str) -> ErrorClass {
    use ErrorClass::*;
    let Some(idx) = msg.find(" Error:") else {
        return Other;
    };
    match msg[..idx].to_ascii_lowercase().as_str() {
        "parser" | "syntax" => Parser,
        "catalog" => Catalog,
        "binder" => Binder,
        "conversion" => Conversion,
        "out of range" | "decimal" => OutOfRange,
        "divide by zero" => DivideByZero,
        "invalid input" => InvalidInput,
        "constraint" => Constraint,
        "transactioncontext" | "transaction" => Transaction,
        "not implemented" => NotImplemented,
        "interrupt" => Interrupt,
        "permission" => Permission,
        "dependency" => Dependency,
        "io" | "http" | "network" | "connection" => Io,
        "out of memory" => OutOfMemory,
        "type mismatch" | "invalid type" | "unknown type" | "mismatch type" => TypeMismatch,
        "sequence" => Sequence,
        "missing extension" | "extension autoloading" => MissingExtension,
        "parameter not resolved" => ParameterNotResolved,
        "settings" => Settings,
        "invalid configuration" => Settings,
        "internal" | "fatal" => Internal,
        _ => Other,
    }
}

/// The SQLSTATE for a DuckDB error: the class decides, the message refines.
pub fn sqlstate_for(class: ErrorClass, msg: &str) -> &'static str {
    use ErrorClass::*;
    let m = msg.to_ascii_lowercase();
    match class {
        Parser => "42601",
        Catalog => {
            if m.contains("already exists") {
                if m.contains("table") || m.contains("view") {
                    "42P07"
                } else if m.contains("schema") {
                    "42P06"
                } else {
                    "42710"
                }
            } else if m.contains("function") || m.contains("macro") {
                "42883"
            } else if m.contains("schema with name") {
                "3F000"
            } else if m.contains("table with name")
                || m.contains("view with name")
                || m.contains("table or view")
            {
                "42P01"
            } else if m.contains("type with name") {
                "42704"
            } else if m.contains("database") || m.contains("catalog with name") {
                "3D000"
            } else {
                "42704"
            }
        }
        Binder => {
            if m.contains("catalog \"") && m.contains("does not exist") {
                "3D000"
            } else if m.contains("column")
                && (m.contains("not found") || m.contains("does not have"))
            {
                "42703"
            } else if m.contains("no function matches") || m.contains("function with name") {
                "42883"
            } else if m.contains("table") && m.contains("does not exist")
                || m.contains("referenced table")
            {
                "42P01"
            } else if m.contains("group by") {
                "42803"
            } else if m.contains("ambiguous") {
                "42702"
            } else if m.contains("could not choose a best candidate") {
                "42725"
            } else if m.contains("read-only") || m.contains("read only") {
                "25006"
            } else if m.contains(&TYPE_CHANGE_WITH_CHECK.to_ascii_lowercase()) {
                // PostgreSQL can; DuckDB cannot while a CHECK (a declared varchar(n) length
                // included) names the column
                "0A000"
            } else {
                "42000"
            }
        }
        Conversion => {
            if m.contains("out of range") || m.contains("overflow") {
                "22003"
            } else {
                "22P02"
            }
        }
        OutOfRange => {
            if m.contains("division by zero") || m.contains("divide by zero") {
                "22012"
            } else {
                "22003"
            }
        }
        DivideByZero => "22012",
        InvalidInput => {
            if m.contains("read-only") || m.contains("read only") {
                "25006"
            } else if m.contains("malformed json") {
                "22P02"
            } else if m.contains("relation \"") && m.contains("\" does not exist") {
                // the catalog's pg_table_size('name') and kin (sql::catalog), as PostgreSQL's
                // regclass input
                "42P01"
            } else {
                "22023"
            }
        }
        Constraint => {
            if m.contains("not null") {
                "23502"
            } else if m.contains("foreign key") {
                "23503"
            } else if m.contains("check constraint") {
                "23514"
            } else if m.contains("duplicate key")
                || m.contains("unique")
                || m.contains("primary key")
            {
                "23505"
            } else {
                "23000"
            }
        }
        Transaction => {
            if m.contains("conflict") {
                "40001"
            } else if m.contains("transaction is aborted") {
                "25P02"
            } else if m.contains("within a transaction") || m.contains("already") {
                "25001"
            } else if m.contains("read-only") || m.contains("read only") {
                "25006"
            } else {
                "25000"
            }
        }
        NotImplemented | MissingExtension => "0A000",
        Interrupt => "57014",
        Permission => {
            if m.contains("read-only") || m.contains("read only") {
                "25006"
            } else {
                "42501"
            }
        }
        Dependency => "2BP01",
        Io => "58030",
        OutOfMemory => "53200",
        TypeMismatch => "42804",
        Sequence => "2200H",
        ParameterNotResolved => "42P18",
        Settings => "22023",
        ObjectSize => "54000",
        Internal => "XX000",
        Other => "XX000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(msg: &str) -> &'static str {
        DbError::from_message(msg).sqlstate
    }

    #[test]
    fn declared_length_violations_are_22001() {
        let e = DbError::from_message(
            "Constraint Error: CHECK constraint failed on table t with expression CHECK((len(\"name\") <= 5))",
        );
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            ("22001", "value too long for type character varying(5)")
        );
        // COPY appends
        let e = DbError::from_message(
            "Failed to append: CHECK constraint failed on table t with expression CHECK((len(rtrim(c)) <= 3))",
        );
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            ("22001", "value too long for type character(3)")
        );
        // any other CHECK stays 23514
        assert_eq!(
            state("Constraint Error: CHECK constraint failed on table t with expression CHECK((c > 0))"),
            "23514"
        );
        assert_eq!(
            state("Binder Error: Cannot change the type of a column that has a CHECK constraint specified"),
            "0A000"
        );
        let e = DbError::from_message(
            "Binder Error: Cannot change the type of a column that has a CHECK constraint specified",
        );
        assert!(e.message.contains("declared length"), "{}", e.message);
    }

    #[test]
    fn unknown_relation_names_of_the_size_functions_are_42p01() {
        // pg_table_size('nope') (sql::catalog's error() call)
        assert_eq!(
            state("Invalid Input Error: relation \"nope\" does not exist"),
            "42P01"
        );
        assert_eq!(state("Invalid Input Error: invalid fork name"), "22023");
    }

    #[test]
    fn maps_common_duckdb_errors() {
        assert_eq!(
            state("Parser Error: syntax error at or near \"SELEC\""),
            "42601"
        );
        assert_eq!(
            state("Catalog Error: Table with name nope does not exist!\nDid you mean \"x\"?"),
            "42P01"
        );
        assert_eq!(
            state("Binder Error: Referenced column \"nope\" not found in FROM clause!"),
            "42703"
        );
        assert_eq!(
            state("Catalog Error: Scalar Function with name nope does not exist!"),
            "42883"
        );
        assert_eq!(
            state(
                "Binder Error: No function matches the given name and argument types 'f(INTEGER)'"
            ),
            "42883"
        );
        assert_eq!(
            state("Conversion Error: Could not convert string 'x' to INT32"),
            "22P02"
        );
        assert_eq!(
            state("Constraint Error: Duplicate key \"id: 1\" violates primary key constraint."),
            "23505"
        );
        assert_eq!(
            state("Constraint Error: NOT NULL constraint failed: t.a"),
            "23502"
        );
        assert_eq!(
            state("TransactionContext Error: Catalog write-write conflict on create with \"t\""),
            "40001"
        );
        assert_eq!(state("Not implemented Error: nope"), "0A000");
        assert_eq!(state("INTERRUPT Error: Interrupted!"), "57014");
        assert_eq!(
            state("Out of Range Error: Overflow in multiplication"),
            "22003"
        );
        assert_eq!(
            state("Catalog Error: Table with name t already exists!"),
            "42P07"
        );
        assert_eq!(state("something odd"), "XX000");
        assert_eq!(
            state("Binder Error: Catalog \"other\" does not exist!"),
            "3D000"
        );
    }
}
