"""psycopg 3: TypeInfo and friends (they query pg_type), prepared statements, transactions."""
import psycopg
from psycopg.types import TypeInfo
from psycopg.types.composite import CompositeInfo
from psycopg.types.enum import EnumInfo
from psycopg.types.hstore import register_hstore
from psycopg.types.multirange import MultirangeInfo
from psycopg.types.range import RangeInfo
from common import OWN, dsn, step

conn = psycopg.connect(dsn("psycopg3"), autocommit=True)
step("TypeInfo.fetch(json)", lambda: TypeInfo.fetch(conn, "json"))
step("TypeInfo.fetch(hstore)", lambda: TypeInfo.fetch(conn, "hstore"))
step("TypeInfo.fetch(text[])", lambda: TypeInfo.fetch(conn, "text[]"))
step("EnumInfo.fetch(mood)", lambda: EnumInfo.fetch(conn, "mood"))
step("CompositeInfo.fetch(address)", lambda: CompositeInfo.fetch(conn, "address"))
step("RangeInfo.fetch(int4range)", lambda: RangeInfo.fetch(conn, "int4range"))
step("MultirangeInfo.fetch(int4multirange)", lambda: MultirangeInfo.fetch(conn, "int4multirange"))
step("register_hstore(None)", lambda: register_hstore(TypeInfo.fetch(conn, "hstore"), conn))
with conn.cursor() as cur:
    for _ in range(6):  # past prepare_threshold: a named prepared statement
        cur.execute(OWN + "SELECT name FROM customers WHERE id = %s", (1,))
    cur.execute(OWN + "SELECT 1", prepare=True)
conn.autocommit = False
with conn.transaction():
    with conn.transaction():  # nested: SAVEPOINT
        conn.execute(OWN + "SELECT 1")
conn.close()
