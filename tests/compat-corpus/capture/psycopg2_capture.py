"""psycopg2: what the driver and psycopg2.extras send on their own."""
import psycopg2
import psycopg2.extras
from common import OWN, dsn, step

conn = psycopg2.connect(dsn("psycopg2"))
cur = conn.cursor()
step("own query in an implicit transaction (BEGIN)", lambda: cur.execute(OWN + "SELECT id, name FROM customers WHERE id = %s", (1,)))
step("commit", conn.commit)
step("set_session(isolation, readonly)", lambda: conn.set_session(isolation_level="REPEATABLE READ", readonly=True))
step("query under set_session", lambda: cur.execute(OWN + "SELECT 1"))
step("rollback", conn.rollback)
conn.set_session(isolation_level="READ COMMITTED", readonly=False)
step("set_client_encoding", lambda: conn.set_client_encoding("UTF8"))
step("register_hstore", lambda: psycopg2.extras.register_hstore(conn))
conn.rollback()
step("register_composite(address)", lambda: psycopg2.extras.register_composite("address", conn))
conn.rollback()
step("register_range(int4range)", lambda: psycopg2.extras.register_range("int4range", "R", conn))
conn.rollback()
step("register_default_json", lambda: psycopg2.extras.register_default_jsonb(conn))
step("named cursor (DECLARE/FETCH)", lambda: (lambda c: (c.execute(OWN + "SELECT * FROM orders"), c.fetchall(), c.close()))(conn.cursor(name="corpus_cur")))
conn.rollback()
conn.autocommit = True
step("autocommit query", lambda: cur.execute(OWN + "SELECT 2"))
conn.close()
