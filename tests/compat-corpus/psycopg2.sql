-- Compatibility corpus: what psycopg2-binary 2.9.13 sends on its own.
-- Captured from PostgreSQL 15.18 (Debian 15.18-0+deb12u1) with log_statement=all by tests/compat-corpus/capture.sh;
-- the program: transactions, set_session, register_hstore/composite/range, named cursor (capture/psycopg2_capture.py).
-- Generated: edit the capture program, not this file. Format: see corpus.py.
-- 14 entries, 14 distinct statements.

-- next
-- id: psycopg2-001
-- protocol: simple
-- sent: 1
-- pg: 0 rows
BEGIN
-- next
-- id: psycopg2-002
-- protocol: simple
-- sent: 1
-- pg: 0 rows
COMMIT
-- next
-- id: psycopg2-003
-- protocol: simple
-- sent: 1
-- pg: 0 rows
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
-- next
-- id: psycopg2-004
-- protocol: simple
-- sent: 5
-- pg: 0 rows
ROLLBACK
-- next
-- id: psycopg2-005
-- protocol: simple
-- sent: 4
-- pg: 0 rows
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE
-- next
-- id: psycopg2-006
-- protocol: simple
-- sent: 1
-- pg: 0 rows
SELECT t.oid, typarray
FROM pg_type t JOIN pg_namespace ns
    ON typnamespace = ns.oid
WHERE typname = 'hstore';
-- next
-- id: psycopg2-007
-- protocol: simple
-- sent: 1
-- pg: 2 rows
SELECT t.oid, typarray, attname, atttypid
FROM pg_type t
JOIN pg_namespace ns ON typnamespace = ns.oid
JOIN pg_attribute a ON attrelid = typrelid
WHERE typname = 'address' AND nspname = 'public'
    AND attnum > 0 AND NOT attisdropped
ORDER BY attnum;
-- next
-- id: psycopg2-008
-- protocol: simple
-- sent: 1
-- pg: 0 rows
select rngtypid, rngsubtype, typarray
from pg_range r
join pg_type t on t.oid = rngtypid
join pg_namespace ns on ns.oid = typnamespace
where typname = 'int4range' and ns.nspname = 'public';
-- next
-- id: psycopg2-009
-- protocol: simple
-- sent: 1
-- pg: 0 rows
SAVEPOINT register_type
-- next
-- id: psycopg2-010
-- protocol: simple
-- sent: 1
-- pg: 1 row
-- differs-by-construction: pg_range: int4range is a PostgreSQL built-in range type; DuckDB has no range types
SELECT rngtypid, rngsubtype, typarray, typname, nspname
from pg_range r
join pg_type t on t.oid = rngtypid
join pg_namespace ns on ns.oid = typnamespace
WHERE t.oid = 'int4range'::regtype
-- next
-- id: psycopg2-011
-- protocol: simple
-- sent: 1
-- pg: 0 rows
ROLLBACK TO SAVEPOINT register_type
-- next
-- id: psycopg2-012
-- protocol: simple
-- sent: 1
-- pg: 0 rows
DECLARE "corpus_cur" CURSOR WITHOUT HOLD FOR /*own*/ SELECT * FROM orders
-- next
-- id: psycopg2-013
-- protocol: simple
-- sent: 1
-- pg: 1 row
FETCH FORWARD ALL FROM "corpus_cur"
-- next
-- id: psycopg2-014
-- protocol: simple
-- sent: 1
-- pg: 0 rows
CLOSE "corpus_cur"
