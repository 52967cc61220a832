"""Comparing answers: what record.py stores about PostgreSQL's answers and how run.py compares
the gateway's answers with them (see README.md, "How content is compared").

Two answers are compared after normalizing both with the rules below, each a named function with
the reason it exists. The rules only erase what cannot be the same on two different engines (object
identifiers, the names of the server's own user/database/default schema, engine statistics and
timestamps); table, column, type, constraint, index, view and comment names, column types,
nullability and defaults are compared as they are.
"""
import hashlib
import json
import re

import corpus

VOLATILE = "<volatile>"            # what record.py stores instead of a time/session-dependent value
ANY_VALUE = "<not NULL>"           # an engine-specific or volatile cell that is not NULL, when comparing
FIRST_NORMAL_OID = 16384           # PostgreSQL's FirstNormalObjectId: below it, built-in objects

# ------------------------------------------------------------------------------------------------
# The schema's objects, by OID. Each query lists (oid, qualified name) of one kind of object and
# runs on PostgreSQL (record.py) and on the gateway (run.py); a kind the gateway does not have
# (the query fails) simply has no gateway OIDs.
OBJECT_KINDS = {
    "namespace": "SELECT oid::text, nspname FROM pg_catalog.pg_namespace",
    "class": "SELECT c.oid::text, n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "
             "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
    "type": "SELECT t.oid::text, n.nspname || '.' || t.typname FROM pg_catalog.pg_type t "
            "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
    "constraint": "SELECT co.oid::text, n.nspname || '.' || COALESCE(r.relname, '') || '.' || co.conname "
                  "FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_namespace n ON n.oid = co.connamespace "
                  "LEFT JOIN pg_catalog.pg_class r ON r.oid = co.conrelid",
    "attrdef": "SELECT d.oid::text, n.nspname || '.' || c.relname || '.' || a.attname "
               "FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_class c ON c.oid = d.adrelid "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum",
    "enum": "SELECT e.oid::text, n.nspname || '.' || t.typname || '.' || e.enumlabel FROM pg_catalog.pg_enum e "
            "JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
    "rule": "SELECT r.oid::text, n.nspname || '.' || c.relname || '.' || r.rulename FROM pg_catalog.pg_rewrite r "
            "JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
    "database": "SELECT oid::text, datname FROM pg_catalog.pg_database WHERE datname = current_database()",
}


def _query(pgconn, sql):
    from psycopg import pq

    r = pgconn.exec_(sql.encode())
    if r.status != pq.ExecStatus.TUPLES_OK:
        return None
    return [[None if r.get_value(i, j) is None else r.get_value(i, j).decode() for j in range(r.nfields)]
            for i in range(r.ntuples)]


def server_facts(pgconn):
    """What the normalization needs to know about a server: its version, current user and
    database, and {oid: [kind, name]} of its user objects (OID >= 16384, plus the `public` /
    DuckDB `main` schema, which are built in but are where the corpus schema lives)."""
    version = (_query(pgconn, "SELECT version()") or [["?"]])[0][0].split(" on ")[0]
    user, db = (_query(pgconn, "SELECT current_user, current_database()") or [[None, None]])[0]
    oids, missing = {}, []
    for kind, sql in OBJECT_KINDS.items():
        rows = _query(pgconn, sql)
        if rows is None:
            missing.append(kind)
            continue
        for oid, name in rows:
            if oid is None or name is None or not oid.isdigit():
                continue
            if int(oid) >= FIRST_NORMAL_OID or (kind == "namespace" and name in ("public", "main")):
                oids.setdefault(oid, [kind, name])
    facts = {"version": version, "user": user, "database": db,
             "oids": dict(sorted(oids.items(), key=lambda kv: int(kv[0])))}
    if missing:
        facts["no catalog for"] = missing
    return facts


# ------------------------------------------------------------------------------------------------
# Recording.

def volatile_column(name):
    """Why a column's values depend on the time or the session rather than on the schema (so
    record.py does not store them), or None. By the column's name as the query labels it."""
    n = name.lower()
    if n in VOLATILE_COLUMNS:
        return VOLATILE_COLUMNS[n]
    return None


# Columns whose PostgreSQL values change from run to run (time, process, transaction counters).
# record.py also marks every column whose values differ between two replays of the corpus.
VOLATILE_COLUMNS = {
    "created_at": "schema.pg.sql's customers.created_at defaults to CURRENT_TIMESTAMP at load time",
}


def entry_key(e):
    """Identifies the statement an expected answer belongs to (a stale expected/ is reported)."""
    text = json.dumps([e.protocol, corpus.normalize(e.sql), e.params], ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def expected_entry(e, first, second, pgdir=None, port=None):
    """The stored form of PostgreSQL's answer `first`; `second` is the same entry replayed again
    (on a new connection, after the whole corpus): columns whose values differ are volatile.
    `pgdir` and `port`: where the cluster runs (see mask_cluster())."""
    out = {"key": entry_key(e), "status": first.status, "rows": first.rows}
    if first.error:
        out["error"] = first.error
    results = []
    for i, rs in enumerate(first.results):
        other = second.results[i] if i < len(second.results) else None
        vol = {}
        for c, (name, _) in enumerate(rs["columns"]):
            why = volatile_column(name)
            if why is None and (other is None or len(other["rows"]) != len(rs["rows"])):
                why = "the number of rows differs between two replays on PostgreSQL"
            elif why is None and any(a[c] != b[c] for a, b in zip(rs["rows"], other["rows"])):
                why = "differs between two replays on PostgreSQL"
            if why:
                vol[str(c)] = why
        rows = [[VOLATILE if (str(c) in vol and v is not None) else mask_cluster(v, pgdir, port)
                 for c, v in enumerate(row)] for row in rs["rows"]]
        r = {"columns": rs["columns"], "rows": rows}
        if vol:
            r["volatile"] = vol
        results.append(r)
    if results:
        out["results"] = results
    return out


def dump(obj, indent=0):
    """Deterministic JSON, sorted keys; a list of scalars (a row, a column) stays on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 1)}' for k, v in sorted(obj.items())]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, ensure_ascii=False)
        return "[\n" + ",\n".join(pad + " " + dump(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def type_names(pgconn):
    """{oid: name} of PostgreSQL's built-in types (for the report's column-type differences)."""
    rows = _query(pgconn, "SELECT oid::text, typname FROM pg_catalog.pg_type WHERE oid < %d" % FIRST_NORMAL_OID)
    return {o: n for o, n in sorted(rows or [], key=lambda r: int(r[0]))}


def mask_cluster(value, pgdir, port):
    """record.py: where the throwaway cluster lives depends on the machine (root or not, $HOME)
    and its port on CORPUS_PG_PORT: its directory (data directory, socket directory, pg_settings'
    file paths) is stored as <pgdir> and a value that is exactly its port as <port>."""
    if value is None:
        return value
    if port and value == port:
        return "<port>"
    return value.replace(pgdir, "<pgdir>") if pgdir else value


# ------------------------------------------------------------------------------------------------
# Normalization (run.py). Each rule turns one side's cell into the form both sides share.

OIDTOKEN = re.compile(r"(?<![\w.])\d+(?![\w.])")


def _identifier(name):
    return re.compile(r"(?<![\w$.])" + re.escape(name) + r"(?![\w$])")


class Side:
    """One server's facts (server_facts()) and the normalizations that follow from them."""

    def __init__(self, facts, gateway):
        self.facts = facts
        self.gateway = gateway
        self.user = _identifier(facts["user"]) if facts.get("user") else re.compile(r"(?!)")
        self.main = _identifier("main")
        self.symbols = {oid: self.symbol(kind, name) for oid, (kind, name) in facts["oids"].items()}
        self.database_names = {facts["database"]}

    def symbol(self, kind, name):
        if kind == "database":
            name = "<database>"
        elif kind == "namespace":
            name = "public" if name == "main" and self.gateway else name
        elif self.gateway and name.startswith("main."):
            name = "public." + name[5:]
        return f"<{kind} {name}>"

    def object_oids(self, v):
        """A user object's OID -> `<kind schema.name>`. OIDs are assigned by each engine (and by
        PostgreSQL from a counter): what must agree is which object a value points to. Only the
        schema's objects (OID >= 16384, and public/main) are named; anywhere in a value, so OID
        lists (`{16396,16407}`, oidvector) and OIDs cast to text are covered too."""
        return OIDTOKEN.sub(lambda m: self.symbols.get(m.group(0), m.group(0)), v)

    def default_schema(self, v):
        """DuckDB's default schema is `main` where PostgreSQL's is `public`: the gateway's `main`
        (as an identifier, not a qualified name's second part) is PostgreSQL's `public`."""
        return self.main.sub("public", v) if self.gateway else v

    def user_name(self, v):
        """The connecting/owning role is `corpus_user` on PostgreSQL (record.sh's initdb -U) and
        whatever the gateway reports as current_user: each side's own name -> `<user>` (also
        inside ACLs such as `corpus_user=arwdDxt/corpus_user`)."""
        return self.user.sub("<user>", v)

    def database_name(self, v):
        """The database is `corpus` on PostgreSQL and the gateway's current_database(): a value
        that is exactly that name -> `<database>` (only whole values: the name is a common word).
        Either side's name, on both sides: the gateway's database is called `default`, a word
        PostgreSQL answers as a value too (pg_settings.source), which must not then differ from
        the gateway's same word."""
        return "<database>" if v in self.database_names else v

    def normalize(self, v):
        if v is None:
            return None
        return self.database_name(self.user_name(self.default_schema(self.object_oids(v))))


# Columns whose values cannot agree between PostgreSQL and DuckDB whatever the catalog layer does,
# by the name the query gives them (case-sensitive: psql's `Size` is not pgJDBC's `PAGES`), with
# why. Only whether their cells are NULL is compared (and the column names, types and row counts).
def _pretty_size(v):
    return v is not None and re.fullmatch(r"\d+ (bytes|kB|MB|GB|TB)", v) is not None


ENGINE_SPECIFIC = {
    # storage: DuckDB has no pages, heap files, TOAST or planner statistics of PostgreSQL's kind
    "relpages": "pages of PostgreSQL's heap files",
    "PAGES": "pgJDBC getIndexInfo: relpages",
    "reltuples": "planner statistics",
    "CARDINALITY": "pgJDBC getIndexInfo: reltuples",
    "relallvisible": "visibility-map statistics",
    "relfilenode": "PostgreSQL's file node of the relation",
    "reltoastrelid": "PostgreSQL's TOAST table",
    "index_rel_size": "DBeaver: pg_relation_size() of an index",
    "index_num_scans": "DBeaver: pg_stat_get_numscans()",
    # transaction ID horizons
    "relfrozenxid": "transaction ID horizon", "relminmxid": "multixact horizon",
    "datfrozenxid": "transaction ID horizon", "datminmxid": "multixact horizon",
    # locale: the capture cluster's initdb --locale=C.UTF-8 vs DuckDB's collation
    "Collate": "psql \\l: the cluster's initdb locale", "Ctype": "psql \\l: the cluster's initdb locale",
    "ICU Locale": "psql \\l: the cluster's initdb locale", "Locale Provider": "psql \\l: initdb locale provider",
    "datcollate": "the cluster's initdb locale", "datctype": "the cluster's initdb locale",
    "daticulocale": "the cluster's initdb locale", "datlocprovider": "initdb locale provider",
    "datcollversion": "the C library's collation version",
    # the server itself
    "sourcefile": "pg_settings: the server's configuration file",
    "sourceline": "pg_settings: line in the server's configuration file",
}


def engine_specific(name, pg_values):
    """Why a result column is not compared, or None. `Size` only when PostgreSQL's values are
    pg_size_pretty() sizes (psql \\l+ \\dt+ \\di+), not psql \\dT+'s type sizes; `version` only
    when it is version()'s string (Grafana's server_version_num / 100 is compared)."""
    if name in ENGINE_SPECIFIC:
        return ENGINE_SPECIFIC[name]
    if name == "version" and any(v and v.startswith("PostgreSQL ") for v in pg_values):
        return "version(): the build string (compiler, platform, the gateway's DuckDB) of each server"
    if name == "Size" and any(_pretty_size(v) for v in pg_values) and all(v is None or _pretty_size(v) for v in pg_values):
        return "psql: pg_size_pretty() of on-disk size"
    return None


# ------------------------------------------------------------------------------------------------
# Comparison.

def _strip_sql(sql):
    """The SQL with comments removed and string literals / quoted identifiers / dollar-quoted
    bodies blanked, so keywords and parentheses can be found."""
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c and sql.startswith(c * 2, j):
                    j += 2
                elif sql[j] == c:
                    break
                else:
                    j += 1
            out.append(" x ")
            i = j + 1
        elif c == "$":
            m = re.match(r"\$(?:[A-Za-z_]\w*)?\$", sql[i:])
            if m and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                j = sql.find(m.group(0), i + len(m.group(0)))
                out.append(" x ")
                i = n if j < 0 else j + len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def statements(sql):
    """Top-level statements of a (simple-protocol) query text, each stripped by _strip_sql()."""
    text, parts, depth, cur = _strip_sql(sql), [], 0, []
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == ";" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _top_level(stmt):
    """The statement with everything inside parentheses blanked out."""
    depth, flat = 0, []
    for c in stmt:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        flat.append(c if depth == 0 else " ")
    return "".join(flat)


def ordered(stmt):
    """Whether a statement's rows come in a defined order: an ORDER BY outside parentheses."""
    return re.search(r"(?i)\border\s+by\b", _top_level(stmt)) is not None


def order_keys(stmt):
    """The result columns a statement's top-level ORDER BY sorts on, as names (lower case, any
    table qualifier dropped) or 1-based positions; None when an item is an expression (then rows
    are compared in their exact order). Rows whose keys are equal may come in any order.

    >>> order_keys('SELECT c.relname, a.* FROM a JOIN c ON true ORDER BY a.attnum')
    ['attnum']
    >>> order_keys('SELECT x, y FROM t ORDER BY 2 DESC NULLS LAST, "T".x LIMIT 3')
    [2, 'x']
    >>> order_keys('SELECT x FROM t ORDER BY lower(x)') is None
    True
    >>> order_keys('SELECT (SELECT 1 ORDER BY 1) FROM t') is None
    True
    """
    flat = _top_level(stmt)
    m = list(re.finditer(r"(?i)\border\s+by\b", flat))
    if not m:
        return None
    clause = stmt[m[-1].end():]
    end = re.search(r"(?i)\b(limit|offset|fetch|for)\b|;", _top_level(clause))
    clause = clause[:end.start()] if end else clause
    keys = []
    for item in clause.split(","):
        item = re.sub(r"(?i)\s+(asc|desc)\b|\s+nulls\s+(first|last)\b", "", item).strip()
        if re.fullmatch(r"\d+", item):
            keys.append(int(item))
            continue
        col = re.fullmatch(r'(?:"?\w+"?\.)?"?(\w+)"?', item)
        if not col:
            return None
        keys.append(col.group(1).lower())
    return keys


def result_order(sql, nresults):
    """Per result set, whether its order is defined (see ordered()) and its sort keys (see
    order_keys()): the statements that return rows, in order, when they can be told apart; else
    any top-level ORDER BY in the query, with unknown keys."""
    stmts = statements(sql)
    rowy = [s for s in stmts if re.match(r"(?is)\s*(SELECT|WITH|VALUES|TABLE|SHOW|FETCH)\b", s)]
    if len(rowy) == nresults:
        return [(ordered(s), order_keys(s)) for s in rowy]
    any_ordered = any(ordered(s) for s in stmts)
    return [(any_ordered, None)] * nresults


class Verdict:
    """same / rows differ / count differs (or: no record, stale record), with the first difference
    (`column`, PostgreSQL's and the gateway's value, normalized) and every differing column."""

    def __init__(self, kind, column="", pg="", gw="", note="", columns=(), types=()):
        self.kind, self.column, self.pg, self.gw, self.note = kind, column, pg, gw, note
        self.columns = dict(columns)   # every result column with a difference -> (pg, gw) example
        self.types = list(types)       # (column, PostgreSQL type, gateway type) that differ


def _align(pgcols, gwcols):
    """Pairs (pg index, gateway index) of the result columns: by position when there are as many
    columns on both sides (a client reading by position sees these pairs), else by name. Returns
    the pairs, the names only PostgreSQL has, only the gateway has, and the pairs whose names
    differ (pg name, gateway name)."""
    pn, gn = [c[0] for c in pgcols], [c[0] for c in gwcols]
    if len(pn) == len(gn):
        return [(i, i) for i in range(len(pn))], [], [], [(p, g) for p, g in zip(pn, gn) if p != g]
    used, pairs, missing = set(), [], []
    for i, name in enumerate(pn):
        j = next((j for j, g in enumerate(gn) if g == name and j not in used), None)
        if j is None:
            missing.append(name)
        else:
            used.add(j)
            pairs.append((i, j))
    extra = [g for j, g in enumerate(gn) if j not in used]
    return pairs, missing, extra, []


def _show(v):
    return "NULL" if v is None else v


class Comparer:
    def __init__(self, pg_facts, gw_facts, type_names=None, schema_columns=()):
        self.pg, self.gw = Side(pg_facts, False), Side(gw_facts, True)
        names = {pg_facts["database"], gw_facts["database"]}
        self.pg.database_names = self.gw.database_names = names
        self.type_names = type_names or {}
        self.user = UserObjects(pg_facts, schema_columns, self.type_names.values())

    def type_name(self, side, oid):
        s = side.symbols.get(str(oid))
        if s:
            return s
        return self.type_names.get(str(oid), str(oid))

    def compare(self, exp, ans, sql):
        pres, gres = exp.get("results", []), ans.results
        if exp["status"] == "error" and ans.status == "ok":
            return Verdict("count differs", note="PostgreSQL fails: " + exp.get("error", ""))
        if len(pres) != len(gres):
            return Verdict("count differs", note=f"{len(pres)} result sets on PostgreSQL, {len(gres)} on the gateway")
        orders = result_order(sql, len(pres))
        verdicts = [self._compare_set(p, g, o) for p, g, o in zip(pres, gres, orders)]
        for kind in ("count differs", "rows differ"):
            bad = [v for v in verdicts if v.kind == kind]
            if bad:
                v = bad[0]
                v.columns = {c: ex for x in reversed(verdicts) for c, ex in x.columns.items()}
                v.types = [t for x in verdicts for t in x.types]
                return v
        return Verdict("same", types=[t for x in verdicts for t in x.types])

    @staticmethod
    def ignored_columns(p):
        """PostgreSQL's result set's engine-specific and volatile columns: index -> why."""
        ignored = {}
        volatile = p.get("volatile", {})
        for i, (name, _) in enumerate(p["columns"]):
            why = volatile.get(str(i)) or engine_specific(name, [r[i] for r in p["rows"]])
            if why:
                ignored[i] = why
        return ignored

    def _rows(self, p, g, pairs):
        """Both sides' rows as tuples of normalized cells over the column pairs. Engine-specific
        and volatile columns: only whether the value is NULL is compared (a client scanning a NOT
        NULL column into a plain integer fails on NULL)."""
        ignored = self.ignored_columns(p)

        def cell(side, v, i):
            if i in ignored:
                return None if v is None else ANY_VALUE
            return side.normalize(v)

        prow = [tuple(cell(self.pg, r[i], i) for i, _ in pairs) for r in p["rows"]]
        grow = [tuple(cell(self.gw, r[j], i) for i, j in pairs) for r in g["rows"]]
        return prow, grow

    @staticmethod
    def _ties_only(p, prow, grow, names, keys):
        """Whether two orders of the same rows differ only among rows with equal sort keys.

        >>> p = {"columns": [["relname", 19], ["attnum", 21]]}
        >>> Comparer._ties_only(p, [("a", 1), ("b", 1), ("a", 2)], [("b", 1), ("a", 1), ("a", 2)],
        ...                     ["relname", "attnum"], ["attnum"])
        True
        >>> Comparer._ties_only(p, [("a", 1), ("a", 2)], [("a", 2), ("a", 1)],
        ...                     ["relname", "attnum"], [2])
        False
        >>> Comparer._ties_only(p, [("a", 1)], [("a", 1)], ["relname", "attnum"], None)
        False
        """
        if not keys:
            return False
        lower = [n.lower() for n in names]
        idx = []
        for k in keys:
            if isinstance(k, int):
                if not 0 < k <= len(p["columns"]):
                    return False
                k = p["columns"][k - 1][0].lower()
            if k not in lower:
                return False
            idx.append(lower.index(k))
        key = lambda rows: [tuple(r[i] for i in idx) for r in rows]
        return key(prow) == key(grow)

    def _compare_set(self, p, g, order):
        is_ordered, keys = order
        pairs, missing, extra, renamed = _align(p["columns"], g["columns"])
        types = []
        for i, j in pairs:
            pt, gt = self.type_name(self.pg, p["columns"][i][1]), self.type_name(self.gw, g["columns"][j][1])
            if pt != gt:
                types.append((p["columns"][i][0], pt, gt))
        names = [p["columns"][i][0] for i, _ in pairs]
        prow, grow = self._rows(p, g, pairs)
        if len(prow) != len(grow):
            note = f"{len(prow)} rows on PostgreSQL, {len(grow)} on the gateway"
            only_p, only_g = _multiset_minus(prow, grow), _multiset_minus(grow, prow)
            if only_p:
                note += "; e.g. only on PostgreSQL: " + _row(names, only_p[0])
            elif only_g:
                note += "; e.g. only on the gateway: " + _row(names, min(only_g, key=repr))
            return Verdict("count differs", note=note, types=types)
        # a column-name difference is reported under PostgreSQL's name, suffixed ` (name)`
        diffcols = {pn + " (name)": (pn, gn) for pn, gn in renamed}
        diffcols.update({c + " (name)": (c, "(no column)") for c in missing})
        diffcols.update({c + " (name)": ("(no column)", c) for c in extra})
        first = None
        if diffcols:
            c = next(iter(diffcols))
            first = (c,) + diffcols[c]
        left_p, left_g = _multiset_minus(prow, grow), _multiset_minus(grow, prow)
        for a, b in _pair(left_p, left_g):
            for k, name in enumerate(names):
                if a[k] != b[k]:
                    if name not in diffcols:
                        diffcols[name] = (_show(a[k]), _show(b[k]))
                    if first is None:
                        first = (name, _show(a[k]), _show(b[k]))
        if first is None and is_ordered and prow != grow and not self._ties_only(p, prow, grow, names, keys):
            first = ("(row order)", "ORDER BY", "another order")
        if first is None:
            return Verdict("same", types=types)
        note = ""
        if renamed:
            note += f"{len(renamed)} column name(s) differ" + (
                ", the values are the same. " if all(c.endswith(" (name)") for c in diffcols) else ". ")
        if missing:
            note += "no column " + ", ".join(missing) + " on the gateway. "
        if extra:
            note += "gateway's extra column " + ", ".join(extra) + ". "
        return Verdict("rows differ", first[0], first[1], first[2], note.strip(), diffcols, types)


    def check_by_construction(self, exp, ans):
        """The check of an entry annotated `-- differs-by-construction: <reason>` (its answer
        cannot equal PostgreSQL's because the query lists PostgreSQL's own built-in objects): the
        gateway answers (the caller checks that), with as many result sets, PostgreSQL's column
        names in PostgreSQL's order, and exactly PostgreSQL's rows about the schema's objects (see
        UserObjects; normalized as in compare(), compared as multisets, both ways: none missing,
        none extra). Returns (ok, note)."""
        if exp["status"] != "ok":
            return False, "PostgreSQL fails the entry: " + exp.get("error", "")
        pres, gres = exp.get("results", []), ans.results
        if len(pres) != len(gres):
            return False, f"{len(pres)} result sets on PostgreSQL, {len(gres)} on the gateway"
        compared = 0
        for p, g in zip(pres, gres):
            pn, gn = [c[0] for c in p["columns"]], [c[0] for c in g["columns"]]
            if pn != gn:
                diff = [f"{a} vs {b}" for a, b in zip(pn, gn) if a != b][:3]
                return False, (f"column names differ ({len(pn)} on PostgreSQL, {len(gn)} on the gateway"
                               + (": " + ", ".join(diff) if diff else "") + ")")
            prow, grow = self._rows(p, g, [(i, i) for i in range(len(pn))])
            pu = [r for r in prow if self.user.row(r, pn)]
            gu = [r for r in grow if self.user.row(r, pn)]
            only_p, only_g = _multiset_minus(pu, gu), _multiset_minus(gu, pu)
            if only_p:
                return False, (f"{len(only_p)} of PostgreSQL's {len(pu)} rows about the schema's objects "
                               "missing or different, e.g. " + _row(pn, only_p[0]))
            if only_g:
                return False, (f"{len(only_g)} gateway rows about the schema's objects PostgreSQL does not "
                               "have, e.g. " + _row(pn, min(only_g, key=repr)))
            compared += len(pu)
        return True, f"{compared} rows about the schema's objects equal"


class UserObjects:
    """Which rows are about the schema's objects (schema.pg.sql: its schemas, tables, views,
    indexes, types, constraints, enum labels and table columns, and the database they are
    created in), for the check of differs-by-construction entries: those rows must be the same
    on both sides, whatever else PostgreSQL lists. A row is about them when a normalized cell

    - holds one of their OIDs (`<kind name>` after Side.object_oids; PostgreSQL's TOAST tables
      excepted: DuckDB has none), or else, in a row that names no system schema (`pg_catalog`,
      `information_schema`, `pg_toast`: pg_catalog's view pg_hba_file_rules has a column
      `address`),
    - is exactly the name of one of their objects (also `schema.name`, also as an element of an
      array literal), or
    - is `<database>` (Side.database_name) in a result column for database names (its name
      contains `dat` or `cat`, or is `Name`: the gateway's database is called `default`, which is
      also a collation's name), or
    - is exactly a column name of the schema's tables (not one that is a built-in type name:
      `name`), in a result column that holds column names (its name contains `att` or `column`,
      or is `indexdef` / `elements`: `id` is also an ICU locale in pg_collation)."""

    SYMBOL = re.compile(r"<(class|type|constraint|attrdef|enum|rule|namespace|database) ([^<>]+|<database>)>")
    SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
    COLUMN_HEADER = re.compile(r"(?i)att|column|^indexdef$|^elements$")
    DATABASE_HEADER = re.compile(r"(?i)dat|cat|^name$")
    DATABASE_OID_HEADER = re.compile(r"(?i)dat|cat|oid|^name$")

    def __init__(self, pg_facts, columns, builtin_types):
        names = set()
        for kind, name in pg_facts["oids"].values():
            if kind in ("database", "attrdef", "rule") or name.startswith("pg_toast."):
                continue
            names.add(name.split(".")[-1])
            if kind in ("class", "type"):
                names.add(name)
        builtin = set(builtin_types)
        self.names = names
        self.columns = {c for c in columns if c not in builtin}

    @staticmethod
    def _has(v, names):
        if v in names:
            return True
        if len(v) > 2 and v[0] == "{" and v[-1] == "}":
            return any(x.strip('"') in names for x in v[1:-1].split(","))
        return False

    def oid_cell(self, v, header):
        """A cell holding a schema object's OID. The database's OID (16384 on PostgreSQL, the
        first user OID) only in a column for databases or OIDs: elsewhere it is a number that
        happens to be equal (pg_settings' shared_buffers is 16384 pages)."""
        return v is not None and any(
            not m.group(2).startswith("pg_toast.")
            and (m.group(1) != "database" or self.DATABASE_OID_HEADER.search(header))
            for m in self.SYMBOL.finditer(v))

    def row(self, r, headers):
        if any(self.oid_cell(v, h) for v, h in zip(r, headers)):
            return True
        if any(v in self.SYSTEM_SCHEMAS for v in r):
            return False
        return any(v is not None and (self._has(v, self.names) or
                                      (v == "<database>" and self.DATABASE_HEADER.search(h)) or
                                      (self.COLUMN_HEADER.search(h) and self._has(v, self.columns)))
                   for v, h in zip(r, headers))


def schema_columns(sql):
    """The column names of the CREATE TABLE statements of a schema file (schema.pg.sql)."""
    out = []
    for m in re.finditer(r"(?is)CREATE\s+TABLE\s+[\w.\"]+\s*\(", sql):
        depth, i, item, items = 1, m.end(), [], []
        while i < len(sql) and depth:
            c = sql[i]
            depth += (c == "(") - (c == ")")
            if (c == "," and depth == 1) or depth == 0:
                items.append("".join(item))
                item = []
            else:
                item.append(c)
            i += 1
        for it in items:
            w = it.split()
            if w and w[0].upper() not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "CONSTRAINT", "EXCLUDE"):
                out.append(w[0].strip('"'))
    return out


def _row(names, row, n=160):
    text = ", ".join(f"{k}={_show(v)}" for k, v in zip(names, row))
    return text if len(text) <= n else text[:n - 1] + "…"


def _multiset_minus(a, b):
    left = list(b)
    out = []
    for r in a:
        if r in left:
            left.remove(r)
        else:
            out.append(r)
    return out


def _pair(left_p, left_g):
    """Greedily pair PostgreSQL's unmatched rows with the gateway's most similar ones."""
    pairs, pool = [], sorted(left_g, key=repr)  # sorted: the report must not depend on the gateway's row order
    for r in left_p:
        if not pool:
            break
        best = max(range(len(pool)), key=lambda j: sum(x == y for x, y in zip(r, pool[j])))
        pairs.append((r, pool.pop(best)))
    return pairs
