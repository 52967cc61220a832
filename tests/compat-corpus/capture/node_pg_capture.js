// node-postgres: it sends nothing on its own beyond the startup packet; a parameterized and a
// named query and a transaction show that (all marked own: pg itself sends no SQL).
const { Client } = require('pg');
const OWN = '/*own*/ ';
(async () => {
  const e = process.env;
  const c = new Client({ host: e.CORPUS_HOST || '127.0.0.1', port: +(e.CORPUS_PORT || 54333),
    user: e.CORPUS_USER || 'corpus', database: e.CORPUS_DB || 'corpus', application_name: 'node-pg',
    statement_timeout: 10000, idle_in_transaction_session_timeout: 10000 });
  await c.connect();
  await c.query(OWN + 'SELECT id, name FROM customers WHERE id = $1', [1]);
  await c.query({ name: 'by_mood', text: OWN + 'SELECT name FROM customers WHERE mood = $1', values: ['happy'] });
  await c.query({ name: 'by_mood', text: OWN + 'SELECT name FROM customers WHERE mood = $1', values: ['sad'] });
  await c.query(OWN + 'BEGIN'); await c.query(OWN + 'SELECT 1'); await c.query(OWN + 'COMMIT');
  await c.end();
})().catch((err) => { console.error(err); process.exit(1); });
