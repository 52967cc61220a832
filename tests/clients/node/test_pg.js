// node-postgres (pg): simple queries (no parameters) and extended-protocol parameterized queries.
'use strict';
const fs = require('fs');
const assert = require('assert');
const { Client, types } = require('pg');

const C = 'node-pg';
let failed = 0;

function emit(feature, status, detail) {
  const d = String(detail || '').replace(/\s+/g, ' ').slice(0, 400);
  console.log(`RESULT\t${C}\t${feature}\t${status}\t${d}`);
}

async function check(feature, fn, gap = false) {
  try {
    await fn();
    emit(feature, 'PASS');
    return true;
  } catch (e) {
    emit(feature, gap ? 'GAP' : 'FAIL', `${e.code ? e.code + ' ' : ''}${e.message}`);
    if (!gap) failed++;
    return false;
  }
}

const env = process.env;
const config = () => ({
  host: env.PGHOST, port: Number(env.PGPORT), user: env.PGUSER, database: env.PGDATABASE,
  password: env.PGPASSWORD,
  ssl: { ca: fs.readFileSync(env.PGSSLROOTCERT), servername: 'localhost', rejectUnauthorized: true },
});

let client;

async function main() {
  const ok = await check('connect+scram+tls', async () => {
    client = new Client(config());
    await client.connect();
    assert.strictEqual(client.connection.stream.encrypted, true, 'TLS');
    const r = await client.query('SELECT 41 + 1 AS answer');
    assert.deepStrictEqual(r.rows, [{ answer: 42 }]);
    await client.query("SET TimeZone = 'UTC'");
  });
  if (!ok) return;

  const typesSql =
    "SELECT 1::SMALLINT a, 2::INTEGER b, 3000000000::BIGINT c, 1.5::FLOAT d, 2.25::DOUBLE e," +
    " 12.34::DECIMAL(10,2) f, 'héllo'::TEXT g, true h, DATE '2024-01-02' i, TIME '12:34:56.789' j," +
    " TIMESTAMP '2024-01-02 03:04:05.123' k, TIMESTAMPTZ '2024-01-02 03:04:05+00' l," +
    " INTERVAL '1 day 2 hours' m, UUID '12345678-1234-5678-1234-567812345678' n," +
    " '\\x01\\x02\\xFF'::BLOB o, '{\"a\": [1, 2]}'::JSON p, [1, 2, 3] q, ['a', NULL] r, NULL::INTEGER s";
  const checkTypes = (r) => {
    assert.deepStrictEqual(r.fields.map((f) => f.dataTypeID),
      [21, 23, 20, 700, 701, 1700, 25, 16, 1082, 1083, 1114, 1184, 1186, 2950, 17, 114, 1007, 1009, 23]);
    const row = r.rows[0];
    // pg's default parsers: int8 and numeric stay strings, date becomes a local-midnight Date
    assert.deepStrictEqual([row.a, row.b, row.c, row.d, row.e, row.f, row.g, row.h],
      [1, 2, '3000000000', 1.5, 2.25, '12.34', 'héllo', true]);
    assert.strictEqual(row.i.getFullYear() * 10000 + (row.i.getMonth() + 1) * 100 + row.i.getDate(), 20240102);
    assert.strictEqual(row.j, '12:34:56.789');
    assert.strictEqual(row.l.toISOString(), '2024-01-02T03:04:05.000Z');
    assert.deepStrictEqual({ days: row.m.days, hours: row.m.hours }, { days: 1, hours: 2 });
    assert.strictEqual(row.n, '12345678-1234-5678-1234-567812345678');
    assert.deepStrictEqual([...row.o], [1, 2, 255]);
    assert.deepStrictEqual(row.p, { a: [1, 2] });
    assert.deepStrictEqual(row.q, [1, 2, 3]);
    assert.deepStrictEqual(row.r, ['a', null]);
    assert.strictEqual(row.s, null);
  };
  await check('types (simple)', async () => checkTypes(await client.query(typesSql)));
  await check('types (extended)', async () =>
    checkTypes(await client.query({ text: typesSql + ' WHERE $1::INTEGER = 1', values: [1] })));

  await check('params', async () => {
    await client.query('CREATE OR REPLACE TABLE node_t (id INTEGER, name VARCHAR, price DECIMAL(10,2),' +
      ' ts TIMESTAMPTZ, data BLOB, tags VARCHAR[], doc JSON, ok BOOLEAN)');
    const ts = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    for (let i = 1; i <= 3; i++) {
      await client.query('INSERT INTO node_t VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [i, `n'${i}`, `${i}.50`, ts, Buffer.from([i, 0, 255]), [`t${i}`, null], { k: i }, i === 2]);
    }
    const r = await client.query('SELECT * FROM node_t WHERE id > $1 AND name LIKE $2 ORDER BY id', [1, "n'%"]);
    assert.strictEqual(r.rowCount, 2);
    const row = r.rows[0];
    assert.deepStrictEqual([row.id, row.name, row.price, row.ts.getTime(), [...row.data], row.tags, row.doc, row.ok],
      [2, "n'2", '2.50', ts.getTime(), [2, 0, 255], ['t2', null], { k: 2 }, true]);
    // a prepared (named) statement reused
    for (const id of [1, 3]) {
      const q = await client.query({ name: 'by_id', text: 'SELECT name FROM node_t WHERE id = $1', values: [id] });
      assert.deepStrictEqual(q.rows, [{ name: `n'${id}` }]);
    }
  });

  await check('rowMode array + custom parser', async () => {
    const r = await client.query({ text: 'SELECT 9007199254740993::BIGINT, 0.1::DECIMAL(3,2)', rowMode: 'array',
      types: { getTypeParser: (oid) => (oid === 20 ? BigInt : types.getTypeParser(oid)) } });
    assert.deepStrictEqual(r.rows, [[9007199254740993n, '0.10']]);
  });

  await check('transactions', async () => {
    await client.query('CREATE OR REPLACE TABLE node_tx (a INTEGER)');
    await client.query('BEGIN');
    await client.query('INSERT INTO node_tx VALUES (1)');
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query('INSERT INTO node_tx VALUES (2)');
    await assert.rejects(client.query('SELECT * FROM node_missing'), (e) => e.code === '42P01');
    await assert.rejects(client.query('SELECT 1'), (e) => e.code === '25P02');
    await client.query('ROLLBACK');
    const r = await client.query('SELECT list(a) AS l FROM node_tx');
    assert.deepStrictEqual(r.rows[0].l, [1]);
  });

  await check('errors', async () => {
    await assert.rejects(client.query('SELEC 1'), (e) => e.code === '42601');
    await assert.rejects(client.query('SELECT $1::INTEGER', ['nope']), (e) => e.code === '22P02');
    const r = await client.query('SELECT 1 AS still_alive');
    assert.strictEqual(r.rows[0].still_alive, 1);
  });

  await check('set/show', async () => {
    await client.query("SET application_name = 'node-suite'");
    const r = await client.query('SHOW application_name');
    assert.strictEqual(r.rows[0].application_name, 'node-suite');
    await client.query("SET TimeZone = 'Asia/Tokyo'");
    const t = await client.query({ text: "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS s",
      types: { getTypeParser: () => (v) => v } });
    assert.strictEqual(t.rows[0].s, '2024-01-01 09:00:00+09');
    await client.query("SET TimeZone = 'UTC'");
  });

  await check('multi-statement simple query', async () => {
    const rs = await client.query('SELECT 1 AS x; SELECT 2 AS y');
    assert.deepStrictEqual(rs.map((r) => r.rows[0]), [{ x: 1 }, { y: 2 }]);
  });

  await check('end', async () => client.end());
}

main().then(() => process.exit(failed ? 1 : 0), (e) => { console.error(e); process.exit(2); });
