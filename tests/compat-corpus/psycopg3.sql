-- Compatibility corpus: what psycopg[binary] 3.3.9 sends on its own.
-- Captured from PostgreSQL 15.18 (Debian 15.18-0+deb12u1) with log_statement=all by tests/compat-corpus/capture.sh;
-- the program: TypeInfo/EnumInfo/CompositeInfo/RangeInfo/MultirangeInfo.fetch, register_hstore, prepared statements, nested transactions (capture/psycopg3_capture.py).
-- Generated: edit the capture program, not this file. Format: see corpus.py.
-- 11 entries, 9 distinct statements.

-- next
-- id: psycopg3-001
-- protocol: simple
-- sent: 9
-- pg: 0 rows
BEGIN
-- next
-- id: psycopg3-002
-- protocol: extended
-- params: ["json"]
-- sent: 1
-- param-types: text
-- pg: 1 row
SELECT
    typname AS name, oid, typarray AS array_oid,
    oid::regtype::text AS regtype, typdelim AS delimiter
FROM pg_type t
WHERE t.oid = to_regtype($1)
ORDER BY t.oid
-- next
-- id: psycopg3-003
-- protocol: simple
-- sent: 9
-- pg: 0 rows
COMMIT
-- next
-- id: psycopg3-004
-- protocol: extended
-- params: ["hstore"]
-- sent: 2
-- param-types: text
-- pg: 0 rows
SELECT
    typname AS name, oid, typarray AS array_oid,
    oid::regtype::text AS regtype, typdelim AS delimiter
FROM pg_type t
WHERE t.oid = to_regtype($1)
ORDER BY t.oid
-- next
-- id: psycopg3-005
-- protocol: extended
-- params: ["text[]"]
-- sent: 1
-- param-types: text
-- pg: 1 row
SELECT
    typname AS name, oid, typarray AS array_oid,
    oid::regtype::text AS regtype, typdelim AS delimiter
FROM pg_type t
WHERE t.oid = to_regtype($1)
ORDER BY t.oid
-- next
-- id: psycopg3-006
-- protocol: extended
-- params: ["mood"]
-- sent: 1
-- param-types: text
-- pg: 1 row
SELECT name, oid, array_oid, regtype, array_agg(label) AS labels
FROM (
    SELECT
        t.typname AS name, t.oid AS oid, t.typarray AS array_oid,
        t.oid::regtype::text AS regtype, e.enumlabel AS label
    FROM pg_type t
    LEFT JOIN  pg_enum e
    ON e.enumtypid = t.oid
    WHERE t.oid = to_regtype($1)
    ORDER BY e.enumsortorder
) x
GROUP BY name, oid, array_oid, regtype
-- next
-- id: psycopg3-007
-- protocol: extended
-- params: ["address"]
-- sent: 1
-- param-types: text
-- pg: 1 row
SELECT
    t.typname AS name, t.oid AS oid, t.typarray AS array_oid,
    t.oid::regtype::text AS regtype,
    coalesce(a.fnames, '{}') AS field_names,
    coalesce(a.ftypes, '{}') AS field_types
FROM pg_type t
LEFT JOIN (
    SELECT
        attrelid,
        array_agg(attname) AS fnames,
        array_agg(atttypid) AS ftypes
    FROM (
        SELECT a.attrelid, a.attname, a.atttypid
        FROM pg_attribute a
        JOIN pg_type t ON t.typrelid = a.attrelid
        WHERE t.oid = to_regtype($1)
        AND a.attnum > 0
        AND NOT a.attisdropped
        ORDER BY a.attnum
    ) x
    GROUP BY attrelid
) a ON a.attrelid = t.typrelid
WHERE t.oid = to_regtype($1)
-- next
-- id: psycopg3-008
-- protocol: extended
-- params: ["int4range"]
-- sent: 1
-- param-types: text
-- pg: 1 row
-- differs-by-construction: pg_range: int4range is a PostgreSQL built-in range type; DuckDB has no range types
SELECT t.typname AS name, t.oid AS oid, t.typarray AS array_oid,
    t.oid::regtype::text AS regtype,
    r.rngsubtype AS subtype_oid
FROM pg_type t
JOIN pg_range r ON t.oid = r.rngtypid
WHERE t.oid = to_regtype($1)
-- next
-- id: psycopg3-009
-- protocol: extended
-- params: ["int4multirange"]
-- sent: 1
-- param-types: text
-- pg: 1 row
-- differs-by-construction: pg_range: int4multirange is a PostgreSQL built-in multirange type; DuckDB has no range types
SELECT t.typname AS name, t.oid AS oid, t.typarray AS array_oid,
    t.oid::regtype::text AS regtype,
    r.rngtypid AS range_oid, r.rngsubtype AS subtype_oid
FROM pg_type t
JOIN pg_range r ON t.oid = r.rngmultitypid
WHERE t.oid = to_regtype($1)
-- next
-- id: psycopg3-010
-- protocol: simple
-- sent: 1
-- pg: 0 rows
SAVEPOINT "_pg3_2"
-- next
-- id: psycopg3-011
-- protocol: simple
-- sent: 1
-- pg: 0 rows
RELEASE "_pg3_2"
