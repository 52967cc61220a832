"""Run every corpus query against the gateway and report ok / error per query (issue #5).

    ~/.cache/duckgate/clients/venv/bin/python tests/compat-corpus/run.py [--build] [--out STATUS.md]

Starts a gateway (trust + plaintext on loopback, a fresh data directory), creates
schema.duckdb.sql, then runs each entry of <client>.sql and published/<tool>.sql the way the
client sent it (simple or extended protocol, the captured parameters as untyped text, user-object
OIDs swapped for the gateway's). Prints a table per client and totals and writes them to
STATUS.md. Always exits 0: the corpus is a to-do list for the catalog layer, not a gate.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import corpus  # noqa: E402

import psycopg  # noqa: E402
from psycopg import pq  # noqa: E402

CACHE = os.environ.get("DUCKGATE_CACHE", os.path.expanduser("~/.cache/duckgate"))
TARGET = os.path.join(CACHE, "target")
CLIENT_ORDER = ["psql", "psycopg2", "psycopg3", "asyncpg", "sqlalchemy-psycopg2",
                "sqlalchemy-psycopg3", "pgjdbc", "node-pg", "pgx"]

LOOKUP = {
    "class": "SELECT c.oid::BIGINT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
             "ON n.oid = c.relnamespace WHERE n.nspname = '{s}' AND c.relname = '{n}'",
    "type": "SELECT t.oid::BIGINT FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = '{s}' AND t.typname = '{n}'",
    "namespace": "SELECT oid::BIGINT FROM pg_catalog.pg_namespace WHERE nspname = '{n}'",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(binary, work):
    port = free_port()
    out = open(os.path.join(work, "gateway.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, "data"),
         "--auth-trust", "true", "--allow-plaintext", "true", "--statement-timeout-ms", "30000",
         "--threads", "2"], stdout=out, stderr=subprocess.STDOUT)
    dsn = f"host=127.0.0.1 port={port} user=corpus dbname=md: sslmode=disable"
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"gateway exited {proc.returncode}; log: {out.name}")
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return proc, dsn
        except psycopg.OperationalError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"gateway did not answer on {port}; log: {out.name}")


def split_sql(text):
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*\n", text) if s.strip()]


class Gateway:
    def __init__(self, dsn):
        self.dsn = dsn
        self.oid_cache = {}
        self.conn = None

    def pgconn(self, app):
        if self.conn is None or self.conn.closed or self.conn.pgconn.status != pq.ConnStatus.OK:
            self.conn = psycopg.connect(self.dsn + f" application_name={app}", autocommit=True)
        return self.conn.pgconn

    def resolve(self, kind, name):
        """The gateway's OID of a user object, or None. PostgreSQL's `public` is tried as DuckDB's
        `main` too (the gateway shows DuckDB's schema names)."""
        key = (kind, name)
        if key not in self.oid_cache:
            self.oid_cache[key] = None
            s, _, n = name.rpartition(".")
            if kind == "namespace":
                tries = [("", n)] + ([("", "main")] if n == "public" else [])
            else:
                tries = [(s, n)] + ([("main", n)] if s == "public" else [])
            for schema, obj in tries:
                r = self.pgconn("corpus-runner").exec_(LOOKUP[kind].format(s=schema, n=obj).encode())
                if r.status == pq.ExecStatus.TUPLES_OK and r.ntuples == 1:
                    self.oid_cache[key] = r.get_value(0, 0).decode()
                    break
        return self.oid_cache[key]


def substitute(gw, e):
    """The entry's SQL and params with PostgreSQL OIDs of user objects replaced by the gateway's."""
    sql, params, missing = e.sql, list(e.params) if e.params is not None else None, []
    for oid, (kind, name) in e.oids.items():
        new = gw.resolve(kind, name)
        if new is None:
            missing.append(f"{kind} {name}")
            continue
        pat = re.compile(r"(?<![\d.])" + oid + r"(?![\d.])")
        sql = pat.sub(new, sql)
        if params is not None:
            params = [p if p is None else pat.sub(new, p) for p in params]
    return sql, params, missing


def cause(err):
    """Group errors: drop the SQLSTATE, quoted names, numbers and positions."""
    msg = err.split("\n")[0]
    pre = re.match(r"^\(prelude (\w+)[^)]*\) ", msg)
    if pre:
        msg = msg[pre.end():]
    msg = re.sub(r"^[0-9A-Z]{5} ", "", msg)
    if pre:
        msg = f"(in the prelude {pre.group(1)}) " + msg
    msg = re.sub(r"LINE \d+:.*", "", msg)
    msg = re.sub(r"'[^']*'", "'…'", msg)
    msg = re.sub(r"\b\d+\b", "N", msg)
    return msg.strip()[:150]


def md(s):
    return (s or "").replace("|", "\\|").replace("\n", " ")


def run_file(gw, path, app):
    entries = corpus.parse(open(path, encoding="utf-8").read())
    rows = []
    for e in entries:
        sql, params, missing = substitute(gw, e)
        t0 = time.time()
        try:
            status, n, err = corpus.execute(gw.pgconn(app), e, sql, params)
        except Exception as x:  # noqa: BLE001 - a broken connection is an error of this entry
            status, n, err = "error", 0, f"{type(x).__name__}: {x}"
            gw.conn = None
        pg = e.meta.get("pg", "")
        if status == "error" and pg.startswith("error"):
            status = "pg-error"  # PostgreSQL fails it too (e.g. SAVEPOINT outside a transaction)
        note = ""
        if missing:
            note = "no gateway OID for " + ", ".join(missing)
        rows.append(dict(id=e.id, status=status, rows=n, pg=pg, err=err or "", note=note,
                         secs=time.time() - t0))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", default=os.path.join(TARGET, "debug", "duckgate-gateway"))
    ap.add_argument("--build", action="store_true",
                    help=f"cargo build -p duckgate-gateway first (CARGO_TARGET_DIR={TARGET})")
    ap.add_argument("--out", default=os.path.join(HERE, "STATUS.md"), help="'-' for none")
    ap.add_argument("--only", help="comma-separated corpus names (e.g. psql,pgjdbc,published/dbeaver)")
    ap.add_argument("--min-same-rows", type=int, default=0,
                    help="fail (exit 1) when fewer queries succeed with PostgreSQL's row count: a "
                         "ratchet that keeps the catalog layer from regressing")
    a = ap.parse_args()
    started = time.time()

    if a.build or not os.path.exists(a.gateway):
        subprocess.run(["cargo", "build", "-q", "-p", "duckgate-gateway"], cwd=ROOT, check=True,
                       env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
    files = [(c, os.path.join(HERE, c + ".sql")) for c in CLIENT_ORDER]
    pub = os.path.join(HERE, "published")
    files += [("published/" + f[:-4], os.path.join(pub, f)) for f in sorted(os.listdir(pub)) if f.endswith(".sql")]
    if a.only:
        want = set(a.only.split(","))
        files = [f for f in files if f[0] in want]

    with tempfile.TemporaryDirectory(prefix="duckgate-corpus-") as work:
        proc, dsn = start_gateway(a.gateway, work)
        try:
            gw = Gateway(dsn)
            setup = gw.pgconn("corpus-setup")
            for stmt in split_sql(open(os.path.join(HERE, "schema.duckdb.sql")).read()):
                r = setup.exec_(stmt.encode())
                if r.status == pq.ExecStatus.FATAL_ERROR:
                    sys.exit(f"schema.duckdb.sql failed on the gateway: {r.error_message.decode()}\n{stmt}")
            results = {name: run_file(gw, path, name.split("/")[-1]) for name, path in files}
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    elapsed = time.time() - started

    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = ["# Compatibility corpus against the gateway", "",
           "Generated by `tests/compat-corpus/run.py` (do not edit). Each entry of a corpus file runs as",
           "the client sent it on a gateway with `schema.duckdb.sql`. `ok`: the gateway answered;",
           "`error`: it failed; `pg-error`: it fails on PostgreSQL too (see `-- pg:` in the corpus).",
           "`rows` is the gateway's row count, `pg` what PostgreSQL returned at capture time.",
           "", f"Source tree: `{rev}`; gateway binary built "
           f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(a.gateway)))}; run time {elapsed:.0f}s.", ""]
    summary, causes = [], Counter()
    for name, rows in results.items():
        c = Counter(r["status"] for r in rows)
        differ = sum(1 for r in rows if r["status"] == "ok" and r["pg"].endswith(("row", "rows"))
                     and r["pg"] != corpus.describe("ok", r["rows"], None))
        summary.append((name, len(rows), c["ok"], differ, c["error"], c["pg-error"]))
        for r in rows:
            if r["status"] == "error":
                causes[cause(r["err"])] += 1
    tot = [sum(s[i] for s in summary) for i in (1, 2, 3, 4, 5)]
    out += ["## Totals", "", "`ok, rows differ`: answered, but not as many rows as PostgreSQL (a subset of `ok`).", "",
            "| corpus | queries | ok | ok, rows differ | error | pg-error |", "|---|---:|---:|---:|---:|---:|"]
    out += [f"| {n} | {q} | {o} | {d} | {e} | {p} |" for n, q, o, d, e, p in summary]
    out += ["| **all** | **%d** | **%d** | **%d** | **%d** | **%d** |" % tuple(tot), ""]
    out += ["## Top error causes", "", "| count | cause |", "|---:|---|"]
    out += [f"| {n} | {md(k)} |" for k, n in causes.most_common(40)]
    out.append("")
    for name, rows in results.items():
        out += [f"## {name}", "", "| id | result | rows | pg | first error line / note |", "|---|---|---:|---|---|"]
        for r in rows:
            detail = r["err"].split("\n")[0][:200] if r["status"] != "ok" else ""
            if r["note"]:
                detail = (detail + "; " if detail else "") + r["note"]
            pg = r["pg"] if not r["pg"].startswith("error") else "error"
            out.append(f"| {r['id']} | {r['status']} | {r['rows'] if r['status'] == 'ok' else ''} | {pg} | {md(detail)} |")
        out.append("")
    text = "\n".join(out) + "\n"
    print(text)
    if a.out != "-":
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"totals: {tot[0]} queries, {tot[1]} ok ({tot[2]} with another row count than PostgreSQL), "
          f"{tot[3]} error, {tot[4]} pg-error ({elapsed:.0f}s)",
          file=sys.stderr)
    same = tot[1] - tot[2]
    if same < a.min_same_rows:
        sys.exit(f"regression: {same} queries answer with PostgreSQL's row count, "
                 f"fewer than the recorded {a.min_same_rows}")


if __name__ == "__main__":
    main()
