//! The bare cost of the wire: a PostgreSQL-protocol server that answers every statement with a
//! canned one-row result and does nothing else (no parsing, no planning, no engine).
//!
//! W1 and W2 measure it with the same pgbench commands as the gateway and PostgreSQL. What
//! pgbench sees from it is the floor any server pays on this machine: the loopback round
//! trip, waking a tokio task, and pgbench's own CPU on the same cores. The physical
//! limit for the gateway is in-process DuckDB plus this floor.
//!
//! With `--duckdb FILE` the same server runs each statement on DuckDB instead (one connection
//! per client, through the `duckdb` crate like the in-process reference, on the async worker
//! like the gateway's short statements) and sends its rows as text: in-process DuckDB behind
//! the bare wire, measured rather than added up, with nothing of the gateway (no SQL guard,
//! catalog, types, sessions, pgwire). W2 reports it as the minimal server.

use std::io;

use bytes::{Buf, BufMut, BytesMut};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(clap::Args)]
pub struct FloorArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Run the statements on this DuckDB file instead of answering a canned row.
    #[arg(long)]
    pub duckdb: Option<std::path::PathBuf>,
    /// DuckDB's `threads` for `--duckdb` (default: DuckDB's, one per core).
    #[arg(long)]
    pub threads: Option<u32>,
    /// Serve each connection on its own OS thread (blocking in the kernel between messages,
    /// as a PostgreSQL backend does) instead of as a task on the shared async workers.
    #[arg(long)]
    pub thread_per_connection: bool,
    /// Serve connections on this many single-threaded runtimes, one OS thread each,
    /// connections dealt round-robin (thread per core; no work stealing).
    #[arg(long)]
    pub runtimes: Option<usize>,
}

/// Prints `{"port": N}` once listening, then serves until killed.
pub async fn serve(a: FloorArgs) -> anyhow::Result<Value> {
    let base = match &a.duckdb {
        Some(path) => {
            let mut config = duckdb::Config::default();
            if let Some(t) = a.threads {
                config = config.threads(t as i64)?;
            }
            Some(duckdb::Connection::open_with_flags(path, config)?)
        }
        None => None,
    };
    let listener = TcpListener::bind(&a.listen).await?;
    println!("{}", json!({"port": listener.local_addr()?.port()}));
    let mut shards = Vec::new();
    for _ in 0..a.runtimes.unwrap_or(0) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(
            std::net::TcpStream,
            Option<duckdb::Connection>,
        )>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .expect("runtime");
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async move {
                while let Some((socket, engine)) = rx.recv().await {
                    tokio::task::spawn_local(async move {
                        if let Ok(socket) = TcpStream::from_std(socket) {
                            let _ = connection(socket, engine).await;
                        }
                    });
                }
            });
        });
        shards.push(tx);
    }
    let mut next = 0;
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let engine = match &base {
            Some(b) => Some(b.try_clone()?),
            None => None,
        };
        if !shards.is_empty() {
            let _ = shards[next % shards.len()].send((socket.into_std()?, engine));
            next += 1;
        } else if a.thread_per_connection {
            let socket = socket.into_std()?;
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(socket) = TcpStream::from_std(socket) {
                        let _ = connection(socket, engine).await;
                    }
                });
            });
        } else {
            tokio::spawn(async move {
                let _ = connection(socket, engine).await;
            });
        }
    }
}

/// Append one backend message: type byte, length, body.
fn message(out: &mut BytesMut, ty: u8, body: impl FnOnce(&mut BytesMut)) {
    out.put_u8(ty);
    let at = out.len();
    out.put_i32(0);
    body(out);
    let len = (out.len() - at) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

fn cstr(out: &mut BytesMut, s: &str) {
    out.put_slice(s.as_bytes());
    out.put_u8(0);
}

/// One int4 column, as `SELECT 1` describes it.
fn row_description(out: &mut BytesMut) {
    message(out, b'T', |b| {
        b.put_i16(1);
        cstr(b, "?column?");
        b.put_i32(0); // table
        b.put_i16(0); // attribute
        b.put_i32(23); // int4
        b.put_i16(4);
        b.put_i32(-1);
        b.put_i16(0); // text
    });
}

fn error(out: &mut BytesMut, code: &str, text: &str) {
    message(out, b'E', |b| {
        b.put_u8(b'S');
        cstr(b, "ERROR");
        b.put_u8(b'C');
        cstr(b, code);
        b.put_u8(b'M');
        cstr(b, text);
        b.put_u8(0);
    });
}

fn data_and_complete(out: &mut BytesMut) {
    message(out, b'D', |b| {
        b.put_i16(1);
        b.put_i32(1);
        b.put_u8(b'1');
    });
    message(out, b'C', |b| cstr(b, "SELECT 1"));
}

fn ready(out: &mut BytesMut) {
    message(out, b'Z', |b| b.put_u8(b'I'));
}

/// Statements and portals of one `--duckdb` connection: SQL text by statement name, and the
/// statement and text parameters by portal name (DuckDB prepares each SQL text once per
/// connection through the crate's statement cache).
#[derive(Default)]
struct Named {
    statements: std::collections::HashMap<Vec<u8>, String>,
    portals: std::collections::HashMap<Vec<u8>, (String, Vec<Option<String>>)>,
}

fn take_cstr(b: &mut BytesMut) -> Vec<u8> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let s = b.split_to(end).to_vec();
    if !b.is_empty() {
        b.advance(1);
    }
    s
}

/// Parse: remember the statement's SQL and prepare it once, so errors show here as they would.
fn parse(con: &duckdb::Connection, named: &mut Named, mut body: BytesMut) -> Result<(), String> {
    let name = take_cstr(&mut body);
    let sql = String::from_utf8_lossy(&take_cstr(&mut body)).into_owned();
    con.prepare_cached(&sql).map_err(|e| e.to_string())?;
    named.statements.insert(name, sql);
    Ok(())
}

/// Bind: text parameters only (what pgbench sends).
fn bind(named: &mut Named, mut body: BytesMut) -> Result<(), String> {
    let portal = take_cstr(&mut body);
    let stmt = take_cstr(&mut body);
    let sql = named
        .statements
        .get(&stmt)
        .ok_or("unknown statement")?
        .clone();
    let formats = body.get_i16();
    body.advance(2 * formats as usize);
    let n = body.get_i16();
    let mut params = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let len = body.get_i32();
        if len < 0 {
            params.push(None);
        } else {
            let v = body.split_to(len as usize);
            params.push(Some(String::from_utf8_lossy(&v).into_owned()));
        }
    }
    named.portals.insert(portal, (sql, params));
    Ok(())
}

/// Run one statement and append its rows as text DataRows and its CommandComplete, after a
/// RowDescription of text columns for the simple protocol (`describe`). A parameter that
/// reads as an integer is bound as one (pgbench's ids), anything else as text.
fn run(
    con: &duckdb::Connection,
    sql: &str,
    params: &[Option<String>],
    describe: bool,
    out: &mut BytesMut,
) -> Result<(), String> {
    use duckdb::types::{Value as V, ValueRef};
    let values: Vec<V> = params
        .iter()
        .map(|p| match p {
            None => V::Null,
            Some(t) => t
                .parse::<i64>()
                .map(V::BigInt)
                .unwrap_or(V::Text(t.clone())),
        })
        .collect();
    let mut stmt = con.prepare_cached(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt
        .query(duckdb::params_from_iter(values))
        .map_err(|e| e.to_string())?;
    if describe {
        let n = rows.as_ref().map_or(0, |s| s.column_count());
        message(out, b'T', |b| {
            b.put_i16(n as i16);
            for _ in 0..n {
                cstr(b, "?column?");
                b.put_i32(0);
                b.put_i16(0);
                b.put_i32(25); // text
                b.put_i16(-1);
                b.put_i32(-1);
                b.put_i16(0);
            }
        });
    }
    let mut count = 0u64;
    let mut cell = String::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let n = row.as_ref().column_count();
        message(out, b'D', |b| {
            b.put_i16(n as i16);
            for i in 0..n {
                cell.clear();
                let bytes: Option<&[u8]> = match row.get_ref(i) {
                    Ok(ValueRef::Null) | Err(_) => None,
                    Ok(ValueRef::Text(t)) => Some(t),
                    Ok(ValueRef::Int(v)) => {
                        cell.push_str(&v.to_string());
                        Some(cell.as_bytes())
                    }
                    Ok(ValueRef::BigInt(v)) => {
                        cell.push_str(&v.to_string());
                        Some(cell.as_bytes())
                    }
                    Ok(other) => {
                        cell.push_str(&format!("{other:?}"));
                        Some(cell.as_bytes())
                    }
                };
                match bytes {
                    None => b.put_i32(-1),
                    Some(v) => {
                        b.put_i32(v.len() as i32);
                        b.put_slice(v);
                    }
                }
            }
        });
        count += 1;
    }
    message(out, b'C', |b| cstr(b, &format!("SELECT {count}")));
    Ok(())
}

async fn connection(mut s: TcpStream, engine: Option<duckdb::Connection>) -> io::Result<()> {
    let mut named = Named::default();
    // after an error in an extended-protocol batch, skip to the Sync as PostgreSQL does
    let mut failed = false;
    let mut inp = BytesMut::with_capacity(8192);
    let mut out = BytesMut::with_capacity(8192);
    // startup: SSL and GSS encryption requests are declined, then the startup packet
    loop {
        while inp.len() < 4 || inp.len() < (&inp[..4]).get_i32() as usize {
            if s.read_buf(&mut inp).await? == 0 {
                return Ok(());
            }
        }
        let len = inp.get_i32() as usize;
        let packet = inp.split_to(len - 4);
        let code = (&packet[..4]).get_i32();
        if code == 80877103 || code == 80877104 {
            s.write_all(b"N").await?;
            continue;
        }
        break;
    }
    message(&mut out, b'R', |b| b.put_i32(0));
    for (k, v) in [
        ("server_version", "15.0"),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
    ] {
        message(&mut out, b'S', |b| {
            cstr(b, k);
            cstr(b, v);
        });
    }
    message(&mut out, b'K', |b| {
        b.put_i32(1);
        b.put_i32(1);
    });
    ready(&mut out);
    s.write_all_buf(&mut out).await?;
    loop {
        while inp.len() < 5 || inp.len() < 1 + (&inp[1..5]).get_i32() as usize {
            if s.read_buf(&mut inp).await? == 0 {
                return Ok(());
            }
        }
        let ty = inp[0];
        let len = (&inp[1..5]).get_i32() as usize;
        let body = inp.split_to(1 + len).split_off(5);
        if let Some(con) = &engine {
            if failed && ty != b'S' {
                continue;
            }
            // Describe, Close, Flush and Terminate are answered as without an engine below
            // (a canned one-column description: pgbench does not read it)
            if matches!(ty, b'Q' | b'P' | b'B' | b'E' | b'S') {
                let mut b = body;
                let result = match ty {
                    b'Q' => {
                        let sql = String::from_utf8_lossy(&take_cstr(&mut b)).into_owned();
                        let r = run(con, &sql, &[], true, &mut out);
                        if let Err(e) = r {
                            error(&mut out, "XX000", &e);
                        }
                        ready(&mut out);
                        Ok(())
                    }
                    b'P' => parse(con, &mut named, b).map(|_| message(&mut out, b'1', |_| {})),
                    b'B' => bind(&mut named, b).map(|_| message(&mut out, b'2', |_| {})),
                    b'E' => {
                        let portal = take_cstr(&mut b);
                        match named.portals.get(&portal) {
                            Some((sql, params)) => run(con, sql, params, false, &mut out),
                            None => Err("unknown portal".into()),
                        }
                    }
                    _ => {
                        failed = false;
                        ready(&mut out);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    error(&mut out, "XX000", &e);
                    failed = true;
                }
                if matches!(ty, b'Q' | b'S') {
                    s.write_all_buf(&mut out).await?;
                }
                continue;
            }
        }
        match ty {
            b'Q' => {
                row_description(&mut out);
                data_and_complete(&mut out);
                ready(&mut out);
            }
            b'P' => message(&mut out, b'1', |_| {}),
            b'B' => message(&mut out, b'2', |_| {}),
            b'D' => {
                if body.first() == Some(&b'S') {
                    message(&mut out, b't', |b| b.put_i16(0));
                }
                row_description(&mut out);
            }
            b'E' => data_and_complete(&mut out),
            b'C' => message(&mut out, b'3', |_| {}),
            b'S' => ready(&mut out),
            b'H' => {}
            b'X' => return Ok(()),
            _ => {
                error(&mut out, "0A000", "not supported by the wire floor");
                ready(&mut out);
            }
        }
        // answer when the client waits for it: after a Query, Sync or Flush
        if !matches!(ty, b'P' | b'B' | b'D' | b'E' | b'C') {
            s.write_all_buf(&mut out).await?;
        }
    }
}
