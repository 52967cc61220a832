//! DuckDB execution for one session: a connection, its prepared statements, and streaming of
//! encoded result rows with backpressure.
//!
//! Everything here is blocking: it runs in `block_in_place` on a worker thread or on tokio's
//! blocking pool, never as ordinary async work. A session's engine sits behind a mutex so that exactly one thread uses
//! its DuckDB connection at a time.

pub mod encode;
pub mod error;
pub mod ffi;
pub mod usage;
pub mod workers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use tokio::sync::mpsc;

pub use encode::{ColumnFormat, EncodeSettings, RowEncoder};
pub use error::{DbError, PLAN_CHANGED};
pub use ffi::{Column, Connection, Database, Interrupter, StatementKind};

use crate::types::{params::ParamValue, DuckType};

/// What DuckDB says about a prepared statement, without running it.
#[derive(Debug, Clone)]
pub struct StatementInfo {
    pub kind: StatementKind,
    /// Parameter types DuckDB inferred (`None` = could not infer).
    pub params: Vec<Option<DuckType>>,
    pub columns: Vec<Column>,
}

/// Encoded rows: `data` holds whole DataRow messages back to back (see
/// [`encode::DATA_ROW_HEADER`]), `ends[i]` is where row `i` ends.
#[derive(Debug, Default)]
pub struct RowBatch {
    pub data: BytesMut,
    pub ends: Vec<usize>,
}

/// What an execution sends back, in order: zero or more batches, then `Done` or `Error`.
#[derive(Debug)]
pub enum StreamItem {
    Rows(RowBatch),
    /// `changed_rows` is set for statements that report a row count instead of rows.
    Done {
        changed_rows: Option<u64>,
    },
    Error(DbError),
}

/// Batches waiting for the client per session: bounds server memory for slow readers.
pub const STREAM_QUEUE_BATCHES: usize = 4;
/// A batch is handed over once it holds this many bytes (or the result ends).
const BATCH_BYTES: usize = 64 * 1024;

/// The blocking half of a session.
pub struct Engine {
    conn: Connection,
    statements: HashMap<u64, ffi::Prepared>,
    next_id: u64,
    /// Statements closed while the engine was busy; closed at its next use.
    deferred_close: Arc<Mutex<Vec<u64>>>,
    /// The bulk loader of a COPY FROM STDIN in progress.
    copy_in: Option<ffi::Appender>,
    /// Statements whose result is a row count ("Count" column), not rows.
    count_results: std::collections::HashSet<u64>,
}

// The engine moves between blocking-pool threads but is used by one at a time (mutex).
unsafe impl Send for Engine {}

impl Engine {
    pub fn new(conn: Connection) -> Self {
        Engine {
            conn,
            statements: HashMap::new(),
            next_id: 1,
            deferred_close: Arc::new(Mutex::new(Vec::new())),
            copy_in: None,
            count_results: std::collections::HashSet::new(),
        }
    }

    /// What the sessions of this DuckDB instance share about result column origins.
    pub fn origin_cache(&self) -> Arc<crate::sql::origin::OriginCache> {
        self.conn.origin_cache()
    }

    /// Engine work starts; `long` when it is not known to be short, which gets it DuckDB's
    /// workers (see [`workers`]). The guard marks its end.
    pub fn enter(&self, long: bool) -> Option<workers::Entry> {
        self.conn.enter(long)
    }

    /// Where to leave statement ids to close when the engine cannot be locked right away.
    pub fn deferred_close(&self) -> Arc<Mutex<Vec<u64>>> {
        self.deferred_close.clone()
    }

    fn close_deferred(&mut self) {
        let ids = std::mem::take(&mut *self.deferred_close.lock().unwrap());
        for id in ids {
            self.close(id);
        }
    }

    pub fn interrupter(&self) -> Arc<Interrupter> {
        self.conn.interrupter()
    }

    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql)
    }

    pub fn query_strings(&self, sql: &str) -> Result<Vec<Option<String>>, DbError> {
        self.conn.query_strings(sql)
    }

    pub fn query_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        self.conn.query_rows(sql)
    }

    /// Prepare and keep a statement; returns its id and description.
    pub fn prepare(&mut self, sql: &str) -> Result<(u64, StatementInfo), DbError> {
        self.close_deferred();
        let stmt = self.conn.prepare(sql)?;
        let info = StatementInfo {
            kind: stmt.kind(),
            params: stmt.param_types(),
            columns: stmt.columns(),
        };
        let id = self.next_id;
        self.next_id += 1;
        // DDL such as CREATE TABLE AS reports its row count as a one-row "Count" result
        if matches!(
            info.columns.as_slice(),
            [Column { name, ty: DuckType::BigInt }] if name == "Count"
        ) {
            self.count_results.insert(id);
        }
        self.statements.insert(id, stmt);
        Ok((id, info))
    }

    /// Start a COPY FROM STDIN into `target` (`columns` empty = all): the column types to
    /// decode the input with, and an appender ready for rows.
    pub fn copy_in_start(
        &mut self,
        target: &str,
        columns: &[String],
    ) -> Result<Vec<Column>, DbError> {
        let (select, list) = if columns.is_empty() {
            ("*".to_owned(), String::new())
        } else {
            (columns.join(", "), format!("({})", columns.join(", ")))
        };
        let shape = self
            .conn
            .prepare(&format!("SELECT {select} FROM {target} LIMIT 0"))?;
        let cols = shape.columns();
        let insert = format!("INSERT INTO {target} {list} SELECT * FROM appended_data");
        self.copy_in = Some(self.conn.query_appender(&insert, &shape)?);
        Ok(cols)
    }

    /// Append decoded rows; on failure, the index of the row and column that failed.
    pub fn copy_in_rows(
        &mut self,
        rows: &[Vec<ParamValue>],
    ) -> Result<(), (usize, usize, DbError)> {
        let app = self
            .copy_in
            .as_mut()
            .ok_or_else(|| (0, 0, DbError::internal("no COPY in progress")))?;
        for (r, row) in rows.iter().enumerate() {
            app.append_row(row).map_err(|(c, e)| (r, c, e))?;
        }
        Ok(())
    }

    /// Finish the COPY: the rows go in (`Err` if the INSERT fails), or with `commit` false,
    /// are dropped.
    pub fn copy_in_end(&mut self, commit: bool) -> Result<(), DbError> {
        match self.copy_in.take() {
            Some(app) if commit => app.close(),
            _ => Ok(()),
        }
    }

    pub fn close(&mut self, id: u64) {
        self.count_results.remove(&id);
        self.statements.remove(&id);
    }

    /// Execute a prepared statement on the calling thread as far as its first two chunks.
    ///
    /// Most statements (a point lookup, `SELECT 1`, DML) end there: the whole outcome comes
    /// back without a thread hand-off. A longer result returns its first batch at once (time
    /// to first row) and the rest as a [`Pending`] to stream with [`Engine::resume`].
    pub fn start(&mut self, id: u64, params: &[ParamValue], encoder: Option<RowEncoder>) -> Start {
        match self.start_inner(id, params, encoder) {
            Ok(s) => s,
            Err(e) => Start::Finished(vec![StreamItem::Error(e)]),
        }
    }

    fn start_inner(
        &mut self,
        id: u64,
        params: &[ParamValue],
        encoder: Option<RowEncoder>,
    ) -> Result<Start, DbError> {
        let stmt = self
            .statements
            .get(&id)
            .ok_or_else(|| DbError::internal("prepared statement vanished"))?;
        let count_column = self.count_results.contains(&id);
        stmt.bind(params)?;
        let mut result = stmt.execute(encoder.is_some())?;
        let Some(mut encoder) = encoder else {
            // Row count (or nothing): read it from the first chunk.
            let mut changed = None;
            if result.is_changed_rows() || count_column {
                if let Some(chunk) = result.next_chunk()? {
                    if !chunk.is_empty() {
                        changed = Some(read_count(&chunk));
                    }
                }
            } else {
                while result.next_chunk()?.is_some() {}
            }
            return Ok(Start::Finished(vec![StreamItem::Done {
                changed_rows: changed,
            }]));
        };
        let count = result.column_count();
        if !encoder.fits(count, |i| result.column_type(i)) {
            return Err(DbError::plan_changed());
        }
        encoder.resolve_unknown(|i| result.column_type(i));
        let mut batch = RowBatch::default();
        // Two chunks: a one-chunk result is only known to be complete once the next fetch
        // comes back empty.
        for _ in 0..2 {
            match result.next_chunk()? {
                Some(chunk) => encoder.encode_chunk(&chunk, &mut batch.data, &mut batch.ends),
                None => {
                    let mut items = Vec::with_capacity(2);
                    if !batch.ends.is_empty() {
                        items.push(StreamItem::Rows(batch));
                    }
                    items.push(StreamItem::Done { changed_rows: None });
                    return Ok(Start::Finished(items));
                }
            }
        }
        Ok(Start::Streaming {
            first: batch,
            rest: Pending { result, encoder },
        })
    }

    /// Stream the rest of a started result into `sink` in ~64 KiB batches. Returns when the
    /// result is exhausted, failed, or the receiver went away (the query is then abandoned).
    /// Runs with the engine locked: the result reads from the session's connection.
    pub fn resume(&mut self, rest: Pending, sink: &mpsc::Sender<StreamItem>) {
        let Pending {
            mut result,
            mut encoder,
        } = rest;
        let mut batch = RowBatch::default();
        let mut pump = || -> Result<Option<StreamItem>, DbError> {
            while let Some(chunk) = result.next_chunk()? {
                encoder.encode_chunk(&chunk, &mut batch.data, &mut batch.ends);
                if batch.data.len() >= BATCH_BYTES {
                    let full = std::mem::take(&mut batch);
                    if sink.blocking_send(StreamItem::Rows(full)).is_err() {
                        return Ok(None);
                    }
                }
            }
            if !batch.ends.is_empty()
                && sink
                    .blocking_send(StreamItem::Rows(std::mem::take(&mut batch)))
                    .is_err()
            {
                return Ok(None);
            }
            Ok(Some(StreamItem::Done { changed_rows: None }))
        };
        let item = match pump() {
            Ok(Some(done)) => done,
            Ok(None) => return, // receiver gone
            Err(e) => StreamItem::Error(e),
        };
        let _ = sink.blocking_send(item);
    }
}

/// How far [`Engine::start`] got.
pub enum Start {
    /// The whole outcome: zero or more row batches, then `Done` or `Error`.
    Finished(Vec<StreamItem>),
    /// The first rows, and the rest of the result still to read.
    Streaming { first: RowBatch, rest: Pending },
}

/// A result whose remaining rows have not been read yet.
pub struct Pending {
    result: ffi::QueryResult,
    encoder: RowEncoder,
}

// Read by one thread at a time: the session hands it to the blocking pool and never touches
// its connection until the stream ends (`Session::quiesce`).
unsafe impl Send for Pending {}

/// The single BIGINT "Count" value of a changed-rows result.
fn read_count(chunk: &ffi::Chunk) -> u64 {
    unsafe {
        let v = chunk.vector(0);
        let data = duckdb::ffi::duckdb_vector_get_data(v) as *const i64;
        if data.is_null() {
            0
        } else {
            (*data).max(0) as u64
        }
    }
}

/// Shared handle to a session's engine.
pub type SharedEngine = Arc<Mutex<Engine>>;
