-- Published introspection queries of Metabase's PostgreSQL driver (metabase/metabase,
-- src/metabase/driver/postgres.clj @ 370249b5, a 0.47+ revision: HoneySQL 2, impersonation;
-- a Metabase v0.48.4 server log quoted publicly shows the same privileges query). Metabase runs
-- them through pgJDBC prepared statements (extended protocol). Most of
-- Metabase's sync goes through pgJDBC's DatabaseMetaData (getTables, getColumns, getPrimaryKeys,
-- getImportedKeys: see ../pgjdbc.sql). Not transcribed yet: the HoneySQL-built describe-fields /
-- describe-fks / describe-indexes queries of Metabase >= 0.50 (current_schemas(true)[1],
-- has_any_column_privilege, pg_stat_user_tables.n_live_tup) - their text depends on HoneySQL
-- rendering; capture them from a running Metabase rather than transcribe. `-- pg:` is what
-- PostgreSQL 15 answered (written by capture.sh).

-- next
-- id: metabase-001
-- protocol: extended
-- source: src/metabase/driver/postgres.clj driver/db-default-timezone (sync-timezone step)
-- pg: 1 row
-- differs-by-construction: the server's default TimeZone setting: the gateway's is UTC, the recording cluster's Etc/UTC (set by TZ at initdb); the column is TimeZone on both
show timezone;
-- next
-- id: metabase-002
-- protocol: extended
-- source: src/metabase/driver/postgres.clj sql-jdbc.execute/set-timezone-sql (only when a report timezone is set)
-- pg: 0 rows
SET SESSION TIMEZONE TO 'UTC';
-- next
-- id: metabase-003
-- protocol: extended
-- source: src/metabase/driver/postgres.clj enum-types (before describe-table)
-- pg: 1 row
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)
-- next
-- id: metabase-004
-- protocol: extended
-- source: src/metabase/driver/postgres.clj sql-jdbc.sync/current-user-table-privileges (joined with newlines; clojure.java.jdbc prepared statement)
-- pg: 4 rows
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'update') as update,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'select') as select,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t
