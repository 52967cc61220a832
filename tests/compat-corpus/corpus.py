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

Every entry runs on its own (autocommit; an open transaction is rolled back afterwards). Statements
that only make sense inside a transaction get the least context they need first (see prelude()):
SAVEPOINT and DECLARE run after BEGIN, RELEASE / ROLLBACK TO after BEGIN + SAVEPOINT of that name,
FETCH / CLOSE after BEGIN + DECLARE of that cursor. A failing prelude is the entry's error.
"""
import json
import re

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


def execute(pgconn, entry, sql=None, params=None):
    """Run one entry on a psycopg.pq.PGconn the way the client sent it. Returns (status, rows,
    error) with status ok/error. Leaves the session idle (rolls back an open transaction)."""
    from psycopg import pq

    sql = entry.sql if sql is None else sql
    params = entry.params if params is None else params
    for pre in prelude(sql):
        res = pgconn.exec_(pre.encode())
        if res.status == pq.ExecStatus.FATAL_ERROR:
            err = "(prelude " + pre + ") " + _error(res)
            if pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status != pq.TransactionStatus.IDLE:
                pgconn.exec_(b"ROLLBACK")
            return "error", 0, err
    if entry.protocol == "extended":
        enc = [None if p is None else str(p).encode() for p in (params or [])]
        pgconn.send_query_params(sql.encode(), enc)
    else:
        pgconn.send_query(sql.encode())
    rows, err = 0, None
    while True:
        res = pgconn.get_result()
        if res is None:
            break
        st = res.status
        if st == pq.ExecStatus.FATAL_ERROR and err is None:
            err = _error(res)
        elif st == pq.ExecStatus.TUPLES_OK:
            rows += res.ntuples
        elif st == pq.ExecStatus.COPY_IN:
            pgconn.put_copy_end(b"corpus runner: no COPY data")
        elif st == pq.ExecStatus.COPY_OUT:
            while True:
                n, _ = pgconn.get_copy_data(0)
                if n < 0:
                    break
    if pgconn.status != pq.ConnStatus.OK:
        return "error", 0, (err or "connection lost").strip()
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        pgconn.exec_(b"ROLLBACK")
    return ("error", rows, err.strip()) if err else ("ok", rows, None)


def describe(status, rows, err):
    if status == "ok":
        return f"{rows} row" + ("" if rows == 1 else "s")
    return "error " + (err or "")
