"""Run every corpus query against the gateway and compare its answer with PostgreSQL's (issue #5).

    ~/.cache/duckgate/clients/venv/bin/python tests/compat-corpus/run.py [--build] [--out STATUS.md]

Starts a gateway (trust + plaintext on loopback, a fresh data directory), creates
schema.duckdb.sql, then runs each entry of <client>.sql and published/<tool>.sql the way the
client sent it (simple or extended protocol, the captured parameters as untyped text, user-object
OIDs and the database name swapped for the gateway's; one connection per file with the client's
application_name). Each answer is compared with what PostgreSQL 15 answered (expected/, written
by record.sh) after the normalizations of content.py: `same` (column names and every row),
`rows differ` (as many rows, some cell differs) or `count differs`. An entry annotated
`-- differs-by-construction: <reason>` is checked instead (content.Comparer.check_by_construction:
no error, PostgreSQL's column names, PostgreSQL's rows about the schema's objects) and counted as
`differs by construction (checked)` or `by-construction check failed`; `-- known-gap: <cause>`
entries are listed by cause (README.md). Prints a table per client, totals and the top differences
and writes them to STATUS.md. Exits 1 only when a ratchet (--min-same-rows, --min-same-content,
--min-by-construction) is not met.
"""
import argparse
import json
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
import content  # noqa: E402
import corpus  # noqa: E402

import psycopg  # noqa: E402
from psycopg import pq  # noqa: E402

CACHE = os.environ.get("DUCKGATE_CACHE", os.path.expanduser("~/.cache/duckgate"))
TARGET = os.path.join(CACHE, "target")
EXPECTED = os.path.join(HERE, "expected")

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
        self.app = None
        self.lookups = None  # a session of its own for OID lookups and server_facts()

    def pgconn(self, app):
        """The session for `app` (a new one when the application changes or the last one broke:
        each corpus file runs in its own session, as each client did at capture time)."""
        if (self.conn is None or self.conn.closed or self.conn.pgconn.status != pq.ConnStatus.OK
                or app != self.app):
            if self.conn is not None and not self.conn.closed:
                self.conn.close()
            self.conn = psycopg.connect(self.dsn + f" application_name={app}", autocommit=True)
            self.app = app
        return self.conn.pgconn

    def lookup(self):
        if self.lookups is None or self.lookups.closed or self.lookups.pgconn.status != pq.ConnStatus.OK:
            self.lookups = psycopg.connect(self.dsn + " application_name=corpus-runner", autocommit=True)
        return self.lookups.pgconn

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
                r = self.lookup().exec_(LOOKUP[kind].format(s=schema, n=obj).encode())
                if r.status == pq.ExecStatus.TUPLES_OK and r.ntuples == 1:
                    self.oid_cache[key] = r.get_value(0, 0).decode()
                    break
        return self.oid_cache[key]


def substitute(gw, e, pg_db=None, gw_db=None):
    """The entry's SQL and params with PostgreSQL OIDs of user objects replaced by the gateway's,
    and a parameter that is exactly the capture's database name (the connection's database, e.g.
    DBeaver's `WHERE datname = $1`) replaced by the gateway's current_database()."""
    sql, params, missing = e.sql, list(e.params) if e.params is not None else None, []
    if params is not None and pg_db and gw_db:
        params = [gw_db if p == pg_db else p for p in params]
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


def load_expected(name):
    path = os.path.join(EXPECTED, name + ".json")
    if not os.path.exists(path):
        return {}
    return json.load(open(path, encoding="utf-8"))["entries"]


def run_file(gw, path, app, expected, comparer, facts):
    entries = corpus.parse(open(path, encoding="utf-8").read())
    rows = []
    for e in entries:
        sql, params, missing = substitute(gw, e, facts.get("database"), comparer.gw.facts["database"] if comparer else None)
        t0 = time.time()
        try:
            ans = corpus.run(gw.pgconn(app), e, sql, params)
        except Exception as x:  # noqa: BLE001 - a broken connection is an error of this entry
            ans = corpus.Answer("error", 0, f"{type(x).__name__}: {x}")
            gw.conn = None
        status, n, err = ans.status, ans.rows, ans.error
        pg = e.meta.get("pg", "")
        exp = expected.get(e.id)
        if exp is not None:
            pg = corpus.describe(exp["status"], exp["rows"], exp.get("error"))
        if status == "error" and pg.startswith("error"):
            status = "pg-error"  # PostgreSQL fails it too (e.g. SAVEPOINT outside a transaction)
        note = ""
        if missing:
            note = "no gateway OID for " + ", ".join(missing)
        verdict = None
        # the entry's class: None (compared with PostgreSQL's answer), or for an entry annotated
        # `-- differs-by-construction: <reason>` "checked" / "check failed" (content.Comparer.
        # check_by_construction()), or "stale" when it answers the same as PostgreSQL after all
        why, construction, cnote = annotation(e, BY_CONSTRUCTION), None, ""
        if status == "ok":
            if exp is None or comparer is None:
                verdict = content.Verdict("no record", note="no recorded PostgreSQL answer: run record.sh")
            elif exp["key"] != content.entry_key(e):
                verdict = content.Verdict("no record", note="the recorded answer is for another statement: run record.sh")
            else:
                verdict = comparer.compare(exp, ans, e.sql)
                if why is not None and verdict.kind == "same":
                    construction, cnote = "stale", "answers the same as PostgreSQL: drop the differs-by-construction line"
                elif why is not None:
                    ok, cnote = comparer.check_by_construction(exp, ans)
                    construction = "checked" if ok else "check failed"
                    if ok:
                        blind = [what for what, m in mutants(ans, comparer, exp)
                                 if comparer.check_by_construction(exp, m)[0]]
                        if blind:
                            construction, cnote = "check failed", "the check cannot fail: it passes with " + "; ".join(blind)
        elif why is not None and status == "error":
            construction, cnote = "check failed", "the gateway fails the entry"
        if why == "":
            construction, cnote = "check failed", "differs-by-construction without a reason"
        rows.append(dict(id=e.id, status=status, rows=n, pg=pg, err=err or "", note=note,
                         verdict=verdict, secs=time.time() - t0, answer=content.expected_entry(e, ans, ans),
                         construction=construction, reason=why, cnote=cnote, gap=annotation(e, KNOWN_GAP)))
    return rows


BY_CONSTRUCTION = "differs-by-construction"
KNOWN_GAP = "known-gap"


def annotation(e, key):
    """An entry's `-- <key>: <text>` line (README.md, "Entries that cannot match"): its text
    (\"\" when empty), or None when the entry has no such line."""
    v = e.meta.get(key)
    return None if v is None else v.strip()


def mutants(ans, comparer, exp):
    """Wrong answers the check of a differs-by-construction entry must reject (run.py tries them
    on every entry that passes, so that no check is vacuous): a column renamed, a row naming the
    schema's table `customers` added (in its first column whose values are compared: none in a
    result set of engine-specific values only, such as `SELECT version()`), and each result set's
    first row about the schema's objects dropped or changed. Yields (what, Answer)."""
    import copy

    def variant(change):
        m = copy.deepcopy(ans)
        change(m.results)
        return m

    if ans.results and ans.results[0]["columns"]:
        def rename(rs):
            rs[0]["columns"][0][0] += "_renamed"
        yield "a column renamed", variant(rename)
    for k, res in enumerate(ans.results):
        if not res["columns"]:
            continue

        pres = exp.get("results", [])
        ignored = comparer.ignored_columns(pres[k]) if k < len(pres) else {}
        compared = [i for i in range(len(res["columns"])) if i not in ignored]
        if compared:
            def add(rs, k=k, at=compared[0]):
                row = [None] * len(rs[k]["columns"])
                row[at] = "customers"
                rs[k]["rows"].append(row)
            yield f"a row naming customers added (result {k + 1})", variant(add)
        _, rows = comparer._rows({"columns": res["columns"], "rows": res["rows"]}, res,
                                 [(i, i) for i in range(len(res["columns"]))])
        headers = [c[0] for c in res["columns"]]
        user = [i for i, r in enumerate(rows) if comparer.user.row(r, headers)]
        if user:
            def drop(rs, k=k, i=user[0]):
                del rs[k]["rows"][i]

            def change(rs, k=k, i=user[0], raw=rows[user[0]]):
                # one cell, preferably one that keeps the row about the schema's objects (so the
                # whole row is seen to be compared, not only that it is there)
                row = rs[k]["rows"][i]
                j = next((j for j in reversed(range(len(row))) if comparer.user.row(
                    raw[:j] + ("changed",) + raw[j + 1:], headers)), 0)
                row[j] = "changed" if row[j] != "changed" else "changed2"
            yield f"its first row about the schema's objects dropped (result {k + 1})", variant(drop)
            yield f"its first row about the schema's objects changed (result {k + 1})", variant(change)


def kind(r):
    """The class an entry is counted in: ok / error / pg-error's content class, where an
    annotated (by-construction) entry is `by construction` or `check failed`, never `same`
    (unless its annotation is stale and it does answer what PostgreSQL answers)."""
    if r["construction"] == "checked":
        return "by construction"
    if r["construction"] == "check failed" and r["status"] == "ok":
        return "check failed"
    return r["verdict"].kind if r["verdict"] else None


def short(v, n=60):
    v = v if len(v) <= n else v[:n - 1] + "…"
    return "`" + v.replace("`", "'") + "`" if v else "``"


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
    ap.add_argument("--answers", metavar="DIR",
                    help="also write the gateway's answers to DIR/<corpus>.json in expected/'s format "
                         "(raw, not normalized), to diff by hand")
    ap.add_argument("--min-same-content", type=int, default=0,
                    help="fail (exit 1) when fewer queries answer exactly what PostgreSQL answers "
                         "(`same`: column names and rows, after content.py's normalizations)")
    ap.add_argument("--min-by-construction", type=int, default=0,
                    help="fail (exit 1) when fewer entries annotated differs-by-construction pass "
                         "their check (PostgreSQL's column names, and its rows about the schema's "
                         "objects, README.md)")
    a = ap.parse_args()
    started = time.time()

    if a.build or not os.path.exists(a.gateway):
        subprocess.run(["cargo", "build", "-q", "-p", "duckgate-gateway"], cwd=ROOT, check=True,
                       env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
    files = corpus.files(HERE)
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
            facts = json.load(open(os.path.join(EXPECTED, "cluster.json"))) if os.path.exists(
                os.path.join(EXPECTED, "cluster.json")) else {}
            comparer = None
            if facts:
                gw_facts = content.server_facts(gw.lookup())
                comparer = content.Comparer(facts, gw_facts, facts.get("types"), content.schema_columns(
                    open(os.path.join(HERE, "schema.pg.sql"), encoding="utf-8").read()))
            results = {name: run_file(gw, path, corpus.app_name(name), load_expected(name), comparer, facts)
                       for name, path in files}
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    elapsed = time.time() - started
    if a.answers:
        for name, rows in results.items():
            path = os.path.join(a.answers, name + ".json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content.dump({"corpus": name, "generated by": "tests/compat-corpus/run.py --answers",
                                      "server": "the gateway", "entries": {r["id"]: r["answer"] for r in rows}}) + "\n")

    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = ["# Compatibility corpus against the gateway", "",
           "Generated by `tests/compat-corpus/run.py` (do not edit). Each entry of a corpus file runs as",
           "the client sent it on a gateway with `schema.duckdb.sql` and its answer is compared with what",
           "PostgreSQL 15 answered with `schema.pg.sql` (`expected/`, written by `record.sh`). `ok`: the",
           "gateway answered; `error`: it failed; `pg-error`: PostgreSQL fails it too. Content of `ok`",
           "answers (see README.md for the normalizations): `same` = same column names and rows;",
           "`rows differ` = as many rows, some cell or column name differs; `count differs` = another",
           "number of rows (or result sets); `by construction` / `check failed` = an entry that lists",
           "PostgreSQL's own objects, checked instead of compared (see \"Differs by construction\").",
           "`rows` is the gateway's row count, `pg` PostgreSQL's.",
           "", f"Source tree: `{rev}`; gateway binary built "
           f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(a.gateway)))}; run time {elapsed:.0f}s.", ""]
    summary, causes = [], Counter()
    colcount, colexample, typecount, typeexample = Counter(), {}, Counter(), {}
    for name, rows in results.items():
        c = Counter(r["status"] for r in rows)
        k = Counter(kind(r) for r in rows if r["status"] == "ok")
        types = sum(1 for r in rows if r["verdict"] and r["verdict"].types)
        raw_rows = sum(1 for r in rows if r["verdict"] and r["verdict"].kind in ("same", "rows differ"))
        summary.append((name, len(rows), c["ok"], k["same"], k["rows differ"], k["count differs"],
                        k["by construction"], k["check failed"], k["no record"], c["error"], c["pg-error"],
                        types, raw_rows))
        for r in rows:
            if r["status"] == "error":
                causes[cause(r["err"])] += 1
            v = r["verdict"]
            if v and kind(r) == "rows differ":
                for col, ex in v.columns.items():
                    colcount[col] += 1
                    colexample.setdefault(col, (r["id"],) + ex)
            if v:
                for col, pt, gt in v.types:
                    key = f"{pt} → {gt}"
                    typecount[key] += 1
                    typeexample.setdefault(key, f"{r['id']} `{col}`")
    tot = [sum(s[i] for s in summary) for i in range(1, 13)]
    (n_queries, n_ok, n_same, n_rows_differ, n_count_differs, n_checked, n_failed, n_norecord, n_error,
     n_pgerror, n_types, same_rows) = tot
    out += ["## Totals", "",
            "| corpus | queries | ok | same content | rows differ | count differs | differs by construction (checked) "
            "| by-construction check failed | error | pg-error | column types differ |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    out += [f"| {n} | {q} | {o} | {sm} | {rd} | {cd} | {bc} | {bf} | {e} | {p} | {t} |"
            for n, q, o, sm, rd, cd, bc, bf, nr, e, p, t, _ in summary]
    out += ["| **all** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** |"
            % (n_queries, n_ok, n_same, n_rows_differ, n_count_differs, n_checked, n_failed, n_error, n_pgerror,
               n_types), ""]
    out += [f"{same_rows} entries answer with PostgreSQL's number of rows (`same`, `rows differ`, and the "
            "by-construction entries that do).",
            "`differs by construction (checked)`: entries annotated `-- differs-by-construction: <reason>`",
            "(the query lists PostgreSQL's own built-in objects, which a DuckDB database does not have) whose",
            "answer passed their check instead of the comparison: no error, PostgreSQL's column names, and",
            "exactly PostgreSQL's rows about the schema's objects (README.md). Never counted as `same`.", ""]
    shapes = Counter()
    for rows in results.values():
        for r in rows:
            if r["verdict"] and kind(r) == "same":
                res = r["answer"].get("results", [])
                shapes["no result set (commands)" if not res else "rows" if r["rows"] else "an empty result"] += 1
    if shapes:
        out += ["Of the `same` answers, " + ", ".join(f"{n} with {k}" for k, n in sorted(shapes.items())) + ".", ""]
    if n_norecord:
        out += [f"{n_norecord} answered entries have no (current) recorded PostgreSQL answer: run `record.sh`.", ""]
    out += ["`column types differ`: answered entries where some result column has another type OID than",
            "on PostgreSQL (not part of `same`; see the table below).", ""]
    out += ["## Top content differences", "",
            "Columns that differ in `rows differ` entries (an entry counts once per column), with the first",
            "example: PostgreSQL's value, then the gateway's, after normalization (`(column)` / `(no column)`:",
            "the column exists on one side only).", "",
            "| column | entries | example | PostgreSQL | gateway |", "|---|---:|---|---|---|"]
    for col, n in colcount.most_common(40):
        eid, pv, gv = colexample[col]
        out.append(f"| {md(col)} | {n} | {eid} | {md(short(pv))} | {md(short(gv))} |")
    out += ["", "## Top column type differences", "", "| PostgreSQL type → gateway type | columns | example |",
            "|---|---:|---|"]
    out += [f"| {md(k)} | {n} | {md(typeexample[k])} |" for k, n in typecount.most_common(25)]
    out += ["", "## Top error causes", "", "| count | cause |", "|---:|---|"]
    out += [f"| {n} | {md(k)} |" for k, n in causes.most_common(40)]
    out.append("")
    allrows = [r for rows in results.values() for r in rows]
    marked = [r for r in allrows if r["construction"]]
    out += ["## Differs by construction", "",
            "Entries annotated `-- differs-by-construction: <reason>`: PostgreSQL's answer lists PostgreSQL's",
            "own objects (built-in types, settings, roles, databases of the cluster...), so the gateway's",
            "answer about DuckDB cannot equal it. Checked instead: the gateway answers, with PostgreSQL's",
            "column names, and its rows about the schema's objects are exactly PostgreSQL's (README.md).", "",
            "| id | check | rows | pg | reason | check |", "|---|---|---:|---|---|---|"]
    for r in marked:
        out.append(f"| {r['id']} | {r['construction']} | {r['rows'] if r['status'] == 'ok' else ''} | "
                   f"{r['pg'] if not r['pg'].startswith('error') else 'error'} | {md(r['reason'])} | {md(r['cnote'])} |")
    gaps, stale_gaps, unclassified = {}, [], []
    for r in allrows:
        k = kind(r)
        if r["gap"] is not None and (k == "same" or r["status"] == "pg-error"):
            stale_gaps.append(r["id"])
        elif r["gap"] is not None:
            gaps.setdefault(r["gap"] or "(no cause given)", []).append(r)
        elif not r["construction"] and k != "same" and r["status"] != "pg-error":
            unclassified.append(r)
    out += ["", "## To do: known gaps, by cause", "",
            "Entries annotated `-- known-gap: <cause>`: the gateway's answer is wrong or incomplete about",
            "something it could answer (a catalog column, a function, a user object's row), so they stay",
            "compared with PostgreSQL's answer. Grouped by cause, most entries first; an entry's current",
            "class in brackets.", ""]
    for g, rs in sorted(gaps.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"- {md(g)} ({len(rs)}): " + ", ".join(
            f"{r['id']} [{kind(r) or r['status']}]" for r in rs))
    if stale_gaps:
        out += ["", "Known gaps that now answer the same as PostgreSQL (drop their `known-gap` line): "
                + ", ".join(stale_gaps)]
    if unclassified:
        out += ["", "Not `same` and not annotated (classify them: `known-gap` or `differs-by-construction`): "
                + ", ".join(r["id"] for r in unclassified)]
    out.append("")
    for name, rows in results.items():
        out += [f"## {name}", "", "| id | result | rows | pg | content | first difference / error |",
                "|---|---|---:|---|---|---|"]
        for r in rows:
            v = r["verdict"]
            if r["status"] != "ok":
                detail = r["err"].split("\n")[0][:200]
            elif r["construction"] in ("checked", "check failed"):
                detail = r["cnote"]
            elif v.kind == "rows differ":
                detail = f"`{v.column}`: {short(v.pg)} vs {short(v.gw)}" + (f"; {v.note}" if v.note else "")
            else:
                detail = v.note
            if r["note"]:
                detail = (detail + "; " if detail else "") + r["note"]
            pg = r["pg"] if not r["pg"].startswith("error") else "error"
            out.append(f"| {r['id']} | {r['status']} | {r['rows'] if r['status'] == 'ok' else ''} | {pg} | "
                       f"{kind(r) or ''} | {md(detail)} |")
        out.append("")
    text = "\n".join(out) + "\n"
    if a.out == "-":
        print(text)
    else:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"totals: {n_queries} queries, {n_ok} ok (same content {n_same}, rows differ {n_rows_differ}, "
          f"count differs {n_count_differs}, by construction {n_checked} checked / {n_failed} failed"
          + (f", no record {n_norecord}" if n_norecord else "") + f"), {n_error} error, "
          f"{n_pgerror} pg-error; {same_rows} with PostgreSQL's row count ({elapsed:.0f}s)", file=sys.stderr)
    failed = []
    if same_rows < a.min_same_rows:
        failed.append(f"{same_rows} queries answer with PostgreSQL's row count, fewer than the recorded {a.min_same_rows}")
    if n_same < a.min_same_content:
        failed.append(f"{n_same} queries answer what PostgreSQL answers, fewer than the recorded {a.min_same_content}")
    if n_checked < a.min_by_construction:
        failed.append(f"{n_checked} differs-by-construction entries pass their check, fewer than the recorded "
                      f"{a.min_by_construction}")
    if failed:
        sys.exit("regression: " + "; ".join(failed))


if __name__ == "__main__":
    main()
