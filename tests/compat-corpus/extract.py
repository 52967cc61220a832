"""Turn the capture's server log (csvlog, log_statement=all) into tests/compat-corpus/<client>.sql.

Run by capture.sh while the throwaway PostgreSQL is still up: every distinct statement is run
once more on it to record what PostgreSQL answers (`-- pg:`), the parameter types PostgreSQL
infers (`-- param-types:`), and the OIDs of user objects the statement mentions (`-- oid`).
Statements the capture programs sent themselves start with /*own*/ and are dropped, as is the
setup (application_name `setup`). Whitespace is normalized for deduplication only.
"""
import argparse
import csv
import os
import re
import sys

import psycopg
from psycopg import pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

OWN = "/*own*/"
# application_name -> (file name, what it is, what the capture program does)
CLIENTS = {
    "psql": ("psql", "psql 15.18 (PostgreSQL 15 client)",
             "backslash commands \\l \\dn \\dt \\d \\d+ \\dv \\di \\ds \\df \\du \\dT \\dD \\dx \\dp ... (capture/psql_capture.sh)"),
    "psycopg2": ("psycopg2", "psycopg2-binary 2.9.13",
                 "transactions, set_session, register_hstore/composite/range, named cursor (capture/psycopg2_capture.py)"),
    "psycopg3": ("psycopg3", "psycopg[binary] 3.3.9",
                 "TypeInfo/EnumInfo/CompositeInfo/RangeInfo/MultirangeInfo.fetch, register_hstore, prepared statements, nested transactions (capture/psycopg3_capture.py)"),
    "asyncpg": ("asyncpg", "asyncpg 0.32.0",
                "type introspection for array/enum/composite params and results, set_type_codec, copy_records_to_table, pool reset (capture/asyncpg_capture.py)"),
    "sqlalchemy-psycopg2": ("sqlalchemy-psycopg2", "SQLAlchemy 2.1.9 (postgresql+psycopg2) + pandas 3.1.1",
                            "connect, inspect(): schemas/tables/views/columns/pk/fk/indexes/unique/check/comments/enums/sequences, MetaData.reflect, pandas.read_sql/read_sql_table (capture/sqlalchemy_capture.py)"),
    "sqlalchemy-psycopg3": ("sqlalchemy-psycopg3", "SQLAlchemy 2.1.9 (postgresql+psycopg, psycopg 3.3.9) + pandas 3.1.1",
                            "as sqlalchemy-psycopg2 (capture/sqlalchemy_capture.py)"),
    "pgjdbc": ("pgjdbc", "pgJDBC 42.7.14",
               "DatabaseMetaData getSchemas/getCatalogs/getTableTypes/getTables/getColumns/getPrimaryKeys/getImported+ExportedKeys/getIndexInfo/getTypeInfo/getUDTs/getFunctions/getProcedures/privileges/getBestRowIdentifier, ResultSetMetaData getBaseTableName/isNullable/isAutoIncrement, isolation, read-only, arrays of enums, savepoints (capture/Capture.java)"),
    "node-pg": ("node-pg", "pg (node-postgres) 8.23.1",
                "parameterized and named queries, a transaction (capture/node_pg_capture.js)"),
    "pgx": ("pgx", "pgx v5.12.0",
            "LoadType(mood, _mood), LoadTypes(address, _address), queries with params, tx, batch (capture/go/main.go)"),
}

STMT = re.compile(r"^statement: (.*)$", re.S)
EXEC = re.compile(r"^execute (?:fetch from )?([^:]*): (.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')")


def read_log(path):
    """Yield (application_name, protocol, sql, params) for every logged statement, in order."""
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) < 23 or row[11] != "LOG":
                continue
            app, msg, detail = row[22], row[13], row[14]
            m = STMT.match(msg)
            if m:
                yield app, "simple", m.group(1), None
                continue
            m = EXEC.match(msg)
            if m:
                params = None
                if detail.startswith("parameters: "):
                    vals = {}
                    for pm in PARAM.finditer(detail):
                        vals[int(pm.group(1))] = None if pm.group(2) == "NULL" else pm.group(3).replace("''", "'")
                    params = [vals.get(i) for i in range(1, max(vals) + 1)] if vals else None
                yield app, "extended", m.group(2), params


def user_oids(pgconn):
    q = b"""SELECT c.oid::text, 'class', n.nspname || '.' || c.relname FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid >= 16384
            UNION ALL SELECT t.oid::text, 'type', n.nspname || '.' || t.typname FROM pg_type t
              JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid >= 16384
            UNION ALL SELECT oid::text, 'namespace', nspname FROM pg_namespace
              WHERE oid >= 16384 OR nspname = 'public'"""
    r = pgconn.exec_(q)
    return {r.get_value(i, 0).decode(): (r.get_value(i, 1).decode(), r.get_value(i, 2).decode())
            for i in range(r.ntuples)}


def param_types(pgconn, sql):
    r = pgconn.exec_(b"PREPARE corpus_probe AS " + sql.encode())
    if r.status != pq.ExecStatus.COMMAND_OK:
        return None
    r = pgconn.exec_(b"SELECT parameter_types::text FROM pg_prepared_statements WHERE name = 'corpus_probe'")
    out = r.get_value(0, 0).decode().strip("{}").replace(",", ", ") if r.ntuples else None
    pgconn.exec_(b"DEALLOCATE corpus_probe")
    return out


def reviewed(path):
    """The reviewed annotations (`differs-by-construction`, `known-gap`: run.py, README.md) of an
    existing corpus file, by statement, so that a new capture keeps them."""
    if not os.path.exists(path):
        return {}
    out = {}
    for e in corpus.parse(open(path, encoding="utf-8").read()):
        notes = {k: v for k, v in e.meta.items() if k in ("differs-by-construction", "known-gap")}
        if notes:
            out[(e.protocol, corpus.normalize(e.sql), repr(e.params))] = notes
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--published", help="also record PostgreSQL's answers in these hand-written files")
    a = ap.parse_args()

    per = {}  # app -> {key: Entry}
    for app, proto, sql, params in read_log(a.log):
        if app not in CLIENTS or sql.lstrip().startswith(OWN):
            continue
        sql = "\n".join(line.rstrip() for line in sql.strip().split("\n"))
        key = (proto, corpus.normalize(sql), repr(params))
        d = per.setdefault(app, {})
        if key in d:
            d[key].meta["sent"] = str(int(d[key].meta["sent"]) + 1)
        else:
            d[key] = corpus.Entry(sql, protocol=proto, params=params, meta={"sent": "1"})

    conn = psycopg.connect(a.dsn, autocommit=True)
    pgconn = conn.pgconn
    ver = conn.execute("SELECT version()").fetchone()[0]
    oids = user_oids(pgconn)
    oid_re = re.compile(r"(?<![\d.])(" + "|".join(sorted(oids, key=len, reverse=True)) + r")(?![\d.])") if oids else None
    summary = []
    for app, (fname, what, does) in CLIENTS.items():
        entries = list(per.get(app, {}).values())
        kept = reviewed(os.path.join(a.out, fname + ".sql"))
        for n, e in enumerate(entries, 1):
            e.id = f"{fname}-{n:03d}"
            e.meta.update(kept.get((e.protocol, corpus.normalize(e.sql), repr(e.params)), {}))
            if e.protocol == "extended" and e.params:
                t = param_types(pgconn, e.sql)
                if t:
                    e.meta["param-types"] = t
            status, rows, err = corpus.execute(pgconn, e)
            e.meta["pg"] = corpus.describe(status, rows, err)
            if oid_re:
                text = e.sql + " " + " ".join(str(p) for p in (e.params or []))
                for m in oid_re.finditer(text):
                    e.oids[m.group(1)] = oids[m.group(1)]
        distinct_sql = len({corpus.normalize(e.sql) for e in entries})
        summary.append((fname, len(entries), distinct_sql))
        with open(os.path.join(a.out, fname + ".sql"), "w", encoding="utf-8") as f:
            f.write(f"-- Compatibility corpus: what {what} sends on its own.\n")
            f.write(f"-- Captured from {ver.split(' on ')[0]} with log_statement=all by tests/compat-corpus/capture.sh;\n")
            f.write(f"-- the program: {does}.\n")
            f.write("-- Generated: edit the capture program, not this file. Format: see corpus.py.\n")
            f.write(f"-- {len(entries)} entries, {distinct_sql} distinct statements.\n\n")
            for e in entries:
                f.write(e.render())
    if a.published:
        for name in sorted(os.listdir(a.published)):
            if not name.endswith(".sql"):
                continue
            path = os.path.join(a.published, name)
            text = open(path, encoding="utf-8").read()
            header = text.split("-- next\n", 1)[0]
            entries = corpus.parse(text)
            for e in entries:
                status, rows, err = corpus.execute(pgconn, e)
                e.meta["pg"] = corpus.describe(status, rows, err)
            with open(path, "w", encoding="utf-8") as f:
                f.write(header + "".join(e.render() for e in entries))
            bad = [e.id for e in entries if e.meta["pg"].startswith("error")]
            summary.append(("published/" + name[:-4], len(entries), len(entries)))
            if bad:
                print(f"   published/{name}: fails on PostgreSQL too: {', '.join(bad)}")
    conn.close()
    print("== corpus written")
    for fname, n, d in summary:
        print(f"   {fname:22} {n:4} entries  {d:4} distinct statements")


if __name__ == "__main__":
    main()
