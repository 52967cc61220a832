-- Published introspection queries of DBeaver (Community 24.2.3, dbeaver/dbeaver @ 2428359b, the
-- PostgreSQL plugin), as DBeaver builds them for a PostgreSQL 15 server with default connection
-- settings (read all data types: off; show all databases: on for the list query). DBeaver runs them
-- through pgJDBC prepared statements (extended protocol; `?` written here as `$n`). Parameters are
-- this corpus' objects: schema public (OID 2200), table public.orders; `-- oid` lines let the runner
-- swap in the gateway's OIDs. DBeaver also calls DatabaseMetaData (see ../pgjdbc.sql), e.g.
-- getSQLKeywords -> pg_get_keywords(). Transcribed by hand from the cited files; `-- pg:` is what
-- PostgreSQL 15 answered (written by capture.sh).

-- next
-- id: dbeaver-001
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java initialize()
-- pg: 1 row
SELECT version()
-- next
-- id: dbeaver-002
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/PostgreUtils.java getQueryForSystemColumnChecking (pg_enum, *)
-- pg: 0 rows
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1
-- next
-- id: dbeaver-003
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/PostgreUtils.java getQueryForSystemColumnChecking (pg_class, reltype)
-- pg: 0 rows
SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1
-- next
-- id: dbeaver-004
-- protocol: extended
-- params: ["corpus"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java (the connection's database; the gateway's is named differently)
-- pg: 1 row
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=$1
-- next
-- id: dbeaver-005
-- protocol: extended
-- params: ["corpus"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java prepareReadDatabaseListStatement ("show all databases" on)
-- pg: 2 rows
-- differs-by-construction: pg_database: PostgreSQL lists its cluster's own database postgres; the gateway has only the session's DuckDB database
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE 1 = 1 AND datallowconn AND NOT datistemplate OR db.datname =$1
ORDER BY db.datname
-- next
-- id: dbeaver-006
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java
-- pg: 1 row
SELECT current_database()
-- next
-- id: dbeaver-007
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java
-- pg: 1 row
SELECT current_schema(),session_user
-- next
-- id: dbeaver-008
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java
-- pg: 1 row
SHOW search_path
-- next
-- id: dbeaver-009
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java cacheDataTypes (read all types: off)
-- pg: 198 rows
-- differs-by-construction: pg_type: PostgreSQL's built-in types (tid, int2vector, pg_lsn, ranges...); DuckDB has none of them
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem 
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')
-- next
-- id: dbeaver-010
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java SchemaCache
-- pg: 5 rows
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname
-- next
-- id: dbeaver-011
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java RoleCache
-- pg: 13 rows
-- differs-by-construction: pg_roles: PostgreSQL's built-in roles pg_monitor, pg_read_all_data, pg_database_owner...; DuckDB has no roles, the gateway has the session's user and pg_database_owner (the public schema's owner) only
SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a 
left join pg_catalog.pg_shdescription pd on a.oid = pd.objoid
ORDER BY a.rolname
-- next
-- id: dbeaver-012
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java AccessMethodCache
-- pg: 7 rows
-- differs-by-construction: pg_am: PostgreSQL's built-in access methods brin, gin, gist, hash and spgist; DuckDB has a heap-like table storage and ART indexes only (heap, btree)
SELECT am.oid,am.* FROM pg_catalog.pg_am am 
ORDER BY am.oid
-- next
-- id: dbeaver-013
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java CollationCache
-- pg: 811 rows
-- differs-by-construction: pg_collation: PostgreSQL's 811 built-in collations (libc and ICU locales); DuckDB's own collations (nocase, noaccent, nfc: pragma_collations()) are not PostgreSQL collations and are not listed, the gateway shows default, C and POSIX
SELECT c.oid,c.* FROM pg_catalog.pg_collation c 
ORDER BY c.oid
-- next
-- id: dbeaver-014
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java TablespaceCache
-- pg: 2 rows
SELECT t.oid,t.*,pg_tablespace_location(t.oid) loc
FROM pg_catalog.pg_tablespace t 
ORDER BY t.oid
-- next
-- id: dbeaver-015
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java AvailableExtensionCache
-- pg: 47 rows
-- differs-by-construction: pg_available_extensions: PostgreSQL's 47 contrib extensions (adminpack, amcheck...); DuckDB's extensions (duckdb_extensions()) are not PostgreSQL extensions and are not listed
SELECT name,default_version,installed_version,comment FROM pg_catalog.pg_available_extensions ORDER BY name
-- next
-- id: dbeaver-016
-- protocol: extended
-- params: ["standard_conforming_strings"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java SettingCache (one setting)
-- pg: 1 row
select * from pg_catalog.pg_settings where name=$1
-- next
-- id: dbeaver-017
-- protocol: extended
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java SettingCache
-- pg: 354 rows
-- differs-by-construction: pg_settings: PostgreSQL's server settings (allow_in_place_tablespaces, wal_level, shared_buffers...); the gateway lists the session settings SHOW answers and DuckDB's own
select * from pg_catalog.pg_settings
-- next
-- id: dbeaver-018
-- protocol: extended
-- params: ["2200"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java TableCache.prepareLookupStatement (tables of schema public)
-- pg: 3 rows
-- oid 2200: namespace public
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=$1 AND c.relkind not in ('i','I','c')
-- next
-- id: dbeaver-019
-- protocol: extended
-- params: ["16407"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java TableCache.prepareChildrenStatement (columns of one table)
-- pg: 15 rows
-- oid 16407: class public.orders
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=$1
ORDER BY a.attnum
-- next
-- id: dbeaver-020
-- protocol: extended
-- params: ["2200"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java TableCache.prepareChildrenStatement (columns of a schema)
-- pg: 31 rows
-- oid 2200: namespace public
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.relnamespace=$1
ORDER BY a.attnum
-- next
-- id: dbeaver-021
-- protocol: extended
-- params: ["16407"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java ConstraintCache
-- pg: 2 rows
-- oid 16407: class public.orders
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid=$1
ORDER BY c.oid
-- next
-- id: dbeaver-022
-- protocol: extended
-- params: ["16407"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java IndexCache
-- pg: 2 rows
-- oid 16407: class public.orders
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid=$1 ORDER BY c.relname
-- next
-- id: dbeaver-023
-- protocol: extended
-- params: ["2200"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java (table inheritance)
-- pg: 0 rows
-- oid 2200: namespace public
SELECT i.inhrelid relid, pc.relnamespace parent_ns, pc.oid parent_oid, i.inhseqno
FROM pg_catalog.pg_inherits i, pg_class rc, pg_class pc
WHERE rc.oid=i.inhrelid AND rc.relnamespace=$1 AND pc.oid=i.inhparent
-- next
-- id: dbeaver-024
-- protocol: extended
-- params: ["2200"]
-- source: plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java ProceduresCache
-- pg: 0 rows
-- oid 2200: namespace public
SELECT p.oid as poid,p.*,pg_catalog.pg_get_expr(p.proargdefaults, 0) as arg_defaults,d.description
FROM pg_catalog.pg_proc p
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid and d.classoid='pg_proc'::regclass  AND d.objsubid = 0
WHERE p.pronamespace=$1
ORDER BY p.proname
