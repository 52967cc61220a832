//! The PostgreSQL catalog as clients query it, over DuckDB's own `pg_catalog`.
//!
//! DuckDB ships `pg_class`, `pg_namespace`, `pg_attribute`, `pg_type`, `format_type`,
//! `pg_table_is_visible` and more; what clients need beyond that is provided per session as
//! TEMP macros and views ([`install_sql`], installed the first time a statement needs them), and a
//! few spellings DuckDB's parser reads differently are rewritten ([`rewrite`]). Each rule names
//! the client that sends the construct.

use super::lexer::{apply_edits, contains_ignore_case, tokens, Tok, Token};

/// Functions DuckDB itself has in `pg_catalog`; a `pg_catalog.` prefix on any other function is
/// dropped so the call reaches DuckDB's `main` functions or the session's macros below.
const DUCKDB_PG_CATALOG_FUNCTIONS: &[&str] = &[
    "col_description",
    "current_database",
    "has_any_column_privilege",
    "has_column_privilege",
    "has_database_privilege",
    "has_foreign_data_wrapper_privilege",
    "has_function_privilege",
    "has_language_privilege",
    "has_schema_privilege",
    "has_sequence_privilege",
    "has_server_privilege",
    "has_table_privilege",
    "has_tablespace_privilege",
    "inet_server_port",
    "obj_description",
    "pg_collation_is_visible",
    "pg_conf_load_time",
    "pg_conversion_is_visible",
    "pg_function_is_visible",
    "pg_get_constraintdef",
    "pg_get_expr",
    "pg_get_viewdef",
    "pg_has_role",
    "pg_is_other_temp_schema",
    "pg_my_temp_schema",
    "pg_opclass_is_visible",
    "pg_operator_is_visible",
    "pg_opfamily_is_visible",
    "pg_postmaster_start_time",
    "pg_sleep",
    "pg_table_is_visible",
    "pg_ts_config_is_visible",
    "pg_ts_dict_is_visible",
    "pg_ts_parser_is_visible",
    "pg_ts_template_is_visible",
    "pg_type_is_visible",
    "pg_typeof",
    "shobj_description",
];

/// Relations the session provides as TEMP views (shadowing or adding to DuckDB's).
const SESSION_RELATIONS: &[&str] = &[
    "pg_type",
    "pg_proc",
    "pg_namespace",
    "pg_attribute",
    "pg_database",
    "pg_roles",
    "pg_user",
    "pg_auth_members",
    "pg_class",
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_inherits",
    "pg_trigger",
    "pg_rewrite",
    "pg_foreign_table",
    "pg_partitioned_table",
    "pg_index",
    "pg_matviews",
    "pg_extension",
    "pg_language",
    "pg_event_trigger",
    "pg_subscription",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_db_role_setting",
    "pg_shdescription",
    "pg_opclass",
    "pg_available_extensions",
    "pg_constraint",
    "pg_am",
    "pg_description",
    "pg_indexes",
    "pg_collation",
    "pg_range",
    "pg_tablespace",
    "pg_tables",
    "pg_views",
    "pg_sequences",
    // psql \dC, \dc, \do: DuckDB has no user-defined casts, conversions or operators
    "pg_cast",
    "pg_conversion",
    "pg_operator",
    "pg_opfamily",
    // PostgreSQL 15's columns over DuckDB's pg_settings (DBeaver, psql \dconfig, pgJDBC)
    "pg_settings",
];

/// DuckDB's own views, re-exported unchanged by the session so every reference can be
/// unqualified (DuckDB resolves `pg_catalog.pg_collation.collname` style references only for
/// the session's views).
const PASSTHROUGH_RELATIONS: &[&str] = &[
    "pg_attrdef",
    "pg_depend",
    "pg_enum",
    "pg_prepared_statements",
    "pg_sequence",
];

/// Settings whose value is the same for every session, inlined where a query reads them with
/// `current_setting('name')` (asyncpg, Grafana, SQLAlchemy ask for these).
const CONSTANT_SETTINGS: &[(&str, &str)] = &[
    ("server_version_num", "150000"),
    ("default_table_access_method", "heap"),
    ("jit", "off"),
    ("max_identifier_length", "63"),
    ("block_size", "8192"),
    ("integer_datetimes", "on"),
    ("server_encoding", "UTF8"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
];

/// The value of a setting every session shares ([`CONSTANT_SETTINGS`]).
pub fn constant_setting(name: &str) -> Option<&'static str> {
    CONSTANT_SETTINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

/// Functions the session provides as TEMP macros.
const SESSION_FUNCTIONS: &[&str] = &[
    "pg_get_userbyid",
    "pg_encoding_to_char",
    "pg_get_function_result",
    "pg_get_function_arguments",
    "pg_get_function_identity_arguments",
    "pg_get_partkeydef",
    "pg_get_keywords",
    "pg_get_expr",
    "pg_get_indexdef",
    "pg_get_statisticsobjdef_columns",
    "pg_relation_is_publishable",
    "array_upper",
    "to_regtype",
    "to_regclass",
    "pg_get_serial_sequence",
    "format_type",
    "pg_advisory_unlock_all",
    "quote_ident",
    "pg_get_viewdef",
    "pg_table_size",
    "pg_relation_size",
    "pg_total_relation_size",
    "pg_indexes_size",
    "pg_tablespace_location",
    "pg_get_triggerdef",
    "pg_get_ruledef",
    "pg_statistics_obj_is_visible",
    "pg_get_function_sqlbody",
    "array_lower",
    "pg_get_constraintdef",
    "obj_description",
    "col_description",
    "pg_table_is_visible",
    "pg_partition_ancestors",
    "_pg_expandarray",
    "set_config",
    "parse_ident",
    // Grafana's query builder reads the search path `FROM string_to_array(…) s` (a table
    // macro next to DuckDB's scalar function of that name)
    "string_to_array",
    // psql \dv+ (reloptions), \l+ (sizes: DuckDB's used blocks), DBeaver's index statistics
    // (DuckDB keeps no scan counts: 0)
    "array_remove",
    "pg_database_size",
    "pg_stat_get_numscans",
    // PostgreSQL's units (`512 kB`), not DuckDB's pg_size_pretty (`512.0 KiB`): psql \l+ \dt+
    "pg_size_pretty",
    // DuckDB's default schema `main` is PostgreSQL's `public` (pgJDBC, SQLAlchemy, psql)
    "current_schema",
    "current_schemas",
    "to_regnamespace",
];

/// The session's catalog objects (built once per process).
pub fn install_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let passthrough: String = PASSTHROUGH_RELATIONS
            .iter()
            .map(|r| format!("CREATE OR REPLACE TEMP VIEW {r} AS SELECT * FROM pg_catalog.{r};"))
            .collect();
        let sql = format!(
            "{FIXED_SQL}{passthrough}{}{}{SIZE_SQL}{}",
            type_catalog_sql(),
            objects_sql(),
            current_setting_sql()
        );
        super::lexer::split_statements(&sql)
            .into_iter()
            .map(|stmt| typed_view(stmt).unwrap_or_else(|| stmt.to_owned()) + ";")
            .collect()
    })
}

type RelationColumnTypes = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The `name`, `"char"`, `oid` and `int2` columns of the catalog relations the session
/// provides (PostgreSQL 15's `pg_*` catalogs and views, as `pg_attribute` lists them):
/// `(relation, name columns, "char" columns, oid columns, int2 columns)`. The views produce
/// them as VARCHAR, BIGINT or INTEGER (DuckDB's own catalog's types); [`typed_view`] casts them
/// to the gateway's aliases of `name` and `"char"` ([`crate::types::PgAlias`]), to UINTEGER
/// (which travels as `oid`) and to SMALLINT, so that
/// they reach clients with PostgreSQL's type OIDs, also through the clients' own column
/// references (`c.relname AS "Name"`), joins and UNIONs.
const CATALOG_COLUMN_TYPES: &[RelationColumnTypes] = &[
    ("pg_am", &["amname"], &["amtype"], &["oid"], &[]),
    ("pg_attrdef", &[], &[], &["oid", "adrelid"], &["adnum"]),
    (
        "pg_attribute",
        &["attname"],
        &[
            "attalign",
            "attstorage",
            "attcompression",
            "attidentity",
            "attgenerated",
        ],
        &["attrelid", "atttypid", "attcollation"],
        &[],
    ),
    (
        "pg_auth_members",
        &[],
        &[],
        &["roleid", "member", "grantor"],
        &[],
    ),
    ("pg_available_extensions", &["name"], &[], &[], &[]),
    (
        "pg_cast",
        &[],
        &["castcontext", "castmethod"],
        &["oid", "castsource", "casttarget", "castfunc"],
        &[],
    ),
    (
        "pg_class",
        &["relname"],
        &["relpersistence", "relkind", "relreplident"],
        &[
            "oid",
            "relnamespace",
            "reltype",
            "reloftype",
            "relowner",
            "relam",
            "relfilenode",
            "reltablespace",
            "reltoastrelid",
            "relrewrite",
        ],
        &["relnatts", "relchecks"],
    ),
    (
        "pg_collation",
        &["collname"],
        &["collprovider"],
        &["oid", "collnamespace", "collowner"],
        &[],
    ),
    (
        "pg_constraint",
        &["conname"],
        &["contype", "confupdtype", "confdeltype", "confmatchtype"],
        &[
            "oid",
            "connamespace",
            "conrelid",
            "contypid",
            "conindid",
            "conparentid",
            "confrelid",
        ],
        &[],
    ),
    (
        "pg_conversion",
        &["conname"],
        &[],
        &["oid", "connamespace", "conowner"],
        &[],
    ),
    (
        "pg_database",
        &["datname"],
        &["datlocprovider"],
        &["oid", "datdba", "dattablespace"],
        &[],
    ),
    (
        "pg_db_role_setting",
        &[],
        &[],
        &["setdatabase", "setrole"],
        &[],
    ),
    (
        "pg_depend",
        &[],
        &["deptype"],
        &["classid", "objid", "refclassid", "refobjid"],
        &[],
    ),
    ("pg_description", &[], &[], &["objoid", "classoid"], &[]),
    ("pg_enum", &["enumlabel"], &[], &["oid", "enumtypid"], &[]),
    (
        "pg_event_trigger",
        &["evtname", "evtevent"],
        &["evtenabled"],
        &["oid", "evtowner", "evtfoid"],
        &[],
    ),
    (
        "pg_extension",
        &["extname"],
        &[],
        &["oid", "extowner", "extnamespace"],
        &[],
    ),
    (
        "pg_foreign_data_wrapper",
        &["fdwname"],
        &[],
        &["oid", "fdwowner", "fdwhandler", "fdwvalidator"],
        &[],
    ),
    (
        "pg_foreign_server",
        &["srvname"],
        &[],
        &["oid", "srvowner", "srvfdw"],
        &[],
    ),
    ("pg_foreign_table", &[], &[], &["ftrelid", "ftserver"], &[]),
    ("pg_index", &[], &[], &["indexrelid", "indrelid"], &[]),
    (
        "pg_indexes",
        &["schemaname", "tablename", "indexname", "tablespace"],
        &[],
        &[],
        &[],
    ),
    ("pg_inherits", &[], &[], &["inhrelid", "inhparent"], &[]),
    (
        "pg_language",
        &["lanname"],
        &[],
        &[
            "oid",
            "lanowner",
            "lanplcallfoid",
            "laninline",
            "lanvalidator",
        ],
        &[],
    ),
    (
        "pg_matviews",
        &["schemaname", "matviewname", "matviewowner", "tablespace"],
        &[],
        &[],
        &[],
    ),
    ("pg_namespace", &["nspname"], &[], &["oid", "nspowner"], &[]),
    (
        "pg_opclass",
        &["opcname"],
        &[],
        &[
            "oid",
            "opcmethod",
            "opcnamespace",
            "opcowner",
            "opcfamily",
            "opcintype",
            "opckeytype",
        ],
        &[],
    ),
    (
        "pg_operator",
        &["oprname"],
        &["oprkind"],
        &[
            "oid",
            "oprnamespace",
            "oprowner",
            "oprleft",
            "oprright",
            "oprresult",
            "oprcom",
            "oprnegate",
        ],
        &[],
    ),
    (
        "pg_opfamily",
        &["opfname"],
        &[],
        &["oid", "opfmethod", "opfnamespace", "opfowner"],
        &[],
    ),
    (
        "pg_partitioned_table",
        &[],
        &["partstrat"],
        &["partrelid"],
        &[],
    ),
    (
        "pg_policy",
        &["polname"],
        &["polcmd"],
        &["oid", "polrelid"],
        &[],
    ),
    (
        "pg_proc",
        &["proname"],
        &["prokind", "provolatile", "proparallel"],
        &["oid", "pronamespace", "proowner", "prolang"],
        &["pronargs", "pronargdefaults"],
    ),
    (
        "pg_publication",
        &["pubname"],
        &[],
        &["oid", "pubowner"],
        &[],
    ),
    (
        "pg_publication_namespace",
        &[],
        &[],
        &["oid", "pnpubid", "pnnspid"],
        &[],
    ),
    (
        "pg_publication_rel",
        &[],
        &[],
        &["oid", "prpubid", "prrelid"],
        &[],
    ),
    (
        "pg_range",
        &[],
        &[],
        &[
            "rngtypid",
            "rngsubtype",
            "rngmultitypid",
            "rngcollation",
            "rngsubopc",
        ],
        &[],
    ),
    (
        "pg_rewrite",
        &["rulename"],
        &["ev_type", "ev_enabled"],
        &["oid", "ev_class"],
        &[],
    ),
    ("pg_roles", &["rolname"], &[], &["oid"], &[]),
    ("pg_sequence", &[], &[], &["seqrelid", "seqtypid"], &[]),
    (
        "pg_sequences",
        &["schemaname", "sequencename", "sequenceowner"],
        &[],
        &[],
        &[],
    ),
    ("pg_shdescription", &[], &[], &["objoid", "classoid"], &[]),
    (
        "pg_statistic_ext",
        &["stxname"],
        &[],
        &["oid", "stxrelid", "stxnamespace", "stxowner"],
        &[],
    ),
    (
        "pg_subscription",
        &["subname"],
        &[],
        &["oid", "subdbid", "subowner"],
        &[],
    ),
    (
        "pg_tables",
        &["schemaname", "tablename", "tableowner", "tablespace"],
        &[],
        &[],
        &[],
    ),
    (
        "pg_tablespace",
        &["spcname"],
        &[],
        &["oid", "spcowner"],
        &[],
    ),
    (
        "pg_trigger",
        &["tgname"],
        &["tgenabled"],
        &["oid", "tgrelid", "tgparentid", "tgfoid"],
        &[],
    ),
    (
        "pg_type",
        &["typname"],
        &[
            "typtype",
            "typcategory",
            "typdelim",
            "typalign",
            "typstorage",
        ],
        &[
            "oid",
            "typnamespace",
            "typowner",
            "typrelid",
            "typelem",
            "typarray",
            "typbasetype",
            "typcollation",
        ],
        &["typlen"],
    ),
    ("pg_user", &["usename"], &[], &["usesysid"], &[]),
    (
        "pg_views",
        &["schemaname", "viewname", "viewowner"],
        &[],
        &[],
        &[],
    ),
];

/// `CREATE OR REPLACE TEMP VIEW rel AS body` of a relation in [`CATALOG_COLUMN_TYPES`] with
/// those columns cast to their PostgreSQL types: `... AS SELECT * REPLACE (CAST(relname AS
/// duckgate_name) AS relname, ...) FROM (body)`; `None` for any other statement.
fn typed_view(stmt: &str) -> Option<String> {
    use crate::types::PgAlias;
    const PREFIX: &str = "CREATE OR REPLACE TEMP VIEW ";
    let rest = stmt.strip_prefix(PREFIX)?;
    let (name, body) = rest.split_once(" AS ")?;
    let (_, names, chars, oids, int2s) = CATALOG_COLUMN_TYPES
        .iter()
        .find(|(r, ..)| *r == name.trim())?;
    let casts: Vec<String> = names
        .iter()
        .map(|c| format!("CAST({c} AS {}) AS {c}", PgAlias::Name.alias()))
        .chain(
            chars
                .iter()
                .map(|c| format!("CAST({c} AS {}) AS {c}", PgAlias::Char.alias())),
        )
        // an OID is 32 bits in PostgreSQL; one the gateway derives beyond that (a constraint's
        // of a table with an OID over 2^24) becomes NULL rather than failing the query
        .chain(
            oids.iter()
                .map(|c| format!("TRY_CAST({c} AS UINTEGER) AS {c}")),
        )
        .chain(
            int2s
                .iter()
                .map(|c| format!("CAST({c} AS SMALLINT) AS {c}")),
        )
        .collect();
    Some(format!(
        "{PREFIX}{} AS SELECT * REPLACE ({}) FROM ({body}) dg_typed",
        name.trim(),
        casts.join(", ")
    ))
}

/// `current_setting(name)` with a name DuckDB cannot see at bind time (SQLAlchemy's
/// `current_setting($1::VARCHAR)`, psql's `current_setting(s.name)` over pg_settings): the
/// constants above, the session's search path (as the rule for a literal `'search_path'`), else
/// DuckDB's setting of that name; an unknown name fails as on PostgreSQL unless `missing_ok`.
fn current_setting_sql() -> String {
    let constants: String = CONSTANT_SETTINGS
        .iter()
        .map(|(n, v)| format!("WHEN lower(dg_n) = '{n}' THEN '{v}' "))
        .collect();
    let opt = |v: Option<&str>| v.map_or("NULL".to_owned(), super::quote_literal);
    let docs = crate::session::settings::PG_SETTINGS
        .iter()
        .map(|d| {
            format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}::VARCHAR[])",
                super::quote_literal(d.name),
                opt(d.unit),
                super::quote_literal(d.category),
                super::quote_literal(d.short_desc),
                opt(d.extra_desc),
                super::quote_literal(d.context),
                super::quote_literal(d.vartype),
                opt(d.min_val),
                opt(d.max_val),
                d.enumvals.map_or("NULL".to_owned(), |e| {
                    format!(
                        "[{}]",
                        e.iter()
                            .map(|v| super::quote_literal(v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        /* pg_settings: the settings the session answers (SHOW), with the values the session
           publishes in `duckgate_settings` before a statement reads them, then DuckDB's own
           settings but those names, and but `schema`: DuckDB's single-schema form of
           search_path, which the session answers as search_path */
        "CREATE OR REPLACE TEMP VIEW duckgate_setting_docs AS SELECT * FROM (VALUES {docs}) \
           v(name, unit, category, short_desc, extra_desc, context, vartype, min_val, max_val, enumvals);\
         CREATE OR REPLACE TEMP VIEW duckgate_session_settings AS \
           SELECT dg_s.s.name AS name, dg_s.s.setting AS setting, dg_s.s.shown AS shown, dg_s.s.source AS source, \
                  dg_s.s.boot_val AS boot_val, dg_s.s.reset_val AS reset_val FROM (SELECT unnest(COALESCE(getvariable('duckgate_settings'), \
             []::STRUCT(name VARCHAR, setting VARCHAR, shown VARCHAR, source VARCHAR, boot_val VARCHAR, reset_val VARCHAR)[])) AS s) dg_s;\
         CREATE OR REPLACE TEMP VIEW pg_settings AS \
           SELECT d.name, s.setting, d.unit, d.category, d.short_desc, d.extra_desc, d.context, d.vartype, \
                  s.source, d.min_val, d.max_val, d.enumvals, s.boot_val, s.reset_val, NULL::VARCHAR AS sourcefile, \
                  NULL::INTEGER AS sourceline, false AS pending_restart \
           FROM duckgate_setting_docs d JOIN duckgate_session_settings s ON s.name = d.name \
           UNION ALL \
           SELECT name, setting, NULL::VARCHAR AS unit, NULL::VARCHAR AS category, short_desc, \
                  NULL::VARCHAR AS extra_desc, 'user'::VARCHAR AS context, vartype, 'default'::VARCHAR AS source, \
                  NULL::VARCHAR AS min_val, NULL::VARCHAR AS max_val, NULL::VARCHAR[] AS enumvals, \
                  setting AS boot_val, setting AS reset_val, NULL::VARCHAR AS sourcefile, NULL::INTEGER AS sourceline, \
                  false AS pending_restart \
           FROM pg_catalog.pg_settings \
           WHERE lower(name) NOT IN (SELECT lower(dg_d.name) FROM duckgate_setting_docs dg_d) AND name <> 'schema';\
         CREATE OR REPLACE TEMP MACRO duckgate_current_setting(dg_n, dg_missing_ok := false) AS \
           CASE WHEN lower(dg_n) IN (SELECT lower(dg_s.name) FROM duckgate_session_settings dg_s) \
               THEN (SELECT min(dg_s.shown) FROM duckgate_session_settings dg_s WHERE lower(dg_s.name) = lower(dg_n)) \
             {constants}\
             WHEN lower(dg_n) = 'search_path' THEN COALESCE(getvariable('duckgate_search_path'), '\"$user\", public') \
             WHEN lower(dg_n) IN (SELECT lower(dg_s.name) FROM duckdb_settings() dg_s) \
               THEN (SELECT min(dg_s.value) FROM duckdb_settings() dg_s WHERE lower(dg_s.name) = lower(dg_n)) \
             WHEN dg_missing_ok THEN NULL \
             ELSE error('unrecognized configuration parameter \"' || dg_n || '\"') END;"
    )
}

/// A PostgreSQL type the gateway sends on the wire, as `pg_type` describes it.
struct CatalogType {
    oid: u32,
    typname: &'static str,
    /// What `format_type` prints.
    display: &'static str,
    typlen: i16,
    category: char,
}

/// Every type of `types::oid` the wire uses (arrays are derived with `oid::array_of`).
const CATALOG_TYPES: &[CatalogType] = {
    use crate::types::oid::*;
    const fn t(
        oid: u32,
        typname: &'static str,
        display: &'static str,
        typlen: i16,
        category: char,
    ) -> CatalogType {
        CatalogType {
            oid,
            typname,
            display,
            typlen,
            category,
        }
    }
    &[
        t(BOOL, "bool", "boolean", 1, 'B'),
        t(BYTEA, "bytea", "bytea", -1, 'U'),
        t(CHAR, "char", "\"char\"", 1, 'S'),
        t(NAME, "name", "name", 64, 'S'),
        t(INT8, "int8", "bigint", 8, 'N'),
        t(INT2, "int2", "smallint", 2, 'N'),
        t(INT2VECTOR, "int2vector", "int2vector", -1, 'A'),
        t(INT4, "int4", "integer", 4, 'N'),
        t(REGPROC, "regproc", "regproc", 4, 'N'),
        t(TEXT, "text", "text", -1, 'S'),
        t(OID, "oid", "oid", 4, 'N'),
        t(OIDVECTOR, "oidvector", "oidvector", -1, 'A'),
        t(JSON, "json", "json", -1, 'U'),
        t(FLOAT4, "float4", "real", 4, 'N'),
        t(FLOAT8, "float8", "double precision", 8, 'N'),
        t(UNKNOWN, "unknown", "unknown", -2, 'X'),
        t(BPCHAR, "bpchar", "character", -1, 'S'),
        t(VARCHAR, "varchar", "character varying", -1, 'S'),
        t(DATE, "date", "date", 4, 'D'),
        t(TIME, "time", "time without time zone", 8, 'D'),
        t(
            TIMESTAMP,
            "timestamp",
            "timestamp without time zone",
            8,
            'D',
        ),
        t(
            TIMESTAMPTZ,
            "timestamptz",
            "timestamp with time zone",
            8,
            'D',
        ),
        t(INTERVAL, "interval", "interval", 16, 'T'),
        t(TIMETZ, "timetz", "time with time zone", 12, 'D'),
        t(BIT, "bit", "bit", -1, 'V'),
        t(VARBIT, "varbit", "bit varying", -1, 'V'),
        t(NUMERIC, "numeric", "numeric", -1, 'N'),
        t(REGCLASS, "regclass", "regclass", 4, 'N'),
        t(REGTYPE, "regtype", "regtype", 4, 'N'),
        t(UUID, "uuid", "uuid", 16, 'U'),
        t(JSONB, "jsonb", "jsonb", -1, 'U'),
    ]
};

/// DuckDB column types (as `duckdb_columns().data_type` spells them) and the PostgreSQL type
/// the wire reports for them: the same mapping as `types::pg_type_of`, which a test checks.
const COLUMN_TYPES: &[(&str, u32)] = {
    use crate::types::oid::*;
    &[
        ("BOOLEAN", BOOL),
        ("TINYINT", INT2),
        ("SMALLINT", INT2),
        ("UTINYINT", INT2),
        ("INTEGER", INT4),
        ("USMALLINT", INT4),
        ("BIGINT", INT8),
        ("UINTEGER", OID),
        ("UBIGINT", NUMERIC),
        ("HUGEINT", NUMERIC),
        ("UHUGEINT", NUMERIC),
        ("BIGNUM", NUMERIC),
        ("FLOAT", FLOAT4),
        ("DOUBLE", FLOAT8),
        ("VARCHAR", TEXT),
        ("JSON", JSON),
        ("BLOB", BYTEA),
        ("UUID", UUID),
        ("DATE", DATE),
        ("TIME", TIME),
        ("TIME_NS", TIME),
        ("TIME WITH TIME ZONE", TIMETZ),
        ("TIMESTAMP", TIMESTAMP),
        ("TIMESTAMP_S", TIMESTAMP),
        ("TIMESTAMP_MS", TIMESTAMP),
        ("TIMESTAMP_NS", TIMESTAMP),
        ("TIMESTAMP WITH TIME ZONE", TIMESTAMPTZ),
        ("INTERVAL", INTERVAL),
        ("BIT", VARBIT),
    ]
};

/// `pg_type`, `format_type`, `pg_namespace` (with `pg_catalog`) and `pg_attribute` with
/// PostgreSQL OIDs, so `atttypid` joins `pg_type.oid` and agrees with RowDescription.
fn type_catalog_sql() -> String {
    use crate::types::oid;
    let mut rows = Vec::new();
    for t in CATALOG_TYPES {
        let array = oid::array_of(t.oid).unwrap_or(0);
        // the vectors are arrays of their element type (typcategory 'A') with their own I/O
        let elem = match t.oid {
            oid::INT2VECTOR => oid::INT2,
            oid::OIDVECTOR => oid::OID,
            _ => 0,
        };
        let align = typalign(t.typname);
        rows.push(format!(
            "({}, '{}', '{}', {}, '{}', {elem}, {array}, 'b', '{align}')",
            t.oid,
            t.typname,
            t.display.replace('\'', "''"),
            t.typlen,
            t.category
        ));
        if array != 0 {
            // an array is aligned as its element, at least as an int4 (its header)
            rows.push(format!(
                "({array}, '_{}', '{}[]', -1, 'A', {}, 0, 'b', '{}')",
                t.typname,
                t.display.replace('\'', "''"),
                t.oid,
                if align == 'd' { 'd' } else { 'i' }
            ));
        }
    }
    let mut column_case = String::from("CASE");
    for (name, o) in COLUMN_TYPES {
        column_case.push_str(&format!(" WHEN t = '{name}' THEN {o}"));
        if let Some(a) = oid::array_of(*o) {
            column_case.push_str(&format!(" WHEN t = '{name}[]' THEN {a}"));
        }
    }
    // a user table made from catalog columns (`CREATE TABLE t AS SELECT relname, indkey FROM
    // ...`) keeps the gateway's aliases, which travel as PostgreSQL's catalog types
    for a in crate::types::PgAlias::ALL {
        let (name, wire) = (a.alias(), a.oid());
        if a.is_vector() {
            column_case.push_str(&format!(" WHEN t = '{name}[]' THEN {wire}"));
        } else {
            column_case.push_str(&format!(" WHEN t = '{name}' THEN {wire}"));
            if let Some(arr) = oid::array_of(wire) {
                column_case.push_str(&format!(" WHEN t = '{name}[]' THEN {arr}"));
            }
        }
    }
    // information_schema.columns.data_type / udt_name as PostgreSQL spells them (Grafana's query
    // builder shows data_type): the name format_type prints for the column's wire type,
    // `ARRAY` for arrays and `USER-DEFINED` for enums
    let mut data_type_case = String::new();
    let mut udt_case = String::new();
    for t in CATALOG_TYPES {
        data_type_case.push_str(&format!(
            " WHEN {} THEN '{}'",
            t.oid,
            t.display.replace('\'', "''")
        ));
        udt_case.push_str(&format!(" WHEN {} THEN '{}'", t.oid, t.typname));
    }
    column_case.push_str(&format!(
        " WHEN t LIKE 'DECIMAL(%' AND NOT t LIKE '%]' THEN {} WHEN t LIKE 'DECIMAL(%)[]' THEN {} \
          WHEN t LIKE 'ENUM(%' AND NOT t LIKE '%]' THEN {} \
          WHEN t LIKE '%[]' OR t LIKE '%]' OR t LIKE 'STRUCT(%' OR t LIKE 'MAP(%' OR t LIKE 'UNION(%' THEN {} \
          ELSE {} END",
        oid::NUMERIC,
        oid::NUMERIC_ARRAY,
        oid::TEXT,
        oid::JSON,
        oid::TEXT
    ));
    format!(
        "CREATE OR REPLACE TEMP MACRO duckgate_column_type_oid(t) AS {column_case};\
         CREATE OR REPLACE TEMP MACRO duckgate_information_schema_type(t) AS CASE \
           WHEN t LIKE '%]' THEN 'ARRAY' WHEN t LIKE 'ENUM(%' THEN 'USER-DEFINED' \
           ELSE CASE duckgate_column_type_oid(t){data_type_case} END END;\
         CREATE OR REPLACE TEMP MACRO duckgate_information_schema_udt(t) AS CASE \
           WHEN t LIKE 'ENUM(%' THEN NULL \
           WHEN t LIKE '%]' THEN '_' || CASE duckgate_column_type_oid(regexp_replace(t, '\\[[0-9]*\\]$', '')){udt_case} END \
           ELSE CASE duckgate_column_type_oid(t){udt_case} END END;\
         CREATE OR REPLACE TEMP VIEW duckgate_types AS SELECT * FROM (VALUES {rows}) \
           v(oid, typname, display, typlen, typcategory, typelem, typarray, typtype, typalign);\
         CREATE OR REPLACE TEMP MACRO duckgate_qualified(schema_name, name) AS \
           CASE WHEN list_contains(current_schemas(true), duckgate_pg_schema(schema_name)) THEN '' \
                ELSE quote_ident(duckgate_pg_schema(schema_name)) || '.' END || quote_ident(name);\
         CREATE OR REPLACE TEMP VIEW duckgate_declared_types AS \
           SELECT t.type_oid::BIGINT AS oid, t.type_name AS typname, t.schema_oid::BIGINT AS typnamespace, \
                  t.schema_name, \
                  CASE t.logical_type WHEN 'ENUM' THEN 'e' WHEN 'STRUCT' THEN 'c' ELSE 'd' END AS typtype, \
                  CASE t.logical_type WHEN 'ENUM' THEN 'E' WHEN 'STRUCT' THEN 'C' ELSE 'U' END AS typcategory, \
                  CASE t.logical_type WHEN 'ENUM' THEN 4 ELSE -1 END AS typlen, \
                  CASE WHEN t.logical_type IN ('ENUM', 'STRUCT') THEN 0 \
                       ELSE duckgate_column_type_oid(t.logical_type) END::BIGINT AS typbasetype, \
                  CASE WHEN t.logical_type = 'ENUM' THEN 'ENUM(' || array_to_string(list_transform(t.labels, \
                    l -> '''' || replace(l, '''', '''''') || ''''), ', ') || ')' END AS enum_spelling, \
                  CASE t.logical_type WHEN 'STRUCT' THEN {composite_class} + t.type_oid ELSE 0 END::BIGINT AS typrelid \
           FROM duckdb_types() t WHERE NOT t.internal AND t.type_oid IS NOT NULL;\
         /* the user's types and the row type of every table and view (PostgreSQL: typtype 'c', \
            typrelid = the relation, pgJDBC and DBeaver list them), as the relations pg_class shows */ \
         CREATE OR REPLACE TEMP VIEW duckgate_user_types AS SELECT * FROM duckgate_declared_types \
           UNION ALL SELECT {row_type} + r.relid, r.relname, r.schema_oid, r.schema_name, 'c', 'C', -1, 0, NULL, r.relid \
           FROM (SELECT table_oid AS relid, table_name AS relname, schema_oid, schema_name, database_name \
                 FROM duckdb_tables() \
                 UNION ALL SELECT view_oid, view_name, schema_oid, schema_name, database_name FROM duckdb_views() \
                 WHERE database_name <> 'system') r \
           WHERE NOT (r.database_name = 'temp' AND (r.relname IN ({session_views}) \
                                                    OR starts_with(r.relname, 'duckgate_')));\
         /* the fields of composite (STRUCT) types: DuckDB keeps them in the type only, so the \
            session reads them with typeof() and replaces this view (see composite_fields_sql) */ \
         {no_composite_fields}\
         CREATE OR REPLACE TEMP VIEW duckgate_all_types AS \
           SELECT oid, typname, 11::BIGINT AS typnamespace, 'pg_catalog' AS schema_name, display, typname AS base_name, \
                  typlen, typcategory, typelem, typarray, typtype, 0::BIGINT AS typbasetype, 0::BIGINT AS typrelid, \
                  typalign \
           FROM duckgate_types \
           /* composites (and arrays of them) are double-aligned in PostgreSQL, enums int4-aligned */ \
           UNION ALL SELECT oid, typname, typnamespace, schema_name, NULL, typname, typlen, typcategory, 0, \
                  {user_array} + oid, typtype, typbasetype, typrelid, CASE WHEN typtype = 'c' THEN 'd' ELSE 'i' END \
           FROM duckgate_user_types \
           UNION ALL SELECT {user_array} + oid, '_' || typname, typnamespace, schema_name, NULL, typname, -1, 'A', \
                  oid, 0, 'b', 0, 0, CASE WHEN typtype = 'c' THEN 'd' ELSE 'i' END FROM duckgate_user_types;\
         CREATE OR REPLACE TEMP VIEW pg_type AS \
           SELECT oid, typname, typnamespace, 10::BIGINT AS typowner, typlen, \
                  typlen > 0 AND typlen <= 8 AS typbyval, typtype, typcategory, false AS typispreferred, \
                  true AS typisdefined, ',' AS typdelim, typrelid, \
                  CASE WHEN typcategory = 'A' THEN 'array_subscript_handler' ELSE '-' END AS typsubscript, \
                  typelem, typarray, \
                  CASE WHEN typcategory = 'A' AND starts_with(typname, '_') THEN 'array_in' \
                       WHEN typtype IN ('e', 'c') THEN dg_io || '_in' ELSE typname || 'in' END AS typinput, \
                  CASE WHEN typcategory = 'A' AND starts_with(typname, '_') THEN 'array_out' \
                       WHEN typtype IN ('e', 'c') THEN dg_io || '_out' ELSE typname || 'out' END AS typoutput, \
                  CASE WHEN (typcategory = 'A' AND starts_with(typname, '_')) OR typtype IN ('e', 'c') \
                       THEN dg_io || '_recv' ELSE typname || 'recv' END AS typreceive, \
                  CASE WHEN (typcategory = 'A' AND starts_with(typname, '_')) OR typtype IN ('e', 'c') \
                       THEN dg_io || '_send' ELSE typname || 'send' END AS typsend, \
                  '-' AS typmodin, '-' AS typmodout, \
                  CASE WHEN typcategory = 'A' THEN 'array_typanalyze' ELSE '-' END AS typanalyze, \
                  typalign, \
                  CASE WHEN typtype = 'c' OR typcategory = 'A' THEN 'x' ELSE 'p' END AS typstorage, \
                  false AS typnotnull, \
                  typbasetype, -1 AS typtypmod, 0 AS typndims, \
                  /* arrays of text, varchar and bpchar collate as their elements (psql and SQLAlchemy \
                     show a column's collation only where it differs from its type's) */ \
                  CASE WHEN typcategory = 'S' OR typcategory = 'A' AND typelem IN (25, 1042, 1043) \
                    THEN 100 ELSE 0 END::BIGINT AS typcollation, \
                  NULL::VARCHAR AS typdefaultbin, NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl \
           /* the I/O functions' prefix of arrays, enums and composites (array_in, enum_in, \
              record_in: pgJDBC tells arrays by typinput, Npgsql by typreceive) */ \
           FROM (SELECT *, CASE WHEN typcategory = 'A' THEN 'array' WHEN typtype = 'e' THEN 'enum' \
                                WHEN typtype = 'c' THEN 'record' END AS dg_io FROM duckgate_all_types);\
         CREATE OR REPLACE TEMP MACRO format_type(type_oid, typmod) AS ( \
           SELECT CASE \
             WHEN type_oid = {numeric} AND typmod >= 4 \
               THEN 'numeric(' || ((typmod - 4) >> 16) || ',' || ((typmod - 4) & 65535) || ')' \
             WHEN type_oid IN ({varchar}, {bpchar}) AND typmod >= 4 THEN dg_t.display || '(' || (typmod - 4) || ')' \
             ELSE COALESCE(dg_t.display, duckgate_qualified(dg_t.schema_name, dg_t.base_name) \
               || CASE WHEN dg_t.typcategory = 'A' THEN '[]' ELSE '' END) END \
           FROM duckgate_all_types dg_t WHERE dg_t.oid = type_oid);\
         CREATE OR REPLACE TEMP MACRO duckgate_regtype(name) AS ( \
           SELECT min(dg_t.oid) FROM duckgate_all_types dg_t \
           WHERE dg_t.typname = lower(trim(name, '\"')) OR dg_t.display = lower(trim(name, '\"')) \
              OR dg_t.typnamespace <> 11 AND dg_t.typname = trim(split_part(name, '.', -1), '\"') \
                 AND (NOT contains(name, '.') \
                      OR duckgate_pg_schema(dg_t.schema_name) = trim(split_part(name, '.', 1), '\"')));\
         CREATE OR REPLACE TEMP MACRO to_regtype(name) AS duckgate_regtype(name);\
         CREATE OR REPLACE TEMP MACRO duckgate_regtype_name(type_oid) AS \
           CASE WHEN type_oid = 0 THEN '-' ELSE COALESCE(format_type(type_oid, NULL), type_oid::VARCHAR) END;\
         CREATE OR REPLACE TEMP VIEW pg_namespace AS \
           SELECT oid, duckgate_pg_schema(nspname) AS nspname, \
                  CASE WHEN nspname = 'main' THEN 6171 ELSE 10 END::BIGINT AS nspowner, \
                  CASE WHEN nspname = 'main' \
                    THEN ['pg_database_owner=UC/pg_database_owner', '=U/pg_database_owner'] END::VARCHAR[] AS nspacl \
           FROM pg_catalog.pg_namespace \
           UNION ALL SELECT 11, 'pg_catalog', 10, ['duckdb=UC/duckdb', '=U/duckdb'] \
           UNION ALL SELECT 99, 'pg_toast', 10, NULL \
           UNION ALL SELECT {information_schema}, 'information_schema', 10, ['duckdb=UC/duckdb', '=U/duckdb'];\
         CREATE OR REPLACE TEMP VIEW duckgate_enum_columns AS \
           SELECT enum_spelling, min(oid) AS oid FROM duckgate_declared_types WHERE enum_spelling IS NOT NULL \
           GROUP BY enum_spelling;\
         CREATE OR REPLACE TEMP VIEW duckgate_length_checks AS \
           SELECT c.database_oid, c.database_name, c.schema_name, c.table_oid, c.table_name, c.constraint_index, \
                  c.constraint_name, c.expression, c.constraint_column_names[1] AS column_name, \
                  c.constraint_column_indexes[1] + 1 AS column_index, \
                  CASE WHEN c.m.bp = '' THEN {varchar} ELSE {bpchar} END::BIGINT AS type_oid, \
                  c.m.n::INTEGER AS length \
           FROM (SELECT *, regexp_extract(expression, '{length_check}', ['bp', 'bp_col', 'col', 'n']) AS m \
                 FROM duckdb_constraints() WHERE constraint_type = 'CHECK' AND len(constraint_column_names) = 1) c \
           JOIN duckdb_columns() dg_col ON dg_col.database_oid = c.database_oid AND dg_col.table_oid = c.table_oid \
             AND dg_col.column_index = c.constraint_column_indexes[1] + 1 AND dg_col.data_type = 'VARCHAR' \
           WHERE c.m.n <> '' AND TRY_CAST(c.m.n AS INTEGER) BETWEEN 1 AND {max_length} \
             AND concat(c.m.bp_col, c.m.col) IN (c.constraint_column_names[1], \
                   '\"' || replace(c.constraint_column_names[1], '\"', '\"\"') || '\"');\
         CREATE OR REPLACE TEMP VIEW duckgate_declared_lengths AS \
           SELECT database_oid, any_value(database_name) AS database_name, any_value(schema_name) AS schema_name, \
                  table_oid, any_value(table_name) AS table_name, column_index, any_value(column_name) AS column_name, \
                  arg_min(type_oid, length) AS type_oid, min(length) AS length \
           FROM duckgate_length_checks GROUP BY database_oid, table_oid, column_index;\
         CREATE OR REPLACE TEMP VIEW duckgate_view_lengths AS {view_lengths};\
         CREATE OR REPLACE TEMP VIEW duckgate_attribute_lengths AS \
           SELECT * FROM duckgate_declared_lengths UNION ALL SELECT * FROM duckgate_view_lengths;",
        rows = rows.join(", "),
        data_type_case = data_type_case,
        udt_case = udt_case,
        numeric = oid::NUMERIC,
        varchar = oid::VARCHAR,
        bpchar = oid::BPCHAR,
        user_array = USER_ARRAY_OID_BASE,
        composite_class = COMPOSITE_CLASS_OID_BASE,
        row_type = ROW_TYPE_OID_BASE,
        information_schema = INFORMATION_SCHEMA_OID,
        session_views = session_views(),
        no_composite_fields = composite_fields_sql(&[]),
        length_check = LENGTH_CHECK_PATTERN,
        view_lengths = VIEW_LENGTHS_SQL.replace("{session_views}", &session_views()),
        max_length = super::compat::MAX_DECLARED_LENGTH,
    )
}

/// PostgreSQL's `typalign` of a built-in type: `c` (char), `s` (int2), `d` (double) or `i`.
fn typalign(typname: &str) -> char {
    match typname {
        "bool" | "char" | "name" | "uuid" => 'c',
        "int2" => 's',
        "int8" | "float8" | "time" | "timestamp" | "timestamptz" | "interval" | "timetz" => 'd',
        _ => 'i',
    }
}

/// The composite (STRUCT) types DuckDB knows: OID, database, schema and name, ordered by OID
/// (the session compares the OIDs with the set its `duckgate_composite_fields` was built from).
pub const COMPOSITE_TYPES_SQL: &str =
    "SELECT type_oid::VARCHAR, database_name, schema_name, type_name \
     FROM duckdb_types() WHERE NOT internal AND logical_type = 'STRUCT' AND type_oid IS NOT NULL \
     ORDER BY type_oid";

/// Whether a (rewritten) catalog statement reads the rows composite types' fields make:
/// `pg_attribute` (the fields) or `pg_class` (their relnatts).
pub fn reads_composite_fields(sql: &str) -> bool {
    contains_ignore_case(sql, "pg_attribute") || contains_ignore_case(sql, "pg_class")
}

/// A query answering one row per composite type of [`COMPOSITE_TYPES_SQL`]'s answer (`[oid,
/// database, schema, name]`): its OID and DuckDB's spelling of its structure, `STRUCT(...)`.
/// DuckDB keeps a STRUCT type's fields in the type only (`duckdb_types()` does not list them),
/// so the type's NULL is asked for its `typeof`.
pub fn composite_typeof_sql(types: &[Vec<Option<String>>]) -> Option<String> {
    let parts: Vec<String> = types
        .iter()
        .filter_map(|row| {
            let [Some(oid), Some(db), Some(schema), Some(name)] = row.as_slice() else {
                return None;
            };
            let oid: u64 = oid.parse().ok()?;
            Some(format!(
                "SELECT {oid}, typeof(NULL::{}.{}.{})",
                super::quote_ident(db),
                super::quote_ident(schema),
                super::quote_ident(name)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
}

/// The fields of a DuckDB `STRUCT(...)` type as DuckDB prints it (`typeof`,
/// `duckdb_columns().data_type`): `(name, type)` pairs in order. Names may be double-quoted
/// (`"a b"`, `""` for a quote); a field's type may nest parentheses (`DECIMAL(10,2)`,
/// `STRUCT(...)`, `MAP(...)`) and single-quoted strings (`ENUM('a, b')`); `None` for anything
/// else (not a STRUCT, unbalanced text, a field without a type).
pub fn parse_struct_fields(t: &str) -> Option<Vec<(String, String)>> {
    let body = t.trim().strip_prefix("STRUCT(")?.strip_suffix(')')?;
    let mut fields = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        // the field's name: "quoted" or up to the first space
        let (name, after) = if let Some(q) = rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = q.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') if q[i + 1..].starts_with('"') => {
                        name.push('"');
                        chars.next();
                    }
                    (i, '"') => break i + 1,
                    (_, c) => name.push(c),
                }
            };
            (name, &q[end..])
        } else {
            let end = rest.find(' ')?;
            (rest[..end].to_string(), &rest[end..])
        };
        // the field's type: up to the next comma outside parentheses and quotes
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth < 0 {
                        return None;
                    }
                }
                (None, ',') if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        if depth != 0 || quote.is_some() {
            return None;
        }
        let ty = after[..end].trim();
        if name.is_empty() || ty.is_empty() {
            return None;
        }
        fields.push((name, ty.to_string()));
        rest = after[end..].strip_prefix(',').unwrap_or("").trim_start();
    }
    (!fields.is_empty()).then_some(fields)
}

/// `duckgate_composite_fields` (type_oid, attnum, attname, data_type) as a VALUES view of the
/// fields of each composite type (`(type OID, its fields)`), which `pg_attribute` and
/// `pg_class` read; with no types, the empty view the catalog installs.
pub fn composite_fields_sql(types: &[(u64, Vec<(String, String)>)]) -> String {
    let rows: Vec<String> = types
        .iter()
        .flat_map(|(oid, fields)| {
            fields.iter().enumerate().map(move |(i, (name, ty))| {
                format!(
                    "({oid}::BIGINT, {}::BIGINT, {}, {})",
                    i + 1,
                    super::quote_literal(name),
                    super::quote_literal(ty)
                )
            })
        })
        .collect();
    if rows.is_empty() {
        "CREATE OR REPLACE TEMP VIEW duckgate_composite_fields AS SELECT NULL::BIGINT AS type_oid, \
         NULL::BIGINT AS attnum, NULL::VARCHAR AS attname, NULL::VARCHAR AS data_type WHERE false;"
            .to_string()
    } else {
        format!(
            "CREATE OR REPLACE TEMP VIEW duckgate_composite_fields AS SELECT * FROM (VALUES {}) \
             v(type_oid, attnum, attname, data_type);",
            rows.join(", ")
        )
    }
}

/// The user tables whose sizes `pg_table_size()` and its kin report: `[oid, database, schema,
/// name, database type]` (DuckDB's `duckdb_databases().type`: `duckdb` for DuckDB storage,
/// `ducklake` for a DuckLake catalog; others have no size).
pub const SIZED_TABLES_SQL: &str =
    "SELECT t.table_oid::VARCHAR, t.database_name, t.schema_name, t.table_name, d.type \
     FROM duckdb_tables() t JOIN duckdb_databases() d ON d.database_oid = t.database_oid \
     WHERE NOT t.internal ORDER BY t.table_oid";

/// Whether a (rewritten) catalog statement calls one of the relation size functions (psql
/// `\dt+` `\di+` `\d+`, DBeaver's index and table statistics), which read the session's
/// `duckgate_relation_sizes`.
pub fn reads_relation_sizes(sql: &str) -> bool {
    [
        "pg_table_size",
        "pg_relation_size",
        "pg_total_relation_size",
        "pg_indexes_size",
    ]
    .iter()
    .any(|f| contains_ignore_case(sql, f))
}

/// The query answering `[oid, table oid, bytes]` for every table of [`SIZED_TABLES_SQL`]'s
/// answer and every index, from which [`relation_sizes_sql`] builds `duckgate_relation_sizes`.
///
/// What a size is (DuckDB keeps no per-relation byte count; PostgreSQL's is the relation's
/// files):
/// - a DuckDB table: the bytes its column segments take, from `pragma_storage_info`. A segment
///   written to the database file spans from its offset in its block to the next segment's
///   offset in that block (any table's: DuckDB packs small tables' segments into shared
///   blocks), or to the block's end, plus whole blocks it lists as additional (string
///   overflow); constant segments take no block. A segment still in memory (rows inserted
///   since the last checkpoint, in-memory and temporary tables) counts its values' width times
///   its rows (`duckgate_value_width`; 16-byte headers for strings and blobs, whose other bytes
///   DuckDB does not report per segment; validity masks 8 bytes per 64 rows). Every table of a
///   database is sized in the same pass, so shared blocks are split between their tables.
/// - a DuckLake table: the sizes of its current data and delete files (`ducklake_list_files`;
///   rows still inlined in the catalog are in no file and count nothing).
/// - an index: DuckDB reports no size per ART index; the estimate is the table's rows times
///   (an 8-byte row id plus the key columns' widths).
///
/// The storage pass names each table (quoted), so it sees what the session's transaction sees,
/// tables created in it included.
pub fn relation_sizes_query(tables: &[Vec<Option<String>>]) -> String {
    let mut segments = Vec::new();
    let mut lake_tables = Vec::new();
    for row in tables {
        let [Some(oid), Some(db), Some(schema), Some(name), Some(kind)] = row.as_slice() else {
            continue;
        };
        let Ok(oid) = oid.parse::<u64>() else {
            continue;
        };
        match kind.as_str() {
            "duckdb" => segments.push(format!(
                "SELECT {oid}::BIGINT AS table_oid, {} AS database_name, persistent, block_id, \
                 block_offset, additional_block_ids, segment_type, count \
                 FROM pragma_storage_info({})",
                super::quote_literal(db),
                super::quote_literal(&format!(
                    "{}.{}.{}",
                    super::quote_ident(db),
                    super::quote_ident(schema),
                    super::quote_ident(name)
                ))
            )),
            "ducklake" => lake_tables.push(format!(
                "SELECT {oid}::BIGINT, {oid}::BIGINT, (COALESCE(sum(data_file_size_bytes), 0) \
                 + COALESCE(sum(delete_file_size_bytes), 0))::BIGINT \
                 FROM ducklake_list_files({}, {}, schema => {})",
                super::quote_literal(db),
                super::quote_literal(name),
                super::quote_literal(schema)
            )),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    if !segments.is_empty() {
        parts.push(format!(
            "SELECT table_oid AS oid, table_oid, sum(CASE \
               WHEN persistent THEN CASE WHEN block_id >= 0 THEN COALESCE(dg_next, block_size) - block_offset \
                 ELSE 0 END + len(COALESCE(additional_block_ids, [])) * block_size \
               WHEN segment_type = 'VALIDITY' THEN (count + 63) // 64 * 8 \
               ELSE count * duckgate_value_width(segment_type) END)::BIGINT AS bytes \
             FROM (SELECT s.*, COALESCE(b.block_size, 262144) AS block_size, \
                          lead(s.block_offset) OVER (PARTITION BY s.database_name, s.block_id \
                                                     ORDER BY s.block_offset) AS dg_next \
                   FROM ({}) s LEFT JOIN pragma_database_size() b ON b.database_name = s.database_name) \
             GROUP BY table_oid",
            segments.join(" UNION ALL ")
        ));
    }
    parts.extend(lake_tables);
    // tables with no segment at all (never written to) take no bytes
    parts.push(
        "SELECT t.table_oid, t.table_oid, 0::BIGINT FROM duckdb_tables() t \
         JOIN duckdb_databases() d ON d.database_oid = t.database_oid \
         WHERE NOT t.internal AND d.type = 'duckdb'"
            .to_string(),
    );
    parts.push(
        "SELECT i.oid, any_value(i.table_oid), \
           (any_value(t.estimated_size) * (8 + sum(COALESCE(duckgate_value_width(c.data_type), 8))))::BIGINT \
         FROM (SELECT oid, table_oid, unnest(indkey) AS k FROM duckgate_indexes) i \
         JOIN duckdb_tables() t ON t.table_oid = i.table_oid \
         LEFT JOIN duckdb_columns() c ON c.table_oid = i.table_oid AND c.column_index = i.k \
         GROUP BY i.oid"
            .to_string(),
    );
    // one row per way a statement names the relation: its OID (as text: `pg_table_size(c.oid)`)
    // and, as PostgreSQL's regclass input, `schema.name` (`pg_temp.name` for a temporary one)
    // and, in the current schema and the temporary one, `name`; the bytes of the relation and
    // of its indexes (0 for an index)
    format!(
        "WITH dg_sizes(oid, table_oid, bytes) AS ({}), \
         dg_rel AS (SELECT oid, any_value(table_oid) AS table_oid, max(bytes) AS bytes FROM dg_sizes GROUP BY oid \
                    UNION ALL SELECT view_oid, view_oid, 0 FROM duckdb_views() WHERE NOT internal \
                    UNION ALL SELECT sequence_oid, sequence_oid, 0 FROM duckdb_sequences()), \
         dg_idx AS (SELECT table_oid, sum(bytes) AS bytes FROM dg_rel WHERE oid <> table_oid GROUP BY table_oid), \
         dg_names AS (SELECT table_oid AS oid, database_name, schema_name, table_name AS name FROM duckdb_tables() \
                      UNION ALL SELECT view_oid, database_name, schema_name, view_name FROM duckdb_views() \
                        WHERE NOT internal \
                      UNION ALL SELECT sequence_oid, database_name, schema_name, sequence_name FROM duckdb_sequences() \
                      UNION ALL SELECT i.index_oid, i.database_name, i.schema_name, i.index_name FROM duckdb_indexes() i \
                      UNION ALL SELECT c.index_oid, c.database_name, c.schema_name, c.conname FROM duckgate_constraints c \
                        WHERE c.contype IN ('p', 'u')), \
         dg_rows AS (SELECT r.oid, r.bytes, CASE WHEN r.oid = r.table_oid THEN COALESCE(i.bytes, 0) ELSE 0 END AS indexes \
                     FROM dg_rel r LEFT JOIN dg_idx i ON i.table_oid = r.oid), \
         dg_keys AS (SELECT oid::VARCHAR AS key, bytes, indexes FROM dg_rows \
                     UNION ALL SELECT CASE WHEN n.database_name = 'temp' THEN 'pg_temp' \
                         ELSE quote_ident(duckgate_pg_schema(n.schema_name)) END || '.' || quote_ident(n.name), \
                       r.bytes, r.indexes FROM dg_rows r JOIN dg_names n ON n.oid = r.oid \
                       WHERE n.database_name IN (current_database(), 'temp') \
                     UNION ALL SELECT quote_ident(n.name), r.bytes, r.indexes FROM dg_rows r JOIN dg_names n ON n.oid = r.oid \
                       WHERE n.database_name = 'temp' \
                         OR n.database_name = current_database() AND n.schema_name = pg_catalog.current_schema()) \
         SELECT key, max(bytes)::VARCHAR, max(indexes)::VARCHAR FROM dg_keys GROUP BY key ORDER BY key",
        parts.join(" UNION ALL ")
    )
}

/// `duckgate_relation_sizes` (key, bytes, indexes) as a VALUES view of
/// [`relation_sizes_query`]'s answer; with no rows, the empty view the catalog installs.
pub fn relation_sizes_sql(rows: &[Vec<Option<String>>]) -> String {
    let values: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let [Some(key), Some(bytes), Some(indexes)] = r.as_slice() else {
                return None;
            };
            let (bytes, indexes) = (bytes.parse::<i64>().ok()?, indexes.parse::<i64>().ok()?);
            Some(format!(
                "({}, {bytes}::BIGINT, {indexes}::BIGINT)",
                super::quote_literal(key)
            ))
        })
        .collect();
    if values.is_empty() {
        "CREATE OR REPLACE TEMP VIEW duckgate_relation_sizes AS SELECT NULL::VARCHAR AS key, \
         NULL::BIGINT AS bytes, NULL::BIGINT AS indexes WHERE false;"
            .to_string()
    } else {
        format!(
            "CREATE OR REPLACE TEMP VIEW duckgate_relation_sizes AS SELECT * FROM (VALUES {}) \
             v(key, bytes, indexes);",
            values.join(", ")
        )
    }
}

/// The declared lengths of views' columns that are plain references to such table columns, as
/// PostgreSQL gives a view column its source column's typmod (psql's `\d view`, pgJDBC's
/// getColumns): from DuckDB's parse tree of each view's query (`json_serialize_sql`), for one
/// SELECT without CTEs over base tables (a join tree of up to four), whose column is a
/// column reference, or whose only select item is `*` over one table. Anything else keeps
/// `text`. Only read when some table has a declared length, and not for the session's own
/// catalog views (`{session_views}`).
const VIEW_LENGTHS_SQL: &str = r"WITH v AS (
  SELECT dv.view_oid, dv.view_name, dv.database_name, dv.database_oid, dv.schema_name,
         json_extract(json_serialize_sql(regexp_replace(dv.sql, '(?s)^CREATE\s+.*?VIEW\s+.*?\s+AS\s+', '')), '$.statements[0].node') AS n
  FROM duckdb_views() dv WHERE NOT dv.internal AND EXISTS (SELECT 1 FROM duckgate_length_checks)
    AND NOT (dv.database_name = 'temp' AND (dv.view_name IN ({session_views}) OR starts_with(dv.view_name, 'duckgate_')))),
sel AS (SELECT * FROM v WHERE json_extract_string(n, '$.type') = 'SELECT_NODE'
          AND json_array_length(json_extract(n, '$.cte_map.map')) = 0),
base AS (
  SELECT s.view_oid, p.path, json_extract_string(s.n, '$.from_table' || p.path || '.alias') AS alias,
         json_extract_string(s.n, '$.from_table' || p.path || '.table_name') AS table_name,
         json_extract_string(s.n, '$.from_table' || p.path || '.schema_name') AS schema_name,
         json_extract_string(s.n, '$.from_table' || p.path || '.catalog_name') AS catalog_name
  FROM sel s, (VALUES (''), ('.left'), ('.right'), ('.left.left'), ('.left.right'), ('.left.left.left'),
                      ('.left.left.right')) p(path)
  WHERE json_extract_string(s.n, '$.from_table' || p.path || '.type') = 'BASE_TABLE'),
items AS (
  SELECT s.*, i.pos, json_extract(s.n, '$.select_list[' || (i.pos - 1) || ']') AS e
  FROM sel s, generate_series(1, json_array_length(json_extract(s.n, '$.select_list'))::BIGINT) i(pos)),
refs AS (
  SELECT it.*, CAST(json_extract(it.e, '$.column_names') AS VARCHAR[]) AS cn FROM items it
  WHERE json_extract_string(it.e, '$.class') = 'COLUMN_REF'),
sources AS (
  SELECT r.view_oid, r.database_oid, r.database_name, r.schema_name, r.view_name, r.pos,
         COALESCE(NULLIF(b.catalog_name, ''), r.database_name) AS src_db,
         COALESCE(NULLIF(b.schema_name, ''), r.schema_name) AS src_schema, b.table_name AS src_table,
         r.cn[-1] AS src_column, NULL::BIGINT AS src_index
  FROM refs r JOIN base b ON b.view_oid = r.view_oid
  WHERE len(r.cn) = 1 OR len(r.cn) = 2 AND lower(r.cn[1]) = lower(CASE WHEN b.alias <> '' THEN b.alias ELSE b.table_name END)
  UNION ALL
  SELECT it.view_oid, it.database_oid, it.database_name, it.schema_name, it.view_name, NULL, 
         COALESCE(NULLIF(b.catalog_name, ''), it.database_name), COALESCE(NULLIF(b.schema_name, ''), it.schema_name),
         b.table_name, NULL, NULL
  FROM items it JOIN base b ON b.view_oid = it.view_oid AND b.path = ''
  WHERE json_array_length(json_extract(it.n, '$.select_list')) = 1 AND json_extract_string(it.e, '$.class') = 'STAR'
    AND json_extract_string(it.e, '$.relation_name') = '' AND json_array_length(json_extract(it.e, '$.exclude_list')) = 0
    AND json_array_length(json_extract(it.e, '$.replace_list')) = 0 AND json_array_length(json_extract(it.e, '$.rename_list')) = 0)
SELECT s.database_oid, any_value(s.database_name) AS database_name, any_value(s.schema_name) AS schema_name,
       s.view_oid AS table_oid, any_value(s.view_name) AS table_name, vc.column_index, any_value(vc.column_name) AS column_name,
       arg_min(l.type_oid, l.length) AS type_oid, min(l.length) AS length
FROM sources s
JOIN duckgate_declared_lengths l ON l.database_name = s.src_db AND l.schema_name = s.src_schema
  AND lower(l.table_name) = lower(s.src_table)
  AND (s.pos IS NULL OR lower(l.column_name) = lower(s.src_column))
JOIN duckdb_columns() vc ON vc.table_oid = s.view_oid AND vc.column_index = COALESCE(s.pos, l.column_index)
  AND vc.data_type = 'VARCHAR'
GROUP BY s.database_oid, s.view_oid, vc.column_index";

/// `sql::compat::length_check` as DuckDB prints the CHECK back (`duckdb_constraints().expression`),
/// an RE2 pattern with the groups `rtrim` (a `char(n)`), the column either way, and `n`.
/// `sql::compat::parse_length_check` reads the same shape in error messages.
const LENGTH_CHECK_PATTERN: &str = r"^\(len\((?:(rtrim)\((.+)\)|(.+))\) <= ([0-9]+)\)$";

/// The array type of a DuckDB user type (enum, struct, alias) or of a relation's row type has
/// no OID in DuckDB; `pg_type` gives it this base + the element type's OID (DuckDB's object
/// OIDs are small counters; the range [2^30, 2^31) is left to these, [2^31, 2^32) to
/// constraints and their indexes).
const USER_ARRAY_OID_BASE: u64 = 1 << 30;

/// `information_schema`'s `pg_namespace.oid` (and its views' `pg_class.relnamespace`).
/// PostgreSQL creates the schema at initdb, so its OID is below the first user OID (16384), and
/// 15's initdb gives it 13207 (the number depends on how many collations initdb imports: this is
/// the C locales' count). DuckDB's own OID of its system schema counts among user objects' OIDs
/// (>= 16384) and changes with the catalog, which made information_schema look like a user's
/// schema (DBeaver's schema list).
const INFORMATION_SCHEMA_OID: u64 = 13207;

/// A table's or view's row type (`pg_type` typtype 'c', `pg_class.reltype`): this base + the
/// relation's OID, in [2^28, 2^29) (its array type is then in [2^30 + 2^28, 2^30 + 2^29)).
const ROW_TYPE_OID_BASE: u64 = 1 << 28;

/// The `pg_class` row (relkind 'c') of a composite (STRUCT) type, which PostgreSQL's
/// `pg_type.typrelid` and `pg_attribute.attrelid` point to: this base + the type's OID, in
/// [2^29, 2^30).
const COMPOSITE_CLASS_OID_BASE: u64 = 1 << 29;

/// The session's catalog views as a SQL list of names (they are TEMP views DuckDB lists as
/// relations; the session's pg_class and row types leave them out).
fn session_views() -> String {
    SESSION_RELATIONS
        .iter()
        .chain(PASSTHROUGH_RELATIONS)
        .chain(["pg_settings"].iter())
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL's system catalogs and their fixed OIDs: `'pg_catalog.pg_class'::regclass` and
/// `pg_description.classoid` (SQLAlchemy, psql, pgJDBC join descriptions on them).
const SYSTEM_CATALOGS: &[(&str, u32)] = &[
    ("pg_tablespace", 1213),
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_class", 1259),
    ("pg_authid", 1260),
    ("pg_database", 1262),
    ("pg_sequence", 2224),
    ("pg_am", 2601),
    ("pg_attrdef", 2604),
    ("pg_constraint", 2606),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_language", 2612),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_rewrite", 2618),
    ("pg_trigger", 2620),
    ("pg_opfamily", 2753),
    ("pg_extension", 3079),
    ("pg_policy", 3256),
    ("pg_statistic_ext", 3381),
    ("pg_collation", 3456),
    ("pg_enum", 3501),
    ("pg_publication", 6104),
];

/// The default btree operator class (PostgreSQL's OID) of each type an index column is reported
/// as: `pg_index.indclass`, which SQLAlchemy's index reflection returns.
const BTREE_OPCLASSES: &[(u32, u32)] = {
    use crate::types::oid::*;
    &[
        (INT2, 1979),
        (INT4, 1978),
        (INT8, 3124),
        (OID, 1981),
        (TEXT, 3126),
        (VARCHAR, 3126),
        (NUMERIC, 3125),
        (DATE, 3122),
        (FLOAT8, 3123),
        (TIMESTAMPTZ, 3127),
        (TIMESTAMP, 3128),
        (BIT, 10002),
        (BOOL, 10003),
        (BPCHAR, 10004),
        (BYTEA, 10006),
        (CHAR, 10007),
        (FLOAT4, 10012),
        (INTERVAL, 10022),
        (NAME, 10028),
        (TIME, 10038),
        (TIMETZ, 10041),
        (VARBIT, 10043),
        (UUID, 10065),
        (JSONB, 10088),
    ]
};

/// Relations, constraints, indexes and comments as PostgreSQL shows them, from DuckDB's catalog.
///
/// - Constraints: DuckDB's PRIMARY KEY, UNIQUE, FOREIGN KEY and CHECK constraints under
///   PostgreSQL's names (`<table>_pkey`, `<table>_<columns>_key`, `<table>_<columns>_fkey`,
///   `<table>[_<column>]_check`); NOT NULL is `pg_attribute.attnotnull` only, as in PostgreSQL.
///   OIDs are derived from the table's OID and the constraint's position among the table's
///   constraints: `2^31 + table_oid * 128 + 2 * k` (stable while the table's constraints are),
///   and the index that enforces a PRIMARY KEY or UNIQUE constraint is that OID + 1 (it has no
///   OID of its own in DuckDB). DuckDB's object OIDs are small counters, far below 2^31.
/// - Indexes (`pg_index`, index rows of `pg_class`, `pg_indexes`, `pg_get_indexdef`): DuckDB's
///   CREATE INDEX indexes plus one per PRIMARY KEY / UNIQUE constraint, all `btree` (DuckDB's
///   ART indexes answer the same lookups).
/// - Comments (`pg_description`, `obj_description`, `col_description`) from DuckDB's `comment`.
fn objects_sql() -> String {
    use crate::types::oid;
    let catalogs: String = SYSTEM_CATALOGS
        .iter()
        .map(|(n, o)| format!(" WHEN '{n}' THEN {o}"))
        .collect();
    let catalog_names: String = SYSTEM_CATALOGS
        .iter()
        .map(|(n, o)| format!(" WHEN {o} THEN '{n}'"))
        .collect();
    let opclasses: String = BTREE_OPCLASSES
        .iter()
        .map(|(t, o)| format!(" WHEN {t} THEN {o}"))
        .collect();
    format!(
        "CREATE OR REPLACE TEMP MACRO duckgate_catalog_oid(name) AS \
           CASE WHEN NOT contains(name, '.') OR lower(trim(split_part(name, '.', 1), '\"')) = 'pg_catalog' THEN \
             CASE lower(trim(split_part(name, '.', -1), '\"')){catalogs} END END;\
         /* the pg_class rows of composite types (their names for regclass, their schemas) */ \
         CREATE OR REPLACE TEMP VIEW duckgate_composite_classes AS \
           SELECT {composite_class} + type_oid AS oid, type_name AS relname, schema_oid AS relnamespace, \
                  schema_name, database_name, type_oid \
           FROM duckdb_types() WHERE NOT internal AND logical_type = 'STRUCT' AND type_oid IS NOT NULL;\
         CREATE OR REPLACE TEMP MACRO duckgate_regclass(name) AS CASE \
           WHEN regexp_full_match(name, '[0-9]+') THEN TRY_CAST(name AS BIGINT) \
           ELSE COALESCE(duckgate_catalog_oid(name), ( \
           SELECT dg_c.oid FROM (SELECT oid, relname, relnamespace FROM pg_catalog.pg_class \
                                 UNION ALL SELECT oid, relname, relnamespace FROM duckgate_composite_classes) dg_c \
           JOIN pg_catalog.pg_namespace dg_n ON dg_n.oid = dg_c.relnamespace \
           WHERE dg_c.relname = trim(split_part(name, '.', -1), '\"') \
             AND (NOT contains(name, '.') OR duckgate_pg_schema(dg_n.nspname) = trim(split_part(name, '.', 1), '\"')) \
           ORDER BY (duckgate_pg_schema(dg_n.nspname) = current_schema()) DESC LIMIT 1)) END;\
         CREATE OR REPLACE TEMP MACRO to_regclass(name) AS duckgate_regclass(name);\
         CREATE OR REPLACE TEMP MACRO duckgate_regnamespace(name) AS ( \
           SELECT min(dg_n.oid) FROM pg_namespace dg_n WHERE dg_n.nspname = CASE WHEN name LIKE '\"%\"' \
             THEN replace(name[2:-2], '\"\"', '\"') ELSE lower(name) END);\
         CREATE OR REPLACE TEMP MACRO to_regnamespace(name) AS duckgate_regnamespace(name);\
         CREATE OR REPLACE TEMP MACRO duckgate_btree_opclass(type_oid) AS CASE type_oid{opclasses} ELSE 0 END;\
         CREATE OR REPLACE TEMP VIEW duckgate_constraints AS \
           SELECT c.*, \
             left(CASE c.contype WHEN 'p' THEN c.table_name || '_pkey' \
               WHEN 'u' THEN c.table_name || '_' || array_to_string(c.constraint_column_names, '_') || '_key' \
               WHEN 'f' THEN c.table_name || '_' || array_to_string(c.constraint_column_names, '_') || '_fkey' \
               ELSE c.table_name || CASE WHEN len(c.constraint_column_names) = 1 \
                 THEN '_' || c.constraint_column_names[1] ELSE '' END || '_check' END, 63) AS conname, \
             (2147483648 + c.table_oid * 128 + c.k * 2)::BIGINT AS oid, \
             CASE WHEN c.contype IN ('p', 'u') THEN (2147483648 + c.table_oid * 128 + c.k * 2 + 1)::BIGINT END AS index_oid, \
             list_transform(c.constraint_column_indexes, x -> (x + 1)::SMALLINT) AS conkey \
           FROM (SELECT *, CASE constraint_type WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u' \
                   WHEN 'FOREIGN KEY' THEN 'f' ELSE 'c' END AS contype, \
                   row_number() OVER (PARTITION BY database_oid, table_oid ORDER BY constraint_index) - 1 AS k \
                 FROM duckdb_constraints() dg_dc \
                 WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK') \
                   AND NOT EXISTS (SELECT 1 FROM duckgate_length_checks dg_l WHERE dg_l.database_oid = dg_dc.database_oid \
                     AND dg_l.table_oid = dg_dc.table_oid AND dg_l.constraint_index = dg_dc.constraint_index)) c;\
         CREATE OR REPLACE TEMP VIEW duckgate_foreign_keys AS \
           SELECT c.oid, any_value(t.table_oid) AS confrelid, any_value(t.schema_name) AS ref_schema, \
                  any_value(t.table_name) AS ref_table, \
                  list(col.column_index::SMALLINT ORDER BY c.pos) AS confkey \
           FROM (SELECT *, unnest(generate_series(1, len(referenced_column_names))) AS pos \
                 FROM duckgate_constraints WHERE contype = 'f') c \
           JOIN duckdb_tables() t ON t.database_oid = c.database_oid AND t.schema_name = c.schema_name \
             AND t.table_name = c.referenced_table \
           JOIN duckdb_columns() col ON col.table_oid = t.table_oid \
             AND col.column_name = c.referenced_column_names[c.pos] \
           GROUP BY c.oid;\
         CREATE OR REPLACE TEMP VIEW pg_constraint AS \
           SELECT c.oid, c.conname, c.schema_oid AS connamespace, c.contype, false AS condeferrable, \
                  false AS condeferred, true AS convalidated, c.table_oid AS conrelid, 0::BIGINT AS contypid, \
                  COALESCE(c.index_oid, u.index_oid, 0)::BIGINT AS conindid, 0::BIGINT AS conparentid, \
                  COALESCE(fk.confrelid, 0)::BIGINT AS confrelid, \
                  CASE WHEN c.contype = 'f' THEN 'a' ELSE ' ' END AS confupdtype, \
                  CASE WHEN c.contype = 'f' THEN 'a' ELSE ' ' END AS confdeltype, \
                  CASE WHEN c.contype = 'f' THEN 's' ELSE ' ' END AS confmatchtype, \
                  true AS conislocal, 0 AS coninhcount, c.contype <> 'c' AS connoinherit, c.conkey, fk.confkey, \
                  eq.eqop AS conpfeqop, eq.eqop AS conppeqop, eq.eqop AS conffeqop, \
                  NULL::SMALLINT[] AS confdelsetcols, NULL::BIGINT[] AS conexclop, c.expression AS conbin \
           FROM duckgate_constraints c LEFT JOIN duckgate_foreign_keys fk ON fk.oid = c.oid \
           LEFT JOIN duckgate_constraints u ON u.table_oid = fk.confrelid AND u.contype IN ('p', 'u') \
             AND u.conkey = fk.confkey \
           LEFT JOIN ( \
             SELECT dg_k.oid, list(CASE duckgate_column_type_oid(dg_col.data_type) \
                 WHEN 21 THEN 94 WHEN 23 THEN 96 WHEN 20 THEN 410 WHEN 25 THEN 98 WHEN 1043 THEN 98 \
                 WHEN 1042 THEN 1054 WHEN 1700 THEN 1752 WHEN 16 THEN 91 WHEN 1082 THEN 1093 \
                 WHEN 1114 THEN 2060 WHEN 1184 THEN 1320 WHEN 700 THEN 620 WHEN 701 THEN 670 \
                 WHEN 2950 THEN 2972 WHEN 17 THEN 1955 WHEN 1083 THEN 1108 WHEN 26 THEN 607 END::BIGINT \
               ORDER BY dg_k.pos) AS eqop \
             FROM (SELECT oid, table_oid, unnest(conkey) AS attnum, generate_subscripts(conkey, 1) AS pos \
                   FROM duckgate_constraints WHERE contype = 'f') dg_k \
             JOIN duckdb_columns() dg_col ON dg_col.table_oid = dg_k.table_oid AND dg_col.column_index = dg_k.attnum \
             GROUP BY dg_k.oid) eq ON eq.oid = c.oid;\
         CREATE OR REPLACE TEMP MACRO pg_get_constraintdef(con) AS ( \
           SELECT CASE dg_c.contype \
             WHEN 'p' THEN 'PRIMARY KEY (' || array_to_string(list_transform(dg_c.constraint_column_names, x -> quote_ident(x)), ', ') || ')' \
             WHEN 'u' THEN 'UNIQUE (' || array_to_string(list_transform(dg_c.constraint_column_names, x -> quote_ident(x)), ', ') || ')' \
             WHEN 'f' THEN 'FOREIGN KEY (' || array_to_string(list_transform(dg_c.constraint_column_names, x -> quote_ident(x)), ', ') \
               || ') REFERENCES ' || duckgate_qualified(dg_fk.ref_schema, dg_fk.ref_table) || '(' \
               || array_to_string(list_transform(dg_c.referenced_column_names, x -> quote_ident(x)), ', ') || ')' \
             ELSE 'CHECK (' || dg_c.expression || ')' END \
           FROM duckgate_constraints dg_c LEFT JOIN duckgate_foreign_keys dg_fk ON dg_fk.oid = dg_c.oid WHERE dg_c.oid = con), \
           (con, pretty) AS pg_get_constraintdef(con);\
         /* the elements of a DuckDB index's `expressions`, a list printed as text: split at the \
            commas outside parentheses and quotes; DuckDB quotes an element that is not a plain \
            word, with backslash escapes (['\"Odd Col\"', '(lower(s))', '\"it\\'s\"']) */ \
         CREATE OR REPLACE TEMP MACRO duckgate_index_elements(expressions) AS \
           list_transform(regexp_extract_all(expressions[2:-2], \
             '(?:''(?:[^''\\\\]|\\\\.)*''|[^,('']|\\((?:[^()]|\\([^()]*\\))*\\))+'), \
             e -> CASE WHEN trim(e) LIKE '''%''' \
                  THEN regexp_replace(trim(e)[2:-2], '\\\\(.)', '\\1', 'g') ELSE trim(e) END);\
         CREATE OR REPLACE TEMP VIEW duckgate_indexes AS \
           WITH base AS ( \
             SELECT i.index_oid AS oid, i.index_name AS relname, i.database_oid, i.schema_oid, i.schema_name, \
                    i.table_oid, i.table_name, i.is_unique, i.is_primary, NULL::BIGINT AS conoid, \
                    duckgate_index_elements(i.expressions) AS elems \
             FROM duckdb_indexes() i \
             UNION ALL \
             SELECT c.index_oid, c.conname, c.database_oid, c.schema_oid, c.schema_name, c.table_oid, c.table_name, \
                    true, c.contype = 'p', c.oid, list_transform(c.constraint_column_names, x -> quote_ident(x)) \
             FROM duckgate_constraints c WHERE c.contype IN ('p', 'u')) \
           , elements AS ( \
             SELECT b.*, unnest(generate_series(1, len(b.elems))) AS pos FROM base b) \
           SELECT b.oid, b.relname, b.database_oid, b.schema_oid, b.schema_name, b.table_oid, b.table_name, \
                  b.is_unique, b.is_primary, b.conoid, \
                  list(COALESCE(col.column_index, 0)::SMALLINT ORDER BY b.pos) AS indkey, \
                  list(b.elems[b.pos] ORDER BY b.pos) AS elements, \
                  list(duckgate_btree_opclass(col.type_oid)::BIGINT ORDER BY b.pos) AS indclass, \
                  list(CASE WHEN col.type_oid IN ({text}, {varchar}) THEN 100 ELSE 0 END::BIGINT \
                       ORDER BY b.pos) AS indcollation, \
                  'CREATE ' || CASE WHEN b.is_unique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(b.relname) \
                    || ' ON ' || duckgate_qualified(b.schema_name, b.table_name) || ' USING btree (' \
                    || array_to_string(list(b.elems[b.pos] ORDER BY b.pos), ', ') || ')' AS indexdef \
           FROM elements b \
           LEFT JOIN (SELECT table_oid, column_name, column_index, duckgate_column_type_oid(data_type) AS type_oid \
                      FROM duckdb_columns()) col ON col.table_oid = b.table_oid \
             AND col.column_name = CASE WHEN b.elems[b.pos] LIKE '\"%\"' \
               THEN replace(b.elems[b.pos][2:-2], '\"\"', '\"') ELSE b.elems[b.pos] END \
           GROUP BY b.oid, b.relname, b.database_oid, b.schema_oid, b.schema_name, b.table_oid, b.table_name, \
                    b.is_unique, b.is_primary, b.conoid;\
         CREATE OR REPLACE TEMP VIEW pg_index AS \
           SELECT oid AS indexrelid, table_oid AS indrelid, len(indkey)::SMALLINT AS indnatts, \
                  len(indkey)::SMALLINT AS indnkeyatts, is_unique AS indisunique, false AS indnullsnotdistinct, \
                  is_primary AS indisprimary, false AS indisexclusion, true AS indimmediate, false AS indisclustered, \
                  true AS indisvalid, false AS indcheckxmin, true AS indisready, true AS indislive, \
                  false AS indisreplident, CAST(indkey AS duckgate_int2vector[]) AS indkey, \
                  CAST(indcollation AS duckgate_oidvector[]) AS indcollation, \
                  CAST(indclass AS duckgate_oidvector[]) AS indclass, \
                  CAST(list_transform(indkey, x -> 0::SMALLINT) AS duckgate_int2vector[]) AS indoption, \
                  CASE WHEN list_contains(indkey, 0) \
                    THEN array_to_string(list_filter(elements, (e, i) -> indkey[i] = 0), ', ') END AS indexprs, \
                  NULL::VARCHAR AS indpred \
           FROM duckgate_indexes;\
         CREATE OR REPLACE TEMP MACRO pg_get_indexdef(idx) AS \
             (SELECT dg_i.indexdef FROM duckgate_indexes dg_i WHERE dg_i.oid = idx), \
           (idx, col, pretty) AS (SELECT CASE WHEN col = 0 THEN dg_i.indexdef ELSE dg_i.elements[col] END \
                                  FROM duckgate_indexes dg_i WHERE dg_i.oid = idx);\
         CREATE OR REPLACE TEMP VIEW pg_indexes AS \
           SELECT duckgate_pg_schema(schema_name) AS schemaname, table_name AS tablename, relname AS indexname, \
                  NULL::VARCHAR AS tablespace, indexdef FROM duckgate_indexes;\
         /* pg_attribute: the columns of tables and views, the fields of composite types \
            (attrelid = their pg_class row), the system columns of tables (attnum < 0, as \
            PostgreSQL 15 numbers them; DBeaver lists them) and the columns of indexes \
            (attrelid = the index, as psql describes an index) */ \
         CREATE OR REPLACE TEMP VIEW pg_attribute AS \
           SELECT attrelid, attname, atttypid, attstattarget, COALESCE(dg_a.attlen, dg_t.typlen, -1)::SMALLINT AS attlen, \
                  attnum, attndims, -1 AS attcacheoff, atttypmod, \
                  COALESCE(dg_a.attbyval, dg_t.typlen BETWEEN 1 AND 8, false) AS attbyval, \
                  COALESCE(dg_a.attalign, dg_t.typalign, 'i') AS attalign, \
                  CASE WHEN COALESCE(dg_a.attlen, dg_t.typlen) > 0 THEN 'p' WHEN atttypid = {numeric} THEN 'm' \
                       ELSE 'x' END AS attstorage, \
                  '' AS attcompression, attnotnull, atthasdef, false AS atthasmissing, '' AS attidentity, \
                  '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount, attcollation, \
                  NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, \
                  NULL::VARCHAR AS attmissingval \
           FROM (SELECT attrelid, attname, \
                  COALESCE(dg_len_type, dg_e.oid, {user_array} + dg_ea.oid, duckgate_column_type_oid(data_type))::BIGINT AS atttypid, \
                  attnum::SMALLINT AS attnum, \
                  CASE WHEN dg_len IS NOT NULL THEN dg_len + 4 \
                       WHEN data_type LIKE 'DECIMAL(%' AND NOT data_type LIKE '%]' \
                       THEN ((numeric_precision << 16) | numeric_scale) + 4 ELSE -1 END AS atttypmod, \
                  attnotnull, atthasdef, \
                  CASE WHEN dg_e.oid IS NULL AND duckgate_column_type_oid(data_type) IN ({text}, {varchar}, {text_array}, {varchar_array}) \
                    THEN 100 ELSE 0 END::BIGINT AS attcollation, \
                  -1 AS attstattarget, NULL::SMALLINT AS attlen, NULL::BOOLEAN AS attbyval, NULL::VARCHAR AS attalign, \
                  /* an array column's dimensions, as declared (DBeaver shows them) */ \
                  len(regexp_extract_all(regexp_extract(data_type, '((\\[[0-9]*\\])+)$', 1), '\\[')) \
                    AS attndims \
           FROM (SELECT c.table_oid AS attrelid, c.column_name AS attname, c.data_type, c.column_index AS attnum, \
                        c.numeric_precision, c.numeric_scale, NOT c.is_nullable AS attnotnull, \
                        c.column_default IS NOT NULL AS atthasdef, dg_l.type_oid AS dg_len_type, dg_l.length AS dg_len \
                 FROM duckdb_columns() c \
                 /* declared varchar(n)/char(n) lengths (sql::compat) of tables and views */ \
                 LEFT JOIN duckgate_attribute_lengths dg_l ON dg_l.database_oid = c.database_oid \
                   AND dg_l.table_oid = c.table_oid AND dg_l.column_index = c.column_index \
                 UNION ALL SELECT {composite_class} + f.type_oid, f.attname, f.data_type, f.attnum, \
                        TRY_CAST(regexp_extract(f.data_type, '^DECIMAL\\((\\d+),', 1) AS INTEGER), \
                        TRY_CAST(regexp_extract(f.data_type, '^DECIMAL\\(\\d+,(\\d+)\\)$', 1) AS INTEGER), false, false, NULL, NULL \
                 FROM duckgate_composite_fields f \
                 /* the indexes of duckgate_indexes, from their sources directly (that view's \
                    definitions and operator classes cost several times more) */ \
                 UNION ALL SELECT k.index_oid, c.column_name, c.data_type, k.pos, \
                        c.numeric_precision, c.numeric_scale, false, false, NULL, NULL \
                 FROM (SELECT index_oid, table_oid, unnest(conkey) AS attnum, generate_subscripts(conkey, 1) AS pos \
                       FROM duckgate_constraints WHERE contype IN ('p', 'u')) k \
                 JOIN duckdb_columns() c ON c.table_oid = k.table_oid AND c.column_index = k.attnum \
                 UNION ALL SELECT e.index_oid, COALESCE(c.column_name, 'expr'), c.data_type, e.pos, \
                        c.numeric_precision, c.numeric_scale, false, false, NULL, NULL \
                 FROM (SELECT index_oid, table_oid, generate_subscripts(elems, 1) AS pos, unnest(elems) AS elem \
                       FROM (SELECT index_oid, table_oid, duckgate_index_elements(expressions) AS elems \
                             FROM duckdb_indexes())) e \
                 LEFT JOIN duckdb_columns() c ON c.table_oid = e.table_oid \
                   AND c.column_name = CASE WHEN e.elem LIKE '\"%\"' \
                     THEN replace(e.elem[2:-2], '\"\"', '\"') ELSE e.elem END) dg_c \
           LEFT JOIN duckgate_enum_columns dg_e ON dg_e.enum_spelling = data_type \
           LEFT JOIN duckgate_enum_columns dg_ea ON dg_ea.enum_spelling || '[]' = data_type \
           UNION ALL SELECT t.table_oid, s.attname, s.atttypid, s.attnum::SMALLINT, -1, true, false, 0, 0, s.attlen, \
                  s.attbyval, s.attalign, 0 \
           FROM duckdb_tables() t, (VALUES ('ctid', 27, -1, 6, false, 's'), ('xmin', 28, -2, 4, true, 'i'), \
                  ('cmin', 29, -3, 4, true, 'i'), ('xmax', 28, -4, 4, true, 'i'), ('cmax', 29, -5, 4, true, 'i'), \
                  ('tableoid', 26, -6, 4, true, 'i')) s(attname, atttypid, attnum, attlen, attbyval, attalign)) dg_a \
           LEFT JOIN duckgate_all_types dg_t ON dg_t.oid = dg_a.atttypid;\
         CREATE OR REPLACE TEMP VIEW pg_class AS \
           WITH rows AS ( \
             SELECT * FROM pg_catalog.pg_class WHERE relkind <> 'i' AND oid NOT IN ( \
               SELECT view_oid FROM duckdb_views() WHERE database_name = 'temp' \
                 AND (view_name IN ({session_views}) OR starts_with(view_name, 'duckgate_'))) \
             UNION ALL \
             SELECT t.* REPLACE (i.oid AS oid, i.relname AS relname, 'i' AS relkind, len(i.indkey) AS relnatts, \
                                 0 AS relchecks, false AS relhasindex, false AS relhaspkey) \
             FROM duckgate_indexes i JOIN pg_catalog.pg_class t ON t.oid = i.table_oid \
             UNION ALL \
             /* composite types have a pg_class row (relkind 'c') that their pg_type.typrelid and \
                their fields' pg_attribute.attrelid point to (Npgsql, asyncpg, pgx, psycopg) */ \
             SELECT ty.oid, ty.relname, ty.relnamespace, ty.type_oid, 0, 0, 0, 0, 0, 0, \
                    0, 0, 0, 0, false, false, CASE WHEN ty.database_name = 'temp' THEN 't' ELSE 'p' END, 'c', \
                    COALESCE(f.n, 0), 0, false, false, false, false, false, false, true, NULL, false, 0, 0, \
                    NULL, NULL, NULL, NULL \
             FROM duckgate_composite_classes ty LEFT JOIN (SELECT type_oid, count(*) AS n \
               FROM duckgate_composite_fields GROUP BY type_oid) f ON f.type_oid = ty.type_oid) \
           SELECT oid, relname, \
                  CASE WHEN relnamespace IN (SELECT dg_s.oid FROM duckdb_schemas() dg_s \
                    WHERE dg_s.database_name = 'system' AND dg_s.schema_name = 'information_schema') \
                    THEN {information_schema} ELSE relnamespace END::BIGINT AS relnamespace, \
                  CASE WHEN relkind = 'c' THEN reltype \
                       WHEN relkind IN ('r', 'v') AND relnamespace NOT IN ( \
                         SELECT dg_s.oid FROM duckdb_schemas() dg_s WHERE dg_s.database_name = 'system') \
                       THEN {row_type} + oid ELSE 0 END::BIGINT AS reltype, \
                  reloftype, 10::BIGINT AS relowner, \
                  CASE relkind WHEN 'r' THEN 2 WHEN 'i' THEN 403 ELSE 0 END::BIGINT AS relam, \
                  relfilenode, reltablespace, relpages, reltuples, relallvisible, reltoastrelid, relhasindex, \
                  relisshared, relpersistence, relkind, relnatts, \
                  relchecks - (SELECT count(*) FROM duckgate_length_checks dg_l WHERE dg_l.table_oid = rows.oid) AS relchecks, \
                  relkind = 'v' AS relhasrules, \
                  relkind = 'r' AND oid IN ( \
                    SELECT dg_f.table_oid FROM duckgate_constraints dg_f WHERE dg_f.contype = 'f' \
                    UNION ALL SELECT dg_t.table_oid FROM duckgate_constraints dg_f JOIN duckdb_tables() dg_t \
                      ON dg_t.database_oid = dg_f.database_oid AND dg_t.schema_name = dg_f.schema_name \
                      AND dg_t.table_name = dg_f.referenced_table WHERE dg_f.contype = 'f') AS relhastriggers, \
                  relhassubclass, relrowsecurity, false AS relforcerowsecurity, relispopulated, \
                  CASE WHEN relkind = 'r' THEN 'd' ELSE 'n' END AS relreplident, relispartition, relrewrite, \
                  relfrozenxid, CASE WHEN relkind = 'r' THEN 1 ELSE 0 END::BIGINT AS relminmxid, \
                  CAST(relacl AS VARCHAR[]) AS relacl, \
                  CAST(reloptions AS VARCHAR[]) AS reloptions, relpartbound \
           FROM rows;\
         CREATE OR REPLACE TEMP VIEW pg_tablespace AS \
           SELECT * FROM (VALUES (1663::BIGINT, 'pg_default', 10::BIGINT, NULL::VARCHAR[], NULL::VARCHAR[]), \
                                 (1664::BIGINT, 'pg_global', 10::BIGINT, NULL::VARCHAR[], NULL::VARCHAR[])) \
             v(oid, spcname, spcowner, spcacl, spcoptions);\
         CREATE OR REPLACE TEMP VIEW pg_am AS \
           SELECT * FROM (VALUES (2::BIGINT, 'heap', 'heap_tableam_handler', 't'), \
                                 (403::BIGINT, 'btree', 'bthandler', 'i')) v(oid, amname, amhandler, amtype);\
         CREATE OR REPLACE TEMP VIEW pg_description AS \
           SELECT table_oid AS objoid, 1259::BIGINT AS classoid, 0 AS objsubid, comment AS description \
             FROM duckdb_tables() WHERE comment <> '' \
           UNION ALL SELECT view_oid, 1259, 0, comment FROM duckdb_views() WHERE NOT internal AND comment <> '' \
           UNION ALL SELECT table_oid, 1259, column_index, comment FROM duckdb_columns() \
             WHERE NOT internal AND comment <> '' \
           UNION ALL SELECT index_oid, 1259, 0, comment FROM duckdb_indexes() WHERE comment <> '' \
           UNION ALL SELECT sequence_oid, 1259, 0, comment FROM duckdb_sequences() WHERE comment <> '' \
           UNION ALL SELECT type_oid, 1247, 0, comment FROM duckdb_types() WHERE NOT internal AND comment <> '' \
           UNION ALL SELECT oid, 2615, 0, CASE WHEN comment <> '' THEN comment ELSE 'standard public schema' END \
             FROM duckdb_schemas() WHERE comment <> '' OR schema_name = 'main' \
           UNION ALL SELECT * FROM (VALUES (11, 2615, 0, 'system catalog schema'), \
                                          (99, 2615, 0, 'reserved schema for TOAST tables'));\
         CREATE OR REPLACE TEMP MACRO obj_description(obj) AS \
             (SELECT min(dg_d.description) FROM pg_description dg_d WHERE dg_d.objoid = obj AND dg_d.objsubid = 0), \
           (obj, catalog) AS (SELECT min(dg_d.description) FROM pg_description dg_d \
             WHERE dg_d.objoid = obj AND dg_d.objsubid = 0 AND dg_d.classoid = duckgate_catalog_oid(catalog));\
         CREATE OR REPLACE TEMP MACRO col_description(rel, attnum) AS (SELECT min(dg_d.description) \
           FROM pg_description dg_d WHERE dg_d.objoid = rel AND dg_d.classoid = 1259 AND dg_d.objsubid = attnum);\
         CREATE OR REPLACE TEMP VIEW pg_collation AS \
           SELECT * FROM (VALUES (100::BIGINT, 'default', 11::BIGINT, 10::BIGINT, 'd', true, -1, NULL::VARCHAR, NULL::VARCHAR, \
                                  NULL::VARCHAR, NULL::VARCHAR), \
                                 (950, 'C', 11, 10, 'c', true, -1, 'C', 'C', NULL, NULL), \
                                 (951, 'POSIX', 11, 10, 'c', true, -1, 'POSIX', 'POSIX', NULL, NULL)) \
             v(oid, collname, collnamespace, collowner, collprovider, collisdeterministic, collencoding, \
               collcollate, collctype, colliculocale, collversion);\
         CREATE OR REPLACE TEMP VIEW pg_range AS \
           SELECT NULL::BIGINT AS rngtypid, NULL::BIGINT AS rngsubtype, NULL::BIGINT AS rngmultitypid, \
                  NULL::BIGINT AS rngcollation, NULL::BIGINT AS rngsubopc, NULL::VARCHAR AS rngcanonical, \
                  NULL::VARCHAR AS rngsubdiff WHERE false;\
         /* PostgreSQL's deparse of the view's SELECT (psql \\d+, SQLAlchemy's get_view_definition; \
            sql::viewdef, over DuckDB's parse tree and the column types of the view's database), \
            DuckDB's own SQL text where the deparser does not handle the view */ \
         CREATE OR REPLACE TEMP MACRO duckgate_get_viewdef(vid, pretty) AS \
             (SELECT COALESCE( \
                duckgate_viewdef(json_serialize_sql(regexp_replace(dg_v.sql, '(?s)^CREATE\\s+.*?VIEW\\s+.*?\\s+AS\\s+', '')), \
                  COALESCE(pretty, false), \
                  (SELECT CASE WHEN bool_or(regexp_matches(dg_c.schema_name || dg_c.table_name || dg_c.column_name, '[\\t\\n]')) \
                            THEN NULL ELSE string_agg(concat_ws(chr(9), dg_c.schema_name, dg_c.table_name, dg_c.column_name, \
                              dg_c.data_type, COALESCE(dg_l.type_oid::VARCHAR, '')), chr(10) \
                              ORDER BY dg_c.table_oid, dg_c.column_index) END \
                   FROM duckdb_columns() dg_c LEFT JOIN duckgate_attribute_lengths dg_l \
                     ON dg_l.database_oid = dg_c.database_oid AND dg_l.table_oid = dg_c.table_oid \
                     AND dg_l.column_index = dg_c.column_index \
                   WHERE dg_c.database_oid = dg_v.database_oid), \
                  dg_v.schema_name, dg_v.view_name), \
                ' ' || regexp_replace(regexp_replace(dg_v.sql, '(?s)^CREATE\\s+.*?VIEW\\s+.*?\\s+AS\\s+', ''), \
                  '(^|[^.\\w\"])main\\.', '\\1public.', 'g')) \
              FROM duckdb_views() dg_v WHERE dg_v.view_oid = vid);\
         /* (an overload naming another binds it when created: both name the helper) */ \
         CREATE OR REPLACE TEMP MACRO pg_get_viewdef(vid) AS duckgate_get_viewdef(vid, false), \
           (vid, pretty) AS duckgate_get_viewdef(vid, pretty);\
         CREATE OR REPLACE TEMP MACRO pg_partition_ancestors(rel) AS TRY_CAST(rel AS BIGINT);\
         CREATE OR REPLACE TEMP MACRO pg_partition_ancestors(rel) AS TABLE \
           SELECT NULL::BIGINT AS relid, NULL::BIGINT AS ordinality WHERE false;\
         CREATE OR REPLACE TEMP MACRO _pg_expandarray(arr) AS \
           unnest(list_transform(arr, (dg_x, dg_i) -> struct_pack(x := dg_x, n := dg_i)));\
         CREATE OR REPLACE TEMP MACRO pg_get_keywords() AS TABLE \
           SELECT keyword_name AS word, \
                  CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' \
                    WHEN 'type_function' THEN 'T' ELSE 'C' END AS catcode, \
                  true AS barelabel, \
                  CASE keyword_category WHEN 'reserved' THEN 'reserved' WHEN 'unreserved' THEN 'unreserved' \
                    WHEN 'type_function' THEN 'reserved (can be function or type name)' \
                    ELSE 'unreserved (cannot be function or type name)' END AS catdesc, \
                  'can be bare label' AS baredesc \
           FROM duckdb_keywords();\
         CREATE OR REPLACE TEMP VIEW duckgate_relation_schemas AS \
           SELECT c.oid, c.relname, duckgate_pg_schema(s.schema_name) AS schema_name FROM pg_catalog.pg_class c \
           JOIN duckdb_schemas() s ON s.oid = c.relnamespace \
           UNION ALL SELECT index_oid, conname, duckgate_pg_schema(schema_name) FROM duckgate_constraints \
             WHERE contype IN ('p', 'u') \
           UNION ALL SELECT oid, relname, duckgate_pg_schema(schema_name) FROM duckgate_composite_classes;\
         CREATE OR REPLACE TEMP MACRO duckgate_regclass_name(rel) AS CASE WHEN rel = 0 THEN '-' ELSE COALESCE( \
           (SELECT min(duckgate_qualified(dg_r.schema_name, dg_r.relname)) FROM duckgate_relation_schemas dg_r \
            WHERE dg_r.oid = rel), CASE rel{catalog_names} END, rel::VARCHAR) END;\
         CREATE OR REPLACE TEMP MACRO pg_table_is_visible(rel) AS list_contains(current_schemas(true), \
           (SELECT min(dg_r.schema_name) FROM duckgate_relation_schemas dg_r WHERE dg_r.oid = rel));\
         /* what the session's pg_tables, pg_views, pg_sequences and information_schema list: this \
            database's objects, temporary ones but the session's catalog views, and the system's \
            pg_catalog and information_schema (not DuckDB's own views in system.main) */ \
         CREATE OR REPLACE TEMP MACRO duckgate_listed(database_name, schema_name, name) AS \
           database_name = current_database() \
           OR database_name = 'temp' AND NOT (name IN ({session_views}) OR starts_with(name, 'duckgate_')) \
           OR database_name = 'system' AND schema_name IN ('pg_catalog', 'information_schema');\
         CREATE OR REPLACE TEMP VIEW pg_tables AS \
           SELECT duckgate_pg_schema(schema_name) AS schemaname, table_name AS tablename, 'duckdb' AS tableowner, \
                  NULL::VARCHAR AS tablespace, index_count > 0 AS hasindexes, false AS hasrules, \
                  false AS hastriggers, false AS rowsecurity \
           FROM duckdb_tables() WHERE duckgate_listed(database_name, schema_name, table_name);\
         CREATE OR REPLACE TEMP VIEW pg_views AS \
           SELECT duckgate_pg_schema(schema_name) AS schemaname, view_name AS viewname, 'duckdb' AS viewowner, \
                  pg_get_viewdef(view_oid) AS definition \
           FROM duckdb_views() WHERE duckgate_listed(database_name, schema_name, view_name);\
         CREATE OR REPLACE TEMP VIEW pg_sequences AS \
           SELECT duckgate_pg_schema(schema_name) AS schemaname, sequence_name AS sequencename, \
                  'duckdb' AS sequenceowner, 'bigint' AS data_type, start_value, min_value, max_value, \
                  increment_by, cycle, 1::BIGINT AS cache_size, last_value \
           FROM duckdb_sequences() WHERE duckgate_listed(database_name, schema_name, sequence_name);\
         CREATE OR REPLACE TEMP VIEW duckgate_information_schema_tables AS \
           SELECT * REPLACE (duckgate_pg_schema(table_schema) AS table_schema) \
           FROM information_schema.tables WHERE duckgate_listed(table_catalog, table_schema, table_name);\
         CREATE OR REPLACE TEMP VIEW duckgate_information_schema_columns AS \
           SELECT dg_c.* REPLACE (duckgate_pg_schema(dg_c.table_schema) AS table_schema, \
                             CASE dg_l.type_oid WHEN {varchar} THEN 'character varying' WHEN {bpchar} THEN 'character' \
                               ELSE duckgate_information_schema_type(dg_c.data_type) END AS data_type, \
                             COALESCE(dg_l.length, dg_c.character_maximum_length) AS character_maximum_length, \
                             COALESCE(dg_l.length * 4, dg_c.character_octet_length) AS character_octet_length, \
                             CASE dg_l.type_oid WHEN {varchar} THEN 'varchar' WHEN {bpchar} THEN 'bpchar' \
                               ELSE COALESCE(duckgate_information_schema_udt(dg_c.data_type), dg_c.udt_name) END AS udt_name, \
                             CASE WHEN dg_l.type_oid IS NOT NULL \
                                    OR duckgate_information_schema_udt(dg_c.data_type) IS NOT NULL THEN 'pg_catalog' \
                                  ELSE duckgate_pg_schema(dg_c.udt_schema) END AS udt_schema) \
           FROM information_schema.columns dg_c \
           LEFT JOIN duckgate_attribute_lengths dg_l ON dg_l.database_name = dg_c.table_catalog \
             AND dg_l.schema_name = dg_c.table_schema AND dg_l.table_name = dg_c.table_name \
             AND dg_l.column_name = dg_c.column_name \
           WHERE duckgate_listed(dg_c.table_catalog, dg_c.table_schema, dg_c.table_name);\
         CREATE OR REPLACE TEMP VIEW duckgate_information_schema_views AS \
           SELECT * REPLACE (duckgate_pg_schema(table_schema) AS table_schema, \
                             duckgate_get_viewdef((SELECT min(dg_w.view_oid) FROM duckdb_views() dg_w \
                               WHERE dg_w.database_name = table_catalog AND dg_w.schema_name = table_schema \
                                 AND dg_w.view_name = table_name), false) AS view_definition) \
           FROM information_schema.views WHERE duckgate_listed(table_catalog, table_schema, table_name);\
         CREATE OR REPLACE TEMP VIEW duckgate_information_schema_schemata AS \
           SELECT * REPLACE (current_database() AS catalog_name, duckgate_pg_schema(schema_name) AS schema_name) \
           FROM information_schema.schemata WHERE catalog_name = current_database() \
             OR catalog_name = 'system' AND schema_name IN ('information_schema', 'pg_catalog');\
         {constraint_views}",
        text = oid::TEXT,
        varchar = oid::VARCHAR,
        numeric = oid::NUMERIC,
        user_array = USER_ARRAY_OID_BASE,
        composite_class = COMPOSITE_CLASS_OID_BASE,
        row_type = ROW_TYPE_OID_BASE,
        information_schema = INFORMATION_SCHEMA_OID,
        bpchar = oid::BPCHAR,
        text_array = oid::TEXT_ARRAY,
        varchar_array = oid::VARCHAR_ARRAY,
        constraint_views = INFORMATION_SCHEMA_CONSTRAINT_VIEWS
            .iter()
            .map(|(view, columns, hidden)| {
                let replaced: Vec<String> = columns
                    .iter()
                    .map(|c| format!("duckgate_pg_schema({c}) AS {c}"))
                    .collect();
                let filter = if hidden.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE NOT EXISTS (SELECT 1 FROM duckgate_length_checks dg_l WHERE {hidden})")
                };
                format!(
                    "CREATE OR REPLACE TEMP VIEW duckgate_information_schema_{view} AS \
                     SELECT * REPLACE ({}) FROM information_schema.{view} dg_v{filter};",
                    replaced.join(", ")
                )
            })
            .collect::<String>(),
        session_views = session_views(),
    )
}

/// DuckDB's `information_schema` views about constraints, the columns that name a schema, and
/// how a row is one of the CHECK constraints that stand for a declared `varchar(n)` length
/// (hidden, as PostgreSQL has no such constraint; empty: the view lists no CHECK constraints):
/// the session's versions say `public` for `main` (the tables, columns, views and schemata
/// views are in [`objects_sql`]).
const INFORMATION_SCHEMA_CONSTRAINT_VIEWS: &[(&str, &[&str], &str)] = &[
    (
        "check_constraints",
        &["constraint_schema"],
        "dg_l.database_name = dg_v.constraint_catalog AND dg_l.schema_name = dg_v.constraint_schema \
         AND dg_v.constraint_name = dg_l.constraint_name AND dg_v.check_clause = 'CHECK(' || dg_l.expression || ')'",
    ),
    (
        "constraint_column_usage",
        &["table_schema", "constraint_schema"],
        "dg_l.database_name = dg_v.table_catalog AND dg_l.schema_name = dg_v.table_schema \
         AND dg_l.table_name = dg_v.table_name AND dg_v.constraint_type = 'CHECK' \
         AND dg_v.constraint_text = 'CHECK(' || dg_l.expression || ')'",
    ),
    (
        "constraint_table_usage",
        &["table_schema", "constraint_schema"],
        "",
    ),
    (
        "key_column_usage",
        &["constraint_schema", "table_schema"],
        "",
    ),
    (
        "referential_constraints",
        &["constraint_schema", "unique_constraint_schema"],
        "",
    ),
    (
        "table_constraints",
        &["constraint_schema", "table_schema"],
        "dg_l.database_name = dg_v.table_catalog AND dg_l.schema_name = dg_v.table_schema \
         AND dg_l.table_name = dg_v.table_name AND dg_v.constraint_type = 'CHECK' \
         AND dg_v.constraint_name = dg_l.constraint_name",
    ),
];

/// The `information_schema` views the session replaces (`information_schema.<view>` in a
/// statement becomes `duckgate_information_schema_<view>`).
fn is_information_schema_view(name: &str) -> bool {
    matches!(name, "tables" | "columns" | "views" | "schemata")
        || INFORMATION_SCHEMA_CONSTRAINT_VIEWS
            .iter()
            .any(|(v, _, _)| *v == name)
}

/// The relation size functions (psql `\dt+` `\di+` `\d+`, DBeaver's table and index
/// statistics) over the session's `duckgate_relation_sizes` (refreshed for each statement that
/// calls one: [`relation_sizes_query`] says what a size is). A relation is named by its OID or
/// as PostgreSQL's regclass input (`name`, `schema.name`); a view is 0 bytes as in PostgreSQL
/// (a sequence too: DuckDB keeps it in the catalog); an OID that is no table, index, view or
/// sequence is NULL and such a name an error (42P01), as in PostgreSQL. A macro's argument used
/// twice is expanded twice (psql's `pg_size_pretty(pg_table_size(c.oid))` would run the lookup
/// once per use, and \dt+ took seconds): `duckgate_known_size` and `pg_size_pretty` read theirs
/// through a one-element list and a lambda.
const SIZE_SQL: &str = "\
     CREATE OR REPLACE TEMP VIEW duckgate_relation_sizes AS \
       SELECT NULL::VARCHAR AS key, NULL::BIGINT AS bytes, NULL::BIGINT AS indexes WHERE false;\
     CREATE OR REPLACE TEMP MACRO duckgate_value_width(t) AS CASE \
       WHEN t IN ('BOOLEAN', 'TINYINT', 'UTINYINT') THEN 1 WHEN t IN ('SMALLINT', 'USMALLINT') THEN 2 \
       WHEN t IN ('INTEGER', 'UINTEGER', 'FLOAT', 'DATE') THEN 4 \
       WHEN t IN ('HUGEINT', 'UHUGEINT', 'UUID', 'INTERVAL', 'VARCHAR', 'BLOB', 'BIT', 'JSON') THEN 16 \
       WHEN t LIKE 'DECIMAL(%' THEN CASE \
         WHEN TRY_CAST(regexp_extract(t, '\\((\\d+)', 1) AS INTEGER) <= 4 THEN 2 \
         WHEN TRY_CAST(regexp_extract(t, '\\((\\d+)', 1) AS INTEGER) <= 9 THEN 4 \
         WHEN TRY_CAST(regexp_extract(t, '\\((\\d+)', 1) AS INTEGER) <= 18 THEN 8 ELSE 16 END \
       ELSE 8 END;\
     CREATE OR REPLACE TEMP MACRO duckgate_known_size(rel, size) AS \
       list_transform([{'size': size, 'rel': CAST(rel AS VARCHAR)}], dg_x -> CASE \
         WHEN dg_x.size IS NULL AND NOT regexp_full_match(dg_x.rel, '[0-9]+') \
         THEN error('relation \"' || dg_x.rel || '\" does not exist') ELSE dg_x.size END)[1];\
     CREATE OR REPLACE TEMP MACRO pg_table_size(rel) AS duckgate_known_size(rel, \
       (SELECT max(dg_z.bytes) FROM duckgate_relation_sizes dg_z WHERE dg_z.key = CAST(rel AS VARCHAR)));\
     CREATE OR REPLACE TEMP MACRO pg_relation_size(rel) AS pg_table_size(rel), \
       (rel, fork) AS CASE WHEN fork = 'main' THEN pg_table_size(rel) \
         WHEN fork IN ('fsm', 'vm', 'init') THEN pg_table_size(rel) * 0 \
         ELSE error('invalid fork name') END::BIGINT;\
     CREATE OR REPLACE TEMP MACRO pg_indexes_size(rel) AS duckgate_known_size(rel, \
       (SELECT max(dg_z.indexes) FROM duckgate_relation_sizes dg_z WHERE dg_z.key = CAST(rel AS VARCHAR)));\
     CREATE OR REPLACE TEMP MACRO pg_total_relation_size(rel) AS duckgate_known_size(rel, \
       (SELECT max(dg_z.bytes + dg_z.indexes) FROM duckgate_relation_sizes dg_z WHERE dg_z.key = CAST(rel AS VARCHAR)));";

/// Session objects that do not depend on the type table.
const FIXED_SQL: &str =
    // psql \l \dn \dt \dv \df (Owner column); pgJDBC, Npgsql. PostgreSQL 15's public schema
    // (DuckDB's main) belongs to pg_database_owner (6171). It, current_schema() and
    // pg_encoding_to_char() return PostgreSQL's `name` (`duckgate_name`: types::PgAlias)
    "CREATE OR REPLACE TEMP MACRO pg_get_userbyid(role_oid) AS \
       CAST(CASE WHEN role_oid = 6171 THEN 'pg_database_owner' ELSE 'duckdb' END AS duckgate_name);\
     CREATE OR REPLACE TEMP MACRO duckgate_pg_schema(s) AS CASE WHEN s = 'main' THEN 'public' ELSE s END;\
     CREATE OR REPLACE TEMP MACRO current_schema() AS \
       CAST(duckgate_pg_schema(pg_catalog.current_schema()) AS duckgate_name);\
     CREATE OR REPLACE TEMP MACRO current_schemas(implicit) AS \
       CASE WHEN implicit THEN ['pg_catalog'] ELSE [] END || list_filter( \
         list_transform(pg_catalog.current_schemas(false), dg_s -> duckgate_pg_schema(dg_s)), \
         (dg_s, dg_i) -> NOT (implicit AND dg_s = 'pg_catalog') AND NOT list_contains( \
           list_transform(pg_catalog.current_schemas(false), dg_s -> duckgate_pg_schema(dg_s))[:dg_i - 1], dg_s));\
     CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(enc) AS CAST('UTF8' AS duckgate_name);\
     CREATE OR REPLACE TEMP MACRO pg_get_function_result(func_oid) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(func_oid) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(func_oid) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_get_partkeydef(rel_oid) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_get_expr(expr, rel) AS expr, (expr, rel, pretty) AS expr;\
     CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(oid) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(rel) AS false;\
     CREATE OR REPLACE TEMP MACRO pg_advisory_unlock_all() AS '';\
     CREATE OR REPLACE TEMP MACRO pg_tablespace_location(ts) AS '';\
     CREATE OR REPLACE TEMP MACRO pg_get_triggerdef(t) AS CAST(NULL AS VARCHAR), (t, pretty) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_get_ruledef(r) AS CAST(NULL AS VARCHAR), (r, pretty) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO pg_statistics_obj_is_visible(o) AS true;\
     CREATE OR REPLACE TEMP MACRO pg_get_function_sqlbody(f) AS CAST(NULL AS VARCHAR);\
     CREATE OR REPLACE TEMP MACRO array_lower(arr, dim) AS CASE WHEN len(arr) > 0 THEN 1 END;\
     CREATE OR REPLACE TEMP VIEW pg_opclass AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS opcmethod, NULL::VARCHAR AS opcname, NULL::BIGINT AS opcnamespace, \
              NULL::BIGINT AS opcowner, NULL::BIGINT AS opcfamily, NULL::BIGINT AS opcintype, false AS opcdefault, \
              NULL::BIGINT AS opckeytype WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_available_extensions AS \
       SELECT NULL::VARCHAR AS name, NULL::VARCHAR AS default_version, NULL::VARCHAR AS installed_version, \
              NULL::VARCHAR AS comment WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_cast AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS castsource, NULL::BIGINT AS casttarget, NULL::BIGINT AS castfunc, \
              NULL::VARCHAR AS castcontext, NULL::VARCHAR AS castmethod WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_conversion AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS conname, NULL::BIGINT AS connamespace, NULL::BIGINT AS conowner, \
              NULL::INTEGER AS conforencoding, NULL::INTEGER AS contoencoding, NULL::VARCHAR AS conproc, \
              false AS condefault WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_operator AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS oprname, NULL::BIGINT AS oprnamespace, NULL::BIGINT AS oprowner, \
              NULL::VARCHAR AS oprkind, false AS oprcanmerge, false AS oprcanhash, NULL::BIGINT AS oprleft, \
              NULL::BIGINT AS oprright, NULL::BIGINT AS oprresult, NULL::BIGINT AS oprcom, NULL::BIGINT AS oprnegate, \
              NULL::VARCHAR AS oprcode, NULL::VARCHAR AS oprrest, NULL::VARCHAR AS oprjoin WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_opfamily AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS opfmethod, NULL::VARCHAR AS opfname, \
              NULL::BIGINT AS opfnamespace, NULL::BIGINT AS opfowner WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_proc AS SELECT * EXCLUDE (proisagg) FROM pg_catalog.pg_proc UNION ALL BY NAME \
       SELECT 2400::BIGINT AS oid, 'array_recv' AS proname, 11::BIGINT AS pronamespace;\
     CREATE OR REPLACE TEMP MACRO quote_ident(ident) AS \
       CASE WHEN regexp_full_match(ident, '[a-z_][a-z0-9_$]*') THEN ident \
            ELSE '\"' || replace(ident, '\"', '\"\"') || '\"' END;\
     CREATE OR REPLACE TEMP MACRO array_upper(arr, dim) AS len(arr);\
     CREATE OR REPLACE TEMP MACRO pg_get_serial_sequence(tab, col) AS ( \
       SELECT min(duckgate_pg_schema(dg_q.schema_name) || '.' || dg_q.sequence_name) FROM duckdb_sequences() dg_q \
       WHERE dg_q.sequence_name = lower(string_split(tab, '.')[-1]) || '_' || lower(col) || '_seq' \
         AND (len(string_split(tab, '.')) = 1 \
              OR duckgate_pg_schema(dg_q.schema_name) = lower(string_split(tab, '.')[-2])));\
     CREATE OR REPLACE TEMP MACRO parse_ident(ident, strict := true) AS list_transform( \
       regexp_extract_all(ident, '(\"(?:[^\"]|\"\")*\"|[^.\"]+)'), \
       dg_p -> CASE WHEN starts_with(dg_p, '\"') THEN replace(dg_p[2:-2], '\"\"', '\"') \
                    ELSE lower(trim(dg_p)) END);\
     CREATE OR REPLACE TEMP MACRO array_remove(arr, elem) AS \
       list_filter(arr, dg_e -> dg_e IS DISTINCT FROM elem);\
     CREATE OR REPLACE TEMP MACRO pg_database_size(db) AS ( \
       SELECT max(dg_s.used_blocks * dg_s.block_size)::BIGINT FROM pragma_database_size() dg_s \
       JOIN duckdb_databases() dg_d ON dg_d.database_name = dg_s.database_name \
       WHERE dg_s.database_name = CAST(db AS VARCHAR) OR dg_d.database_oid = TRY_CAST(db AS BIGINT));\
     CREATE OR REPLACE TEMP MACRO duckgate_half_rounded(x) AS (x + CASE WHEN x < 0 THEN -1 ELSE 1 END) // 2;\
     CREATE OR REPLACE TEMP MACRO pg_size_pretty(b) AS list_transform([CAST(b AS HUGEINT)], dg_b -> CASE \
       WHEN abs(dg_b) < 10240 THEN dg_b || ' bytes' \
       WHEN abs(dg_b // 512) < 20479 THEN duckgate_half_rounded(dg_b // 512) || ' kB' \
       WHEN abs(dg_b // 524288) < 20479 THEN duckgate_half_rounded(dg_b // 524288) || ' MB' \
       WHEN abs(dg_b // 536870912) < 20479 THEN duckgate_half_rounded(dg_b // 536870912) || ' GB' \
       WHEN abs(dg_b // 549755813888) < 20479 THEN duckgate_half_rounded(dg_b // 549755813888) || ' TB' \
       ELSE duckgate_half_rounded(dg_b // 562949953421312) || ' PB' END)[1];\
     CREATE OR REPLACE TEMP MACRO pg_stat_get_numscans(rel) AS 0::BIGINT;\
     CREATE OR REPLACE TEMP MACRO string_to_array(s, d) AS TABLE \
       SELECT string_split(s, d) AS string_to_array;\
     CREATE OR REPLACE TEMP MACRO set_config(name, value, is_local) AS CASE \
       WHEN lower(name) IN ('jit', 'jit_above_cost', 'work_mem', 'random_page_cost', 'plan_cache_mode') \
         OR starts_with(lower(name), 'enable_') THEN value \
       ELSE error('set_config(''' || name || ''', ...) works only as a statement of its own') END;\
     CREATE OR REPLACE TEMP VIEW pg_database AS \
       SELECT oid, datname, 10::BIGINT AS datdba, 6 AS encoding, 'c'::VARCHAR AS datlocprovider, \
              datistemplate, datallowconn, -1 AS datconnlimit, 0::BIGINT AS datfrozenxid, \
              0::BIGINT AS datminmxid, 1663::BIGINT AS dattablespace, 'C'::VARCHAR AS datcollate, \
              'C'::VARCHAR AS datctype, NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS datcollversion, \
              NULL::VARCHAR[] AS datacl \
       FROM pg_catalog.pg_database WHERE datname NOT IN ('system', 'temp');\
     CREATE OR REPLACE TEMP VIEW pg_roles AS \
       SELECT 'duckdb'::VARCHAR AS rolname, true AS rolsuper, true AS rolinherit, \
              true AS rolcreaterole, true AS rolcreatedb, true AS rolcanlogin, true AS rolreplication, \
              -1 AS rolconnlimit, '********'::VARCHAR AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil, \
              true AS rolbypassrls, NULL::VARCHAR[] AS rolconfig, 10::BIGINT AS oid \
       /* the public schema's owner (pg_namespace.nspowner 6171), a role PostgreSQL 15 has built in \
          (DBeaver's schema and role lists, psql \\dn+ \\du+S) */ \
       UNION ALL SELECT 'pg_database_owner', false, true, false, false, false, false, -1, '********', NULL, \
              false, NULL, 6171;\
     CREATE OR REPLACE TEMP VIEW pg_user AS \
       SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, rolsuper AS usesuper, \
              rolreplication AS userepl, rolbypassrls AS usebypassrls, '********'::VARCHAR AS passwd, \
              rolvaliduntil AS valuntil, rolconfig AS useconfig FROM pg_roles WHERE rolcanlogin;\
     CREATE OR REPLACE TEMP VIEW pg_auth_members AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS roleid, NULL::BIGINT AS member, NULL::BIGINT AS grantor, \
              false AS admin_option, false AS inherit_option, false AS set_option WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_policy AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid, NULL::VARCHAR AS polcmd, \
              NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, \
              NULL::VARCHAR AS polwithcheck WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid, NULL::VARCHAR AS stxname, NULL::BIGINT AS stxnamespace, \
              NULL::BIGINT AS stxowner, NULL::INTEGER AS stxstattarget, NULL::INTEGER[] AS stxkeys, \
              NULL::VARCHAR[] AS stxkind, NULL::VARCHAR AS stxexprs WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_publication AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname, NULL::BIGINT AS pubowner, false AS puballtables, \
              false AS pubinsert, false AS pubupdate, false AS pubdelete, false AS pubtruncate, false AS pubviaroot WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_publication_rel AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid, NULL::VARCHAR AS prqual, \
              NULL::INTEGER[] AS prattrs WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS pnpubid, NULL::BIGINT AS pnnspid WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_inherits AS \
       SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent, NULL::INTEGER AS inhseqno, \
              false AS inhdetachpending WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_trigger AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS tgrelid, NULL::BIGINT AS tgparentid, NULL::VARCHAR AS tgname, \
              NULL::BIGINT AS tgfoid, NULL::SMALLINT AS tgtype, NULL::VARCHAR AS tgenabled, false AS tgisinternal WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_rewrite AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS rulename, NULL::BIGINT AS ev_class, NULL::VARCHAR AS ev_type, \
              NULL::VARCHAR AS ev_enabled, false AS is_instead WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_foreign_table AS \
       SELECT NULL::BIGINT AS ftrelid, NULL::BIGINT AS ftserver, NULL::VARCHAR[] AS ftoptions WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_matviews AS \
       SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS matviewname, NULL::VARCHAR AS matviewowner, \
              NULL::VARCHAR AS tablespace, false AS hasindexes, false AS ispopulated, NULL::VARCHAR AS definition WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_extension AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS extname, NULL::BIGINT AS extowner, NULL::BIGINT AS extnamespace, \
              false AS extrelocatable, NULL::VARCHAR AS extversion, NULL::BIGINT[] AS extconfig, \
              NULL::VARCHAR[] AS extcondition WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_language AS \
       SELECT 12::BIGINT AS oid, 'internal' AS lanname, 10::BIGINT AS lanowner, false AS lanispl, true AS lanpltrusted, \
              0::BIGINT AS lanplcallfoid, 0::BIGINT AS laninline, 0::BIGINT AS lanvalidator, NULL::VARCHAR[] AS lanacl \
       UNION ALL SELECT 14, 'sql', 10, false, true, 0, 0, 0, NULL;\
     CREATE OR REPLACE TEMP VIEW pg_event_trigger AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS evtname, NULL::VARCHAR AS evtevent, NULL::BIGINT AS evtowner, \
              NULL::BIGINT AS evtfoid, NULL::VARCHAR AS evtenabled, NULL::VARCHAR[] AS evttags WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_subscription AS \
       SELECT NULL::BIGINT AS oid, NULL::BIGINT AS subdbid, NULL::VARCHAR AS subname, NULL::BIGINT AS subowner, \
              false AS subenabled, NULL::VARCHAR AS subconninfo, NULL::VARCHAR[] AS subpublications WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_foreign_data_wrapper AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS fdwname, NULL::BIGINT AS fdwowner, NULL::BIGINT AS fdwhandler, \
              NULL::BIGINT AS fdwvalidator, NULL::VARCHAR[] AS fdwacl, NULL::VARCHAR[] AS fdwoptions WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_foreign_server AS \
       SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS srvname, NULL::BIGINT AS srvowner, NULL::BIGINT AS srvfdw, \
              NULL::VARCHAR AS srvtype, NULL::VARCHAR AS srvversion, NULL::VARCHAR[] AS srvacl, \
              NULL::VARCHAR[] AS srvoptions WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_db_role_setting AS \
       SELECT NULL::BIGINT AS setdatabase, NULL::BIGINT AS setrole, NULL::VARCHAR[] AS setconfig WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_shdescription AS \
       SELECT NULL::BIGINT AS objoid, NULL::BIGINT AS classoid, NULL::VARCHAR AS description WHERE false;\
     CREATE OR REPLACE TEMP VIEW pg_partitioned_table AS \
       SELECT NULL::BIGINT AS partrelid, NULL::VARCHAR AS partstrat, NULL::SMALLINT AS partnatts WHERE false;";

/// A relation the session defines (its own view, or a re-export of DuckDB's).
fn is_session_relation(name: &str) -> bool {
    SESSION_RELATIONS.contains(&name) || PASSTHROUGH_RELATIONS.contains(&name)
}

/// Whether token `i` is in a FROM clause (the nearest clause keyword before it at its own
/// parenthesis depth is FROM or JOIN), so an alias after it names a table.
fn in_from_clause(sql: &str, toks: &[Token], i: usize) -> bool {
    let mut depth = 0i32;
    for t in toks[..i].iter().rev() {
        match t.tok {
            Tok::CloseParen => depth += 1,
            Tok::OpenParen => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Tok::Word if depth == 0 => match sql[t.start..t.end].to_ascii_lowercase().as_str() {
                "from" | "join" => return true,
                "select" | "where" | "on" | "group" | "order" | "having" | "limit" => return false,
                _ => {}
            },
            _ => {}
        }
    }
    false
}

/// The OID of the system catalog (SYSTEM_CATALOGS) that the alias at token `i` names: the
/// nearest `pg_xxx [AS] alias` after it when the reference is in a select list (each UNION
/// branch lists its columns before its FROM), else the nearest before it.
fn catalog_of_alias(sql: &str, toks: &[Token], i: usize) -> Option<u32> {
    let alias = &sql[toks[i].start..toks[i].end];
    let defines = |k: usize| -> Option<u32> {
        let t = toks.get(k)?;
        if t.tok != Tok::Word {
            return None;
        }
        let name = sql[t.start..t.end].to_ascii_lowercase();
        let (_, oid) = SYSTEM_CATALOGS.iter().find(|(n, _)| *n == name)?;
        let a = if is(sql, toks.get(k + 1), "as") {
            k + 2
        } else {
            k + 1
        };
        is(sql, toks.get(a), alias).then_some(*oid)
    };
    let mut depth = 0i32;
    let mut in_select_list = false;
    for t in toks[..i].iter().rev() {
        match t.tok {
            Tok::CloseParen => depth += 1,
            Tok::OpenParen if depth == 0 => break,
            Tok::OpenParen => depth -= 1,
            Tok::Word if depth == 0 => match sql[t.start..t.end].to_ascii_lowercase().as_str() {
                "select" => {
                    in_select_list = true;
                    break;
                }
                "from" | "join" | "where" | "on" | "group" | "order" | "having" => break,
                _ => {}
            },
            _ => {}
        }
    }
    if in_select_list {
        (i + 3..toks.len()).find_map(defines)
    } else {
        (0..i).rev().find_map(defines)
    }
}

fn is(sql: &str, t: Option<&Token>, text: &str) -> bool {
    t.is_some_and(|t| sql[t.start..t.end].eq_ignore_ascii_case(text))
}

/// What a statement needs from the catalog layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub sql: String,
    /// It uses the session's macros or views.
    pub needs_install: bool,
}

/// Rewrite client catalog constructs; `None` when the statement has none. Names come first
/// (`public.t` is `main.t`, `"db".information_schema.columns` is `information_schema.columns`:
/// [`super::compat::names`]), so that the rules below and what the session does with the
/// statement afterwards (SERIAL sequences, cursors, `ALTER TABLE … RENAME`) see DuckDB's names.
pub fn rewrite(sql: &str) -> Option<Rewritten> {
    match super::compat::names(sql) {
        std::borrow::Cow::Borrowed(_) => rewrite_catalog(sql),
        std::borrow::Cow::Owned(named) => Some(rewrite_catalog(&named).unwrap_or(Rewritten {
            sql: named,
            needs_install: false,
        })),
    }
}

fn rewrite_catalog(sql: &str) -> Option<Rewritten> {
    // the common case costs a scan and no allocation
    if ![
        "current_schema",
        "pg_",
        "reg",
        "collate",
        "generate_series",
        "current_setting",
        "_pg_expandarray",
        "set_config",
        "parse_ident",
        "string_to_array",
        "information_schema",
        "array_remove",
        "'{",
    ]
    .iter()
    .any(|n| super::lexer::contains_ignore_case(sql, n))
    {
        return None;
    }
    let toks = tokens(sql);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut needs_install = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let word = |k: usize| {
            toks.get(k)
                .map(|t| sql[t.start..t.end].to_ascii_lowercase())
        };
        // pgJDBC's keyword list: `word <> ALL ('{a,abs,…}'::text[])`; psycopg's composite loading:
        // `coalesce(a.fnames, '{}')`. PostgreSQL reads the text as an array there; DuckDB casts
        // no `{…}` text to a list, so the literal becomes one (`['a', 'abs', …]`, `[]`).
        if t.tok == Tok::Literal && sql[t.start..].starts_with("'{") {
            let array_arg = i >= 2
                && toks[i - 1].tok == Tok::OpenParen
                && matches!(word(i - 2).as_deref(), Some("any" | "all" | "some"))
                && toks.get(i + 1).is_some_and(|t| t.tok == Tok::CloseParen);
            let coalesce_default = &sql[t.start..t.end] == "'{}'"
                && is(sql, toks.get(i.wrapping_sub(1)), ",")
                && toks.get(i + 1).is_some_and(|t| t.tok == Tok::CloseParen)
                && enclosing_call(sql, &toks, i).as_deref() == Some("coalesce");
            // `'{…}'::text[]` (pgJDBC: `ALL ('{a,abs,…}'::text[])`)
            let array_cast = is(sql, toks.get(i + 1), ":")
                && is(sql, toks.get(i + 2), ":")
                && toks.get(i + 3).is_some_and(|t| t.tok == Tok::Word)
                && is(sql, toks.get(i + 4), "[");
            if array_arg || coalesce_default || array_cast {
                if let Some(list) = pg_array_literal(&sql[t.start..t.end]) {
                    edits.push((t.start, t.end, list));
                    i += 1;
                    continue;
                }
            }
        }
        // psql \d+: `c.reloptions || array(…)`: PostgreSQL's array `||` takes a NULL array as
        // empty, DuckDB's answers NULL
        if t.tok == Tok::Word
            && is(sql, toks.get(i + 1), ".")
            && is(sql, toks.get(i + 2), "reloptions")
            && is(sql, toks.get(i + 3), "|")
            && is(sql, toks.get(i + 4), "|")
            && toks.get(i + 4).is_some_and(|b| b.start == toks[i + 3].end)
            && !(i > 0 && is(sql, toks.get(i - 1), "."))
        {
            let column = &sql[t.start..toks[i + 2].end];
            edits.push((t.start, toks[i + 2].end, format!("coalesce({column}, [])")));
            i += 3;
            continue;
        }
        // psql \dL, \dd: `l.tableoid` (PostgreSQL's system column: the catalog's own OID, joined
        // with pg_description.classoid) of an alias of a system catalog → that OID
        if t.tok == Tok::Word
            && is(sql, toks.get(i + 1), ".")
            && is(sql, toks.get(i + 2), "tableoid")
            && !(i > 0 && is(sql, toks.get(i - 1), "."))
        {
            if let Some(oid) = catalog_of_alias(sql, &toks, i) {
                edits.push((t.start, toks[i + 2].end, format!("{oid}::BIGINT")));
                i += 3;
                continue;
            }
        }
        // psql \d: `OPERATOR(pg_catalog.~)` → `~`
        if t.tok == Tok::Word
            && is(sql, Some(t), "operator")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && is(sql, toks.get(i + 2), "pg_catalog")
            && is(sql, toks.get(i + 3), ".")
        {
            if let Some(close) = toks[i + 4..].iter().position(|t| t.tok == Tok::CloseParen) {
                let close = i + 4 + close;
                let op = sql[toks[i + 3].end..toks[close].start].trim().to_owned();
                edits.push((t.start, toks[close].end, op));
                i = close + 1;
                continue;
            }
        }
        // psql \d: `COLLATE pg_catalog.default` → nothing (DuckDB's default collation)
        if t.tok == Tok::Word
            && is(sql, Some(t), "collate")
            && is(sql, toks.get(i + 1), "pg_catalog")
            && is(sql, toks.get(i + 2), ".")
            && word(i + 3).as_deref() == Some("default")
        {
            edits.push((t.start, toks[i + 3].end, String::new()));
            i += 4;
            continue;
        }
        // pgJDBC, SQLAlchemy, Npgsql: `'schema.name'::regclass` / `'int4'::regtype` /
        // `'public'::regnamespace` look an object up by name; they become the session macros
        // that do the lookup in DuckDB's catalog (NULL when there is no such object).
        // (SQLAlchemy with psycopg 3 binds the name: `$2::regclass`, `CAST($2 AS REGCLASS)`)
        let name_arg = |t: &Token| match t.tok {
            Tok::Literal if sql[t.start..].starts_with('\'') => {
                Some(sql[t.start..t.end].to_owned())
            }
            Tok::Param(_) => Some(format!("{}::VARCHAR", &sql[t.start..t.end])),
            _ => None,
        };
        if matches!(t.tok, Tok::Literal | Tok::Param(_))
            && is(sql, toks.get(i + 1), ":")
            && is(sql, toks.get(i + 2), ":")
        {
            let mut k = i + 3;
            if is(sql, toks.get(k), "pg_catalog") && is(sql, toks.get(k + 1), ".") {
                k += 2;
            }
            let target = word(k).unwrap_or_default();
            let func = match target.as_str() {
                "regclass" => Some("duckgate_regclass"),
                "regtype" => Some("duckgate_regtype"),
                "regnamespace" => Some("duckgate_regnamespace"),
                _ => None,
            };
            if let (Some(func), Some(arg)) = (func, name_arg(t)) {
                edits.push((t.start, toks[k].end, format!("{func}({arg})")));
                needs_install = true;
                i = k + 1;
                continue;
            }
        }
        // SQLAlchemy: `CAST('pg_catalog.pg_class' AS REGCLASS)` is the same lookup by name
        if t.tok == Tok::Word
            && is(sql, Some(t), "cast")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && toks.get(i + 2).is_some_and(|t| {
                t.tok == Tok::Literal && sql[t.start..].starts_with('\'')
                    || matches!(t.tok, Tok::Param(_))
            })
            && is(sql, toks.get(i + 3), "as")
        {
            let mut k = i + 4;
            if is(sql, toks.get(k), "pg_catalog") && is(sql, toks.get(k + 1), ".") {
                k += 2;
            }
            let func = match word(k).unwrap_or_default().as_str() {
                "regclass" => Some("duckgate_regclass"),
                "regtype" => Some("duckgate_regtype"),
                _ => None,
            };
            if let Some(func) =
                func.filter(|_| toks.get(k + 1).is_some_and(|t| t.tok == Tok::CloseParen))
            {
                let arg = name_arg(&toks[i + 2]).unwrap_or_default();
                edits.push((t.start, toks[k + 1].end, format!("{func}({arg})")));
                needs_install = true;
                i = k + 2;
                continue;
            }
        }
        // pgx's type loading: `$1::text::regtype::oid` (a type's name to its OID) →
        // `duckgate_regtype($1::text)::oid`; the operand is a parameter, literal or column
        // reference with any casts (`::pg_catalog.` spellings too)
        if let Some(end) = regtype_oid_cast(sql, &toks, i) {
            let mut k = i - 1;
            loop {
                if k >= 3 && toks[k].tok == Tok::Word && is(sql, toks.get(k - 1), ":") {
                    k -= 3; // `:: type`
                } else if k >= 5
                    && toks[k].tok == Tok::Word
                    && is(sql, toks.get(k - 1), ".")
                    && is(sql, toks.get(k - 2), "pg_catalog")
                    && is(sql, toks.get(k - 3), ":")
                {
                    k -= 5; // `:: pg_catalog . type`
                } else {
                    break;
                }
                if !is(sql, toks.get(k + 1), ":") {
                    k = usize::MAX;
                    break;
                }
            }
            let mut first = k;
            if k != usize::MAX && toks[k].tok == Tok::Word {
                while first >= 2
                    && is(sql, toks.get(first - 1), ".")
                    && toks[first - 2].tok == Tok::Word
                {
                    first -= 2;
                }
            }
            let base = toks.get(k).filter(|_| k != usize::MAX);
            let start = toks[first.min(i)].start;
            if base.is_some_and(|b| matches!(b.tok, Tok::Param(_) | Tok::Literal | Tok::Word))
                // edits inside the operand are fine; none may start at it, cross it or touch the
                // replaced `::regtype::oid`
                && !edits.iter().any(|e| {
                    e.0 == start || (e.0 < start && e.1 > start) || (e.0 < toks[end].end && e.1 > t.start)
                })
            {
                edits.push((start, start, "duckgate_regtype(".into()));
                edits.push((t.start, toks[end].end, ")::oid".into()));
                needs_install = true;
                i = end + 1;
                continue;
            }
        }
        // `x::regclass` on a column: its text (the cast that prints names)
        // (SQLAlchemy spells it `CAST(x AS REGCLASS)`)
        let cast_as = i >= 1
            && is(sql, toks.get(i - 1), "as")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::CloseParen);
        if t.tok == Tok::Word
            && i >= 2
            && (cast_as || (is(sql, toks.get(i - 1), ":") && is(sql, toks.get(i - 2), ":")))
            && matches!(
                sql[t.start..t.end].to_ascii_lowercase().as_str(),
                "regclass" | "regtype" | "regproc" | "regnamespace" | "regrole"
            )
        {
            let ty = sql[t.start..t.end].to_ascii_lowercase();
            if cast_as || !print_name(&mut edits, sql, &toks, i - 3, t.end, &ty) {
                edits.push((t.start, t.end, "VARCHAR".into()));
                // pgJDBC's `typinput = 'pg_catalog.array_in'::regproc`: a regproc prints a
                // pg_catalog function unqualified, as the session's pg_type names them
                if let Some(lit) = i.checked_sub(3).and_then(|k| toks.get(k)).filter(|l| {
                    ty == "regproc"
                        && !cast_as
                        && l.tok == Tok::Literal
                        && sql[l.start..l.end]
                            .to_ascii_lowercase()
                            .starts_with("'pg_catalog.")
                }) {
                    let unqualified =
                        format!("'{}", &sql[lit.start + "'pg_catalog.".len()..lit.end]);
                    edits.push((lit.start, lit.end, unqualified));
                }
            }
            i += 1;
            continue;
        }
        // psql \dT, \dd: `CAST(x AS pg_catalog.text)` → `CAST(x AS text)` (DuckDB's parser
        // takes no schema-qualified type name there; the reg* types are left to the rules above)
        if t.tok == Tok::Word
            && is(sql, Some(t), "pg_catalog")
            && is(sql, toks.get(i + 1), ".")
            && i >= 1
            && is(sql, toks.get(i - 1), "as")
            && toks.get(i + 2).is_some_and(|t| t.tok == Tok::Word)
            && toks.get(i + 3).is_some_and(|t| t.tok == Tok::CloseParen)
            && !word(i + 2).unwrap_or_default().starts_with("reg")
        {
            edits.push((t.start, toks[i + 2].start, String::new()));
            i += 3;
            continue;
        }
        // psql \d: `x::pg_catalog.regtype::pg_catalog.text` → `x::VARCHAR::text`. The reg*
        // types become their text (DuckDB has no OID-alias types); a cast to them from text
        // then keeps the name, which is what these queries print. A column cast to regclass or
        // regtype prints the object's name (psql's `c.oid::pg_catalog.regclass`, asyncpg's
        // `elemtype::regtype::text`, psycopg's `t.oid::regtype::text`).
        if t.tok == Tok::Word
            && is(sql, Some(t), "pg_catalog")
            && is(sql, toks.get(i + 1), ".")
            && i >= 2
            && is(sql, toks.get(i - 1), ":")
            && is(sql, toks.get(i - 2), ":")
            && toks.get(i + 2).is_some_and(|t| t.tok == Tok::Word)
        {
            let ty = word(i + 2).unwrap_or_default();
            if print_name(&mut edits, sql, &toks, i - 3, toks[i + 2].end, &ty) {
                i += 3;
                continue;
            }
            let replacement = match ty.as_str() {
                "regtype" | "regclass" | "regproc" | "regprocedure" | "regnamespace"
                | "regrole" | "regoper" | "regconfig" => "VARCHAR".to_owned(),
                _ => sql[toks[i + 2].start..toks[i + 2].end].to_owned(),
            };
            edits.push((t.start, toks[i + 2].end, replacement));
            i += 3;
            continue;
        }
        if t.tok == Tok::Word
            && is(sql, Some(t), "pg_catalog")
            && is(sql, toks.get(i + 1), ".")
            && toks.get(i + 2).is_some_and(|t| t.tok == Tok::Word)
        {
            let name = word(i + 2).unwrap_or_default();
            let call = toks.get(i + 3).is_some_and(|t| t.tok == Tok::OpenParen);
            // SQLAlchemy: `pg_catalog.pg_class.relname` (schema.table.column) → `pg_class.relname`
            if is(sql, toks.get(i + 3), ".") {
                edits.push((t.start, toks[i + 2].start, String::new()));
                needs_install |= is_session_relation(&name);
                i += 2;
                continue;
            }
            let session_object = if call {
                SESSION_FUNCTIONS.contains(&name.as_str())
            } else {
                is_session_relation(&name)
            };
            // psql, pgJDBC, SQLAlchemy: `pg_catalog.fn(` for functions DuckDB keeps in `main`
            // (array_to_string, …) or the session defines; `pg_catalog.pg_roles` and the other
            // session views
            if (call && !DUCKDB_PG_CATALOG_FUNCTIONS.contains(&name.as_str())) || session_object {
                edits.push((t.start, toks[i + 2].start, String::new()));
                needs_install |= session_object;
            }
            i += 2; // the name itself may match a rule below
            continue;
        }
        // Npgsql (and Power BI's connector) at first connect: `pg_proc AS proc ON proc.oid =
        // typ.typreceive` finds array types by their receive function (`array_recv`). The
        // session's typreceive is the function's name (PostgreSQL's regproc text), so the join
        // goes by name.
        if t.tok == Tok::Word
            && is(sql, toks.get(i + 1), ".")
            && is(sql, toks.get(i + 2), "oid")
            && is(sql, toks.get(i + 3), "=")
            && toks.get(i + 4).is_some_and(|t| t.tok == Tok::Word)
            && is(sql, toks.get(i + 5), ".")
            && is(sql, toks.get(i + 6), "typreceive")
        {
            edits.push((toks[i + 2].start, toks[i + 2].end, "proname".to_owned()));
            needs_install = true;
            i += 7;
            continue;
        }
        // Grafana, Metabase, DBeaver, dbt list relations from `information_schema.tables` /
        // `.columns`, where DuckDB also shows the session's own catalog views (TEMP); those and
        // the other views name DuckDB's `main` schema `public` (pgJDBC, SQLAlchemy, dbt filter
        // on `table_schema = 'public'`)
        if t.tok == Tok::Word
            && is(sql, Some(t), "information_schema")
            && is(sql, toks.get(i + 1), ".")
            && toks.get(i + 2).is_some_and(|t| {
                t.tok == Tok::Word
                    && is_information_schema_view(&sql[t.start..t.end].to_ascii_lowercase())
            })
            && !toks.get(i + 3).is_some_and(|t| t.tok == Tok::OpenParen)
            && (i == 0 || !is(sql, toks.get(i - 1), "."))
        {
            let which = sql[toks[i + 2].start..toks[i + 2].end].to_ascii_lowercase();
            edits.push((
                t.start,
                toks[i + 2].end,
                format!("duckgate_information_schema_{which}"),
            ));
            needs_install = true;
            i += 3;
            continue;
        }
        // pgJDBC getPrimaryKeys: `information_schema._pg_expandarray(…)` is the session's macro
        if t.tok == Tok::Word
            && is(sql, Some(t), "information_schema")
            && is(sql, toks.get(i + 1), ".")
            && is(sql, toks.get(i + 2), "_pg_expandarray")
        {
            edits.push((t.start, toks[i + 2].start, String::new()));
            needs_install = true;
            i += 3;
            continue;
        }
        // psql \d (publications), pgJDBC getPrimaryKeys: `FROM generate_series(…) s` names the
        // function's single column `s` in PostgreSQL; DuckDB makes `s` the row. Say `s(s)`.
        // Grafana's query builder does the same with `string_to_array(…) s`.
        if t.tok == Tok::Word
            && (is(sql, Some(t), "generate_series") || is(sql, Some(t), "string_to_array"))
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && in_from_clause(sql, &toks, i)
        {
            let mut depth = 0;
            let mut close = None;
            for (j, u) in toks.iter().enumerate().skip(i + 1) {
                match u.tok {
                    Tok::OpenParen => depth += 1,
                    Tok::CloseParen => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(c) = close {
                let mut a = c + 1;
                if is(sql, toks.get(a), "as") {
                    a += 1;
                }
                const NOT_ALIASES: &[&str] = &[
                    "where", "join", "left", "right", "inner", "cross", "full", "on", "group",
                    "order", "limit", "union", "with", "as",
                ];
                if let Some(alias) = toks.get(a).filter(|t| t.tok == Tok::Word) {
                    let name = &sql[alias.start..alias.end];
                    if !NOT_ALIASES.contains(&name.to_ascii_lowercase().as_str())
                        && !toks.get(a + 1).is_some_and(|t| t.tok == Tok::OpenParen)
                    {
                        edits.push((alias.end, alias.end, format!("({name})")));
                    }
                }
            }
        }
        // asyncpg, Grafana, SQLAlchemy: `current_setting('server_version_num')` and other
        // constants become their value
        if t.tok == Tok::Word
            && is(sql, Some(t), "current_setting")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && toks.get(i + 2).is_some_and(|t| t.tok == Tok::Literal)
            && toks.get(i + 3).is_some_and(|t| t.tok == Tok::CloseParen)
        {
            let lit = &sql[toks[i + 2].start..toks[i + 2].end];
            let name = lit.trim_matches('\'').to_ascii_lowercase();
            if let Some((_, v)) = CONSTANT_SETTINGS.iter().find(|(n, _)| *n == name) {
                // a `pg_catalog.` prefix before it was already removed by the rule above
                edits.push((t.start, toks[i + 3].end, format!("'{v}'")));
                i += 4;
                continue;
            }
        }
        // Grafana's query builder reads the search path inside a larger query (alone in its
        // statement, the session answers it): the session's PostgreSQL value, which
        // `settings::duckdb_search_path` keeps in a DuckDB variable (DuckDB's own setting
        // says `main` for `public` and has no `$user`)
        if t.tok == Tok::Word
            && is(sql, Some(t), "current_setting")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && is(sql, toks.get(i + 2), "'search_path'")
            && toks.get(i + 3).is_some_and(|t| t.tok == Tok::CloseParen)
        {
            let prefix = if is(sql, toks.get(i.wrapping_sub(1)), ".") {
                i.saturating_sub(2)
            } else {
                i
            };
            let alone = prefix == 1
                && is(sql, toks.first(), "select")
                && toks[i + 4..].iter().all(|t| t.tok == Tok::Semicolon);
            if !alone {
                edits.push((
                    t.start,
                    toks[i + 3].end,
                    "COALESCE(getvariable('duckgate_search_path'), '\"$user\", public')".to_owned(),
                ));
                i += 4;
                continue;
            }
        }
        // SQLAlchemy's `current_setting($1::VARCHAR)`, psql's `current_setting(s.name)`: a name
        // that is not a literal (DuckDB wants a constant) goes through the session's macro
        if t.tok == Tok::Word
            && is(sql, Some(t), "current_setting")
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && !(toks.get(i + 2).is_some_and(|t| t.tok == Tok::Literal)
                && toks.get(i + 3).is_some_and(|t| t.tok == Tok::CloseParen))
            && !(i > 0
                && is(sql, toks.get(i - 1), ".")
                && !is(sql, toks.get(i.wrapping_sub(2)), "pg_catalog"))
        {
            edits.push((t.start, t.end, "duckgate_current_setting".to_owned()));
            needs_install = true;
            i += 1;
            continue;
        }
        // SQLAlchemy (`select current_schema()`), psql, pgJDBC: `current_schema` (also bare, a
        // SQL keyword) is the session's macro, which says `public` for DuckDB's `main`
        if t.tok == Tok::Word
            && is(sql, Some(t), "current_schema")
            && !toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen)
            && !(i > 0 && (is(sql, toks.get(i - 1), ".") || is(sql, toks.get(i - 1), "as")))
        {
            edits.push((t.end, t.end, "()".to_owned()));
            needs_install = true;
        }
        // SQLAlchemy's column reflection: PostgreSQL function names DuckDB spells differently
        if t.tok == Tok::Word && toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen) {
            let renamed = match sql[t.start..t.end].to_ascii_lowercase().as_str() {
                "json_build_object" | "jsonb_build_object" => Some("json_object"),
                _ => None,
            };
            if let Some(r) = renamed {
                edits.push((t.start, t.end, r.to_owned()));
            }
        }
        if t.tok == Tok::Word {
            let name = sql[t.start..t.end].to_ascii_lowercase();
            let call = toks.get(i + 1).is_some_and(|t| t.tok == Tok::OpenParen);
            if (call && SESSION_FUNCTIONS.contains(&name.as_str()))
                || (!call && is_session_relation(&name))
            {
                needs_install = true;
            }
        }
        i += 1;
    }
    if edits.is_empty() && !needs_install {
        return None;
    }
    edits.sort_by_key(|e| e.0);
    let out = apply_edits(sql, edits);
    Some(Rewritten {
        sql: partial_regex_matches(&out),
        needs_install,
    })
}

/// `operand::regclass` / `operand::regtype` where the operand (ending at token `last`) is a
/// column reference (`oid`, `c.oid`): the whole cast (ending at byte `end`) becomes the macro that
/// prints the object's name as PostgreSQL's output function does. False (nothing pushed) for
/// other operands and types.
fn print_name(
    edits: &mut Vec<(usize, usize, String)>,
    sql: &str,
    toks: &[Token],
    last: usize,
    end: usize,
    ty: &str,
) -> bool {
    let func = match ty {
        "regclass" => "duckgate_regclass_name",
        "regtype" => "duckgate_regtype_name",
        _ => return false,
    };
    if toks.get(last).is_none_or(|t| t.tok != Tok::Word) {
        return false;
    }
    let mut first = last;
    while first >= 2 && is(sql, toks.get(first - 1), ".") && toks[first - 2].tok == Tok::Word {
        first -= 2;
    }
    // `x::text::regtype`: the operand is a cast, not a column
    if first >= 1 && is(sql, toks.get(first - 1), ":") {
        return false;
    }
    let start = toks[first].start;
    if edits.iter().any(|e| e.0 < end && e.1 > start) {
        return false;
    }
    let operand = &sql[start..toks[last].end];
    edits.push((start, end, format!("{func}({operand})")));
    true
}

/// Whether token `i` starts `::regtype::oid` (either type `pg_catalog.`-qualified): the index of
/// its last token (`oid`).
fn regtype_oid_cast(sql: &str, toks: &[Token], i: usize) -> Option<usize> {
    let mut k = i;
    let step = |k: &mut usize, ty: &str| -> bool {
        if !(is(sql, toks.get(*k), ":") && is(sql, toks.get(*k + 1), ":")) {
            return false;
        }
        *k += 2;
        if is(sql, toks.get(*k), "pg_catalog") && is(sql, toks.get(*k + 1), ".") {
            *k += 2;
        }
        if !is(sql, toks.get(*k), ty) {
            return false;
        }
        *k += 1;
        true
    };
    if i >= 1 && step(&mut k, "regtype") && step(&mut k, "oid") {
        Some(k - 1)
    } else {
        None
    }
}

/// The lower-cased name of the function whose argument list holds token `i`, if any.
fn enclosing_call(sql: &str, toks: &[Token], i: usize) -> Option<String> {
    let mut depth = 0i32;
    for k in (0..i).rev() {
        match toks[k].tok {
            Tok::CloseParen => depth += 1,
            Tok::OpenParen if depth == 0 => {
                return toks
                    .get(k.checked_sub(1)?)
                    .filter(|t| t.tok == Tok::Word)
                    .map(|t| sql[t.start..t.end].to_ascii_lowercase());
            }
            Tok::OpenParen => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A one-dimensional PostgreSQL array literal (`'{a,"b c",NULL}'`) as a DuckDB list of text
/// (`['a', 'b c', NULL]`); None for what this does not read (nested arrays, escapes).
fn pg_array_literal(lit: &str) -> Option<String> {
    let body = lit.strip_prefix("'{")?.strip_suffix("}'")?;
    if body.contains(['{', '}', '\\']) || body.contains("''") {
        return None;
    }
    if body.trim().is_empty() {
        return Some("[]".to_owned());
    }
    let mut items = Vec::new();
    let mut rest = body;
    loop {
        let item;
        let r = rest.trim_start();
        if let Some(q) = r.strip_prefix('"') {
            let end = q.find('"')?;
            item = format!("'{}'", &q[..end]);
            rest = q[end + 1..].trim_start();
        } else {
            let end = r.find(',').unwrap_or(r.len());
            let v = r[..end].trim();
            item = if v.eq_ignore_ascii_case("null") {
                "NULL".to_owned()
            } else {
                format!("'{v}'")
            };
            rest = &r[end..];
        }
        items.push(item);
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None if rest.is_empty() => break,
            None => return None,
        }
    }
    Some(format!("[{}]", items.join(", ")))
}

/// PostgreSQL's `~` and `!~` find the pattern anywhere in the string; DuckDB's match the whole
/// string. A literal pattern is widened so DuckDB answers as PostgreSQL would (psql's `\dn`
/// filter `nspname !~ '^pg_'`, pgJDBC's and Metabase's name filters).
fn partial_regex_matches(sql: &str) -> String {
    let toks = tokens(sql);
    let mut edits = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.tok != Tok::Literal || i == 0 || !sql[t.start..].starts_with('\'') {
            continue;
        }
        let op = &sql[toks[i - 1].start..toks[i - 1].end];
        let before = i.checked_sub(2).map(|k| &sql[toks[k].start..toks[k].end]);
        if op == "~" && before != Some("~") {
            let inner = &sql[t.start + 1..t.end - 1];
            edits.push((t.start, t.end, format!("'(?s:.*)(?:{inner})(?s:.*)'")));
        }
    }
    apply_edits(sql, edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_views_cast_name_and_char_columns() {
        let v = typed_view("CREATE OR REPLACE TEMP VIEW pg_am AS SELECT 1 AS x UNION ALL SELECT 2")
            .unwrap();
        assert_eq!(
            v,
            "CREATE OR REPLACE TEMP VIEW pg_am AS SELECT * REPLACE (CAST(amname AS duckgate_name) AS amname, \
             CAST(amtype AS duckgate_char) AS amtype, TRY_CAST(oid AS UINTEGER) AS oid) \
             FROM (SELECT 1 AS x UNION ALL SELECT 2) dg_typed"
        );
        assert_eq!(
            typed_view("CREATE OR REPLACE TEMP VIEW duckgate_indexes AS SELECT 1"),
            None
        );
        assert_eq!(
            typed_view("CREATE OR REPLACE TEMP MACRO pg_am(x) AS x"),
            None
        );
        // every listed relation is one the session creates, so its view is typed
        let sql = install_sql();
        for (rel, ..) in CATALOG_COLUMN_TYPES {
            assert!(
                sql.contains(&format!("TEMP VIEW {rel} AS SELECT * REPLACE (")),
                "{rel} is not typed"
            );
        }
    }

    #[test]
    fn struct_fields_parse_quoted_names_and_nested_types() {
        let f = |t: &str| parse_struct_fields(t);
        let pairs = |v: &[(&str, &str)]| {
            Some(
                v.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            f("STRUCT(street VARCHAR, city VARCHAR)"),
            pairs(&[("street", "VARCHAR"), ("city", "VARCHAR")])
        );
        assert_eq!(
            f(
                "STRUCT(\"a b\" INTEGER, \"c\"\"d\" STRUCT(x DECIMAL(10,2), y VARCHAR[]), \
               e ENUM('x, y', 'it''s'), f MAP(VARCHAR, INTEGER))"
            ),
            pairs(&[
                ("a b", "INTEGER"),
                ("c\"d", "STRUCT(x DECIMAL(10,2), y VARCHAR[])"),
                ("e", "ENUM('x, y', 'it''s')"),
                ("f", "MAP(VARCHAR, INTEGER)"),
            ])
        );
        assert_eq!(f("STRUCT(\"x,\" INTEGER)"), pairs(&[("x,", "INTEGER")]));
        // not a struct, unbalanced, a field without a type: not understood
        assert_eq!(f("INTEGER"), None);
        assert_eq!(f("STRUCT(a DECIMAL(10,2)"), None);
        assert_eq!(f("STRUCT(a INTEGER, b)"), None);
        assert_eq!(f("STRUCT(\"a INTEGER)"), None);
        assert_eq!(f("STRUCT()"), None);
    }

    #[test]
    fn size_functions_trigger_the_sizes_refresh() {
        assert!(reads_relation_sizes(
            "SELECT pg_size_pretty(PG_TABLE_SIZE(c.oid)) FROM pg_class c"
        ));
        for f in [
            "pg_relation_size",
            "pg_total_relation_size",
            "pg_indexes_size",
        ] {
            assert!(reads_relation_sizes(&format!("SELECT {f}(1)")), "{f}");
        }
        assert!(!reads_relation_sizes("SELECT relname FROM pg_class"));
        assert!(!reads_relation_sizes("SELECT pg_database_size('x')"));
    }

    #[test]
    fn relation_sizes_query_names_each_table_once_quoted() {
        let row = |oid: &str, db: &str, schema: &str, name: &str, kind: &str| {
            [oid, db, schema, name, kind]
                .iter()
                .map(|s| Some(s.to_string()))
                .collect::<Vec<_>>()
        };
        let tables = vec![
            row("5", "lake", "main", "ev", "ducklake"),
            row("7", "my db", "Sch\"ema", "it's", "duckdb"),
            row("9", "pg", "public", "remote", "postgres"),
            vec![None, Some("x".into())],
        ];
        let sql = relation_sizes_query(&tables);
        // a DuckLake table first: the union's columns are named by the CTE, not its first part
        assert!(
            sql.starts_with("WITH dg_sizes(oid, table_oid, bytes) AS ("),
            "{sql}"
        );
        assert!(
            sql.contains("pragma_storage_info('\"my db\".\"Sch\"\"ema\".\"it''s\"')"),
            "{sql}"
        );
        assert!(
            sql.contains("ducklake_list_files('lake', 'ev', schema => 'main')"),
            "{sql}"
        );
        // other kinds of attached databases have no size
        assert!(!sql.contains("remote"), "{sql}");
        assert_eq!(sql.matches("pragma_storage_info(").count(), 1);
    }

    #[test]
    fn relation_sizes_become_a_values_view() {
        assert!(relation_sizes_sql(&[]).contains("WHERE false"));
        let rows = vec![
            vec![Some("16385".into()), Some("8192".into()), Some("0".into())],
            vec![
                Some("public.it's".into()),
                Some("10".into()),
                Some("5".into()),
            ],
            // not a number: left out
            vec![Some("x".into()), Some("?".into()), Some("0".into())],
        ];
        let sql = relation_sizes_sql(&rows);
        assert!(sql.contains("('16385', 8192::BIGINT, 0::BIGINT)"), "{sql}");
        assert!(
            sql.contains("('public.it''s', 10::BIGINT, 5::BIGINT)"),
            "{sql}"
        );
        assert!(!sql.contains("'x'"), "{sql}");
    }

    #[test]
    fn composite_fields_become_a_values_view() {
        assert!(composite_fields_sql(&[]).contains("WHERE false"));
        let sql = composite_fields_sql(&[(
            7,
            vec![
                ("it's".into(), "VARCHAR".into()),
                ("n".into(), "DECIMAL(4,1)".into()),
            ],
        )]);
        assert!(
            sql.contains("(7::BIGINT, 1::BIGINT, 'it''s', 'VARCHAR'), (7::BIGINT, 2::BIGINT, 'n', 'DECIMAL(4,1)')"),
            "{sql}"
        );
        let row = |v: [&str; 4]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(
            composite_typeof_sql(&[
                row(["5", "my db", "main", "a\"b"]),
                vec![Some("6".into()), None, None, None],
            ])
            .as_deref(),
            Some("SELECT 5, typeof(NULL::\"my db\".\"main\".\"a\"\"b\")")
        );
        assert_eq!(composite_typeof_sql(&[]), None);
        assert!(reads_composite_fields("select * from PG_ATTRIBUTE"));
        assert!(!reads_composite_fields("select * from pg_type"));
    }

    #[test]
    fn a_pg_catalog_function_cast_to_regproc_compares_unqualified() {
        let r = rewrite("SELECT typinput='pg_catalog.array_in'::regproc FROM pg_catalog.pg_type")
            .unwrap();
        assert!(r.sql.contains("typinput='array_in'::VARCHAR"), "{}", r.sql);
        // other schemas keep their name; other reg* casts are not touched
        let r = rewrite("SELECT 'myschema.f'::regproc, 'pg_catalog.int4'::regtype").unwrap();
        assert!(r.sql.contains("'myschema.f'::VARCHAR"), "{}", r.sql);
        assert!(!r.sql.contains("'int4'"), "{}", r.sql);
    }

    #[test]
    fn column_types_agree_with_the_wire_mapping() {
        use crate::types::{pg_type_of, DuckType};
        let duck = |name: &str| -> DuckType {
            match name {
                "BOOLEAN" => DuckType::Boolean,
                "TINYINT" => DuckType::TinyInt,
                "SMALLINT" => DuckType::SmallInt,
                "UTINYINT" => DuckType::UTinyInt,
                "INTEGER" => DuckType::Integer,
                "USMALLINT" => DuckType::USmallInt,
                "BIGINT" => DuckType::BigInt,
                "UINTEGER" => DuckType::UInteger,
                "UBIGINT" => DuckType::UBigInt,
                "HUGEINT" => DuckType::HugeInt,
                "UHUGEINT" => DuckType::UHugeInt,
                "BIGNUM" => DuckType::BigNum,
                "FLOAT" => DuckType::Float,
                "DOUBLE" => DuckType::Double,
                "VARCHAR" => DuckType::Varchar,
                "JSON" => DuckType::Json,
                "BLOB" => DuckType::Blob,
                "UUID" => DuckType::Uuid,
                "DATE" => DuckType::Date,
                "TIME" => DuckType::Time,
                "TIME_NS" => DuckType::TimeNs,
                "TIME WITH TIME ZONE" => DuckType::TimeTz,
                "TIMESTAMP" => DuckType::Timestamp,
                "TIMESTAMP_S" => DuckType::TimestampS,
                "TIMESTAMP_MS" => DuckType::TimestampMs,
                "TIMESTAMP_NS" => DuckType::TimestampNs,
                "TIMESTAMP WITH TIME ZONE" => DuckType::TimestampTz,
                "INTERVAL" => DuckType::Interval,
                "BIT" => DuckType::Bit,
                other => panic!("no DuckType for {other}"),
            }
        };
        for (name, oid) in COLUMN_TYPES {
            assert_eq!(pg_type_of(&duck(name)).oid, *oid, "{name}");
            let list = DuckType::List(Box::new(duck(name)));
            if let Some(a) = crate::types::oid::array_of(*oid) {
                assert_eq!(pg_type_of(&list).oid, a, "{name}[]");
            }
        }
        // every type a column can be reported as is in pg_type
        for (_, oid) in COLUMN_TYPES {
            assert!(CATALOG_TYPES.iter().any(|t| t.oid == *oid), "{oid}");
        }
    }

    #[test]
    fn default_schema_constructs_are_rewritten() {
        // names first: `public` is `main`, the database before information_schema goes
        let r = rewrite(
            "SELECT * FROM \"db\".information_schema.tables WHERE table_schema = 'public' \
             AND table_name IN (SELECT n FROM public.t)",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT * FROM duckgate_information_schema_tables WHERE table_schema = 'public' \
             AND table_name IN (SELECT n FROM main.t)"
        );
        assert!(r.needs_install);
        assert_eq!(
            rewrite("CREATE TABLE public.t (a INT)"),
            Some(Rewritten {
                sql: "CREATE TABLE main.t (a INT)".into(),
                needs_install: false
            })
        );
        // every information_schema view that names schemas is the session's
        for v in [
            "schemata",
            "views",
            "columns",
            "table_constraints",
            "key_column_usage",
            "referential_constraints",
            "constraint_column_usage",
            "constraint_table_usage",
            "check_constraints",
        ] {
            let r = rewrite(&format!("SELECT * FROM INFORMATION_SCHEMA.{v} x")).unwrap();
            assert_eq!(
                r.sql,
                format!("SELECT * FROM duckgate_information_schema_{v} x")
            );
        }
        assert_eq!(
            rewrite("SELECT * FROM information_schema.character_sets"),
            None
        );
        // current_schema, with or without parentheses or pg_catalog
        let r = rewrite(
            "select current_schema, pg_catalog.current_schema(), current_schemas(true), \
             x AS current_schema, t.current_schema",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "select current_schema(), current_schema(), current_schemas(true), \
             x AS current_schema, t.current_schema"
        );
        assert!(r.needs_install);
        // the search path inside a query is the session's; alone, the session answers it
        assert_eq!(
            rewrite("SELECT string_to_array(pg_catalog.current_setting('search_path'), ',') AS p")
                .unwrap()
                .sql,
            "SELECT string_to_array(COALESCE(getvariable('duckgate_search_path'), '\"$user\", public'), ',') AS p"
        );
        // psql, DBeaver: a schema looked up by name
        assert_eq!(
            rewrite("SELECT 1 FROM pg_namespace WHERE oid = 'public'::regnamespace")
                .unwrap()
                .sql,
            "SELECT 1 FROM pg_namespace WHERE oid = duckgate_regnamespace('public')"
        );
        assert_eq!(rewrite("SELECT current_setting('search_path')"), None);
        assert_eq!(
            rewrite("SELECT pg_catalog.current_setting('search_path');")
                .unwrap()
                .sql,
            "SELECT current_setting('search_path');"
        );
    }

    #[test]
    fn psql_describe_constructs_are_rewritten() {
        let r = rewrite(
            "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT c.oid FROM pg_class c WHERE c.relname ~ '(?s:.*)(?:^(t)$)(?s:.*)'  AND pg_table_is_visible(c.oid)"
        );
        assert!(r.needs_install, "pg_class is the session's view");
    }

    #[test]
    fn session_functions_and_views_are_installed_and_unprefixed() {
        let r = rewrite(
            "SELECT pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.array_to_string(d.datacl, E'\\n') FROM pg_catalog.pg_database d",
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT pg_get_userbyid(d.datdba), array_to_string(d.datacl, E'\\n') FROM pg_database d"
        );
        assert!(r.needs_install);
        assert!(
            rewrite("SELECT rolname FROM pg_roles")
                .unwrap()
                .needs_install
        );
        // DuckDB's own pg_catalog stays qualified
        assert_eq!(rewrite("SELECT pg_catalog.pg_typeof(1)"), None);
        // lookups by name
        let r = rewrite("SELECT attname FROM pg_attribute WHERE attrelid = 'public.t'::regclass")
            .unwrap();
        assert_eq!(
            r.sql,
            "SELECT attname FROM pg_attribute WHERE attrelid = duckgate_regclass('public.t')"
        );
        assert!(r.needs_install);
        assert_eq!(
            rewrite("SELECT to_regtype('hstore')").map(|r| r.needs_install),
            Some(true)
        );
        assert_eq!(
            rewrite("SELECT 'int4'::pg_catalog.regtype").unwrap().sql,
            "SELECT duckgate_regtype('int4')"
        );
        // SQLAlchemy: the catalog of a description, as a literal or a bound parameter
        assert_eq!(
            rewrite("SELECT 1 WHERE classoid = CAST('pg_catalog.pg_class' AS REGCLASS)")
                .unwrap()
                .sql,
            "SELECT 1 WHERE classoid = duckgate_regclass('pg_catalog.pg_class')"
        );
        assert_eq!(
            rewrite("SELECT 1 WHERE classoid = CAST($2 AS REGCLASS) AND x = $1::regclass")
                .unwrap()
                .sql,
            "SELECT 1 WHERE classoid = duckgate_regclass($2::VARCHAR) AND x = duckgate_regclass($1::VARCHAR)"
        );
        // a column cast to regclass or regtype prints the object's name
        assert_eq!(
            rewrite("SELECT c.oid::pg_catalog.regclass::pg_catalog.text, t.oid::regtype, x::text::regtype FROM pg_class c, pg_type t")
                .unwrap()
                .sql,
            "SELECT duckgate_regclass_name(c.oid)::text, duckgate_regtype_name(t.oid), x::text::VARCHAR FROM pg_class c, pg_type t"
        );
        assert_eq!(
            rewrite("SELECT CAST(c.oid AS REGCLASS) FROM pg_class c")
                .unwrap()
                .sql,
            "SELECT CAST(c.oid AS VARCHAR) FROM pg_class c"
        );
        // pgx: a type's name to its OID; psql \dT: a qualified type in CAST
        assert_eq!(
            rewrite("select $1::text::regtype::oid, 'x'::pg_catalog.text::pg_catalog.regtype::pg_catalog.oid")
                .unwrap()
                .sql,
            "select duckgate_regtype($1::text)::oid, duckgate_regtype('x'::text)::oid"
        );
        assert_eq!(
            rewrite("SELECT CAST('tuple' AS pg_catalog.text), CAST(x AS pg_catalog.regtype) FROM pg_type")
                .unwrap()
                .sql,
            "SELECT CAST('tuple' AS text), CAST(x AS pg_catalog.regtype) FROM pg_type"
        );
        // SQLAlchemy, psql \dconfig: a setting name DuckDB cannot see at bind time
        let r = rewrite("SELECT current_setting($1::VARCHAR), pg_catalog.current_setting(s.name) FROM pg_settings s").unwrap();
        assert_eq!(
            r.sql,
            "SELECT duckgate_current_setting($1::VARCHAR), duckgate_current_setting(s.name) FROM pg_settings s"
        );
        assert!(r.needs_install);
        // pgJDBC, psycopg: array literals as text where PostgreSQL reads an array
        assert_eq!(
            rewrite("select w from pg_get_keywords() where w <> ALL ('{a,\"b c\",NULL}'::text[]) and coalesce(x, '{}') = '{}' and y = ANY ('{1}')")
                .unwrap()
                .sql,
            "select w from pg_get_keywords() where w <> ALL (['a', 'b c', NULL]::text[]) and coalesce(x, []) = '{}' and y = ANY (['1'])"
        );
        assert_eq!(pg_array_literal("'{{1},{2}}'"), None);
        // psql \dL, \dd: a system catalog's tableoid
        assert_eq!(
            rewrite("SELECT l.lanname FROM pg_catalog.pg_language l JOIN pg_catalog.pg_description d ON d.classoid = l.tableoid")
                .unwrap()
                .sql,
            "SELECT l.lanname FROM pg_language l JOIN pg_description d ON d.classoid = 2612::BIGINT"
        );
        assert_eq!(
            rewrite("SELECT t.tableoid FROM pg_trigger t UNION ALL SELECT t.tableoid AS x FROM pg_type AS t")
                .unwrap()
                .sql,
            "SELECT 2620::BIGINT FROM pg_trigger t UNION ALL SELECT 1247::BIGINT AS x FROM pg_type AS t"
        );
        // psql \d+: a NULL reloptions concatenated with an array
        assert_eq!(
            rewrite("SELECT array_to_string(c.reloptions || array(select 'toast.' || x from unnest(tc.reloptions) x), ', ') FROM pg_class c")
                .unwrap()
                .sql,
            "SELECT array_to_string(coalesce(c.reloptions, []) || array(select 'toast.' || x from unnest(tc.reloptions) x), ', ') FROM pg_class c"
        );
        // psql's publication listing: the series' column takes the alias
        assert_eq!(
            rewrite("SELECT s FROM pg_catalog.generate_series(0, 3) s WHERE true")
                .unwrap()
                .sql,
            "SELECT s FROM generate_series(0, 3) s(s) WHERE true"
        );
        // Npgsql: pg_proc joined on typreceive goes by name
        assert_eq!(
            rewrite("SELECT 1 FROM pg_type AS typ LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive")
                .unwrap()
                .sql,
            "SELECT 1 FROM pg_type AS typ LEFT JOIN pg_proc AS proc ON proc.proname = typ.typreceive"
        );
        // Grafana: the same for `string_to_array(…) s` among other FROM items; never in a
        // select list, where the word after the call is a column alias
        let g = rewrite(
            "SELECT trim(s[i]) FROM generate_series(1, 2) as i, string_to_array(current_setting('search_path'), ',') s",
        )
        .unwrap()
        .sql;
        assert!(
            g.ends_with(
                "as i(i), string_to_array(COALESCE(getvariable('duckgate_search_path'), \
                 '\"$user\", public'), ',') s(s)"
            ),
            "{g}"
        );
        let sel = rewrite("SELECT string_to_array('a,b', ',') parts, generate_series(1, 2) n")
            .map(|r| r.sql)
            .unwrap_or_default();
        assert!(
            !sel.contains("parts(parts)") && !sel.contains("n(n)"),
            "{sel}"
        );
        assert_eq!(rewrite("SELECT 1"), None);
        // literals are never touched
        assert_eq!(rewrite("SELECT 'pg_catalog.pg_roles'"), None);
    }
}
