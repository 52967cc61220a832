"""SQLAlchemy 2 Core (psycopg 3 and psycopg2 dialects) and pandas.read_sql / to_sql."""
import datetime
import decimal
import os

import pandas as pd
import sqlalchemy as sa

from harness import eq, finish, run

C = "sqlalchemy"


def url(driver):
    e = os.environ
    return sa.engine.URL.create(
        f"postgresql+{driver}", username=e["PGUSER"], password=e["PGPASSWORD"], host=e["PGHOST"],
        port=int(e["PGPORT"]), database=e["PGDATABASE"],
        query={"sslmode": "verify-full", "sslrootcert": e["PGSSLROOTCERT"]})


engines = {}
meta = sa.MetaData()
items = sa.Table(
    "sa_items", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("created", sa.DateTime),
    sa.Column("active", sa.Boolean),
    sa.Column("payload", sa.LargeBinary),
)


def connect(driver):
    def fn():
        # default options: the psycopg dialect looks up hstore with TypeInfo.fetch inside a
        # SAVEPOINT at first connect
        eng = sa.create_engine(url(driver), pool_pre_ping=True)
        with eng.connect() as c:
            eq(c.execute(sa.text("SELECT 41 + :x"), {"x": 1}).scalar(), 42, "text()")
        # the dialect parsed version() at connect
        eq(eng.dialect.server_version_info[0] >= 16, True, f"server_version_info {eng.dialect.server_version_info}")
        engines[driver] = eng
    return fn


def core(driver):
    def fn():
        eng = engines[driver]
        with eng.begin() as c:
            c.execute(sa.text("DROP TABLE IF EXISTS sa_items"))
            # create_all asks has_table (pg_catalog) first, so DDL goes through text here;
            # the metadata path is the separate create_all check
            c.execute(sa.text("CREATE TABLE sa_items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL,"
                              " price DECIMAL(10,2), created TIMESTAMP, active BOOLEAN, payload BLOB)"))
            rows = [{"id": i, "name": f"item {i}", "price": decimal.Decimal(i) + decimal.Decimal("0.99"),
                     "created": datetime.datetime(2024, 1, i, 12), "active": i % 2 == 1,
                     "payload": bytes([i, 0, 0xff])} for i in range(1, 6)]
            c.execute(sa.insert(items), rows)
        with eng.connect() as c:
            q = (sa.select(items.c.id, items.c.name, items.c.price, items.c.payload)
                 .where(items.c.price > sa.bindparam("p")).where(items.c.active.is_(True))
                 .order_by(items.c.id.desc()))
            got = c.execute(q, {"p": decimal.Decimal("2")}).all()
            eq([tuple(r) for r in got], [(5, "item 5", decimal.Decimal("5.99"), bytes([5, 0, 0xff])),
                                         (3, "item 3", decimal.Decimal("3.99"), bytes([3, 0, 0xff]))],
               "select")
            eq(c.execute(sa.select(sa.func.count()).select_from(items)).scalar_one(), 5, "count")
        with eng.begin() as c:
            r = c.execute(sa.update(items).where(items.c.id == 2).values(name="two"))
            eq(r.rowcount, 1, "update rowcount")
        try:
            with eng.begin() as c:
                c.execute(sa.delete(items))
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
        with eng.connect() as c:
            eq(c.execute(sa.select(items.c.name).where(items.c.id == 2)).scalar_one(), "two", "after rollback")
            eq(c.execute(sa.select(sa.func.count()).select_from(items)).scalar_one(), 5, "rows kept")
    return fn


def pandas_read(driver):
    def fn():
        eng = engines[driver]
        with eng.connect() as c:
            df = pd.read_sql(sa.text("SELECT id, name, price, created, active FROM sa_items ORDER BY id"), c)
        eq(list(df.columns), ["id", "name", "price", "created", "active"], "columns")
        eq(df["id"].tolist(), [1, 2, 3, 4, 5], "ids")
        eq(df["name"].tolist()[:2], ["item 1", "two"], "names")
        eq(df["created"].iloc[0], pd.Timestamp("2024-01-01 12:00"), "timestamp")
        eq(str(df["created"].dtype).startswith("datetime64"), True, f"dtype {df['created'].dtype}")
        eq(df["active"].tolist(), [True, False, True, False, True], "bools")
        df2 = pd.read_sql_query("SELECT 1.5::DOUBLE AS f, DATE '2024-02-03' AS d", eng)
        eq((df2["f"].iloc[0], df2["d"].iloc[0]), (1.5, datetime.date(2024, 2, 3)), "read_sql_query")
    return fn


def inspect_tables(driver):
    def fn():
        names = sa.inspect(engines[driver]).get_table_names()
        eq("sa_items" in names, True, f"get_table_names {names}")
        cols = sa.inspect(engines[driver]).get_columns("sa_items")
        eq([c["name"] for c in cols], ["id", "name", "price", "created", "active", "payload"], "columns")
    return fn


def create_all(driver):
    def fn():
        m = sa.MetaData()
        # the integer primary key is SERIAL: the gateway creates its sequence
        t = sa.Table(f"sa_meta_{driver}", m,
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("v", sa.Text))
        m.drop_all(engines[driver])
        m.create_all(engines[driver])  # has_table → pg_catalog
        with engines[driver].begin() as c:
            r = c.execute(sa.insert(t).returning(t.c.id), [{"v": "a"}])
            eq(r.scalar_one(), 1, "generated id")
            eq(c.execute(sa.select(t.c.v)).scalar_one(), "a", "row")
    return fn


def to_sql(driver):
    def fn():
        df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
        # DataFrame.to_sql checks for the table through the inspector (pg_catalog)
        df.to_sql(f"sa_df_{driver}", engines[driver], if_exists="replace", index=False)
        back = pd.read_sql(f"SELECT * FROM sa_df_{driver} ORDER BY a", engines[driver])
        eq(back["a"].tolist(), [1, 2, 3], "ints")
        eq(back["b"].isna().tolist(), [False, True, False], "NULL")
        eq(back["b"].dropna().tolist(), ["x", "z"], "strings")
    return fn


for driver in ("psycopg", "psycopg2"):
    tag = f"sqlalchemy+{driver}"
    if not run(tag, "connect+version", connect(driver)):
        continue
    run(tag, "core insert/select/tx", core(driver))
    run(tag, "pandas.read_sql", pandas_read(driver))
    run(tag, "inspect()", inspect_tables(driver), gap=True)
    run(tag, "metadata.create_all", create_all(driver), gap=True)
    run(tag, "DataFrame.to_sql", to_sql(driver), gap=True)
finish()
