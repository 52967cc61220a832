"""psycopg 3 (libpq, extended protocol with server-side parameters, text and binary)."""
import datetime
import decimal
import uuid

import psycopg
from psycopg.types.json import Json
from psycopg.types import TypeInfo

from harness import conninfo, eq, finish, run

C = "psycopg3"
conn = None

TYPES_SQL = (
    "SELECT 1::SMALLINT, 2::INTEGER, 3000000000::BIGINT, 1.5::FLOAT, 2.25::DOUBLE,"
    " 12.34::DECIMAL(10,2), 'héllo'::TEXT, true, DATE '2024-01-02', TIME '12:34:56.789',"
    " TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05+00',"
    " INTERVAL '1 day 2 hours', UUID '12345678-1234-5678-1234-567812345678',"
    " '\\x01\\x02\\xFF'::BLOB, '{\"a\": [1, 2]}'::JSON, [1, 2, 3], ['a', NULL], NULL::INTEGER"
)
TYPES_WANT = (
    1, 2, 3000000000, 1.5, 2.25, decimal.Decimal("12.34"), "héllo", True,
    datetime.date(2024, 1, 2), datetime.time(12, 34, 56, 789000),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
    datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    datetime.timedelta(days=1, hours=2), uuid.UUID("12345678-1234-5678-1234-567812345678"),
    b"\x01\x02\xff", {"a": [1, 2]}, [1, 2, 3], ["a", None], None,
)
TYPES_OIDS = [21, 23, 20, 700, 701, 1700, 25, 16, 1082, 1083, 1114, 1184, 1186, 2950, 17, 114,
              1007, 1009, 23]


def connect():
    global conn
    conn = psycopg.connect(conninfo(), autocommit=True)
    eq(conn.pgconn.ssl_in_use, True, "ssl")
    eq(conn.info.parameter_status("TimeZone") is not None, True, "TimeZone reported")
    conn.execute("SET TimeZone = 'UTC'")
    eq(conn.execute("SELECT 41 + 1").fetchone(), (42,), "select")


def types_text():
    cur = conn.execute(TYPES_SQL)
    row = cur.fetchone()
    eq([d.type_code for d in cur.description], TYPES_OIDS, "type OIDs")
    eq(row, TYPES_WANT, "values")


def types_binary():
    cur = conn.cursor(binary=True)
    cur.execute(TYPES_SQL)
    eq(cur.pgresult.fformat(0), 1, "binary result format")
    row = cur.fetchone()
    eq([d.type_code for d in cur.description], TYPES_OIDS, "type OIDs")
    eq(row, TYPES_WANT, "values")


def params():
    tz = datetime.timezone(datetime.timedelta(hours=2))
    vals = [7, 2 ** 40, 1.25, decimal.Decimal("-123.4500"), "quote ' and \\ backslash", True,
            datetime.date(1999, 12, 31), datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
            datetime.datetime(2024, 6, 1, 12, 0, tzinfo=tz), datetime.time(1, 2, 3),
            datetime.timedelta(days=3, seconds=5), uuid.UUID(int=255), b"\x00\x01\xfe",
            [1, 2, None]]
    ph = ", ".join(["%s"] * len(vals))
    for binary in (False, True):
        row = conn.execute(f"SELECT {ph}", vals, binary=binary).fetchone()
        got = list(row)
        want = list(vals)
        want[8] = vals[8].astimezone(datetime.timezone.utc)
        eq(got, want, f"params binary={binary}")
    # psycopg sends binary parameters with binary=True too (%b)
    row = conn.execute("SELECT %b::BIGINT + 1, %b || '!', %b", [41, "hi", b"\xff\x00"]).fetchone()
    eq(row, (42, "hi!", b"\xff\x00"), "binary params")
    eq(conn.execute("SELECT %s::JSON", [Json({"k": [1, "v"]})]).fetchone()[0], {"k": [1, "v"]}, "json param")


def any_array():
    # psycopg sends a Python str as `unknown` and so a list of str as an unknown-typed '{x,y}';
    # the gateway types a placeholder that is the whole argument of ANY/ALL as an array
    from psycopg.types.string import StrDumper
    conn.execute("CREATE OR REPLACE TABLE py3_any (s VARCHAR, i INTEGER)")
    conn.execute("INSERT INTO py3_any VALUES ('x', 1), ('y', 2), ('z', 3)")
    eq(conn.execute("SELECT s FROM py3_any WHERE i = ANY(%s) ORDER BY i", [[1, 3]]).fetchall(),
       [("x",), ("z",)], "int list")
    eq(conn.execute("SELECT i FROM py3_any WHERE s = ANY(%s) ORDER BY i", [["x", "z"]]).fetchall(),
       [(1,), (3,)], "text list, default dumpers")
    # and with psycopg's StrDumper (str as text, lists as text[])
    cur = conn.cursor()
    cur.adapters.register_dumper(str, StrDumper)
    eq(cur.execute("SELECT i FROM py3_any WHERE s = ANY(%s) ORDER BY i", [["x", "z"]]).fetchall(),
       [(1,), (3,)], "text list")
    eq(cur.execute("SELECT %s", [["a", None, "c"]]).fetchone()[0], ["a", None, "c"], "text[] param")


def prepared():
    conn.execute("CREATE OR REPLACE TABLE py3_prep (id INTEGER, v VARCHAR)")
    for i in range(5):
        conn.execute("INSERT INTO py3_prep VALUES (%s, %s)", (i, f"v{i}"), prepare=True)
    got = [conn.execute("SELECT v FROM py3_prep WHERE id = %s", (i,), prepare=True).fetchone()[0]
           for i in range(5)]
    eq(got, [f"v{i}" for i in range(5)], "prepared selects")
    eq(len(conn._prepared._names) >= 2, True, "statements were prepared server-side")
    # executemany runs in pipeline mode in psycopg 3
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO py3_prep VALUES (%s, %s)", [(i, f"m{i}") for i in range(10, 20)])
        eq(cur.rowcount, 10, "executemany rowcount")
    eq(conn.execute("SELECT count(*), sum(id) FROM py3_prep").fetchone(), (15, 155), "rows")


def pipeline():
    with conn.pipeline():
        c1 = conn.execute("SELECT 1")
        c2 = conn.execute("SELECT %s::INTEGER * 2", [21])
        c3 = conn.execute("SELECT 'p'")
    eq((c1.fetchone(), c2.fetchone(), c3.fetchone()), ((1,), (42,), ("p",)), "pipeline results")


def transactions():
    conn.execute("CREATE OR REPLACE TABLE py3_tx (a INTEGER)")
    with conn.transaction():
        conn.execute("INSERT INTO py3_tx VALUES (1)")
    try:
        with conn.transaction():
            conn.execute("INSERT INTO py3_tx VALUES (2)")
            raise RuntimeError("roll me back")
    except RuntimeError:
        pass
    try:
        conn.execute("SELECT nope FROM py3_tx")
        raise AssertionError("no error")
    except psycopg.errors.UndefinedColumn as e:
        eq(e.sqlstate, "42703", "sqlstate")
    eq(conn.execute("SELECT list(a) FROM py3_tx").fetchone()[0], [1], "committed rows")


def rollback_prepared():
    # psycopg prepares a query server-side after 5 runs, then sends `DEALLOCATE ALL` at rollback
    with psycopg.connect(conninfo()) as c2:
        for i in range(6):
            eq(c2.execute("SELECT %s::INTEGER + 1", [i]).fetchone()[0], i + 1, "auto-prepared")
        eq(len(c2._prepared._names), 1, "auto-prepared statements")
        c2.rollback()
        eq(c2.execute("SELECT %s::INTEGER + 1", [41]).fetchone()[0], 42, "after rollback")
        c2.commit()


def copy():
    conn.execute("CREATE OR REPLACE TABLE py3_copy (i INTEGER, s VARCHAR, d DATE, f DOUBLE)")
    rows = [(1, "a\tb", datetime.date(2024, 1, 1), 0.5), (2, None, None, None),
            (3, "ünï", datetime.date(1970, 1, 1), -1e10)]
    with conn.cursor() as cur:
        with cur.copy("COPY py3_copy FROM STDIN") as cp:
            for r in rows[:2]:
                cp.write_row(r)
        with cur.copy("COPY py3_copy FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "text", "date", "float8"])
            cp.write_row(rows[2])
        out = []
        with cur.copy("COPY (SELECT * FROM py3_copy ORDER BY i) TO STDOUT") as cp:
            cp.set_types(["int4", "text", "date", "float8"])
            out.extend(cp.rows())
        eq(out, rows, "text COPY TO")
        out = []
        with cur.copy("COPY (SELECT * FROM py3_copy ORDER BY i) TO STDOUT (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "text", "date", "float8"])
            out.extend(cp.rows())
        eq(out, rows, "binary COPY TO")


def server_cursor():
    # a named cursor: DECLARE, then FETCH FORWARD itersize; nested transaction() blocks are
    # savepoints, released when they succeed
    with conn.transaction():
        with conn.transaction():
            with conn.cursor(name="py3_sc") as cur:
                cur.itersize = 1000
                cur.execute("SELECT i, i::VARCHAR AS s FROM range(5000) t(i) ORDER BY i")
                rows = list(cur)
                eq(len(rows), 5000, "rows")
                eq(rows[-1], (4999, "4999"), "last row")
                eq(cur.description[1].name, "s", "column name")


def type_info():
    # TypeInfo.fetch queries pg_type (catalog introspection)
    t = TypeInfo.fetch(conn, "json")
    eq(t is not None and t.oid, 114, "json oid")
    t = TypeInfo.fetch(conn, "int4")
    eq(t is not None and (t.oid, t.array_oid), (23, 1007), "int4 oids")


for name, fn, gap in [("connect+scram+tls", connect, False), ("types text", types_text, False),
                      ("types binary", types_binary, False), ("params", params, False),
                      ("= ANY(list)", any_array, False),
                      ("prepare=True+executemany", prepared, False), ("pipeline", pipeline, False),
                      ("transactions", transactions, False),
                      ("rollback after auto-prepare", rollback_prepared, False), ("cursor.copy", copy, False),
                      ("server cursor in a savepoint", server_cursor, False),
                      ("TypeInfo.fetch", type_info, True)]:
    if not run(C, name, fn, gap=gap) and conn is None:
        break
finish()
