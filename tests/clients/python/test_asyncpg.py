"""asyncpg (own protocol implementation: extended protocol, binary format, type introspection)."""
import asyncio
import datetime
import decimal
import os
import ssl
import uuid

import asyncpg

from harness import eq, finish, run

C = "asyncpg"


def ssl_ctx():
    ctx = ssl.create_default_context(cafile=os.environ["PGSSLROOTCERT"])
    ctx.check_hostname = True
    return ctx


async def connect():
    e = os.environ
    return await asyncpg.connect(host=e["PGHOST"], port=int(e["PGPORT"]), user=e["PGUSER"],
                                 password=e["PGPASSWORD"], database=e["PGDATABASE"], ssl=ssl_ctx())


def sync(coro_fn):
    return lambda: LOOP.run_until_complete(coro_fn())


conn = None


async def t_connect():
    global conn
    conn = await connect()
    eq(conn.get_server_version().major >= 16, True, "server version")
    eq(await conn.fetchval("SELECT 41 + 1"), 42, "fetchval")


async def t_types():
    # asyncpg decodes every result in binary; these are builtin types (no introspection needed)
    row = await conn.fetchrow(
        "SELECT 1::SMALLINT a, 2::INTEGER b, 3000000000::BIGINT c, 1.5::FLOAT d, 2.25::DOUBLE e,"
        " 12.34::DECIMAL(10,2) f, 'héllo'::TEXT g, true h, DATE '2024-01-02' i, TIME '12:34:56.789' j,"
        " TIMESTAMP '2024-01-02 03:04:05.123456' k, TIMESTAMPTZ '2024-01-02 03:04:05+00' l,"
        " INTERVAL '1 day 2 hours' m, UUID '12345678-1234-5678-1234-567812345678' n,"
        " '\\x01\\x02\\xFF'::BLOB o, NULL::INTEGER r")
    want = (1, 2, 3000000000, 1.5, 2.25, decimal.Decimal("12.34"), "héllo", True,
            datetime.date(2024, 1, 2), datetime.time(12, 34, 56, 789000),
            datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
            datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            datetime.timedelta(days=1, hours=2), uuid.UUID("12345678-1234-5678-1234-567812345678"),
            b"\x01\x02\xff", None)
    eq(tuple(row.values()), want, "values")


async def t_arrays():
    # asyncpg has no builtin array codecs: it looks every array type up in pg_type / pg_range
    row = await conn.fetchrow("SELECT [1, 2, 3] a, ['a', NULL] b, $1::BIGINT[] c", [5, None, 7])
    eq(tuple(row.values()), ([1, 2, 3], ["a", None], [5, None, 7]), "arrays")


async def t_json():
    # json is a builtin codec in asyncpg (decoded as str)
    eq(await conn.fetchval("SELECT '{\"a\": [1, 2]}'::JSON"), '{"a": [1, 2]}', "json")


async def t_params():
    await conn.execute("CREATE OR REPLACE TABLE apg_t (id BIGINT, name VARCHAR, amount DECIMAL(12,3),"
                       " ts TIMESTAMP, tstz TIMESTAMPTZ, day DATE, data BLOB, u UUID,"
                       " ok BOOLEAN, f DOUBLE)")
    tz = datetime.timezone(datetime.timedelta(hours=-3))
    rows = [(i, f"n{i}", decimal.Decimal(i) / 8, datetime.datetime(2024, 5, i, 1, 2, 3, 4),
             datetime.datetime(2024, 5, i, 1, 2, 3, tzinfo=tz), datetime.date(2020, 2, i),
             bytes([i, 0, 255]), uuid.UUID(int=i), i % 2 == 0, i / 3)
            for i in range(1, 6)]
    await conn.executemany("INSERT INTO apg_t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                           rows)
    got = await conn.fetch("SELECT * FROM apg_t WHERE id >= $1 ORDER BY id", 2)
    eq(len(got), 4, "rows")
    for g, r in zip(got, rows[1:]):
        r = list(r)
        r[4] = r[4].astimezone(datetime.timezone.utc)
        eq(list(g.values()), r, f"row {r[0]}")


async def t_prepared():
    stmt = await conn.prepare("SELECT name, amount FROM apg_t WHERE id = $1")
    eq([a.type.name for a in stmt.get_attributes()], ["text", "numeric"], "attribute types")
    eq([t.name for t in stmt.get_parameters()], ["int8"], "parameter types")
    eq(await stmt.fetchrow(3), ("n3", decimal.Decimal("0.375")), "fetchrow")
    eq(await stmt.fetchval(5), "n5", "fetchval")
    # cursors need a transaction: Execute with a row limit (portal suspension)
    async with conn.transaction():
        cur = await conn.cursor("SELECT id FROM range(1000) t(id) ORDER BY id")
        first = await cur.fetch(10)
        eq([r[0] for r in first], list(range(10)), "first batch")
        more = await cur.fetch(5)
        eq([r[0] for r in more], list(range(10, 15)), "second batch")
        n = 0
        async for _ in conn.cursor("SELECT id FROM range(2500) t(id)", prefetch=100):
            n += 1
        eq(n, 2500, "iterated rows")


async def t_transactions():
    await conn.execute("CREATE OR REPLACE TABLE apg_tx (a INTEGER)")
    async with conn.transaction():
        await conn.execute("INSERT INTO apg_tx VALUES (1)")
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO apg_tx VALUES (2)")
            await conn.execute("SELECT * FROM apg_missing")
    except asyncpg.exceptions.UndefinedTableError as e:
        eq(e.sqlstate, "42P01", "sqlstate")
    eq(await conn.fetchval("SELECT string_agg(a::VARCHAR, ',') FROM apg_tx"), "1", "committed rows")


async def t_copy():
    await conn.execute("CREATE OR REPLACE TABLE apg_copy (i INTEGER, s VARCHAR, d DATE)")
    recs = [(1, "a", datetime.date(2024, 1, 1)), (2, None, None)]
    # copy_records_to_table uses binary COPY; asyncpg asks pg_catalog for the column types first
    r = await conn.copy_records_to_table("apg_copy", records=recs, columns=["i", "s", "d"])
    eq(r, "COPY 2", "status")
    eq([tuple(x) for x in await conn.fetch("SELECT * FROM apg_copy ORDER BY i")], recs, "copied rows")


async def t_copy_out():
    import io
    buf = io.BytesIO()
    await conn.copy_from_query("SELECT i, s FROM range(3) t(i), (SELECT 'x' s) ORDER BY i", output=buf,
                               format="csv")
    eq(buf.getvalue(), b"0,x\n1,x\n2,x\n", "csv out")


async def t_introspect_enum():
    # a non-builtin result type (an ENUM travels as text, so use a json[] / composite path):
    # set_type_codec looks the type up in pg_type / pg_namespace
    await conn.set_type_codec("json", encoder=lambda v: v, decoder=lambda v: "decoded:" + v,
                              schema="pg_catalog")
    eq(await conn.fetchval("SELECT '{\"k\":1}'::JSON"), 'decoded:{"k":1}', "custom codec")


async def t_close():
    await conn.close()


LOOP = asyncio.new_event_loop()
for name, fn, gap in [("connect+scram+tls", t_connect, False), ("types binary", t_types, False),
                      ("json", t_json, False), ("arrays (type introspection)", t_arrays, True), ("params+executemany", t_params, False),
                      ("prepare+cursor", t_prepared, False), ("transactions", t_transactions, False),
                      ("copy_from_query", t_copy_out, False),
                      ("copy_records_to_table", t_copy, True),
                      ("set_type_codec", t_introspect_enum, True), ("close", t_close, False)]:
    if not run(C, name, sync(fn), gap=gap) and conn is None:
        break
finish()
