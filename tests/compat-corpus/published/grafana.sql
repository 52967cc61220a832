-- Published introspection queries of Grafana's PostgreSQL data source (grafana/grafana, plugin
-- package 12.2.0-pre, file public/app/plugins/datasource/grafana-postgresql-datasource/
-- postgresMetaQuery.ts), with this corpus' table names substituted where the TypeScript
-- interpolates them. Grafana's backend sends them as plain queries without parameters (simple
-- protocol through its Go driver). Transcribed by hand from the cited file; `-- pg:` is what
-- PostgreSQL 15 answered (written by capture.sh).

-- next
-- id: grafana-001
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts getVersion (configuration: auto-detect)
-- pg: 1 row
SELECT current_setting('server_version_num')::int/100 as version
-- next
-- id: grafana-002
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts getTimescaleDBVersion
-- pg: 0 rows
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
-- next
-- id: grafana-003
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts showSchemas
-- pg: 2 rows
SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name
-- next
-- id: grafana-004
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts showTables() (query builder table list)
-- pg: 4 rows
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1
-- next
-- id: grafana-005
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts showTables('inventory')
-- pg: 1 row
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'inventory'
      ORDER BY 1
-- next
-- id: grafana-006
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts getSchema('orders') (columns of a table on the search_path)
-- pg: 9 rows
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('orders'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('orders'))[1]
          AND quote_ident(table_name) = (parse_ident('orders'))[2]
        ELSE quote_ident(table_name) = 'orders'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END
-- next
-- id: grafana-007
-- protocol: simple
-- source: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts getSchema('inventory.items')
-- pg: 3 rows
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('inventory.items'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('inventory.items'))[1]
          AND quote_ident(table_name) = (parse_ident('inventory.items'))[2]
        ELSE quote_ident(table_name) = 'inventory.items'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END
