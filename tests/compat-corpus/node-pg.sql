-- Compatibility corpus: what pg (node-postgres) 8.23.1 sends on its own.
-- Captured from PostgreSQL 15.18 (Debian 15.18-0+deb12u1) with log_statement=all by tests/compat-corpus/capture.sh;
-- the program: parameterized and named queries, a transaction (capture/node_pg_capture.js).
-- Generated: edit the capture program, not this file. Format: see corpus.py.
-- 0 entries, 0 distinct statements.

