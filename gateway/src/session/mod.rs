//! A client session: its DuckDB connection, transaction state, settings, prepared statements
//! and portals. Protocol handlers call into it; it writes backend messages to a [`Wire`].

pub mod copy;
pub mod settings;
pub mod stream;
pub mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pgwire::error::{ErrorInfo, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::data::{
    DataRow, FieldDescription, NoData, ParameterDescription, RowDescription,
};
use pgwire::messages::extendedquery::{
    BindComplete, CloseComplete, ParseComplete, PortalSuspended,
};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, NoticeResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::PgWireBackendMessage;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::engine::{
    Column, ColumnFormat, DbError, EncodeSettings, Engine, RowEncoder, SharedEngine, Start,
    StatementInfo, StatementKind, StreamItem, PLAN_CHANGED, STREAM_QUEUE_BATCHES,
};
use crate::error::PgError;
use crate::sql::copy::CopyFormat;
use crate::sql::cursor::CursorCommand;
use crate::sql::{self, quote_ident, quote_literal, Intercept, TxControl};
use crate::types::{self, oid, params, pg_type_of, DuckType};
pub use settings::SessionSettings;
use stream::{CancelState, Next, RowStream, CANCEL_NONE, CANCEL_TIMEOUT};
use wire::Tally;

use crate::metrics::Metrics;
pub use wire::Wire;

/// Transaction state as the protocol reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Autocommit. `implicit` is set while the gateway holds an implicit transaction open for
    /// a multi-statement query or an extended-protocol pipeline (committed at its end).
    Idle { implicit: bool, failed: bool },
    /// Inside BEGIN ... COMMIT.
    Block,
    /// An error happened inside a block: only ROLLBACK/COMMIT are accepted.
    Failed,
}

impl TxState {
    fn status(self) -> TransactionStatus {
        match self {
            TxState::Idle { .. } => TransactionStatus::Idle,
            TxState::Block => TransactionStatus::Transaction,
            TxState::Failed => TransactionStatus::Error,
        }
    }
}

/// What a prepared statement is.
#[derive(Debug)]
enum Body {
    Empty,
    Intercepted(Intercept),
    Duck {
        id: u64,
        info: StatementInfo,
    },
    /// `COPY … FROM STDIN`: runs the COPY-in sub-protocol.
    CopyIn(sql::copy::CopyStatement),
}

/// `COPY … TO STDOUT`: the rows of the prepared query go out as COPY data.
#[derive(Debug)]
struct CopyOut {
    options: sql::copy::CopyOptions,
    /// The query's columns (the statement itself describes as returning no rows).
    columns: Vec<Column>,
}

/// A COPY FROM STDIN between CopyInResponse and CopyDone.
struct CopyIn {
    parser: copy::CopyInParser,
    /// PostgreSQL type of each target column, to decode values with.
    oids: Vec<u32>,
    names: Vec<String>,
    table: String,
    binary: bool,
    /// Parsed rows waiting to be decoded and appended.
    pending: Vec<copy::InRow>,
    loaded: u64,
    /// The gateway began a transaction for this COPY (none was open).
    own_transaction: bool,
    /// The first error; later data is discarded until CopyDone / CopyFail.
    error: Option<PgError>,
}

/// Rows decoded and appended per engine call.
const COPY_IN_BATCH_ROWS: usize = 4096;

/// A statement after Parse.
struct Prepared {
    sql: String,
    body: Body,
    /// Parameter OIDs as reported in ParameterDescription (and used to decode Bind values).
    param_oids: Vec<u32>,
    /// Result columns (empty when the statement returns no rows).
    columns: Vec<Column>,
    copy_out: Option<CopyOut>,
    engine: SharedEngine,
    deferred_close: Arc<Mutex<Vec<u64>>>,
    /// Whether its next start runs directly on the connection's thread, without a thread
    /// hand-off.
    pace: Pace,
    /// (table OID, attribute number) of each result column for the extended protocol's
    /// RowDescription, worked out at the first Describe ([`sql::origin`]).
    origins: OnceLock<Vec<(u32, i16)>>,
}

/// How a statement's recent starts went: it runs inline while they are short
/// ([`INLINE_START_MAX`]), and leaves the connection's thread after two that were not. One
/// alone is often a brief wait on a lock that happened to meet a preemption; an I/O-bound
/// statement is never short.
struct Pace(AtomicU8);

impl Pace {
    /// Not short starts in a row that send a statement to [`blocking`].
    const SLOW_STARTS: u8 = 2;

    fn inline(&self) -> bool {
        self.0.load(Ordering::Relaxed) < Self::SLOW_STARTS
    }

    fn record(&self, short: bool) {
        let slow = self.0.load(Ordering::Relaxed);
        let next = if short {
            0
        } else {
            (slow + 1).min(Self::SLOW_STARTS)
        };
        self.0.store(next, Ordering::Relaxed);
    }
}

impl Default for Pace {
    /// Unknown: the first start is not inline.
    fn default() -> Self {
        Pace(AtomicU8::new(Self::SLOW_STARTS))
    }
}

/// A start that used less CPU than this without waiting for anything, or took less wall time,
/// is short (see [`crate::engine::usage`]); short statements run inline on the connection's
/// thread ([`Pace`]). A thread busy this long delays its other connections by no more than a
/// network round trip; longer or unknown statements go through [`blocking`].
const INLINE_START_MAX: Duration = Duration::from_micros(500);

/// Prepared SELECTs kept per session for repeated simple-protocol queries and unnamed Parse
/// messages (what pgbench, ORMs and most drivers send), so they skip DuckDB's parse, bind and
/// plan. Emptied by anything that could change what a statement means (DDL, SET, transaction
/// control, any non-SELECT); DuckDB itself rebinds a statement when another session changed
/// the catalog.
const PLAN_CACHE_ENTRIES: usize = 64;

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Body::Duck { id, .. } = self.body {
            // never block an async thread on the engine: if a query holds it, the engine
            // closes the statement at its next use
            match self.engine.try_lock() {
                Ok(mut e) => e.close(id),
                Err(_) => self.deferred_close.lock().unwrap().push(id),
            }
        }
    }
}

enum PortalState {
    NotStarted,
    Running(Box<RowStream>),
    Done,
}

struct Portal {
    stmt: Arc<Prepared>,
    /// Send the RowDescription once the statement has started (the simple protocol: a plan
    /// that changed under the cache is re-prepared before anything reaches the client).
    describe: bool,
    /// A SQL cursor (DECLARE): `FETCH`/`MOVE` answer with their own tags, not PortalSuspended.
    cursor: Option<CursorPortal>,
    params: Vec<params::ParamValue>,
    result_binary: Vec<bool>,
    state: PortalState,
}

/// What a SQL cursor adds to its portal.
struct CursorPortal {
    /// WITH HOLD: survives the COMMIT of its transaction.
    hold: bool,
    /// The command tag verb of the statement running it now: `FETCH` or `MOVE`.
    verb: &'static str,
}

/// A SAVEPOINT. DuckDB has no nested transactions: rolling back to a savepoint only works
/// while nothing that changes state ran after it (nested `with conn.transaction()` blocks,
/// a catalog lookup that failed inside a savepoint), and is refused otherwise.
struct Savepoint {
    name: String,
    /// A statement that may have changed something ran after it.
    dirty: bool,
}

/// Identity and routing of a session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: String,
    pub database: String,
    /// The token identity (or the user name under `auth.trust`).
    pub identity: String,
    /// Read-only tokens: only queries, inside read-only DuckDB transactions.
    pub read_only: bool,
}

pub struct Session {
    pub info: SessionInfo,
    engine: SharedEngine,
    deferred_close: Arc<Mutex<Vec<u64>>>,
    cancel: Arc<CancelState>,
    pub settings: SessionSettings,
    defaults: SessionSettings,
    /// The `duckgate_settings` statement last run (`SessionSettings::published`).
    published_settings: Option<String>,
    tx: TxState,
    statements: HashMap<String, Arc<Prepared>>,
    portals: HashMap<String, Portal>,
    metrics: Arc<Metrics>,
    /// A FATAL error was sent (the connection is about to close).
    fatal_sent: bool,
    copy_in: Option<CopyIn>,
    /// The statement being run came through the extended protocol.
    extended: bool,
    /// The simple query being run has several statements (COPY FROM STDIN must be alone).
    in_copy_in_pipeline: bool,
    /// The catalog layer's TEMP macros and views exist (sql::catalog).
    catalog_installed: bool,
    /// The session's last COMMIT or ROLLBACK was short ([`INLINE_START_MAX`]), so the next
    /// one runs inline (one that writes a WAL or DuckLake files goes to a blocking thread).
    tx_end_quick: bool,
    /// The session's last prepare in DuckDB was short ([`INLINE_START_MAX`]), so the next
    /// one runs inline: drivers that send every statement as an unnamed Parse (psycopg 3,
    /// node-postgres, pgx) prepare each INSERT or UPDATE anew.
    prepare_quick: bool,
    /// The composite types (their OIDs) the session's `duckgate_composite_fields` view was last
    /// built from outside a transaction (see [`Session::refresh_composite_fields`]).
    composite_types: Option<String>,
    /// Prepared SELECTs by text and parameter types (see [`PLAN_CACHE_ENTRIES`]).
    plan_cache: HashMap<(String, Vec<u32>), Arc<Prepared>>,
    /// SAVEPOINTs of the open transaction block, oldest first.
    savepoints: Vec<Savepoint>,
    /// What result column origins need, shared with the instance's other sessions.
    origins: Arc<sql::origin::OriginCache>,
    /// `current_database()` and `current_schema()`, once asked (until a statement that may
    /// change them).
    current_place: Option<(String, String)>,
    /// The session created temporary objects of its own: its name lookups cannot use the
    /// shared catalog rows.
    own_temp_objects: bool,
    /// The open transaction changed a catalog: until it ends, the session sees a catalog no
    /// other session does.
    uncommitted_ddl: bool,
}

/// A setting's name as PostgreSQL prints it in SHOW's column and SHOW ALL (`TimeZone`,
/// `DateStyle`: the case of its ParameterStatus), whatever case it was asked in.
fn shown_name(name: &str) -> &str {
    settings::REPORTED
        .iter()
        .find(|r| r.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(name)
}

/// A RowDescription field; `origin` is the (table OID, attribute number) the column comes
/// from, (0, 0) for a computed one.
fn field(name: &str, ty: &DuckType, binary: bool, origin: (u32, i16)) -> FieldDescription {
    let pg = pg_type_of(ty);
    // PostgreSQL's name for an unaliased expression (`count`, `?column?`), not DuckDB's text
    // of it: clients read columns by name (pandas, SQLAlchemy rows, psql headers)
    FieldDescription::new(
        sql::colname::pg_column_name(name).unwrap_or_else(|| name.to_owned()),
        origin.0 as i32,
        origin.1,
        pg.oid,
        pg.typlen,
        pg.typmod,
        i16::from(binary),
    )
}

/// Statements that leave data, schema and settings as they were: they keep a SAVEPOINT
/// restorable.
fn changes_nothing(body: &Body) -> bool {
    match body {
        Body::Empty => true,
        Body::Duck { info, .. } => {
            matches!(info.kind, StatementKind::Select | StatementKind::Explain)
        }
        Body::Intercepted(i) => matches!(
            i,
            Intercept::Show { .. }
                | Intercept::CurrentSetting { .. }
                | Intercept::Tx(_)
                | Intercept::Cursor(_)
        ),
        Body::CopyIn(_) => false,
    }
}

/// DuckDB cannot bind a table function whose arguments are parameters (`range($1)`,
/// `generate_series(1, $1)`) before it has the values, and describes such a statement as one
/// placeholder column `unknown`. Drivers that prepare (sqlx, tokio-postgres, pgx, asyncpg,
/// psycopg 3) need the real columns: take them from a probe with each parameter replaced by a
/// typed NULL (the parameter's known or declared type, else VARCHAR). Executions then produce
/// exactly those columns; if the probe does not bind, the placeholder stays.
fn describe_unbound_result(
    e: &mut Engine,
    sql_text: &str,
    mut info: StatementInfo,
    client_oids: &[u32],
) -> StatementInfo {
    let unbound = matches!(
        info.columns.as_slice(),
        [Column { name, ty: DuckType::Unsupported(_) }] if name == "unknown"
    );
    if !unbound || info.params.is_empty() {
        return info;
    }
    let ty = |n: usize| {
        info.params
            .get(n - 1)
            .cloned()
            .flatten()
            .or_else(|| {
                client_oids
                    .get(n - 1)
                    .and_then(|&o| types::duck_type_for_oid(o))
            })
            .unwrap_or(DuckType::Varchar)
    };
    let probe = sql::lexer::replace_params(sql_text, |n| {
        Some(format!("CAST(NULL AS {})", ty(n).sql_name()))
    });
    if let Ok((id, probed)) = e.prepare(&probe) {
        e.close(id);
        if probed.params.is_empty() && !probed.columns.is_empty() {
            info.columns = probed.columns;
        }
    }
    info
}

/// The simple protocol's RowDescription (all columns in text), if the statement has columns.
async fn send_row_description<W: Wire>(w: &mut W, columns: &[Column]) -> PgWireResult<()> {
    if columns.is_empty() {
        return Ok(());
    }
    let fields = columns
        .iter()
        .map(|c| field(&c.name, &c.ty, false, (0, 0)))
        .collect();
    w.feed_msg(PgWireBackendMessage::RowDescription(RowDescription::new(
        fields,
    )))
    .await
}

fn text_column(name: &str) -> Column {
    Column {
        name: name.to_owned(),
        ty: DuckType::Varchar,
    }
}

fn notice(code: &str, message: &str) -> PgWireBackendMessage {
    PgWireBackendMessage::NoticeResponse(NoticeResponse::from(ErrorInfo::new(
        "WARNING".into(),
        code.into(),
        message.into(),
    )))
}

fn copy_data(bytes: Vec<u8>) -> PgWireBackendMessage {
    PgWireBackendMessage::CopyData(CopyData::new(Bytes::from(bytes)))
}

/// A malformed COPY input line (22P04), named as PostgreSQL's CONTEXT would.
fn copy_syntax_error(table: &str, e: copy::InError) -> PgError {
    PgError::new(
        "22P04",
        format!("{} (COPY {table}, line {})", e.message, e.line),
    )
}

/// Decode one input row with the target columns' types (PostgreSQL text or binary formats).
fn decode_copy_row(ci: &CopyIn, row: &copy::InRow) -> Result<Vec<params::ParamValue>, PgError> {
    let at = |col: usize| {
        format!(
            "COPY {}, line {}, column {}",
            ci.table,
            row.line,
            ci.names.get(col).map(String::as_str).unwrap_or("?")
        )
    };
    if row.fields.len() < ci.oids.len() {
        return Err(PgError::new(
            "22P04",
            format!(
                "missing data for column \"{}\" ({})",
                ci.names[row.fields.len()],
                at(row.fields.len())
            ),
        ));
    }
    if row.fields.len() > ci.oids.len() {
        return Err(PgError::new(
            "22P04",
            format!(
                "extra data after last expected column (COPY {}, line {})",
                ci.table, row.line
            ),
        ));
    }
    row.fields
        .iter()
        .zip(&ci.oids)
        .enumerate()
        .map(|(i, (f, &oid))| {
            params::decode(oid, f.as_deref(), ci.binary, i + 1)
                .map_err(|e| PgError::new(e.sqlstate(), format!("{e} ({})", at(i))))
        })
        .collect()
}

fn complete(tag: String) -> PgWireBackendMessage {
    PgWireBackendMessage::CommandComplete(CommandComplete::new(tag))
}

/// Run engine work (prepare, transaction control, settings, statements not known to be
/// quick) off the async scheduler.
///
/// On a connection thread (a single-threaded runtime, see [`crate::shards`]) this is
/// `spawn_blocking`, so the thread's other connections go on meanwhile. On the shared
/// multi-threaded runtime (`limits.connection_threads: 0`) it is `block_in_place`: the call
/// runs on this worker thread and the runtime moves its other tasks elsewhere, with no
/// thread hand-off.
///
/// Work run this way has DuckDB's worker threads to help it; work run inline has them only
/// while the instance is calm ([`crate::engine::workers`]).
async fn blocking<T: Send + 'static>(
    engine: &SharedEngine,
    f: impl FnOnce(&mut Engine) -> T + Send + 'static,
) -> T {
    blocking_or_inline(engine, false, f).await
}

/// [`blocking`], or with `inline` a plain call on this thread, for work known to be short.
async fn blocking_or_inline<T: Send + 'static>(
    engine: &SharedEngine,
    inline: bool,
    f: impl FnOnce(&mut Engine) -> T + Send + 'static,
) -> T {
    if inline {
        let mut e = engine.lock().unwrap_or_else(|p| p.into_inner());
        let _entry = e.enter(false);
        return f(&mut e);
    }
    let engine = engine.clone();
    let run = move || {
        let mut e = engine.lock().unwrap_or_else(|p| p.into_inner());
        // work that may be long gets DuckDB's workers (see engine::workers)
        let _entry = e.enter(true);
        f(&mut e)
    };
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(run)
    } else {
        tokio::task::spawn_blocking(run)
            .await
            .expect("engine task panicked")
    }
}

/// [`blocking_or_inline`], also telling whether the work was short enough
/// ([`INLINE_START_MAX`]) to run inline the next time.
async fn blocking_or_inline_timed<T: Send + 'static>(
    engine: &SharedEngine,
    inline: bool,
    f: impl FnOnce(&mut Engine) -> T + Send + 'static,
) -> (T, bool) {
    blocking_or_inline(engine, inline, move |e| {
        let (out, usage) = crate::engine::usage::measure(|| f(e));
        (out, usage.short(INLINE_START_MAX))
    })
    .await
}

impl Session {
    pub fn new(
        info: SessionInfo,
        engine: Engine,
        settings: SessionSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cancel = Arc::new(CancelState {
            interrupter: engine.interrupter(),
            reason: CANCEL_NONE.into(),
        });
        Session {
            info,
            origins: engine.origin_cache(),
            current_place: None,
            own_temp_objects: false,
            uncommitted_ddl: false,
            deferred_close: engine.deferred_close(),
            engine: Arc::new(Mutex::new(engine)),
            cancel,
            defaults: settings.clone(),
            published_settings: None,
            settings,
            tx: TxState::Idle {
                implicit: false,
                failed: false,
            },
            statements: HashMap::new(),
            portals: HashMap::new(),
            metrics,
            fatal_sent: false,
            copy_in: None,
            extended: false,
            in_copy_in_pipeline: false,
            catalog_installed: false,
            tx_end_quick: false,
            prepare_quick: false,
            composite_types: None,
            plan_cache: HashMap::new(),
            savepoints: Vec::new(),
        }
    }

    pub fn cancel_state(&self) -> Arc<CancelState> {
        self.cancel.clone()
    }

    pub fn tx_status(&self) -> TransactionStatus {
        self.tx.status()
    }

    pub fn fatal_sent(&self) -> bool {
        self.fatal_sent
    }

    /// Whether a (database, schema,) relation name refers to a view and to no table.
    async fn names_only_a_view(&mut self, parts: &[String]) -> bool {
        let (name, schema, database) = match parts {
            [n] => (n, None, None),
            [s, n] => (n, Some(s), None),
            [d, s, n] => (n, Some(s), Some(d)),
            _ => return false,
        };
        let mut filter = String::new();
        if let Some(s) = schema {
            filter.push_str(&format!(" AND schema_name = {}", quote_literal(s)));
        }
        if let Some(d) = database {
            filter.push_str(&format!(" AND database_name = {}", quote_literal(d)));
        }
        let sql = format!(
            "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND view_name = {n}{filter}) > 0 \
             AND (SELECT count(*) FROM duckdb_tables() WHERE table_name = {n}{filter}) = 0",
            n = quote_literal(name)
        );
        let r = blocking(&self.engine, move |e| e.query_strings(&sql)).await;
        matches!(r.as_deref(), Ok([Some(v)]) if v == "true")
    }

    /// A `CREATE TABLE` with `varchar(n)` / `char(n)` columns keeps the lengths as CHECK
    /// constraints ([`sql::compat::declared_lengths`]) when every database the table may land
    /// in stores them: DuckDB files (and the session's `temp`) do, DuckLake refuses any CHECK
    /// constraint, so there the statement runs as written and the lengths are forgotten, as
    /// DuckDB itself does.
    async fn with_declared_lengths(&mut self, text: String) -> String {
        let Some(d) = sql::compat::declared_lengths(&text) else {
            return text;
        };
        let candidates = if d.temp {
            "database_name = 'temp'".to_owned()
        } else {
            // a qualified name's first part may name a database (`db.t`, `db.schema.t`)
            let named = match d.parts.as_slice() {
                [database, _, ..] => quote_literal(database),
                _ => "NULL".to_owned(),
            };
            format!("database_name = current_database() OR database_name = {named}")
        };
        let sql =
            format!("SELECT bool_and(type = 'duckdb') FROM duckdb_databases() WHERE {candidates}");
        let r = blocking(&self.engine, move |e| e.query_strings(&sql)).await;
        if matches!(r.as_deref(), Ok([Some(v)]) if v == "true") {
            d.sql
        } else {
            text
        }
    }

    /// The newest savepoint of that name.
    fn savepoint_index(&self, name: &str) -> Option<usize> {
        self.savepoints.iter().rposition(|s| s.name == name)
    }

    pub fn in_transaction(&self) -> bool {
        !matches!(self.tx, TxState::Idle { .. })
    }

    /// Apply DuckDB-side session state after connecting: the attached catalog this database is
    /// (for remote kinds), then search_path.
    pub async fn init(&mut self, catalog: Option<&str>) -> Result<(), PgError> {
        let mut sql = settings::startup_search_path(&self.settings.search_path);
        if let Some(c) = catalog {
            sql = format!("USE {}; {sql}", quote_ident(c));
        }
        blocking(&self.engine, move |e| e.execute_batch(&sql))
            .await
            .map_err(PgError::from)
    }

    fn encode_settings(&self) -> EncodeSettings {
        EncodeSettings {
            time_zone: self.settings.time_zone.clone(),
            extra_float_digits: self.settings.extra_float_digits,
        }
    }

    /// Free the engine: pull suspended portals' remaining rows into memory.
    async fn quiesce(&mut self) {
        for p in self.portals.values_mut() {
            if let PortalState::Running(s) = &mut p.state {
                s.materialize().await;
            }
        }
    }

    async fn engine_batch(&mut self, sql: &'static str) -> Result<(), PgError> {
        // BEGIN only opens a DuckDB transaction, without I/O: it runs inline, as do COMMIT
        // and ROLLBACK while they stay quick. Writes outside a transaction block pay an
        // implicit BEGIN and COMMIT each, so a thread hand-off here would be paid twice.
        let tx_end = matches!(sql, "COMMIT" | "ROLLBACK");
        let inline = sql.starts_with("BEGIN") || (tx_end && self.tx_end_quick);
        self.quiesce().await;
        let (r, short) =
            blocking_or_inline_timed(&self.engine, inline, move |e| e.execute_batch(sql)).await;
        if tx_end {
            self.tx_end_quick = short;
        }
        r.map_err(PgError::from)
    }

    /// Create the session's catalog macros and views (once; again if a transaction that
    /// created them might still roll back).
    async fn ensure_catalog(&mut self) -> Result<(), PgError> {
        if self.catalog_installed {
            return Ok(());
        }
        self.engine_sql(sql::catalog::install_sql().to_owned())
            .await?;
        self.catalog_installed = !self.in_transaction();
        // the install made the composite fields' view empty again
        self.composite_types = None;
        Ok(())
    }

    /// Rebuild `duckgate_composite_fields` (the fields of composite types, which DuckDB only
    /// keeps in the type) when the catalog's composite types differ from the ones it was built
    /// from: one `duckdb_types()` query when nothing changed. Best effort: a failure leaves the
    /// view as it was (a type dropped meanwhile, an aborted transaction) and the statement runs.
    async fn refresh_composite_fields(&mut self) {
        let known = self.composite_types.clone();
        self.quiesce().await;
        let built = blocking(&self.engine, move |e| -> Option<String> {
            let types = e.query_rows(sql::catalog::COMPOSITE_TYPES_SQL).ok()?;
            let key: String = types
                .iter()
                .filter_map(|r| r.first().cloned().flatten())
                .collect::<Vec<_>>()
                .join(",");
            if known.as_deref() == Some(key.as_str()) {
                return Some(key);
            }
            let mut fields = Vec::new();
            if let Some(q) = sql::catalog::composite_typeof_sql(&types) {
                for row in e.query_rows(&q).ok()? {
                    let (Some(oid), Some(t)) = (
                        row.first().cloned().flatten(),
                        row.get(1).cloned().flatten(),
                    ) else {
                        continue;
                    };
                    match (oid.parse::<u64>(), sql::catalog::parse_struct_fields(&t)) {
                        (Ok(oid), Some(f)) => fields.push((oid, f)),
                        _ => tracing::debug!(%oid, %t, "composite type not understood"),
                    }
                }
            }
            e.execute_batch(&sql::catalog::composite_fields_sql(&fields))
                .ok()?;
            Some(key)
        })
        .await;
        // inside a transaction the view's new definition could still roll back
        self.composite_types = built.filter(|_| !self.in_transaction());
    }

    /// Rebuild `duckgate_relation_sizes` (the bytes of every table and index, which
    /// `pg_table_size()` and its kin read: see [`sql::catalog::relation_sizes_query`]) for a
    /// statement that calls a size function. Sizes change with every write, so this runs for
    /// each such statement (and only for those). Best effort: a failure (an aborted
    /// transaction, a table dropped meanwhile) leaves the view as it was and the statement runs.
    async fn refresh_relation_sizes(&mut self) {
        self.quiesce().await;
        let done = blocking(&self.engine, move |e| -> Option<()> {
            let tables = e.query_rows(sql::catalog::SIZED_TABLES_SQL).ok()?;
            let sizes = e
                .query_rows(&sql::catalog::relation_sizes_query(&tables))
                .map_err(|err| tracing::debug!(%err, "relation sizes"))
                .ok()?;
            e.execute_batch(&sql::catalog::relation_sizes_sql(&sizes))
                .ok()
        })
        .await;
        if done.is_none() {
            tracing::debug!("relation sizes not refreshed");
        }
    }

    /// Give the catalog's `pg_settings` and `current_setting` the session's current values
    /// (only for statements that read them, and only when they changed since last time).
    async fn publish_settings(&mut self) -> Result<(), PgError> {
        let sql = self.settings.published(&self.defaults, &self.info.user);
        if self.published_settings.as_ref() != Some(&sql) {
            self.engine_sql(sql.clone()).await?;
            self.published_settings = Some(sql);
        }
        Ok(())
    }

    /// Run internal SQL on the session's connection (after freeing it from suspended portals).
    async fn engine_sql(&mut self, sql: String) -> Result<(), PgError> {
        self.quiesce().await;
        blocking(&self.engine, move |e| e.execute_batch(&sql))
            .await
            .map_err(PgError::from)
    }

    /// Record a failed statement in the transaction state.
    fn note_error(&mut self) {
        self.tx = match self.tx {
            TxState::Block | TxState::Failed => TxState::Failed,
            TxState::Idle { implicit, .. } => TxState::Idle {
                implicit,
                failed: implicit,
            },
        };
    }

    /// End an implicit transaction (end of a multi-statement query or at Sync).
    async fn finish_implicit<W: Wire>(&mut self, w: &mut W) -> PgWireResult<()> {
        if let TxState::Idle {
            implicit: true,
            failed,
        } = self.tx
        {
            self.tx = TxState::Idle {
                implicit: false,
                failed: false,
            };
            let sql = if failed { "ROLLBACK" } else { "COMMIT" };
            if let Err(e) = self.engine_batch(sql).await {
                if !failed {
                    self.metrics.error(e.code);
                    w.feed_msg(PgWireBackendMessage::ErrorResponse(e.info().into()))
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn send_ready<W: Wire>(&mut self, w: &mut W) -> PgWireResult<()> {
        let status = self.tx.status();
        w.set_tx_status(status);
        w.feed_msg(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
            status,
        )))
        .await?;
        w.flush_msgs().await
    }

    async fn send_error<W: Wire>(&mut self, w: &mut W, e: PgError) -> PgWireResult<()> {
        self.note_error();
        self.metrics.error(e.code);
        self.fatal_sent |= e.severity == crate::error::Severity::Fatal;
        w.feed_msg(PgWireBackendMessage::ErrorResponse(e.info().into()))
            .await
    }

    // ------------------------------------------------------------------ preparing

    /// Prepare a single statement. `client_oids` are the Parse message's types (0 = infer).
    async fn prepare(&mut self, sql: &str, client_oids: &[u32]) -> Result<Prepared, PgError> {
        let statements = sql::lexer::split_statements(sql);
        if statements.len() > 1 {
            return Err(PgError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let Some(text) = statements.first().map(|s| s.to_string()) else {
            return Ok(Prepared {
                sql: String::new(),
                body: Body::Empty,
                param_oids: client_oids.to_vec(),
                columns: Vec::new(),
                engine: self.engine.clone(),
                deferred_close: self.deferred_close.clone(),
                copy_out: None,
                pace: Pace::default(),
                origins: OnceLock::new(),
            });
        };
        match sql::copy::parse(&text) {
            Some(Err((code, message))) => return Err(PgError::new(code, message)),
            Some(Ok(c)) if c.from_client => {
                return Ok(Prepared {
                    sql: text,
                    body: Body::CopyIn(c),
                    param_oids: Vec::new(),
                    columns: Vec::new(),
                    engine: self.engine.clone(),
                    deferred_close: self.deferred_close.clone(),
                    copy_out: None,
                    pace: Pace::default(),
                    origins: OnceLock::new(),
                })
            }
            Some(Ok(c)) => {
                // the query runs like any other (guard included); only its output differs
                let mut query = Box::pin(self.prepare(&c.out_query(), &[])).await?;
                if !matches!(query.body, Body::Duck { .. }) || query.columns.is_empty() {
                    return Err(PgError::new(
                        "0A000",
                        "COPY (query) TO STDOUT needs a query that returns rows",
                    ));
                }
                // the DuckDB statement moves to the COPY (the emptied husk closes nothing)
                let body = std::mem::replace(&mut query.body, Body::Empty);
                return Ok(Prepared {
                    sql: text,
                    body,
                    param_oids: Vec::new(),
                    copy_out: Some(CopyOut {
                        options: c.options,
                        columns: std::mem::take(&mut query.columns),
                    }),
                    columns: Vec::new(),
                    engine: self.engine.clone(),
                    deferred_close: self.deferred_close.clone(),
                    pace: Pace::default(),
                    origins: OnceLock::new(),
                });
            }
            None => {}
        }
        // client catalog constructs (psql, pgJDBC, SQLAlchemy, …): see sql::catalog
        let text = match sql::catalog::rewrite(&text) {
            Some(r) => {
                if r.needs_install {
                    self.ensure_catalog().await?;
                    if sql::catalog::reads_composite_fields(&r.sql) {
                        self.refresh_composite_fields().await;
                    }
                    if sql::catalog::reads_relation_sizes(&r.sql) {
                        self.refresh_relation_sizes().await;
                    }
                    if sql::lexer::contains_ignore_case(&r.sql, "pg_settings")
                        || sql::lexer::contains_ignore_case(&r.sql, "current_setting")
                    {
                        self.publish_settings().await?;
                    }
                }
                r.sql
            }
            None => text,
        };
        let text = self.with_declared_lengths(text).await;
        let serial = sql::compat::serial_table(&text).map(|statements| Intercept::Batch {
            statements,
            tag: "CREATE TABLE",
        });
        if let Some(i) = serial.or_else(|| sql::intercept(&text, settings::is_session_setting)) {
            if let Intercept::Batch { statements, .. } = &i {
                if let Some(r) = statements
                    .iter()
                    .find_map(|s| sql::guard::check_text(s).err())
                {
                    return Err(PgError::new(
                        "0A000",
                        format!("not supported by this endpoint: {}", r.0),
                    ));
                }
            }
            let columns = match &i {
                Intercept::Show { name } if name == "all" => vec![
                    text_column("name"),
                    text_column("setting"),
                    text_column("description"),
                ],
                Intercept::Show { name } => vec![text_column(shown_name(name))],
                Intercept::SetConfig { .. } => vec![text_column("set_config")],
                Intercept::CurrentSetting { .. } => vec![text_column("current_setting")],
                _ => Vec::new(),
            };
            return Ok(Prepared {
                sql: text,
                body: Body::Intercepted(i),
                param_oids: client_oids.to_vec(),
                columns,
                engine: self.engine.clone(),
                deferred_close: self.deferred_close.clone(),
                copy_out: None,
                pace: Pace::default(),
                origins: OnceLock::new(),
            });
        }
        if let Err(r) = sql::guard::check_text(&text) {
            return Err(PgError::new(
                "0A000",
                format!("not supported by this endpoint: {}", r.0),
            ));
        }
        self.quiesce().await;
        let text = match sql::compat::alter_table_rename(&text) {
            Some(parts) if self.names_only_a_view(&parts).await => {
                sql::compat::alter_table_as_view(&text)
            }
            _ => text,
        };
        let (id, info, sql_used) = self.prepare_duck(text, client_oids).await?;
        if let Err(r) = sql::guard::check_kind(info.kind) {
            self.engine
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .close(id);
            return Err(PgError::new(
                "0A000",
                format!("not supported by this endpoint: {}", r.0),
            ));
        }
        let param_oids = (0..info.params.len())
            .map(|i| match client_oids.get(i).copied().unwrap_or(0) {
                0 => info.params[i]
                    .as_ref()
                    .map_or(oid::TEXT, |t| pg_type_of(t).oid),
                o => o,
            })
            .collect();
        let columns = if sql::returns_rows(info.kind, &sql_used, info.columns.len()) {
            info.columns.clone()
        } else {
            Vec::new()
        };
        Ok(Prepared {
            sql: sql_used,
            body: Body::Duck { id, info },
            param_oids,
            columns,
            engine: self.engine.clone(),
            deferred_close: self.deferred_close.clone(),
            copy_out: None,
            pace: Pace::default(),
            origins: OnceLock::new(),
        })
    }

    /// Prepare in DuckDB. Parameters DuckDB cannot type get an explicit cast to the client's
    /// declared type, or to VARCHAR (PostgreSQL's `unknown` → `text`); if that does not
    /// prepare, the original statement is kept and such values bind as untyped literals.
    async fn prepare_duck(
        &mut self,
        text: String,
        client_oids: &[u32],
    ) -> Result<(u64, StatementInfo, String), PgError> {
        let oids = client_oids.to_vec();
        let text = sql::compat::rewrite(&text).into_owned();
        let (prepared, short) =
            blocking_or_inline_timed(&self.engine, self.prepare_quick, move |e| {
                let (id, info) = e.prepare(&text)?;
                // `= ANY($1)` with an untyped parameter is an array in PostgreSQL (psycopg 3 sends
                // a list of str that way)
                let arrays = sql::lexer::array_params(&text);
                let untyped_type = |i: usize| {
                    if arrays.contains(&(i + 1)) {
                        DuckType::List(Box::new(DuckType::Varchar))
                    } else {
                        DuckType::Varchar
                    }
                };
                let casts: Vec<(usize, String)> = info
                    .params
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_none())
                    .map(|(i, _)| {
                        let ty = oids
                            .get(i)
                            .and_then(|&o| types::duck_type_for_oid(o))
                            .unwrap_or_else(|| untyped_type(i));
                        (i + 1, ty.sql_name())
                    })
                    .collect();
                if casts.is_empty() {
                    let info = describe_unbound_result(e, &text, info, &oids);
                    return Ok::<_, DbError>((id, info, text));
                }
                let rewritten = sql::lexer::cast_params(&text, &casts);
                match e.prepare(&rewritten) {
                    Ok((id2, mut info2)) => {
                        e.close(id);
                        // the casts we added type those parameters
                        for (n, _) in &casts {
                            if let (Some(slot), Some(ty)) = (
                                info2.params.get_mut(n - 1),
                                oids.get(n - 1).and_then(|&o| types::duck_type_for_oid(o)),
                            ) {
                                *slot = Some(ty);
                            } else if let Some(slot) = info2.params.get_mut(n - 1) {
                                slot.get_or_insert(untyped_type(n - 1));
                            }
                        }
                        let info2 = describe_unbound_result(e, &rewritten, info2, &oids);
                        Ok((id2, info2, rewritten))
                    }
                    Err(_) => {
                        let info = describe_unbound_result(e, &text, info, &oids);
                        Ok((id, info, text))
                    }
                }
            })
            .await;
        self.prepare_quick = short;
        prepared.map_err(PgError::from)
    }

    /// [`Session::prepare`] through the session's plan cache: a SELECT prepared before with the
    /// same text and parameter types is reused.
    async fn prepare_cached(
        &mut self,
        sql: &str,
        client_oids: &[u32],
    ) -> Result<Arc<Prepared>, PgError> {
        let key = (sql.to_owned(), client_oids.to_vec());
        if let Some(p) = self.plan_cache.get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(self.prepare(sql, client_oids).await?);
        let select =
            matches!(&p.body, Body::Duck { info, .. } if info.kind == StatementKind::Select);
        if select && p.copy_out.is_none() {
            if self.plan_cache.len() >= PLAN_CACHE_ENTRIES {
                self.plan_cache.clear();
            }
            self.plan_cache.insert(key, p.clone());
        }
        Ok(p)
    }

    // ------------------------------------------------------------------ simple query

    pub async fn simple_query<W: Wire>(&mut self, w: &mut W, query: &str) -> PgWireResult<()> {
        let statements: Vec<String> = sql::lexer::split_statements(query)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if statements.is_empty() {
            w.feed_msg(PgWireBackendMessage::EmptyQueryResponse(
                EmptyQueryResponse::new(),
            ))
            .await?;
            return self.send_ready(w).await;
        }
        let multi = statements.len() > 1;
        for text in statements {
            if let Err(e) = self.simple_statement(w, &text, multi).await? {
                self.send_error(w, e).await?;
                break;
            }
            if self.copy_in.is_some() {
                // the COPY-in sub-protocol takes over; ReadyForQuery follows CopyDone
                return Ok(());
            }
        }
        self.finish_implicit(w).await?;
        self.portals.remove("");
        self.send_ready(w).await
    }

    /// One statement of a simple query, counted and logged.
    async fn simple_statement<W: Wire>(
        &mut self,
        w: &mut W,
        text: &str,
        multi: bool,
    ) -> PgWireResult<Result<(), PgError>> {
        let started = Instant::now();
        self.extended = false;
        self.in_copy_in_pipeline = multi;
        let mut tally = Tally::new(w);
        let r = self.run_simple_statement(&mut tally, text, multi).await?;
        self.record(text, started, &tally, r.as_ref().err());
        Ok(r)
    }

    /// Prepare, run to completion in text format.
    async fn run_simple_statement<W: Wire>(
        &mut self,
        w: &mut W,
        text: &str,
        multi: bool,
    ) -> PgWireResult<Result<(), PgError>> {
        if self.tx == TxState::Failed && !is_tx_exit(text) {
            return Ok(Err(PgError::aborted_transaction()));
        }
        let stmt = match self.prepare_cached(text, &[]).await {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        if !stmt.param_oids.is_empty() {
            return Ok(Err(PgError::new(
                "08P01",
                format!(
                    "bind message supplies 0 parameters, but prepared statement requires {}",
                    stmt.param_oids.len()
                ),
            )));
        }
        let mut portal = Portal {
            result_binary: vec![false; stmt.columns.len()],
            describe: true,
            cursor: None,
            stmt,
            params: Vec::new(),
            state: PortalState::NotStarted,
        };
        let implicit = multi || self.info.read_only;
        let r = self.run_portal(w, &mut portal, 0, implicit).await?;
        if matches!(&r, Err(e) if e.code == "0A000" && e.message == PLAN_CHANGED) {
            // a cached plan went stale (another session changed a table it reads): once more,
            // prepared afresh; nothing was sent for the first attempt
            portal.stmt = match self.prepare(text, &[]).await {
                Ok(s) => Arc::new(s),
                Err(e) => return Ok(Err(e)),
            };
            portal.result_binary = vec![false; portal.stmt.columns.len()];
            portal.state = PortalState::NotStarted;
            return self.run_portal(w, &mut portal, 0, implicit).await;
        }
        Ok(r)
    }

    // ------------------------------------------------------------------ extended protocol

    pub async fn parse<W: Wire>(
        &mut self,
        w: &mut W,
        name: &str,
        query: &str,
        type_oids: &[u32],
    ) -> PgWireResult<Result<(), PgError>> {
        if self.tx == TxState::Failed && !is_tx_exit(query) {
            return Ok(Err(PgError::aborted_transaction()));
        }
        if !name.is_empty() && self.statements.contains_key(name) {
            return Ok(Err(PgError::new(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            )));
        }
        // only unnamed statements use the plan cache: a named one is the client's own cache
        let prepared = if name.is_empty() {
            self.prepare_cached(query, type_oids).await
        } else {
            self.prepare(query, type_oids).await.map(Arc::new)
        };
        match prepared {
            Ok(p) => {
                self.statements.insert(name.to_owned(), p);
                w.feed_msg(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
                    .await?;
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    pub async fn bind<W: Wire>(
        &mut self,
        w: &mut W,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        values: &[Option<Bytes>],
        result_formats: &[i16],
    ) -> PgWireResult<Result<(), PgError>> {
        let Some(stmt) = self.statements.get(statement).cloned() else {
            return Ok(Err(PgError::new(
                "26000",
                format!("prepared statement \"{statement}\" does not exist"),
            )));
        };
        if self.tx == TxState::Failed && !is_tx_exit(&stmt.sql) {
            return Ok(Err(PgError::aborted_transaction()));
        }
        if values.len() != stmt.param_oids.len() {
            return Ok(Err(PgError::protocol(format!(
                "bind message supplies {} parameters, but prepared statement \"{statement}\" requires {}",
                values.len(),
                stmt.param_oids.len()
            ))));
        }
        let format_of = |codes: &[i16], i: usize| -> bool {
            match codes.len() {
                0 => false,
                1 => codes[0] == 1,
                _ => codes.get(i).copied() == Some(1),
            }
        };
        if param_formats.len() > 1 && param_formats.len() != values.len() {
            return Ok(Err(PgError::protocol(
                "bind message has a wrong number of parameter formats",
            )));
        }
        let mut decoded = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let type_oid = stmt.param_oids[i];
            // A parameter neither DuckDB nor the client could type was described as text; its
            // value binds like an untyped PostgreSQL literal (a number stays a number).
            let untyped = matches!(&stmt.body, Body::Duck { info, .. }
                if info.params.get(i).is_some_and(Option::is_none))
                && type_oid == oid::TEXT;
            let value = if untyped {
                match v.as_deref().map(std::str::from_utf8) {
                    None => Ok(params::ParamValue::Null),
                    Some(Ok(text)) => params::decode_text(oid::UNKNOWN, text),
                    Some(Err(_)) => Err(params::ParamError::InvalidUtf8(i + 1)),
                }
            } else {
                params::decode(type_oid, v.as_deref(), format_of(param_formats, i), i + 1)
            };
            match value {
                Ok(p) => decoded.push(p),
                Err(e) => return Ok(Err(e.into())),
            }
        }
        if result_formats.len() > 1 && result_formats.len() != stmt.columns.len() {
            return Ok(Err(PgError::protocol(format!(
                "bind message has {} result formats but query has {} columns",
                result_formats.len(),
                stmt.columns.len()
            ))));
        }
        let result_binary = (0..stmt.columns.len())
            .map(|i| format_of(result_formats, i))
            .collect();
        if !portal.is_empty() && self.portals.contains_key(portal) {
            return Ok(Err(PgError::new(
                "42P03",
                format!("portal \"{portal}\" already exists"),
            )));
        }
        self.portals.insert(
            portal.to_owned(),
            Portal {
                stmt,
                describe: false,
                cursor: None,
                params: decoded,
                result_binary,
                state: PortalState::NotStarted,
            },
        );
        w.feed_msg(PgWireBackendMessage::BindComplete(BindComplete::new()))
            .await?;
        Ok(Ok(()))
    }

    pub async fn describe_statement<W: Wire>(
        &mut self,
        w: &mut W,
        name: &str,
    ) -> PgWireResult<Result<(), PgError>> {
        let Some(stmt) = self.statements.get(name).cloned() else {
            return Ok(Err(PgError::new(
                "26000",
                format!("prepared statement \"{name}\" does not exist"),
            )));
        };
        w.feed_msg(PgWireBackendMessage::ParameterDescription(
            ParameterDescription::new(stmt.param_oids.clone()),
        ))
        .await?;
        self.send_row_description(w, &stmt, None).await?;
        Ok(Ok(()))
    }

    /// `stmt` (not a SELECT) is about to run: retire the shared catalog rows if it may change
    /// a catalog or end a transaction that did, and note what makes this session's view of
    /// the catalog its own: temporary objects (a CREATE mentioning TEMP, an over-approximation
    /// that only costs the session the shared cache) and DDL not yet committed.
    fn catalog_may_change(&mut self, kind: StatementKind, sql: &str) {
        use StatementKind::*;
        // USE, SET search_path, ATTACH…
        self.current_place = None;
        match kind {
            Select | Explain | Insert | Update | Delete | Merge | Copy | Set => return,
            Transaction => self.uncommitted_ddl = false,
            _ => self.uncommitted_ddl |= self.in_transaction(),
        }
        if kind == Create && sql::lexer::contains_ignore_case(sql, "temp") {
            self.own_temp_objects = true;
        }
        self.origins.invalidate();
    }

    /// Where each result column of `stmt` comes from (see [`sql::origin`]); (0, 0) where that
    /// is unknown. Costs small queries at a statement's first Describe, mostly answered by the
    /// [`sql::origin::OriginCache`] the database's sessions share.
    async fn column_origins(&mut self, stmt: &Prepared) -> Vec<(u32, i16)> {
        let unknown = vec![(0, 0); stmt.columns.len()];
        let select =
            matches!(&stmt.body, Body::Duck { info, .. } if info.kind == StatementKind::Select);
        // the lookups are queries: not inside a failed transaction, and only for a FROM
        if !select
            || self.tx == TxState::Failed
            || !sql::lexer::contains_ignore_case(&stmt.sql, "from")
        {
            return unknown;
        }
        self.quiesce().await;
        let shape = match self.origins.shape(&stmt.sql) {
            Some(shape) => shape,
            None => {
                let q = format!("SELECT json_serialize_sql({})", quote_literal(&stmt.sql));
                let tree = match blocking(&self.engine, move |e| e.query_strings(&q)).await {
                    Ok(mut v) if v.len() == 1 => v.pop().flatten(),
                    _ => return unknown,
                };
                let shape = tree.as_deref().and_then(sql::origin::shape).map(Arc::new);
                self.origins.put_shape(&stmt.sql, shape.clone());
                shape
            }
        };
        let Some(shape) = shape.filter(|s| !s.tables.is_empty()) else {
            return unknown;
        };
        let mut names: Vec<String> = shape
            .tables
            .iter()
            .map(|t| quote_literal(&t.name.to_lowercase()))
            .collect();
        names.sort();
        names.dedup();
        let names = names.join(", ");
        // temporary tables and uncommitted DDL are the session's own
        let shared = !self.own_temp_objects && !self.uncommitted_ddl;
        let rows =
            match shared.then(|| self.origins.tables(&names)).flatten() {
                Some(rows) => rows,
                None => {
                    let generation = self.origins.generation();
                    let q =
                        format!(
                    "SELECT database_name, schema_name, table_name, table_oid, column_name, \
                     column_index FROM duckdb_columns() WHERE lower(table_name) IN ({names}) {} \
                     ORDER BY table_oid, column_index",
                    if shared { "AND database_name <> 'temp'" } else { "" },
                );
                    let Ok(rows) = blocking(&self.engine, move |e| e.query_rows(&q)).await else {
                        return unknown;
                    };
                    let rows: sql::origin::TableRows = Arc::new(
                        rows.into_iter()
                            .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
                            .collect(),
                    );
                    if shared {
                        self.origins.put_tables(names, generation, rows.clone());
                    }
                    rows
                }
            };
        // the current database and schema only matter when a name is found in several places
        if self.current_place.is_none() && sql::origin::needs_place(&shape, &rows) {
            let q = "SELECT current_database(), current_schema()";
            if let Ok(mut v) = blocking(&self.engine, move |e| e.query_rows(q)).await {
                if let Some([Some(db), Some(schema)]) = v.pop().as_deref() {
                    self.current_place = Some((db.clone(), schema.clone()));
                }
            }
        }
        let here = self
            .current_place
            .as_ref()
            .map(|(d, s)| (d.as_str(), s.as_str()));
        let columns: Vec<Option<sql::origin::TableColumns>> = shape
            .tables
            .iter()
            .map(|t| sql::origin::catalog_columns(t, &rows, here))
            .collect();
        sql::origin::origins(&shape, &columns, stmt.columns.len()).unwrap_or(unknown)
    }

    pub async fn describe_portal<W: Wire>(
        &mut self,
        w: &mut W,
        name: &str,
    ) -> PgWireResult<Result<(), PgError>> {
        let Some(p) = self.portals.get(name) else {
            return Ok(Err(PgError::new(
                "34000",
                format!("portal \"{name}\" does not exist"),
            )));
        };
        let (stmt, formats) = (p.stmt.clone(), p.result_binary.clone());
        self.send_row_description(w, &stmt, Some(&formats)).await?;
        Ok(Ok(()))
    }

    async fn send_row_description<W: Wire>(
        &mut self,
        w: &mut W,
        stmt: &Prepared,
        formats: Option<&[bool]>,
    ) -> PgWireResult<()> {
        if stmt.columns.is_empty() {
            return w
                .feed_msg(PgWireBackendMessage::NoData(NoData::new()))
                .await;
        }
        if stmt.origins.get().is_none() {
            let found = self.column_origins(stmt).await;
            let _ = stmt.origins.set(found);
        }
        let origins = stmt.origins.get().expect("set above");
        let fields = stmt
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let origin = origins.get(i).copied().unwrap_or((0, 0));
                field(&c.name, &c.ty, formats.is_some_and(|f| f[i]), origin)
            })
            .collect();
        w.feed_msg(PgWireBackendMessage::RowDescription(RowDescription::new(
            fields,
        )))
        .await
    }

    pub async fn execute<W: Wire>(
        &mut self,
        w: &mut W,
        portal_name: &str,
        max_rows: usize,
    ) -> PgWireResult<Result<(), PgError>> {
        let Some(mut portal) = self.portals.remove(portal_name) else {
            return Ok(Err(PgError::new(
                "34000",
                format!("portal \"{portal_name}\" does not exist"),
            )));
        };
        let started = Instant::now();
        self.extended = true;
        self.in_copy_in_pipeline = false;
        let stmt = portal.stmt.clone();
        let mut tally = Tally::new(w);
        let out = self
            .run_portal(&mut tally, &mut portal, max_rows, true)
            .await;
        self.portals.insert(portal_name.to_owned(), portal);
        if let Ok(r) = &out {
            self.record(&stmt.sql, started, &tally, r.as_ref().err());
        }
        out
    }

    /// Metrics and the log line of one statement execution (a simple-query statement or an
    /// Execute). The text is logged only at debug level, with its literals redacted.
    fn record<W>(
        &self,
        sql: &str,
        started: Instant,
        tally: &Tally<'_, W>,
        error: Option<&PgError>,
    ) {
        let elapsed = started.elapsed();
        let command = match (&tally.tag, error) {
            (Some(tag), None) => sql::tag_command(tag),
            _ => sql::statement_command(sql),
        };
        self.metrics
            .statement(command, error.map(|e| e.code), elapsed.as_secs_f64());
        self.metrics.rows_sent.inc_by(tally.rows);
        self.metrics.bytes_sent.inc_by(tally.bytes);
        if let Some(e) = error {
            if e.code == "57014" && self.cancel.reason.load(Ordering::SeqCst) == CANCEL_TIMEOUT {
                self.metrics.statement_timeouts.inc();
            }
        }
        let text = tracing::enabled!(target: "duckgate::statement", tracing::Level::DEBUG)
            .then(|| sql::fingerprint::redact(sql));
        tracing::info!(
            target: "duckgate::statement",
            identity = %self.info.identity,
            database = %self.info.database,
            command,
            rows = tally.rows,
            duration_us = elapsed.as_micros() as u64,
            sqlstate = error.map(|e| e.code).unwrap_or("00000"),
            fingerprint = %sql::fingerprint::fingerprint(sql),
            sql = text.as_deref(),
            "statement"
        );
    }

    pub async fn close_statement<W: Wire>(&mut self, w: &mut W, name: &str) -> PgWireResult<()> {
        if self.statements.remove(name).is_some() {
            self.quiesce().await;
        }
        w.feed_msg(PgWireBackendMessage::CloseComplete(CloseComplete::new()))
            .await
    }

    pub async fn close_portal<W: Wire>(&mut self, w: &mut W, name: &str) -> PgWireResult<()> {
        self.portals.remove(name);
        w.feed_msg(PgWireBackendMessage::CloseComplete(CloseComplete::new()))
            .await
    }

    pub async fn sync<W: Wire>(&mut self, w: &mut W) -> PgWireResult<()> {
        self.finish_implicit(w).await?;
        if !self.in_transaction() {
            // portals live until the end of their transaction (held cursors longer)
            self.portals
                .retain(|_, p| p.cursor.as_ref().is_some_and(|c| c.hold));
        }
        self.send_ready(w).await
    }

    /// After an error in the extended protocol the connection skips to Sync.
    pub fn extended_error(&mut self) {
        self.note_error();
    }

    // ------------------------------------------------------------------ execution

    /// Run (or continue) a portal, sending up to `max_rows` rows (0 = all).
    /// `implicit_tx` allows wrapping writes in an implicit transaction.
    async fn run_portal<W: Wire>(
        &mut self,
        w: &mut W,
        portal: &mut Portal,
        max_rows: usize,
        implicit_tx: bool,
    ) -> PgWireResult<Result<(), PgError>> {
        match &portal.state {
            PortalState::Done => {
                // PostgreSQL answers a finished portal with an empty completion.
                let tag = match (&portal.cursor, &portal.stmt.body) {
                    (Some(c), _) => format!("{} 0", c.verb),
                    (None, Body::Duck { info, .. }) => {
                        sql::command_tag(info.kind, &portal.stmt.sql, 0)
                    }
                    _ => "SELECT 0".into(),
                };
                w.feed_msg(complete(tag)).await?;
                return Ok(Ok(()));
            }
            PortalState::Running(_) => {}
            PortalState::NotStarted => {
                let stmt = portal.stmt.clone();
                if !matches!(&stmt.body, Body::Duck { info, .. } if info.kind == StatementKind::Select)
                {
                    // DDL, SET, transaction control…: cached plans may no longer mean the same
                    self.plan_cache.clear();
                    if let Body::Duck { info, .. } = &stmt.body {
                        self.catalog_may_change(info.kind, &stmt.sql);
                    }
                }
                if !changes_nothing(&stmt.body) {
                    for s in &mut self.savepoints {
                        s.dirty = true;
                    }
                }
                match &stmt.body {
                    Body::Empty => {
                        portal.state = PortalState::Done;
                        w.feed_msg(PgWireBackendMessage::EmptyQueryResponse(
                            EmptyQueryResponse::new(),
                        ))
                        .await?;
                        return Ok(Ok(()));
                    }
                    Body::Intercepted(i) => {
                        portal.state = PortalState::Done;
                        if portal.describe {
                            send_row_description(w, &stmt.columns).await?;
                        }
                        return self.run_intercept(w, i).await;
                    }
                    Body::CopyIn(c) => {
                        portal.state = PortalState::Done;
                        return self.start_copy_in(w, c).await;
                    }
                    Body::Duck { id, info } => {
                        if self.tx == TxState::Failed {
                            return Ok(Err(PgError::aborted_transaction()));
                        }
                        let read_only = self.info.read_only;
                        if read_only
                            && !matches!(info.kind, StatementKind::Select | StatementKind::Explain)
                        {
                            let tag = sql::command_tag(info.kind, &stmt.sql, 0);
                            let cmd =
                                tag.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
                            return Ok(Err(PgError::new(
                                "25006",
                                format!("cannot execute {cmd} in a read-only transaction (the token is read-only)"),
                            )));
                        }
                        if implicit_tx
                            && (sql::is_write(info.kind) || read_only)
                            && self.tx
                                == (TxState::Idle {
                                    implicit: false,
                                    failed: false,
                                })
                        {
                            // Read-only sessions run every statement in a read-only DuckDB
                            // transaction, so DuckDB itself refuses writes a statement hides.
                            let begin = if read_only {
                                "BEGIN TRANSACTION READ ONLY"
                            } else {
                                "BEGIN TRANSACTION"
                            };
                            if let Err(e) = self.engine_batch(begin).await {
                                return Ok(Err(e));
                            }
                            self.tx = TxState::Idle {
                                implicit: true,
                                failed: false,
                            };
                        }
                        self.quiesce().await;
                        let encoder = match &stmt.copy_out {
                            // COPY binary sends binary values, text and CSV the text forms
                            Some(c) => Some(RowEncoder::new(
                                c.columns
                                    .iter()
                                    .map(|col| ColumnFormat {
                                        ty: col.ty.clone(),
                                        binary: c.options.format == CopyFormat::Binary,
                                    })
                                    .collect(),
                                self.encode_settings(),
                            )),
                            None => (!stmt.columns.is_empty()).then(|| {
                                RowEncoder::new(
                                    stmt.columns
                                        .iter()
                                        .zip(&portal.result_binary)
                                        .map(|(c, &binary)| ColumnFormat {
                                            ty: c.ty.clone(),
                                            binary,
                                        })
                                        .collect(),
                                    self.encode_settings(),
                                )
                            }),
                        };
                        let params = std::mem::take(&mut portal.params);
                        let id = *id;
                        self.cancel.reason.store(CANCEL_NONE, Ordering::SeqCst);
                        let deadline = (self.settings.statement_timeout_ms > 0).then(|| {
                            Instant::now()
                                + Duration::from_millis(self.settings.statement_timeout_ms)
                        });
                        // counted until DuckDB really stops working on it, so a statement
                        // left behind by a vanished client would show here
                        let metrics = self.metrics.clone();
                        metrics.statements_running.inc();
                        // The statement starts on this thread; while it does, the timeout
                        // needs its own timer.
                        let timer = deadline.map(|d| {
                            let cancel = self.cancel.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep_until(d).await;
                                cancel.cancel(CANCEL_TIMEOUT);
                            })
                        });
                        let inline = stmt.pace.inline();
                        let (started, short) =
                            blocking_or_inline_timed(&self.engine, inline, move |e| {
                                e.start(id, &params, encoder)
                            })
                            .await;
                        stmt.pace.record(short);
                        if let Some(t) = timer {
                            t.abort();
                        }
                        if let Start::Finished(items) = &started {
                            if let Some(StreamItem::Error(e)) =
                                items.iter().find(|i| matches!(i, StreamItem::Error(_)))
                            {
                                if e.is_plan_changed() {
                                    metrics.statements_running.dec();
                                    self.plan_cache.clear();
                                    portal.state = PortalState::Done;
                                    return Ok(Err(e.clone().into()));
                                }
                            }
                        }
                        if portal.describe {
                            send_row_description(w, &stmt.columns).await?;
                        }
                        let (first, rx) = match started {
                            Start::Finished(items) => {
                                metrics.statements_running.dec();
                                (items, None)
                            }
                            Start::Streaming { first, rest } => {
                                let (tx, rx) = mpsc::channel(STREAM_QUEUE_BATCHES);
                                let engine = self.engine.clone();
                                tokio::task::spawn_blocking(move || {
                                    let mut e = engine.lock().unwrap_or_else(|p| p.into_inner());
                                    let _entry = e.enter(true);
                                    e.resume(rest, &tx);
                                    metrics.statements_running.dec();
                                });
                                (vec![StreamItem::Rows(first)], Some(rx))
                            }
                        };
                        portal.state = PortalState::Running(Box::new(RowStream::new(
                            first,
                            rx,
                            deadline,
                            self.cancel.clone(),
                        )));
                    }
                }
            }
        }
        if let Some(c) = &portal.stmt.copy_out {
            return self.run_copy_out(w, portal, c.options.clone()).await;
        }
        let PortalState::Running(stream) = &mut portal.state else {
            unreachable!()
        };
        let mut sent: u64 = 0;
        loop {
            if max_rows > 0 && sent as usize >= max_rows {
                let m = match &portal.cursor {
                    Some(c) => complete(format!("{} {sent}", c.verb)),
                    None => PgWireBackendMessage::PortalSuspended(PortalSuspended::new()),
                };
                w.feed_msg(m).await?;
                return Ok(Ok(()));
            }
            let budget = match max_rows {
                0 => usize::MAX,
                n => n - sent as usize,
            };
            match stream.next(budget).await {
                Next::Rows { frames, count } => {
                    // MOVE reads a cursor's rows without sending them
                    if !matches!(&portal.cursor, Some(c) if c.verb == "MOVE") {
                        w.feed_frames(frames, count).await?;
                    }
                    sent += count as u64;
                }
                Next::End(result) => {
                    portal.state = PortalState::Done;
                    return match result {
                        Ok(changed) => {
                            let Body::Duck { info, .. } = &portal.stmt.body else {
                                unreachable!()
                            };
                            let n = changed.unwrap_or(sent);
                            let tag = match &portal.cursor {
                                Some(c) => format!("{} {sent}", c.verb),
                                None => sql::command_tag(info.kind, &portal.stmt.sql, n),
                            };
                            w.feed_msg(complete(tag)).await?;
                            Ok(Ok(()))
                        }
                        Err(e) => Ok(Err(self.cancel.map_error(e))),
                    };
                }
            }
        }
    }

    /// Stream a running `COPY … TO STDOUT` to the end (row limits do not apply to COPY).
    async fn run_copy_out<W: Wire>(
        &mut self,
        w: &mut W,
        portal: &mut Portal,
        options: sql::copy::CopyOptions,
    ) -> PgWireResult<Result<(), PgError>> {
        let columns = &portal.stmt.copy_out.as_ref().expect("a COPY TO").columns;
        let encoder = copy::CopyOutEncoder::new(options.clone(), columns.len());
        let binary = options.format == CopyFormat::Binary;
        let PortalState::Running(stream) = &mut portal.state else {
            unreachable!()
        };
        w.feed_msg(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            binary as i8,
            columns.len() as i16,
            vec![binary as i16; columns.len()],
        )))
        .await?;
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        // the header travels with the first row, as PostgreSQL sends it (clients such as
        // rust-postgres's binary reader expect exactly that)
        let mut prologue = encoder.prologue(&names);
        let mut sent = 0u64;
        loop {
            match stream.next(usize::MAX).await {
                Next::Rows { frames, count } => {
                    let (out, messages) = encoder.copy_data_frames(&frames, prologue.take());
                    w.feed_frames(BytesMut::from(&out[..]), messages).await?;
                    sent += count as u64;
                }
                Next::End(result) => {
                    portal.state = PortalState::Done;
                    return match result {
                        Ok(_) => {
                            if let Some(p) = prologue.take() {
                                w.feed_msg(copy_data(p)).await?;
                            }
                            if let Some(e) = encoder.epilogue() {
                                w.feed_msg(copy_data(e)).await?;
                            }
                            w.feed_msg(PgWireBackendMessage::CopyDone(CopyDone::new()))
                                .await?;
                            w.feed_msg(complete(format!("COPY {sent}"))).await?;
                            Ok(Ok(()))
                        }
                        Err(e) => Ok(Err(self.cancel.map_error(e))),
                    };
                }
            }
        }
    }

    // ------------------------------------------------------------------ COPY FROM STDIN

    /// Begin a COPY FROM STDIN: open the bulk loader and ask the client for data.
    async fn start_copy_in<W: Wire>(
        &mut self,
        w: &mut W,
        c: &sql::copy::CopyStatement,
    ) -> PgWireResult<Result<(), PgError>> {
        if self.tx == TxState::Failed {
            return Ok(Err(PgError::aborted_transaction()));
        }
        if self.info.read_only {
            return Ok(Err(PgError::new(
                "25006",
                "cannot execute COPY FROM in a read-only transaction (the token is read-only)",
            )));
        }
        if self.in_copy_in_pipeline {
            return Ok(Err(PgError::new(
                "0A000",
                "COPY FROM STDIN must be the only statement of its query string",
            )));
        }
        let sql::copy::CopySource::Table { name, columns } = &c.source else {
            unreachable!("the parser accepts only tables for FROM STDIN")
        };
        let shape = format!("SELECT * FROM {name}");
        if let Err(r) = sql::guard::check_text(&shape) {
            return Ok(Err(PgError::new(
                "0A000",
                format!("not supported by this endpoint: {}", r.0),
            )));
        }
        self.quiesce().await;
        let own_transaction = self.tx
            == (TxState::Idle {
                implicit: false,
                failed: false,
            });
        if own_transaction {
            if let Err(e) = self.engine_batch("BEGIN TRANSACTION").await {
                return Ok(Err(e));
            }
        }
        let (target, cols) = (name.clone(), columns.clone());
        let started = blocking(&self.engine, move |e| e.copy_in_start(&target, &cols)).await;
        let columns = match started {
            Ok(c) => c,
            Err(e) => {
                if own_transaction {
                    let _ = self.engine_batch("ROLLBACK").await;
                }
                return Ok(Err(e.into()));
            }
        };
        let binary = c.options.format == CopyFormat::Binary;
        w.feed_msg(PgWireBackendMessage::CopyInResponse(CopyInResponse::new(
            binary as i8,
            columns.len() as i16,
            vec![binary as i16; columns.len()],
        )))
        .await?;
        w.flush_msgs().await?;
        w.start_copy_in(self.extended);
        self.copy_in = Some(CopyIn {
            parser: copy::CopyInParser::new(c.options.clone()),
            oids: columns.iter().map(|c| pg_type_of(&c.ty).oid).collect(),
            names: columns.iter().map(|c| c.name.clone()).collect(),
            table: name.clone(),
            binary,
            pending: Vec::new(),
            loaded: 0,
            own_transaction,
            error: None,
        });
        Ok(Ok(()))
    }

    pub fn copy_in_progress(&self) -> bool {
        self.copy_in.is_some()
    }

    /// A CopyData message: parse it; decode and append once a batch of rows is ready. Errors
    /// are kept for CopyDone (the client is sending regardless).
    pub async fn copy_data(&mut self, data: &[u8]) {
        let Some(ci) = self.copy_in.as_mut() else {
            return;
        };
        if ci.error.is_some() {
            return;
        }
        if let Err(e) = ci.parser.feed(data, &mut ci.pending) {
            ci.error = Some(copy_syntax_error(&ci.table, e));
            return;
        }
        if ci.pending.len() >= COPY_IN_BATCH_ROWS {
            self.append_pending().await;
        }
    }

    /// Decode the parsed rows and hand them to the appender.
    async fn append_pending(&mut self) {
        let Some(ci) = self.copy_in.as_mut() else {
            return;
        };
        let rows = std::mem::take(&mut ci.pending);
        let mut decoded = Vec::with_capacity(rows.len());
        for row in &rows {
            match decode_copy_row(ci, row) {
                Ok(v) => decoded.push(v),
                Err(e) => {
                    ci.error = Some(e);
                    return;
                }
            }
        }
        let n = decoded.len() as u64;
        let r = blocking(&self.engine, move |e| e.copy_in_rows(&decoded)).await;
        let ci = self.copy_in.as_mut().expect("still copying");
        match r {
            Ok(()) => ci.loaded += n,
            Err((r, c, e)) => {
                let column = ci.names.get(c).cloned().unwrap_or_default();
                let pe: PgError = e.into();
                ci.error = Some(PgError::new(
                    pe.code,
                    format!(
                        "{} (COPY {}, line {}, column {column})",
                        pe.message, ci.table, rows[r].line
                    ),
                ));
            }
        }
    }

    /// CopyDone: load what is left and commit, or roll everything back on any error.
    pub async fn copy_done<W: Wire>(&mut self, w: &mut W) -> PgWireResult<Result<(), PgError>> {
        if let Some(ci) = self.copy_in.as_mut() {
            if ci.error.is_none() {
                if let Err(e) = ci.parser.finish(&mut ci.pending) {
                    ci.error = Some(copy_syntax_error(&ci.table, e));
                }
            }
        }
        if self.copy_in.as_ref().is_some_and(|c| c.error.is_none()) {
            self.append_pending().await;
        }
        let Some(ci) = self.copy_in.take() else {
            return Ok(Err(PgError::protocol(
                "CopyDone without a COPY in progress",
            )));
        };
        let outcome = match ci.error {
            Some(e) => Err(e),
            None => blocking(&self.engine, |e| e.copy_in_end(true))
                .await
                .map_err(PgError::from),
        };
        let outcome = match outcome {
            Ok(()) if ci.own_transaction => self.engine_batch("COMMIT").await,
            other => other,
        };
        match outcome {
            Ok(()) => {
                w.feed_msg(complete(format!("COPY {}", ci.loaded))).await?;
                w.set_tx_status(self.tx.status());
                Ok(Ok(()))
            }
            Err(e) => {
                self.abort_copy_in(ci.own_transaction).await;
                self.metrics.error(e.code);
                w.set_tx_status(self.tx.status());
                Ok(Err(e))
            }
        }
    }

    /// CopyFail from the client, or a failed load: nothing of the COPY stays.
    async fn abort_copy_in(&mut self, own_transaction: bool) {
        let _ = blocking(&self.engine, |e| e.copy_in_end(false)).await;
        if own_transaction {
            let _ = self.engine_batch("ROLLBACK").await;
        } else {
            self.note_error();
        }
    }

    /// The client gave up the COPY (CopyFail).
    pub async fn copy_fail<W: Wire>(&mut self, w: &mut W, message: &str) -> PgError {
        if let Some(ci) = self.copy_in.take() {
            self.abort_copy_in(ci.own_transaction).await;
        }
        w.set_tx_status(self.tx.status());
        PgError::new("57014", format!("COPY from stdin failed: {message}"))
    }

    /// DECLARE / FETCH / MOVE / CLOSE: a cursor is a portal named after it, run in batches.
    async fn run_cursor<W: Wire>(
        &mut self,
        w: &mut W,
        command: &Result<CursorCommand, sql::cursor::CursorError>,
    ) -> PgWireResult<Result<(), PgError>> {
        let command = match command {
            Ok(c) => c,
            Err(e) => return Ok(Err(PgError::new(e.code, e.message.clone()))),
        };
        if self.tx == TxState::Failed {
            return Ok(Err(PgError::aborted_transaction()));
        }
        match command {
            CursorCommand::Declare {
                name,
                query,
                hold,
                binary,
            } => {
                if !hold && !matches!(self.tx, TxState::Block) {
                    return Ok(Err(PgError::new(
                        "25P01",
                        "DECLARE CURSOR can only be used in transaction blocks",
                    )));
                }
                if self.portals.contains_key(name) {
                    return Ok(Err(PgError::new(
                        "42P03",
                        format!("cursor \"{name}\" already exists"),
                    )));
                }
                let stmt = match Box::pin(self.prepare(query, &[])).await {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
                if !matches!(stmt.body, Body::Duck { .. }) || stmt.columns.is_empty() {
                    return Ok(Err(PgError::new(
                        "42P11",
                        "cannot open a statement that returns no rows as a cursor",
                    )));
                }
                let portal = Portal {
                    result_binary: vec![*binary; stmt.columns.len()],
                    stmt: Arc::new(stmt),
                    describe: false,
                    cursor: Some(CursorPortal {
                        hold: *hold,
                        verb: "FETCH",
                    }),
                    params: Vec::new(),
                    state: PortalState::NotStarted,
                };
                self.portals.insert(name.clone(), portal);
                w.feed_msg(complete("DECLARE CURSOR".into())).await?;
                Ok(Ok(()))
            }
            CursorCommand::Fetch { name, count, skip } => {
                let Some(mut portal) = self.portals.remove(name) else {
                    return Ok(Err(PgError::new(
                        "34000",
                        format!("cursor \"{name}\" does not exist"),
                    )));
                };
                let verb = if *skip { "MOVE" } else { "FETCH" };
                if let Some(c) = &mut portal.cursor {
                    c.verb = verb;
                }
                if !*skip {
                    let fields = portal
                        .stmt
                        .columns
                        .iter()
                        .zip(&portal.result_binary)
                        .map(|(c, &binary)| field(&c.name, &c.ty, binary, (0, 0)))
                        .collect();
                    w.feed_msg(PgWireBackendMessage::RowDescription(RowDescription::new(
                        fields,
                    )))
                    .await?;
                }
                let r = match count {
                    // FETCH 0 would re-read the current row; a forward-only cursor has none
                    Some(0) => {
                        w.feed_msg(complete(format!("{verb} 0"))).await?;
                        Ok(())
                    }
                    _ => {
                        let max = count.map_or(0, |n| n as usize);
                        Box::pin(self.run_portal(w, &mut portal, max, false)).await?
                    }
                };
                self.portals.insert(name.clone(), portal);
                Ok(r)
            }
            CursorCommand::Close { name: Some(name) } => {
                match self.portals.get(name) {
                    Some(p) if p.cursor.is_some() => {
                        self.portals.remove(name);
                    }
                    _ => {
                        return Ok(Err(PgError::new(
                            "34000",
                            format!("cursor \"{name}\" does not exist"),
                        )))
                    }
                }
                w.feed_msg(complete("CLOSE CURSOR".into())).await?;
                Ok(Ok(()))
            }
            CursorCommand::Close { name: None } => {
                self.portals.retain(|_, p| p.cursor.is_none());
                w.feed_msg(complete("CLOSE CURSOR ALL".into())).await?;
                Ok(Ok(()))
            }
        }
    }

    /// Every session setting back to its default (RESET ALL, DISCARD ALL), reported to the
    /// client, then the command's tag.
    async fn reset_all<W: Wire>(
        &mut self,
        w: &mut W,
        tag: &str,
    ) -> PgWireResult<Result<(), PgError>> {
        self.settings = self.defaults.clone();
        let sql = settings::duckdb_search_path(&self.settings.search_path);
        if let Err(e) = self.engine_sql(sql).await {
            return Ok(Err(e));
        }
        for (k, v) in self.settings.reported(&self.info.user) {
            w.feed_msg(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                k.to_owned(),
                v,
            )))
            .await?;
        }
        w.feed_msg(complete(tag.into())).await?;
        Ok(Ok(()))
    }

    /// A session setting's value as a one-row result (`set_config`, `current_setting`).
    async fn answer_setting<W: Wire>(
        &self,
        w: &mut W,
        name: &str,
    ) -> PgWireResult<Result<(), PgError>> {
        let shown = self
            .settings
            .show(name, &self.info.user)
            .unwrap_or_default();
        self.send_text_row(w, &[shown]).await?;
        w.feed_msg(complete("SELECT 1".into())).await?;
        Ok(Ok(()))
    }

    /// One DataRow of text values.
    async fn send_text_row<W: Wire>(&self, w: &mut W, values: &[String]) -> PgWireResult<()> {
        use bytes::BufMut;
        let mut data = bytes::BytesMut::new();
        for v in values {
            data.put_i32(v.len() as i32);
            data.put_slice(v.as_bytes());
        }
        w.feed_msg(PgWireBackendMessage::DataRow(DataRow::new(
            data,
            values.len() as i16,
        )))
        .await
    }

    async fn run_intercept<W: Wire>(
        &mut self,
        w: &mut W,
        i: &Intercept,
    ) -> PgWireResult<Result<(), PgError>> {
        match i {
            Intercept::Tx(t) => self.run_tx(w, t).await,
            Intercept::SetTransaction => {
                w.feed_msg(complete("SET".into())).await?;
                Ok(Ok(()))
            }
            Intercept::Set { name, value } => self.apply_setting(w, name, value, Some("SET")).await,
            Intercept::SetConfig { name, value } => {
                let v = sql::SetValue::Values(vec![value.clone()]);
                if let Err(e) = self.apply_setting(w, name, &v, None).await? {
                    return Ok(Err(e));
                }
                self.answer_setting(w, name).await
            }
            Intercept::CurrentSetting { name } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                self.answer_setting(w, name).await
            }
            Intercept::Cursor(c) => self.run_cursor(w, c).await,
            Intercept::Batch { statements, tag } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                // (SERIAL: a CREATE TABLE and its sequence)
                self.catalog_may_change(StatementKind::Create, &statements.join(";"));
                if self.info.read_only {
                    return Ok(Err(PgError::new(
                        "25006",
                        format!("cannot execute {tag} in a read-only transaction (the token is read-only)"),
                    )));
                }
                // outside a transaction the statements commit together or not at all
                let own = matches!(
                    self.tx,
                    TxState::Idle {
                        implicit: false,
                        ..
                    }
                );
                let body = statements.join(";\n");
                let sql = if own {
                    format!("BEGIN TRANSACTION;\n{body};\nCOMMIT")
                } else {
                    body
                };
                match self.engine_sql(sql).await {
                    Ok(()) => {
                        w.feed_msg(complete((*tag).into())).await?;
                        Ok(Ok(()))
                    }
                    Err(e) => {
                        if own {
                            let _ = self.engine_batch("ROLLBACK").await;
                        }
                        Ok(Err(e))
                    }
                }
            }
            Intercept::NoOp { tag } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                w.feed_msg(complete((*tag).into())).await?;
                Ok(Ok(()))
            }
            Intercept::Unsupported { what } => Ok(Err(PgError::new(
                "0A000",
                format!("{what} is not supported by this endpoint"),
            ))),
            Intercept::DiscardAll => {
                if self.in_transaction() {
                    return Ok(Err(PgError::new(
                        "25001",
                        "DISCARD ALL cannot run inside a transaction block",
                    )));
                }
                self.statements.clear();
                self.portals.clear();
                self.quiesce().await;
                // temporary tables go; the catalog layer's own views and macros stay
                let drop = "SELECT string_agg('DROP TABLE temp.main.\"' || replace(table_name, '\"', '\"\"') || '\"', ';') \
                            FROM duckdb_tables() WHERE temporary";
                let engine = self.engine.clone();
                let r = blocking(&engine, move |e| {
                    let stmts = e.query_strings(drop)?;
                    match stmts.first().cloned().flatten() {
                        Some(sql) if !sql.is_empty() => e.execute_batch(&sql),
                        _ => Ok(()),
                    }
                })
                .await;
                if let Err(e) = r {
                    return Ok(Err(e.into()));
                }
                self.reset_all(w, "DISCARD ALL").await
            }
            Intercept::Deallocate { name } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                // like close_statement: the engine is freed from suspended portals first
                let tag = match name {
                    None => {
                        if !self.statements.is_empty() {
                            self.statements.clear();
                            self.quiesce().await;
                        }
                        "DEALLOCATE ALL"
                    }
                    Some(n) if self.statements.remove(n).is_some() => {
                        self.quiesce().await;
                        "DEALLOCATE"
                    }
                    // not a protocol-level statement: DuckDB's own PREPARE namespace
                    Some(n) => {
                        let sql = format!("DEALLOCATE {}", quote_ident(n));
                        if let Err(e) = self.engine_sql(sql).await {
                            return Ok(Err(e));
                        }
                        "DEALLOCATE"
                    }
                };
                w.feed_msg(complete(tag.into())).await?;
                Ok(Ok(()))
            }
            Intercept::Reset { name } if name == "all" => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                self.reset_all(w, "RESET").await
            }
            Intercept::Reset { name } => {
                self.apply_setting(w, name, &sql::SetValue::Default, Some("RESET"))
                    .await
            }
            Intercept::Show { name } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                let rows: Vec<Vec<String>> = if name == "all" {
                    self.settings
                        .show_all(&self.info.user)
                        .into_iter()
                        .map(|(k, v)| vec![shown_name(&k).to_owned(), v, String::new()])
                        .collect()
                } else {
                    match self.settings.show(name, &self.info.user) {
                        Some(v) => vec![vec![v]],
                        None => {
                            return Ok(Err(PgError::new(
                                "42704",
                                format!("unrecognized configuration parameter \"{name}\""),
                            )))
                        }
                    }
                };
                for row in &rows {
                    let mut data = bytes::BytesMut::new();
                    for v in row {
                        use bytes::BufMut;
                        data.put_i32(v.len() as i32);
                        data.put_slice(v.as_bytes());
                    }
                    w.feed_msg(PgWireBackendMessage::DataRow(DataRow::new(
                        data,
                        row.len() as i16,
                    )))
                    .await?;
                }
                w.feed_msg(complete(if name == "all" {
                    format!("SHOW {}", rows.len())
                } else {
                    "SHOW".into()
                }))
                .await?;
                Ok(Ok(()))
            }
        }
    }

    /// SET / RESET of a session setting: update it, mirror it into DuckDB where it has a
    /// counterpart, and report it with ParameterStatus when clients track it.
    async fn apply_setting<W: Wire>(
        &mut self,
        w: &mut W,
        name: &str,
        value: &sql::SetValue,
        tag: Option<&str>,
    ) -> PgWireResult<Result<(), PgError>> {
        if self.tx == TxState::Failed {
            return Ok(Err(PgError::aborted_transaction()));
        }
        // (search_path decides how table names resolve)
        self.current_place = None;
        let defaults = self.defaults.clone();
        let effect = match self.settings.set(name, value, &defaults) {
            Ok(effect) => effect,
            Err(e) => return Ok(Err(e.into())),
        };
        if let Some(sql) = effect.duckdb {
            if let Err(e) = self.engine_sql(sql).await {
                return Ok(Err(e));
            }
        }
        if let Some(tag) = tag {
            w.feed_msg(complete(tag.into())).await?;
        }
        if let Some((k, v)) = effect.report {
            w.feed_msg(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                k.to_owned(),
                v,
            )))
            .await?;
        }
        Ok(Ok(()))
    }

    async fn run_tx<W: Wire>(
        &mut self,
        w: &mut W,
        t: &TxControl,
    ) -> PgWireResult<Result<(), PgError>> {
        match t {
            TxControl::Savepoint { name } => {
                match self.tx {
                    TxState::Failed => return Ok(Err(PgError::aborted_transaction())),
                    TxState::Block => {}
                    TxState::Idle { .. } => {
                        return Ok(Err(PgError::new(
                            "25P01",
                            "SAVEPOINT can only be used in transaction blocks",
                        )))
                    }
                }
                self.savepoints.push(Savepoint {
                    name: name.clone(),
                    dirty: false,
                });
                w.feed_msg(complete("SAVEPOINT".into())).await?;
                Ok(Ok(()))
            }
            TxControl::Release { name } => {
                if self.tx == TxState::Failed {
                    return Ok(Err(PgError::aborted_transaction()));
                }
                let Some(at) = self.savepoint_index(name) else {
                    return Ok(Err(no_savepoint(name)));
                };
                // its changes (if any) stay part of the transaction, as in PostgreSQL
                let dirty = self.savepoints[at..].iter().any(|s| s.dirty);
                self.savepoints.truncate(at);
                if let Some(outer) = self.savepoints.last_mut() {
                    outer.dirty |= dirty;
                }
                w.feed_msg(complete("RELEASE".into())).await?;
                Ok(Ok(()))
            }
            TxControl::RollbackTo { name } => {
                let Some(at) = self.savepoint_index(name) else {
                    return Ok(Err(no_savepoint(name)));
                };
                if self.savepoints[at..].iter().any(|s| s.dirty) {
                    return Ok(Err(PgError::new(
                        "0A000",
                        format!(
                            "cannot roll back to savepoint \"{name}\": statements that may have \
                             changed data or settings ran after it, and DuckDB has no nested \
                             transactions; roll back the whole transaction"
                        ),
                    )));
                }
                if self.tx == TxState::Failed {
                    // only reads failed since the savepoint; the transaction is usable again
                    // if DuckDB still has it open
                    if let Err(e) = self.engine_batch("SELECT 1").await {
                        return Ok(Err(PgError::new(
                            "0A000",
                            format!(
                                "cannot roll back to savepoint \"{name}\": the failed statement \
                                 aborted DuckDB's transaction ({}); roll back the whole transaction",
                                e.message
                            ),
                        )));
                    }
                    self.tx = TxState::Block;
                }
                self.savepoints.truncate(at + 1);
                w.feed_msg(complete("ROLLBACK".into())).await?;
                Ok(Ok(()))
            }
            TxControl::Begin { read_only } => {
                match self.tx {
                    TxState::Block | TxState::Failed => {
                        if self.tx == TxState::Failed {
                            return Ok(Err(PgError::aborted_transaction()));
                        }
                        w.feed_msg(notice(
                            "25001",
                            "there is already a transaction in progress",
                        ))
                        .await?;
                    }
                    TxState::Idle { implicit: true, .. } => {
                        // BEGIN inside an implicit transaction makes it explicit
                        self.tx = TxState::Block;
                    }
                    TxState::Idle { .. } => {
                        let sql = if *read_only
                            || self.info.read_only
                            || self.settings.default_transaction_read_only
                        {
                            "BEGIN TRANSACTION READ ONLY"
                        } else {
                            "BEGIN TRANSACTION"
                        };
                        if let Err(e) = self.engine_batch(sql).await {
                            return Ok(Err(e));
                        }
                        self.tx = TxState::Block;
                        self.savepoints.clear();
                    }
                }
                w.feed_msg(complete("BEGIN".into())).await?;
                Ok(Ok(()))
            }
            TxControl::Commit | TxControl::Rollback => {
                let commit = matches!(t, TxControl::Commit);
                match self.tx {
                    TxState::Idle {
                        implicit: false, ..
                    } => {
                        w.feed_msg(notice("25P01", "there is no transaction in progress"))
                            .await?;
                        w.feed_msg(complete(if commit { "COMMIT" } else { "ROLLBACK" }.into()))
                            .await?;
                        Ok(Ok(()))
                    }
                    state => {
                        let failed =
                            matches!(state, TxState::Failed | TxState::Idle { failed: true, .. });
                        self.tx = TxState::Idle {
                            implicit: false,
                            failed: false,
                        };
                        let do_commit = commit && !failed;
                        let result = self
                            .engine_batch(if do_commit { "COMMIT" } else { "ROLLBACK" })
                            .await;
                        self.savepoints.clear();
                        self.portals.retain(|_, p| match &p.cursor {
                            // WITH HOLD cursors outlive a COMMIT (their rows were read into
                            // memory before it, by quiesce)
                            Some(c) => c.hold && do_commit,
                            None => matches!(p.state, PortalState::NotStarted),
                        });
                        match result {
                            Ok(()) => {
                                w.feed_msg(complete(
                                    if do_commit { "COMMIT" } else { "ROLLBACK" }.into(),
                                ))
                                .await?;
                                Ok(Ok(()))
                            }
                            Err(e) => Ok(Err(e)),
                        }
                    }
                }
            }
        }
    }
}

/// Statements allowed in a failed transaction block.
fn is_tx_exit(sql: &str) -> bool {
    matches!(
        sql::intercept(sql, |_| false),
        Some(Intercept::Tx(
            TxControl::Commit | TxControl::Rollback | TxControl::RollbackTo { .. }
        ))
    )
}

fn no_savepoint(name: &str) -> PgError {
    PgError::new("3B001", format!("savepoint \"{name}\" does not exist"))
}

#[cfg(test)]
mod tests {
    use super::Pace;

    #[test]
    fn pace_leaves_the_thread_after_two_slow_starts() {
        let p = Pace::default();
        assert!(!p.inline(), "an unknown statement starts off the thread");
        p.record(true);
        assert!(p.inline());
        p.record(false);
        assert!(p.inline(), "one slow start is forgiven");
        p.record(true);
        p.record(false);
        assert!(p.inline(), "a short start in between resets the count");
        p.record(false);
        assert!(!p.inline());
        p.record(false);
        assert!(!p.inline());
        p.record(true);
        assert!(p.inline());
    }
}
