//! Data sets, made with in-process DuckDB so every system reads the same rows.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use duckdb::Connection;
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct PrepDbArgs {
    /// DuckDB file to (re)create.
    #[arg(long)]
    pub path: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    pub kv_rows: u64,
    #[arg(long, default_value_t = 10_000_000)]
    pub stream_rows: u64,
}

/// The same statements run in PostgreSQL (see driver.py) so both hold identical rows:
/// kv(id, v) with ids 1..=kv_rows, stream10m(a, b, c) with a in 0..stream_rows.
pub fn prep_db(a: PrepDbArgs) -> anyhow::Result<Value> {
    let t = Instant::now();
    let tmp = a.path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(tmp.with_extension("tmp.wal"));
    {
        let c = Connection::open(&tmp)?;
        c.execute_batch(&format!(
            "CREATE TABLE kv (id BIGINT PRIMARY KEY, v VARCHAR);
             INSERT INTO kv SELECT i, 'value-' || i FROM range(1, {kv} + 1) t(i);
             CREATE TABLE stream10m AS
               SELECT i AS a, i * 7 AS b, 'row-' || i AS c FROM range({s}) t(i);
             CREATE TABLE load_events (client INTEGER, seq BIGINT, ts TIMESTAMPTZ);
             CHECKPOINT;",
            kv = a.kv_rows,
            s = a.stream_rows
        ))?;
    }
    std::fs::rename(&tmp, &a.path)?;
    Ok(json!({"path": a.path, "seconds": t.elapsed().as_secs_f64()}))
}

#[derive(clap::Args)]
pub struct PrepTpchArgs {
    /// Extension directory holding tpch (scripts/install-extensions.sh).
    #[arg(long)]
    pub ext_dir: PathBuf,
    /// DuckDB file to (re)create with the TPC-H tables.
    #[arg(long)]
    pub path: PathBuf,
    #[arg(long, default_value_t = 1.0)]
    pub sf: f64,
    /// Where q01.sql .. q22.sql go (DuckDB's own query texts from tpch_queries()).
    #[arg(long)]
    pub queries_dir: PathBuf,
    /// Where <table>.csv, schema.sql and keys.sql (primary keys, added after the load) for PostgreSQL go (omit to skip the export).
    #[arg(long)]
    pub csv_dir: Option<PathBuf>,
}

const PRIMARY_KEYS: &[(&str, &str)] = &[
    ("region", "r_regionkey"),
    ("nation", "n_nationkey"),
    ("part", "p_partkey"),
    ("supplier", "s_suppkey"),
    ("partsupp", "ps_partkey, ps_suppkey"),
    ("customer", "c_custkey"),
    ("orders", "o_orderkey"),
    ("lineitem", "l_orderkey, l_linenumber"),
];

pub fn prep_tpch(a: PrepTpchArgs) -> anyhow::Result<Value> {
    let t = Instant::now();
    let tmp = a.path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let c = Connection::open(&tmp)?;
    load_tpch_extension(&c, &a.ext_dir)?;
    c.execute_batch(&format!("CALL dbgen(sf = {}); CHECKPOINT;", a.sf))?;
    let gen_s = t.elapsed().as_secs_f64();

    std::fs::create_dir_all(&a.queries_dir)?;
    let mut stmt = c.prepare("SELECT query_nr, query FROM tpch_queries() ORDER BY query_nr")?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let nr: i32 = r.get(0)?;
        let q: String = r.get(1)?;
        std::fs::write(
            a.queries_dir.join(format!("q{nr:02}.sql")),
            q.trim().to_owned() + "\n",
        )?;
        n += 1;
    }
    drop(rows);
    drop(stmt);

    if let Some(dir) = &a.csv_dir {
        std::fs::create_dir_all(dir)?;
        let mut ddl = String::new();
        let mut keys = String::new();
        for (table, pk) in PRIMARY_KEYS {
            let mut cols = Vec::new();
            let mut s = c.prepare(
                "SELECT column_name, data_type FROM information_schema.columns
                 WHERE table_name = ? ORDER BY ordinal_position",
            )?;
            let mut r = s.query([table])?;
            while let Some(row) = r.next()? {
                let name: String = row.get(0)?;
                let ty: String = row.get(1)?;
                cols.push(format!("{name} {}", pg_type(&ty)));
            }
            ddl += &format!("CREATE TABLE {table} ({});\n", cols.join(", "));
            keys += &format!("ALTER TABLE {table} ADD PRIMARY KEY ({pk});\n");
            let file = dir.join(format!("{table}.csv"));
            c.execute_batch(&format!(
                "COPY {table} TO '{}' (FORMAT csv, DELIMITER '|', HEADER false)",
                file.display()
            ))?;
        }
        std::fs::write(dir.join("schema.sql"), ddl)?;
        std::fs::write(dir.join("keys.sql"), keys)?;
    }
    drop(c);
    std::fs::rename(&tmp, &a.path)?;
    Ok(json!({"queries": n, "dbgen_seconds": gen_s, "seconds": t.elapsed().as_secs_f64()}))
}

/// DuckDB column type -> PostgreSQL column type for the TPC-H tables.
fn pg_type(duck: &str) -> String {
    match duck {
        "BIGINT" => "bigint".into(),
        "INTEGER" => "integer".into(),
        "DATE" => "date".into(),
        "DOUBLE" => "double precision".into(),
        "VARCHAR" => "text".into(),
        d if d.starts_with("DECIMAL") => d.replace("DECIMAL", "numeric"),
        d => d.to_lowercase(),
    }
}

/// LOAD tpch from the gateway's extension directory (signed builds; unsigned stays off).
pub fn load_tpch_extension(c: &Connection, dir: &std::path::Path) -> anyhow::Result<()> {
    c.execute_batch(&format!(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;
         SET extension_directory = '{}'; LOAD tpch;",
        dir.display()
    ))
    .context("LOAD tpch")
}
