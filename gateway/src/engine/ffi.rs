//! A thin, safe layer over DuckDB's C API (through `duckdb::ffi`).
//!
//! The `duckdb` crate's high-level API cannot describe a prepared statement's parameters and
//! result columns without executing it, nor hand out result chunks without converting them to
//! Arrow. The wire protocol needs both, so the gateway talks to the C API directly here and
//! nowhere else.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::{Arc, Mutex};

use duckdb::ffi;

use super::error::DbError;
use super::workers::{Entry, Workers};
use crate::types::{params::ParamValue, DuckType, PgAlias};

fn c_string(s: &str) -> Result<CString, DbError> {
    CString::new(s).map_err(|_| DbError::invalid_input("statement text contains a NUL byte"))
}

unsafe fn owned_c_str(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
    ffi::duckdb_free(p.cast());
    s
}

unsafe fn borrowed_c_str(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// One DuckDB database instance (shared by every session on that database).
pub struct Database {
    raw: ffi::duckdb_database,
    /// What the instance's sessions share about result column origins.
    origins: Arc<crate::sql::origin::OriginCache>,
    /// DuckDB's worker threads, run by the gateway (none with `threads = 1`).
    workers: std::sync::OnceLock<Workers>,
}

// DuckDB database handles are thread-safe.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Open (or create) a database file, or `:memory:`, with start-up configuration options.
    pub fn open(path: &str, options: &[(&str, &str)]) -> Result<Arc<Self>, DbError> {
        let c_path = c_string(path)?;
        unsafe {
            let mut config: ffi::duckdb_config = ptr::null_mut();
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err(DbError::internal("cannot allocate DuckDB config"));
            }
            for (k, v) in options {
                let (ck, cv) = (c_string(k)?, c_string(v)?);
                if ffi::duckdb_set_config(config, ck.as_ptr(), cv.as_ptr()) != ffi::DuckDBSuccess {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(DbError::invalid_input(format!(
                        "invalid DuckDB option {k}={v}"
                    )));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut c_char = ptr::null_mut();
            let rc = ffi::duckdb_open_ext(c_path.as_ptr(), &mut db, config, &mut err);
            ffi::duckdb_destroy_config(&mut config);
            if rc != ffi::DuckDBSuccess {
                let msg = owned_c_str(err);
                return Err(DbError::from_message(&msg));
            }
            let db = Arc::new(Database {
                raw: db,
                origins: Arc::default(),
                workers: std::sync::OnceLock::new(),
            });
            db.register_pg_types()?;
            db.register_viewdef()?;
            db.take_over_workers()?;
            Ok(db)
        }
    }

    /// Register the [`PgAlias`] types on the instance (its system catalog, so once per
    /// instance and not per connection), for the session catalog views to cast to.
    fn register_pg_types(self: &Arc<Self>) -> Result<(), DbError> {
        let con = self.connect()?;
        for a in PgAlias::ALL {
            let name = c_string(a.alias())?;
            unsafe {
                let mut base = storage_logical(&a.registered());
                let mut lt = storage_logical(&a.registered());
                ffi::duckdb_logical_type_set_alias(lt, name.as_ptr());
                let mut rc = ffi::duckdb_register_logical_type(con.raw, lt, ptr::null_mut());
                if rc == ffi::DuckDBSuccess {
                    // DuckDB binds no function to an aliased type without a registered cast
                    // (`lower(relname)` would fail): an implicit one to the aliased type, free
                    // as the values are the same
                    let mut cast = ffi::duckdb_create_cast_function();
                    ffi::duckdb_cast_function_set_source_type(cast, lt);
                    ffi::duckdb_cast_function_set_target_type(cast, base);
                    ffi::duckdb_cast_function_set_implicit_cast_cost(cast, 1);
                    ffi::duckdb_cast_function_set_function(cast, Some(same_values_cast));
                    rc = ffi::duckdb_register_cast_function(con.raw, cast);
                    ffi::duckdb_destroy_cast_function(&mut cast);
                }
                ffi::duckdb_destroy_logical_type(&mut lt);
                ffi::duckdb_destroy_logical_type(&mut base);
                if rc != ffi::DuckDBSuccess {
                    return Err(DbError::internal(format!(
                        "cannot register the type {}",
                        a.alias()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Register `duckgate_viewdef(select_json, pretty, catalog, view_schema, view_name)`, the
    /// PostgreSQL deparse of a view's SELECT ([`crate::sql::viewdef`]), on the instance's system
    /// catalog (once per instance, like the types); the session's `pg_get_viewdef` macro calls it
    /// and falls back to DuckDB's SQL text where it answers NULL.
    fn register_viewdef(self: &Arc<Self>) -> Result<(), DbError> {
        let con = self.connect()?;
        let name = c_string("duckgate_viewdef")?;
        unsafe {
            let mut varchar = ffi::duckdb_create_logical_type(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR);
            let mut boolean = ffi::duckdb_create_logical_type(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN);
            let mut f = ffi::duckdb_create_scalar_function();
            ffi::duckdb_scalar_function_set_name(f, name.as_ptr());
            ffi::duckdb_scalar_function_add_parameter(f, varchar);
            ffi::duckdb_scalar_function_add_parameter(f, boolean);
            ffi::duckdb_scalar_function_add_parameter(f, varchar);
            ffi::duckdb_scalar_function_add_parameter(f, varchar);
            ffi::duckdb_scalar_function_add_parameter(f, varchar);
            ffi::duckdb_scalar_function_set_return_type(f, varchar);
            ffi::duckdb_scalar_function_set_function(f, Some(viewdef_function));
            let rc = ffi::duckdb_register_scalar_function(con.raw, f);
            ffi::duckdb_destroy_scalar_function(&mut f);
            ffi::duckdb_destroy_logical_type(&mut varchar);
            ffi::duckdb_destroy_logical_type(&mut boolean);
            if rc != ffi::DuckDBSuccess {
                return Err(DbError::internal("cannot register duckgate_viewdef"));
            }
        }
        Ok(())
    }

    /// Replace DuckDB's background workers with the gateway's own (see [`super::workers`]):
    /// every one of the instance's `threads` becomes external, so DuckDB stops its workers
    /// and plans for the same parallelism as before.
    fn take_over_workers(self: &Arc<Self>) -> Result<(), DbError> {
        let con = self.connect()?;
        let threads: usize = con
            .query_strings("SELECT current_setting('threads')::VARCHAR")?
            .first()
            .cloned()
            .flatten()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| DbError::internal("cannot read DuckDB's thread count"))?;
        if threads < 2 {
            return Ok(());
        }
        // DuckDB joins its own workers as this statement ends (every statement's cleanup
        // applies a changed thread count)
        con.execute_batch(&format!("SET GLOBAL external_threads = {threads}"))?;
        let workers = unsafe { Workers::start(self.raw, threads - 1) }
            .map_err(|e| DbError::internal(format!("cannot start DuckDB worker threads: {e}")))?;
        let _ = self.workers.set(workers);
        Ok(())
    }

    /// Engine work starts; `long` when it is not known to be short (it then gets DuckDB's
    /// workers). The guard marks its end. `None` when the instance has no workers.
    pub fn enter(&self, long: bool) -> Option<Entry> {
        self.workers.get().map(|w| w.enter(long))
    }

    /// Whether the workers are inside DuckDB now.
    pub fn workers_active(&self) -> bool {
        self.workers.get().is_some_and(Workers::active)
    }

    pub fn connect(self: &Arc<Self>) -> Result<Connection, DbError> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        unsafe {
            if ffi::duckdb_connect(self.raw, &mut con) != ffi::DuckDBSuccess {
                return Err(DbError::internal("cannot open a DuckDB connection"));
            }
        }
        Ok(Connection {
            raw: con,
            interrupter: Arc::new(Interrupter {
                con: Mutex::new(con),
            }),
            db: self.clone(),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // the workers run inside the instance: out first
        if let Some(mut w) = self.workers.take() {
            w.stop();
        }
        unsafe { ffi::duckdb_close(&mut self.raw) }
    }
}

/// Interrupts the query running on a connection from any thread; a no-op once the connection
/// is gone.
pub struct Interrupter {
    con: Mutex<ffi::duckdb_connection>,
}

unsafe impl Send for Interrupter {}
unsafe impl Sync for Interrupter {}

impl Interrupter {
    pub fn interrupt(&self) {
        let con = self.con.lock().unwrap();
        if !con.is_null() {
            unsafe { ffi::duckdb_interrupt(*con) }
        }
    }
}

/// One DuckDB connection: used by exactly one session worker thread.
pub struct Connection {
    raw: ffi::duckdb_connection,
    interrupter: Arc<Interrupter>,
    db: Arc<Database>,
}

unsafe impl Send for Connection {}

impl Drop for Connection {
    fn drop(&mut self) {
        *self.interrupter.con.lock().unwrap() = ptr::null_mut();
        unsafe { ffi::duckdb_disconnect(&mut self.raw) }
    }
}

/// What a prepared statement returns, decided by DuckDB's statement type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Select,
    Insert,
    Update,
    Delete,
    Merge,
    Explain,
    Create,
    Drop,
    Alter,
    Transaction,
    Copy,
    Set,
    Pragma,
    Call,
    Attach,
    Detach,
    Load,
    Export,
    CopyDatabase,
    UpdateExtensions,
    Other,
}

impl StatementKind {
    fn from_raw(t: ffi::duckdb_statement_type) -> Self {
        match t {
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SELECT
            | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_RELATION => StatementKind::Select,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_INSERT => StatementKind::Insert,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE => StatementKind::Update,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DELETE => StatementKind::Delete,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_MERGE_INTO => StatementKind::Merge,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPLAIN => StatementKind::Explain,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE
            | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CREATE_FUNC => StatementKind::Create,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DROP => StatementKind::Drop,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ALTER => StatementKind::Alter,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_TRANSACTION => {
                StatementKind::Transaction
            }
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY => StatementKind::Copy,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_SET
            | ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_VARIABLE_SET => StatementKind::Set,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_PRAGMA => StatementKind::Pragma,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_CALL => StatementKind::Call,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_ATTACH => StatementKind::Attach,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_DETACH => StatementKind::Detach,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_LOAD => StatementKind::Load,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_EXPORT => StatementKind::Export,
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_COPY_DATABASE => {
                StatementKind::CopyDatabase
            }
            ffi::duckdb_statement_type_DUCKDB_STATEMENT_TYPE_UPDATE_EXTENSIONS => {
                StatementKind::UpdateExtensions
            }
            _ => StatementKind::Other,
        }
    }
}

/// A result column as described by a prepared statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DuckType,
}

/// A statement prepared on a connection. Not `Send`: it lives on the worker thread.
pub struct Prepared {
    raw: ffi::duckdb_prepared_statement,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_prepare(&mut self.raw) }
    }
}

impl Connection {
    /// See [`Database::enter`].
    pub fn enter(&self, long: bool) -> Option<Entry> {
        self.db.enter(long)
    }

    /// The origin cache of this connection's database instance.
    pub fn origin_cache(&self) -> Arc<crate::sql::origin::OriginCache> {
        self.db.origins.clone()
    }

    pub fn interrupter(&self) -> Arc<Interrupter> {
        self.interrupter.clone()
    }

    /// Run SQL that returns nothing the caller needs (start-up settings, transaction control).
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        let c = c_string(sql)?;
        unsafe {
            let mut res: ffi::duckdb_result = std::mem::zeroed();
            let rc = ffi::duckdb_query(self.raw, c.as_ptr(), &mut res);
            let out = if rc != ffi::DuckDBSuccess {
                Err(DbError::from_result(&mut res))
            } else {
                Ok(())
            };
            ffi::duckdb_destroy_result(&mut res);
            out
        }
    }

    /// Run a query and return the first column of every row as text (for small internal queries).
    pub fn query_strings(&self, sql: &str) -> Result<Vec<Option<String>>, DbError> {
        Ok(self
            .query_rows(sql)?
            .into_iter()
            .map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// Run a query and return every row as text, NULL as `None` (for small internal queries).
    pub fn query_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let c = c_string(sql)?;
        unsafe {
            let mut res: ffi::duckdb_result = std::mem::zeroed();
            let rc = ffi::duckdb_query(self.raw, c.as_ptr(), &mut res);
            if rc != ffi::DuckDBSuccess {
                let e = DbError::from_result(&mut res);
                ffi::duckdb_destroy_result(&mut res);
                return Err(e);
            }
            let rows = ffi::duckdb_row_count(&mut res);
            let columns = ffi::duckdb_column_count(&mut res);
            let mut out = Vec::with_capacity(rows as usize);
            for r in 0..rows {
                let row = (0..columns)
                    .map(|c| {
                        (!ffi::duckdb_value_is_null(&mut res, c, r))
                            .then(|| owned_c_str(ffi::duckdb_value_varchar(&mut res, c, r)))
                    })
                    .collect();
                out.push(row);
            }
            ffi::duckdb_destroy_result(&mut res);
            Ok(out)
        }
    }

    pub fn prepare(&self, sql: &str) -> Result<Prepared, DbError> {
        let c = c_string(sql)?;
        unsafe {
            let mut stmt: ffi::duckdb_prepared_statement = ptr::null_mut();
            let rc = ffi::duckdb_prepare(self.raw, c.as_ptr(), &mut stmt);
            let p = Prepared { raw: stmt };
            if rc != ffi::DuckDBSuccess {
                let msg = borrowed_c_str(ffi::duckdb_prepare_error(stmt));
                return Err(DbError::from_message(&msg));
            }
            Ok(p)
        }
    }
}

impl Prepared {
    pub fn kind(&self) -> StatementKind {
        StatementKind::from_raw(unsafe { ffi::duckdb_prepared_statement_type(self.raw) })
    }

    /// Parameter types as DuckDB inferred them; `None` where it could not.
    pub fn param_types(&self) -> Vec<Option<DuckType>> {
        unsafe {
            let n = ffi::duckdb_nparams(self.raw);
            (1..=n)
                .map(|i| {
                    let mut lt = ffi::duckdb_param_logical_type(self.raw, i);
                    if lt.is_null() {
                        return None;
                    }
                    let t = logical_to_duck(lt);
                    ffi::duckdb_destroy_logical_type(&mut lt);
                    match t {
                        DuckType::Unsupported(_) | DuckType::Null => None,
                        // parameters are decoded and bound as the aliased type
                        DuckType::Pg(_, t) => Some(*t),
                        t => Some(t),
                    }
                })
                .collect()
        }
    }

    pub fn columns(&self) -> Vec<Column> {
        unsafe {
            let n = ffi::duckdb_prepared_statement_column_count(self.raw);
            (0..n)
                .map(|i| {
                    // the caller owns this string (duckdb_free), unlike a result's column names
                    let name = owned_c_str(
                        ffi::duckdb_prepared_statement_column_name(self.raw, i).cast_mut(),
                    );
                    let mut lt = ffi::duckdb_prepared_statement_column_logical_type(self.raw, i);
                    let ty = if lt.is_null() {
                        DuckType::Unsupported("INVALID".into())
                    } else {
                        let t = logical_to_duck(lt);
                        ffi::duckdb_destroy_logical_type(&mut lt);
                        t
                    };
                    Column { name, ty }
                })
                .collect()
        }
    }

    /// Bind all parameters (1-based positions).
    pub fn bind(&self, values: &[ParamValue]) -> Result<(), DbError> {
        unsafe {
            ffi::duckdb_clear_bindings(self.raw);
            for (i, v) in values.iter().enumerate() {
                let idx = (i + 1) as u64;
                let rc = match v {
                    ParamValue::Null => ffi::duckdb_bind_null(self.raw, idx),
                    ParamValue::Bool(b) => ffi::duckdb_bind_boolean(self.raw, idx, *b),
                    ParamValue::I16(x) => ffi::duckdb_bind_int16(self.raw, idx, *x),
                    ParamValue::I32(x) => ffi::duckdb_bind_int32(self.raw, idx, *x),
                    ParamValue::I64(x) => ffi::duckdb_bind_int64(self.raw, idx, *x),
                    ParamValue::F32(x) => ffi::duckdb_bind_float(self.raw, idx, *x),
                    ParamValue::F64(x) => ffi::duckdb_bind_double(self.raw, idx, *x),
                    ParamValue::Text(s) => ffi::duckdb_bind_varchar_length(
                        self.raw,
                        idx,
                        s.as_ptr().cast(),
                        s.len() as u64,
                    ),
                    ParamValue::Blob(b) => {
                        ffi::duckdb_bind_blob(self.raw, idx, b.as_ptr().cast(), b.len() as u64)
                    }
                    other => {
                        let mut val = make_value(other);
                        let rc = ffi::duckdb_bind_value(self.raw, idx, val);
                        ffi::duckdb_destroy_value(&mut val);
                        rc
                    }
                };
                if rc != ffi::DuckDBSuccess {
                    let msg = borrowed_c_str(ffi::duckdb_prepare_error(self.raw));
                    return Err(DbError::from_message(if msg.is_empty() {
                        "Conversion Error: could not bind parameter"
                    } else {
                        &msg
                    })
                    .with_context(format!("parameter ${}", i + 1)));
                }
            }
        }
        Ok(())
    }

    /// Start executing with the bound parameters. `streaming` results produce chunks lazily.
    pub fn execute(&self, streaming: bool) -> Result<QueryResult, DbError> {
        unsafe {
            let mut pending: ffi::duckdb_pending_result = ptr::null_mut();
            let rc = if streaming {
                ffi::duckdb_pending_prepared_streaming(self.raw, &mut pending)
            } else {
                ffi::duckdb_pending_prepared(self.raw, &mut pending)
            };
            if rc != ffi::DuckDBSuccess {
                let msg = borrowed_c_str(ffi::duckdb_pending_error(pending));
                ffi::duckdb_destroy_pending(&mut pending);
                return Err(DbError::from_message(&msg));
            }
            let mut res: ffi::duckdb_result = std::mem::zeroed();
            let rc = ffi::duckdb_execute_pending(pending, &mut res);
            ffi::duckdb_destroy_pending(&mut pending);
            let mut result = QueryResult { raw: res };
            if rc != ffi::DuckDBSuccess {
                return Err(DbError::from_result(&mut result.raw));
            }
            Ok(result)
        }
    }
}

unsafe fn make_value(v: &ParamValue) -> ffi::duckdb_value {
    match v {
        ParamValue::Null => ffi::duckdb_create_null_value(),
        ParamValue::Bool(b) => ffi::duckdb_create_bool(*b),
        ParamValue::I16(x) => ffi::duckdb_create_int16(*x),
        ParamValue::I32(x) => ffi::duckdb_create_int32(*x),
        ParamValue::I64(x) => ffi::duckdb_create_int64(*x),
        ParamValue::F32(x) => ffi::duckdb_create_float(*x),
        ParamValue::F64(x) => ffi::duckdb_create_double(*x),
        ParamValue::Text(s) => ffi::duckdb_create_varchar_length(s.as_ptr().cast(), s.len() as u64),
        ParamValue::Blob(b) => ffi::duckdb_create_blob(b.as_ptr(), b.len() as u64),
        ParamValue::Date(d) => ffi::duckdb_create_date(ffi::duckdb_date { days: *d }),
        ParamValue::Time(t) => ffi::duckdb_create_time(ffi::duckdb_time { micros: *t }),
        ParamValue::Timestamp(t) => {
            ffi::duckdb_create_timestamp(ffi::duckdb_timestamp { micros: *t })
        }
        ParamValue::TimestampTz(t) => {
            ffi::duckdb_create_timestamp_tz(ffi::duckdb_timestamp { micros: *t })
        }
        ParamValue::Interval {
            months,
            days,
            micros,
        } => ffi::duckdb_create_interval(ffi::duckdb_interval {
            months: *months,
            days: *days,
            micros: *micros,
        }),
        ParamValue::Uuid(bytes) => {
            let v = u128::from_be_bytes(*bytes);
            ffi::duckdb_create_uuid(ffi::duckdb_uhugeint {
                lower: v as u64,
                upper: (v >> 64) as u64,
            })
        }
        ParamValue::List(elem_oid, items) => {
            let elem_type = crate::types::duck_type_for_oid(*elem_oid).unwrap_or(DuckType::Varchar);
            let mut lt = duck_to_logical(&elem_type);
            let mut values: Vec<ffi::duckdb_value> = items.iter().map(|i| make_value(i)).collect();
            let list = ffi::duckdb_create_list_value(lt, values.as_mut_ptr(), values.len() as u64);
            for v in &mut values {
                ffi::duckdb_destroy_value(v);
            }
            ffi::duckdb_destroy_logical_type(&mut lt);
            list
        }
    }
}

/// The cast from a [`PgAlias`] type to the type it aliases (always a scalar: the vectors' alias
/// is on their element type): the output references the input's data, as the two types differ
/// in the alias only (DuckDB's `Vector::Reference` requires the same type id).
unsafe extern "C" fn same_values_cast(
    _info: ffi::duckdb_function_info,
    _count: ffi::idx_t,
    input: ffi::duckdb_vector,
    output: ffi::duckdb_vector,
) -> bool {
    ffi::duckdb_vector_reference_vector(output, input);
    true
}

/// Row `row` of a flat VARCHAR vector, `None` when NULL.
unsafe fn varchar_at(v: ffi::duckdb_vector, row: usize) -> Option<String> {
    let validity = ffi::duckdb_vector_get_validity(v);
    if !validity.is_null() && !ffi::duckdb_validity_row_is_valid(validity, row as ffi::idx_t) {
        return None;
    }
    let data = ffi::duckdb_vector_get_data(v) as *mut ffi::duckdb_string_t;
    let s = data.add(row);
    let len = ffi::duckdb_string_t_length(*s) as usize;
    let ptr = ffi::duckdb_string_t_data(s) as *const u8;
    Some(String::from_utf8_lossy(std::slice::from_raw_parts(ptr, len)).into_owned())
}

/// Row `row` of a flat BOOLEAN vector, `None` when NULL.
unsafe fn bool_at(v: ffi::duckdb_vector, row: usize) -> Option<bool> {
    let validity = ffi::duckdb_vector_get_validity(v);
    if !validity.is_null() && !ffi::duckdb_validity_row_is_valid(validity, row as ffi::idx_t) {
        return None;
    }
    Some(*(ffi::duckdb_vector_get_data(v) as *const bool).add(row))
}

/// `duckgate_viewdef`'s body (DuckDB flattens the input chunk for C API functions); a view the
/// deparser does not handle answers NULL, never an error.
unsafe extern "C" fn viewdef_function(
    _info: ffi::duckdb_function_info,
    input: ffi::duckdb_data_chunk,
    output: ffi::duckdb_vector,
) {
    let rows = ffi::duckdb_data_chunk_get_size(input) as usize;
    let arg = |i| ffi::duckdb_data_chunk_get_vector(input, i);
    let (json, pretty, catalog, schema, view) = (arg(0), arg(1), arg(2), arg(3), arg(4));
    for row in 0..rows {
        let (json, catalog, schema, view) = (
            varchar_at(json, row),
            varchar_at(catalog, row),
            varchar_at(schema, row),
            varchar_at(view, row),
        );
        let pretty = bool_at(pretty, row);
        // a panic must not unwind into DuckDB: it falls back like any unhandled view
        let answer = std::panic::catch_unwind(|| {
            crate::sql::viewdef::deparse_view(
                json.as_deref()?,
                pretty?,
                catalog.as_deref()?,
                schema.as_deref()?,
                view.as_deref()?,
            )
        })
        .ok()
        .flatten();
        match answer {
            Some(text) => ffi::duckdb_vector_assign_string_element_len(
                output,
                row as ffi::idx_t,
                text.as_ptr().cast(),
                text.len() as ffi::idx_t,
            ),
            None => {
                ffi::duckdb_vector_ensure_validity_writable(output);
                ffi::duckdb_validity_set_row_invalid(
                    ffi::duckdb_vector_get_validity(output),
                    row as ffi::idx_t,
                );
            }
        }
    }
}

/// The logical type of a [`PgAlias`]'s storage type (scalars and lists of them).
unsafe fn storage_logical(t: &DuckType) -> ffi::duckdb_logical_type {
    let id = match t {
        DuckType::List(e) => {
            let mut child = storage_logical(e);
            let list = ffi::duckdb_create_list_type(child);
            ffi::duckdb_destroy_logical_type(&mut child);
            return list;
        }
        DuckType::SmallInt => ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT,
        DuckType::UInteger => ffi::DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER,
        _ => ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR,
    };
    ffi::duckdb_create_logical_type(id)
}

unsafe fn duck_to_logical(t: &DuckType) -> ffi::duckdb_logical_type {
    let id = match t {
        DuckType::Boolean => ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN,
        DuckType::SmallInt => ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT,
        DuckType::Integer => ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER,
        DuckType::BigInt => ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT,
        DuckType::Float => ffi::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT,
        DuckType::Double => ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE,
        DuckType::Blob => ffi::DUCKDB_TYPE_DUCKDB_TYPE_BLOB,
        DuckType::Uuid => ffi::DUCKDB_TYPE_DUCKDB_TYPE_UUID,
        DuckType::Date => ffi::DUCKDB_TYPE_DUCKDB_TYPE_DATE,
        DuckType::Time => ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIME,
        DuckType::Timestamp => ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP,
        DuckType::TimestampTz => ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ,
        DuckType::Interval => ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTERVAL,
        // numeric, text and everything else travel as text and are cast by DuckDB
        _ => ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR,
    };
    ffi::duckdb_create_logical_type(id)
}

/// Convert a DuckDB logical type handle (borrowed) into our description.
pub(crate) unsafe fn logical_to_duck(lt: ffi::duckdb_logical_type) -> DuckType {
    let alias = owned_c_str(ffi::duckdb_logical_type_get_alias(lt));
    let id = ffi::duckdb_get_type_id(lt);
    if alias.eq_ignore_ascii_case("JSON") && id == ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR {
        return DuckType::Json;
    }
    let t = logical_to_duck_unaliased(lt, id);
    // only on the type it was registered for (so the encoders' reading of it holds); a vector
    // alias names the element type of a list (see `PgAlias::registered`), and an element on its
    // own (`indkey[1]`) keeps its plain type
    let pg = if id == ffi::DUCKDB_TYPE_DUCKDB_TYPE_LIST {
        let mut child = ffi::duckdb_list_type_child_type(lt);
        let child_alias = owned_c_str(ffi::duckdb_logical_type_get_alias(child));
        ffi::duckdb_destroy_logical_type(&mut child);
        PgAlias::from_alias(&child_alias).filter(|a| a.is_vector())
    } else {
        PgAlias::from_alias(&alias).filter(|a| !a.is_vector())
    };
    match pg {
        Some(a) if a.storage() == t => DuckType::Pg(a, Box::new(t)),
        _ => t,
    }
}

unsafe fn logical_to_duck_unaliased(
    lt: ffi::duckdb_logical_type,
    id: ffi::DUCKDB_TYPE,
) -> DuckType {
    let child = |mut c: ffi::duckdb_logical_type| {
        let t = logical_to_duck(c);
        ffi::duckdb_destroy_logical_type(&mut c);
        t
    };
    match id {
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => DuckType::Boolean,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => DuckType::TinyInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => DuckType::SmallInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => DuckType::Integer,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => DuckType::BigInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => DuckType::UTinyInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => DuckType::USmallInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => DuckType::UInteger,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT => DuckType::UBigInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => DuckType::HugeInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UHUGEINT => DuckType::UHugeInt,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGNUM => DuckType::BigNum,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => DuckType::Float,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => DuckType::Double,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL => DuckType::Decimal {
            width: ffi::duckdb_decimal_width(lt),
            scale: ffi::duckdb_decimal_scale(lt),
        },
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR => DuckType::Varchar,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BLOB => DuckType::Blob,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UUID => DuckType::Uuid,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_DATE => DuckType::Date,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIME => DuckType::Time,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIME_NS => DuckType::TimeNs,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIME_TZ => DuckType::TimeTz,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP => DuckType::Timestamp,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_S => DuckType::TimestampS,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_MS => DuckType::TimestampMs,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_NS => DuckType::TimestampNs,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ => DuckType::TimestampTz,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTERVAL => DuckType::Interval,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIT => DuckType::Bit,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_SQLNULL => DuckType::Null,
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_ENUM => {
            let n = ffi::duckdb_enum_dictionary_size(lt);
            DuckType::Enum(
                (0..n)
                    .map(|i| owned_c_str(ffi::duckdb_enum_dictionary_value(lt, u64::from(i))))
                    .collect(),
            )
        }
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_LIST => {
            DuckType::List(Box::new(child(ffi::duckdb_list_type_child_type(lt))))
        }
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_ARRAY => DuckType::Array(
            Box::new(child(ffi::duckdb_array_type_child_type(lt))),
            ffi::duckdb_array_type_array_size(lt) as usize,
        ),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_MAP => DuckType::Map(
            Box::new(child(ffi::duckdb_map_type_key_type(lt))),
            Box::new(child(ffi::duckdb_map_type_value_type(lt))),
        ),
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_STRUCT => {
            let n = ffi::duckdb_struct_type_child_count(lt);
            DuckType::Struct(
                (0..n)
                    .map(|i| {
                        (
                            owned_c_str(ffi::duckdb_struct_type_child_name(lt, i)),
                            child(ffi::duckdb_struct_type_child_type(lt, i)),
                        )
                    })
                    .collect(),
            )
        }
        ffi::DUCKDB_TYPE_DUCKDB_TYPE_UNION => {
            let n = ffi::duckdb_union_type_member_count(lt);
            DuckType::Union(
                (0..n)
                    .map(|i| {
                        (
                            owned_c_str(ffi::duckdb_union_type_member_name(lt, i)),
                            child(ffi::duckdb_union_type_member_type(lt, i)),
                        )
                    })
                    .collect(),
            )
        }
        other => DuckType::Unsupported(format!("type id {other}")),
    }
}

/// An executed statement's result.
pub struct QueryResult {
    raw: ffi::duckdb_result,
}

impl Drop for QueryResult {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_result(&mut self.raw) }
    }
}

impl QueryResult {
    /// True when the result is a row count (INSERT/UPDATE/DELETE without RETURNING, CTAS, ...).
    pub fn is_changed_rows(&self) -> bool {
        unsafe {
            ffi::duckdb_result_return_type(self.raw)
                == ffi::duckdb_result_type_DUCKDB_RESULT_TYPE_CHANGED_ROWS
        }
    }

    /// The type DuckDB actually produced for a result column.
    pub fn column_count(&mut self) -> usize {
        unsafe { ffi::duckdb_column_count(&mut self.raw) as usize }
    }

    pub fn column_type(&mut self, col: usize) -> DuckType {
        unsafe {
            let mut lt = ffi::duckdb_column_logical_type(&mut self.raw, col as u64);
            if lt.is_null() {
                return DuckType::Unsupported("INVALID".into());
            }
            let t = logical_to_duck(lt);
            ffi::duckdb_destroy_logical_type(&mut lt);
            t
        }
    }

    /// The next chunk, `Ok(None)` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, DbError> {
        unsafe {
            let chunk = ffi::duckdb_fetch_chunk(self.raw);
            if chunk.is_null() {
                let err = ffi::duckdb_result_error(&mut self.raw);
                if !err.is_null() {
                    return Err(DbError::from_result(&mut self.raw));
                }
                return Ok(None);
            }
            Ok(Some(Chunk { raw: chunk }))
        }
    }
}

/// One data chunk (up to 2048 rows).
pub struct Chunk {
    raw: ffi::duckdb_data_chunk,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_data_chunk(&mut self.raw) }
    }
}

impl Chunk {
    pub fn len(&self) -> usize {
        unsafe { ffi::duckdb_data_chunk_get_size(self.raw) as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn vector(&self, col: usize) -> ffi::duckdb_vector {
        unsafe { ffi::duckdb_data_chunk_get_vector(self.raw, col as u64) }
    }
}

/// A DuckDB appender that runs its rows through an INSERT (a "query appender"), so bulk
/// loads work for every catalog kind (DuckLake included), with DuckDB casting each value to
/// the target column's type as it is appended.
pub struct Appender {
    raw: ffi::duckdb_appender,
}

unsafe impl Send for Appender {}

impl Drop for Appender {
    fn drop(&mut self) {
        unsafe {
            ffi::duckdb_appender_destroy(&mut self.raw);
        }
    }
}

impl Connection {
    /// An appender for `insert_sql`, which reads the appended rows from `appended_data`;
    /// its columns are typed like the result columns of `shape`.
    pub fn query_appender(&self, insert_sql: &str, shape: &Prepared) -> Result<Appender, DbError> {
        let sql = c_string(insert_sql)?;
        let table = c_string("appended_data")?;
        unsafe {
            let n = ffi::duckdb_prepared_statement_column_count(shape.raw);
            let mut types: Vec<ffi::duckdb_logical_type> = (0..n)
                .map(|i| ffi::duckdb_prepared_statement_column_logical_type(shape.raw, i))
                .collect();
            let mut raw: ffi::duckdb_appender = ptr::null_mut();
            let rc = ffi::duckdb_appender_create_query(
                self.raw,
                sql.as_ptr(),
                n,
                types.as_mut_ptr(),
                table.as_ptr(),
                ptr::null_mut(),
                &mut raw,
            );
            for t in &mut types {
                ffi::duckdb_destroy_logical_type(t);
            }
            let appender = Appender { raw };
            if rc != ffi::DuckDBSuccess {
                return Err(appender.error());
            }
            Ok(appender)
        }
    }
}

impl Appender {
    fn error(&self) -> DbError {
        unsafe {
            let mut data = ffi::duckdb_appender_error_data(self.raw);
            let msg = borrowed_c_str(ffi::duckdb_error_data_message(data));
            ffi::duckdb_destroy_error_data(&mut data);
            DbError::from_message(if msg.is_empty() {
                "appender failed"
            } else {
                &msg
            })
        }
    }

    /// Append one row; `Err((column, error))` names the value DuckDB could not take.
    pub fn append_row(&mut self, values: &[ParamValue]) -> Result<(), (usize, DbError)> {
        unsafe {
            for (i, v) in values.iter().enumerate() {
                let mut val = make_value(v);
                let rc = ffi::duckdb_append_value(self.raw, val);
                ffi::duckdb_destroy_value(&mut val);
                if rc != ffi::DuckDBSuccess {
                    return Err((i, self.error()));
                }
            }
            if ffi::duckdb_appender_end_row(self.raw) != ffi::DuckDBSuccess {
                return Err((values.len(), self.error()));
            }
        }
        Ok(())
    }

    /// Run the INSERT for everything appended and release the appender.
    pub fn close(mut self) -> Result<(), DbError> {
        unsafe {
            if ffi::duckdb_appender_close(self.raw) != ffi::DuckDBSuccess {
                return Err(self.error());
            }
            ffi::duckdb_appender_destroy(&mut self.raw);
        }
        self.raw = ptr::null_mut();
        Ok(())
    }
}
