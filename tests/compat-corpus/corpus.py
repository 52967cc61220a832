"""The corpus file format and the one way corpus queries are executed (shared by extract.py,
which records what real PostgreSQL answers, and run.py, which asks the gateway).

A corpus file is a sequence of entries, each introduced by a line `-- next`:

    -- next
    -- id: psycopg3-003
    -- protocol: extended
    -- params: ["json"]
    -- param-types: text
    -- sent: 2
    -- pg: 1 row
    -- oid 16390: type public.mood
    SELECT ...

Metadata lines (`-- key: value`, and `-- oid N: kind schema.name`) come first; everything after
the first other line is the statement, verbatim. `protocol` is how the client sent it: `simple`
(one Query message, may hold several statements) or `extended` (Parse/Bind/Execute, `$n`
placeholders, `params` the text values the server logged, JSON, null for NULL). `oid` lines name
user objects whose PostgreSQL OID appears in the statement or its parameters: the runner swaps in
the gateway's OID of the same object. `pg` is what PostgreSQL answered when the corpus was made.
Two reviewed lines are written by hand (README.md): `differs-by-construction: <reason>` (the
answer cannot equal PostgreSQL's; run.py checks it differently) and `known-gap: <cause>`.

Every entry runs on its own (autocommit; an open transaction is rolled back afterwards). Statements
that only make sense inside a transaction get the least context they need first (see prelude()):
SAVEPOINT and DECLARE run after BEGIN, RELEASE / ROLLBACK TO after BEGIN + SAVEPOINT of that name,
FETCH / CLOSE after BEGIN + DECLARE of that cursor. A failing prelude is the entry's error.
"""
import json
import os
import re

# The corpus files in the order both run.py and record.py replay them: the captured clients, then
# the hand-written published/<tool>.sql in name order.
CLIENT_ORDER = ["psql", "psycopg2", "psycopg3", "asyncpg", "sqlalchemy-psycopg2",
                "sqlalchemy-psycopg3", "pgjdbc", "node-pg", "pgx"]


def files(here):
    """[(name, path)] of every corpus file under `here` (name: `psql`, `published/dbeaver`...)."""
    out = [(c, os.path.join(here, c + ".sql")) for c in CLIENT_ORDER]
    pub = os.path.join(here, "published")
    out += [("published/" + f[:-4], os.path.join(pub, f)) for f in sorted(os.listdir(pub)) if f.endswith(".sql")]
    return out


def app_name(name):
    """The application_name a corpus file is replayed with: the client's (as at capture time)."""
    return name.split("/")[-1]

META = re.compile(r"^-- ([a-z][a-z-]*): ?(.*)$")
OIDLINE = re.compile(r"^-- oid (\d+): (class|type|namespace) (.+)$")


class Entry:
    def __init__(self, sql, id="", protocol="simple", params=None, meta=None, oids=None):
        self.sql = sql
        self.id = id
        self.protocol = protocol
        self.params = params
        self.meta = dict(meta or {})
        self.oids = dict(oids or {})  # oid (str) -> (kind, qualified name)

    def render(self):
        out = ["-- next", f"-- id: {self.id}", f"-- protocol: {self.protocol}"]
        if self.params is not None:
            out.append("-- params: " + json.dumps(self.params, ensure_ascii=False))
        for k, v in self.meta.items():
            if k not in ("id", "protocol", "params"):
                out.append(f"-- {k}: {v}")
        for oid, (kind, name) in sorted(self.oids.items()):
            out.append(f"-- oid {oid}: {kind} {name}")
        out.append(self.sql.rstrip())
        return "\n".join(out) + "\n"


def parse(text):
    """Header comment lines before the first `-- next` are ignored."""
    entries = []
    for chunk in re.split(r"(?m)^-- next[ \t]*\n", text)[1:]:
        lines = chunk.split("\n")
        meta, oids, i = {}, {}, 0
        while i < len(lines):
            o = OIDLINE.match(lines[i])
            m = META.match(lines[i])
            if o:
                oids[o.group(1)] = (o.group(2), o.group(3))
            elif m:
                meta[m.group(1)] = m.group(2)
            else:
                break
            i += 1
        sql = "\n".join(lines[i:]).strip()
        params = json.loads(meta["params"]) if "params" in meta else None
        entries.append(Entry(sql, meta.get("id", ""), meta.get("protocol", "simple"), params, meta, oids))
    return entries


def normalize(sql):
    """Whitespace-insensitive key for deduplication (outside quotes only)."""
    out = []
    for part in re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", sql):
        if part.startswith(("'", '"')):
            out.append(part)
        else:
            out.append(re.sub(r"\s+", " ", part))
    return "".join(out).strip().rstrip(";").strip()


def prelude(sql):
    """The statements to run before `sql` so that it has the transaction context it was sent in."""
    s = sql.strip()
    m = re.match(r"(?is)^(?:RELEASE|ROLLBACK\s+TO)\s+(?:SAVEPOINT\s+)?(\"[^\"]+\"|\w+)\s*;?$", s)
    if m:
        return ["BEGIN", f"SAVEPOINT {m.group(1)}"]
    if re.match(r"(?is)^(SAVEPOINT|DECLARE)\b", s):
        return ["BEGIN"]
    m = re.match(r"(?is)^(?:FETCH\b.*\b(?:FROM|IN)|CLOSE)\s+(\"[^\"]+\"|\w+)\s*;?$", s)
    if m and m.group(1).upper() != "ALL":
        return ["BEGIN", f"DECLARE {m.group(1)} CURSOR FOR SELECT 1"]
    return []


def _error(res):
    from psycopg import pq

    return ((res.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode() + " " +
            (res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode(errors="replace")).strip()


class Answer:
    """What a server answered to one entry: status ok/error, the total row count, the first
    error (`SQLSTATE message`) and every result set in order, each a dict with `columns`
    ([name, type OID] per column) and `rows` (text-format values, None for NULL)."""

    def __init__(self, status, rows=0, error=None, results=None):
        self.status, self.rows, self.error, self.results = status, rows, error, results or []


def _result_set(res):
    cols = [[(res.fname(i) or b"").decode(errors="replace"), res.ftype(i)] for i in range(res.nfields)]
    rows = []
    for r in range(res.ntuples):
        row = []
        for c in range(res.nfields):
            v = res.get_value(r, c)
            row.append(None if v is None else v.decode(errors="backslashreplace"))
        rows.append(row)
    return {"columns": cols, "rows": rows}


def run(pgconn, entry, sql=None, params=None):
    """Run one entry on a psycopg.pq.PGconn the way the client sent it (text results, untyped
    text parameters) and return its Answer. Leaves the session idle (rolls back an open
    transaction)."""
    from psycopg import pq

    sql = entry.sql if sql is None else sql
    params = entry.params if params is None else params
    for pre in prelude(sql):
        res = pgconn.exec_(pre.encode())
        if res.status == pq.ExecStatus.FATAL_ERROR:
            err = "(prelude " + pre + ") " + _error(res)
            if pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status != pq.TransactionStatus.IDLE:
                pgconn.exec_(b"ROLLBACK")
            return Answer("error", 0, err)
    if entry.protocol == "extended":
        enc = [None if p is None else str(p).encode() for p in (params or [])]
        pgconn.send_query_params(sql.encode(), enc)
    else:
        pgconn.send_query(sql.encode())
    rows, err, results = 0, None, []
    while True:
        res = pgconn.get_result()
        if res is None:
            break
        st = res.status
        if st == pq.ExecStatus.FATAL_ERROR and err is None:
            err = _error(res)
        elif st == pq.ExecStatus.TUPLES_OK:
            rows += res.ntuples
            results.append(_result_set(res))
        elif st == pq.ExecStatus.COPY_IN:
            pgconn.put_copy_end(b"corpus runner: no COPY data")
        elif st == pq.ExecStatus.COPY_OUT:
            while True:
                n, _ = pgconn.get_copy_data(0)
                if n < 0:
                    break
    if pgconn.status != pq.ConnStatus.OK:
        return Answer("error", 0, (err or "connection lost").strip(), results)
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        pgconn.exec_(b"ROLLBACK")
    return Answer("error", rows, err.strip(), results) if err else Answer("ok", rows, None, results)


def execute(pgconn, entry, sql=None, params=None):
    """run() as (status, rows, error), status ok/error (what extract.py records as `-- pg:`)."""
    a = run(pgconn, entry, sql, params)
    return a.status, a.rows, a.error


def describe(status, rows, err):
    if status == "ok":
        return f"{rows} row" + ("" if rows == 1 else "s")
    return "error " + (err or "")
