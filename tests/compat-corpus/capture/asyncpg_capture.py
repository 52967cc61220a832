"""asyncpg: type introspection on prepare (arrays, enums, composites), codecs, pool reset."""
import asyncio
import json
import asyncpg
from common import OWN, params, step


async def main():
    p = params("asyncpg")
    kw = dict(host=p["host"], port=p["port"], user=p["user"], database=p["dbname"],
              server_settings={"application_name": "asyncpg"})
    conn = await asyncpg.connect(**kw)
    # Parameters and results of types asyncpg has no built-in codec for: it introspects.
    await conn.fetch(OWN + "SELECT id, tags, mood FROM customers WHERE id = ANY($1::int[])", [1, 2])
    await conn.fetch(OWN + "SELECT $1::mood, ROW('x', 'y')::address", "sad")
    await conn.fetch(OWN + "SELECT tags FROM customers WHERE mood = $1", "happy")
    stmt = await conn.prepare(OWN + "SELECT $1::text[] AS a, $2::address AS r")
    stmt.get_attributes(); stmt.get_parameters()
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    async with conn.transaction():
        await conn.execute(OWN + "SELECT 1")
    await conn.copy_records_to_table("items", records=[("Z-9", 1, 1.5)], schema_name="inventory")
    await conn.execute(OWN + "DELETE FROM inventory.items WHERE sku = 'Z-9'")
    await conn.close()
    pool = await asyncpg.create_pool(min_size=1, max_size=1, **kw)
    async with pool.acquire() as c:
        await c.fetchval(OWN + "SELECT 1")
    async with pool.acquire() as c:  # released once: the reset query ran
        await c.fetchval(OWN + "SELECT 2")
    await pool.close()


asyncio.run(main())
