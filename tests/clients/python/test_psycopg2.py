"""psycopg2 (libpq, simple query protocol with client-side parameter interpolation)."""
import datetime
import decimal
import io
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from harness import conninfo, eq, finish, run

C = "psycopg2"
conn = None


def connect():
    global conn
    conn = psycopg2.connect(conninfo())
    eq(conn.info.ssl_in_use, True, "ssl")
    eq(conn.info.used_password, True, "password used")
    eq(conn.server_version >= 160000, True, f"server_version {conn.server_version}")
    with conn.cursor() as cur:
        cur.execute("SELECT 41 + 1")
        eq(cur.fetchone(), (42,), "select")
    conn.commit()


def types():
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1::SMALLINT, 2::INTEGER, 3000000000::BIGINT, 1.5::FLOAT, 2.25::DOUBLE,"
            " 12.34::DECIMAL(10,2), 'héllo'::TEXT, true, DATE '2024-01-02', TIME '12:34:56.789',"
            " TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05+00',"
            " INTERVAL '1 day 2 hours', UUID '12345678-1234-5678-1234-567812345678',"
            " '\\x01\\x02\\xFF'::BLOB, '{\"a\": [1, 2]}'::JSON, [1, 2, 3], ['a', NULL], NULL::INTEGER"
        )
        row = cur.fetchone()
        oids = [d.type_code for d in cur.description]
    conn.commit()
    eq(oids, [21, 23, 20, 700, 701, 1700, 25, 16, 1082, 1083, 1114, 1184, 1186, 2950, 17, 114,
              1007, 1009, 23], "type OIDs")
    want = (1, 2, 3000000000, 1.5, 2.25, decimal.Decimal("12.34"), "héllo", True,
            datetime.date(2024, 1, 2), datetime.time(12, 34, 56, 789000),
            datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
            datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            datetime.timedelta(days=1, hours=2), "12345678-1234-5678-1234-567812345678")
    eq(row[:14], want, "scalars")
    eq(bytes(row[14]), b"\x01\x02\xff", "bytea")
    eq(row[15], {"a": [1, 2]}, "json")
    eq(row[16], [1, 2, 3], "int[]")
    eq(row[17], ["a", None], "text[]")
    eq(row[18], None, "null")


def params():
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE TABLE py2_t (id INTEGER, name VARCHAR, amount DECIMAL(12,3),"
                    " ts TIMESTAMP, day DATE, data BLOB, u UUID)")
        rows = [(i, f"n{i}'\"", decimal.Decimal(i) / 8, datetime.datetime(2024, 5, i, 1, 2, 3),
                 datetime.date(2020, 2, i), bytes([i, 0, 255]), uuid.UUID(int=i)) for i in range(1, 6)]
        cur.executemany("INSERT INTO py2_t VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(a, b, c, d, e, psycopg2.Binary(f), str(g)) for a, b, c, d, e, f, g in rows])
        cur.execute("SELECT id, name, amount, ts, day, data, u FROM py2_t WHERE id >= %(lo)s ORDER BY id",
                    {"lo": 2})
        got = cur.fetchall()
    conn.commit()
    eq(len(got), 4, "rows")
    for g, r in zip(got, rows[1:]):
        eq(g[:5], r[:5], "row")
        eq(bytes(g[5]), r[5], "blob")
        eq(g[6], str(r[6]), "uuid")


def transactions():
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE TABLE py2_tx (a INTEGER)")
        conn.commit()
        cur.execute("INSERT INTO py2_tx VALUES (1)")
        conn.rollback()
        cur.execute("INSERT INTO py2_tx VALUES (2)")
        conn.commit()
        try:
            cur.execute("SELECT * FROM py2_missing_table")
            raise AssertionError("no error")
        except psycopg2.errors.UndefinedTable as e:
            eq(e.pgcode, "42P01", "sqlstate")
        try:
            cur.execute("SELECT 1")
            raise AssertionError("aborted transaction accepted a statement")
        except psycopg2.errors.InFailedSqlTransaction as e:
            eq(e.pgcode, "25P02", "sqlstate")
        conn.rollback()
        cur.execute("SELECT list(a ORDER BY a) FROM py2_tx")
        eq(cur.fetchone()[0], [2], "committed rows")
    conn.commit()


def settings():
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SET application_name = 'py2-suite'")
            cur.execute("SHOW application_name")
            eq(cur.fetchone()[0], "py2-suite", "application_name")
            cur.execute("SET TimeZone = 'America/New_York'")
            cur.execute("SELECT TIMESTAMPTZ '2024-01-01 12:00:00+00'")
            ts = cur.fetchone()[0]
            eq(ts.utcoffset(), datetime.timedelta(hours=-5), "offset")
            eq(ts.hour, 7, "local hour")
            eq(conn.get_parameter_status("TimeZone"), "America/New_York", "ParameterStatus TimeZone")
            cur.execute("SET TimeZone = 'UTC'")
    finally:
        conn.autocommit = False


def copy():
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE TABLE py2_copy (i INTEGER, s VARCHAR, d DATE)")
        cur.copy_expert("COPY py2_copy FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.StringIO('i,s,d\n1,"a, b",2024-01-01\n2,,2024-01-02\n3,"x""y",\n'))
        eq(cur.rowcount, 3, "COPY FROM rowcount")
        cur.copy_expert("COPY py2_copy FROM STDIN", io.StringIO("4\ttab\\there\t\\N\n"))
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT i, s, d FROM py2_copy ORDER BY i) TO STDOUT WITH (FORMAT csv)", out)
        eq(out.getvalue(), '1,"a, b",2024-01-01\n2,,2024-01-02\n3,"x""y",\n4,tab\there,\n', "csv out")
        out = io.StringIO()
        cur.copy_expert("COPY py2_copy TO STDOUT", out)
        eq(sorted(out.getvalue().splitlines())[3], "4\ttab\\there\t\\N", "text out")
    conn.commit()


def named_cursor():
    # a named cursor is DECLARE ... CURSOR + FETCH FORWARD itersize (server-side streaming)
    with conn.cursor(name="py2_big") as cur:
        cur.itersize = 5000
        cur.execute("SELECT i, i::VARCHAR FROM range(100000) t(i) ORDER BY i")
        n, last = 0, None
        for row in cur:
            n, last = n + 1, row
        eq(n, 100000, "rows through the cursor")
        eq(last, (99999, "99999"), "last row")
    conn.commit()
    with conn.cursor(name="py2_held", withhold=True) as cur:
        cur.execute("SELECT i FROM range(10) t(i) ORDER BY i")
        eq(cur.fetchmany(3), [(0,), (1,), (2,)], "fetchmany")
        conn.commit()
        eq(cur.fetchall(), [(i,) for i in range(3, 10)], "WITH HOLD after commit")


for name, fn in [("connect+scram+tls", connect), ("types", types), ("params", params),
                 ("transactions", transactions), ("set/show", settings), ("copy", copy),
                 ("named cursor", named_cursor)]:
    if not run(C, name, fn) and name.startswith("connect"):
        break
    if conn is not None and conn.status != psycopg2.extensions.STATUS_READY:
        conn.rollback()
finish()
