//! DuckDB's default schema `main` under PostgreSQL's name `public` (issue #5): names with
//! `public` resolve to `main` in every kind of statement, and the catalog (pg_namespace,
//! information_schema, pg_tables, current_schema(), regclass text, index and constraint
//! definitions) says `public` where DuckDB says `main`, so pgJDBC's, SQLAlchemy's and dbt's
//! `… = 'public'` filters find the tables.

mod common;

use common::{query_text as q, sqlstate, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_names_resolve_to_main_in_every_statement() {
    let gw = start().await;
    let c = gw.connect().await;
    let db = q(&c, "SELECT current_database()").await[0][0].clone();
    c.batch_execute(&format!(
        "CREATE TABLE public.t (id INTEGER PRIMARY KEY, s VARCHAR); \
         INSERT INTO \"public\".\"t\" VALUES (1, 'a'), (2, 'b'); \
         UPDATE \"{db}\".public.t SET s = 'B' WHERE id = 2; \
         DELETE FROM PUBLIC.t WHERE id = 1; \
         CREATE VIEW public.v AS SELECT public.t.id, s FROM public.t; \
         CREATE SEQUENCE public.sq; \
         CREATE INDEX t_s_idx ON public.t (s)"
    ))
    .await
    .unwrap();
    // the same table under every spelling, main included
    for name in [
        "t",
        "main.t",
        "public.t",
        "\"public\".\"t\"",
        &format!("\"{db}\".public.t"),
        &format!("\"{db}\".main.t"),
    ] {
        assert_eq!(
            q(&c, &format!("SELECT id, s FROM {name}")).await,
            [["2", "B"]],
            "{name}"
        );
    }
    assert_eq!(q(&c, "SELECT * FROM public.v").await, [["2", "B"]]);
    // the view's definition names the schema as the client did
    let def = q(&c, "SELECT pg_get_viewdef('public.v'::regclass)").await[0][0].clone();
    assert!(
        def.contains("FROM public.t") && !def.contains("main"),
        "{def}"
    );
    // parameters and the extended protocol
    let r = c
        .query("SELECT s FROM public.t WHERE id = $1", &[&2i32])
        .await
        .unwrap();
    assert_eq!(r[0].get::<_, String>(0), "B");
    // sequences named by text (pg_get_serial_sequence answers public.…)
    assert_eq!(
        q(
            &c,
            "SELECT nextval('public.sq'), nextval('\"public\".sq'), currval('public.sq')"
        )
        .await,
        [["1", "2", "2"]]
    );
    // literals and comments keep the word
    assert_eq!(
        q(&c, "SELECT 'public.t' /* public.t */ AS x").await,
        [["public.t"]]
    );
    // CREATE SCHEMA public: the schema exists (IF NOT EXISTS is a no-op, as on PostgreSQL)
    c.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS public; CREATE SCHEMA IF NOT EXISTS \"{db}\".\"public\""
    ))
    .await
    .unwrap();
    let e = c.batch_execute("CREATE SCHEMA public").await.unwrap_err();
    assert!(
        e.as_db_error().is_some_and(|d| d
            .message()
            .contains("Schema with name \"public\" already exists")),
        "{e:?}"
    );
    // DDL: ALTER, DROP
    c.batch_execute(
        "ALTER TABLE public.t ADD COLUMN n INTEGER; DROP VIEW public.v; DROP TABLE public.t",
    )
    .await
    .unwrap();
    let e = c.simple_query("SELECT * FROM main.t").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    // SERIAL columns in a public table: the sequence lands in main too
    c.batch_execute(
        "CREATE TABLE public.ser (id SERIAL PRIMARY KEY, x TEXT); \
         INSERT INTO public.ser (x) VALUES ('a'), ('b')",
    )
    .await
    .unwrap();
    assert_eq!(
        q(&c, "SELECT pg_get_serial_sequence('public.ser', 'id')").await,
        [["public.ser_id_seq"]]
    );
    assert_eq!(q(&c, "SELECT nextval('public.ser_id_seq')").await, [["3"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_says_public() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, email TEXT UNIQUE); \
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id)); \
         CREATE INDEX orders_customer_idx ON orders (customer_id); \
         CREATE VIEW big AS SELECT * FROM orders; \
         CREATE SCHEMA inventory; CREATE TABLE inventory.items (sku TEXT); \
         CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TYPE inventory.kind AS ENUM ('x')",
    )
    .await
    .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT current_schema, current_schema(), current_schemas(true)::text, \
             current_schemas(false)::text"
        )
        .await,
        [["public", "public", "[pg_catalog, public]", "[public]"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT nspname FROM pg_catalog.pg_namespace \
             WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1"
        )
        .await,
        [["inventory"], ["public"]]
    );
    // pgJDBC getTables / getColumns: filters on nspname with parameters
    let r = c
        .query(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c \
             WHERE c.relnamespace = n.oid AND n.nspname LIKE $1 AND c.relname LIKE $2 \
             AND c.relkind IN ('r', 'v') ORDER BY 2",
            &[&"public", &"%"],
        )
        .await
        .unwrap();
    let names: Vec<(String, String)> = r.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        names,
        [
            ("public".into(), "big".into()),
            ("public".into(), "customers".into()),
            ("public".into(), "orders".into())
        ]
    );
    let r = c
        .query(
            "SELECT a.attname FROM pg_catalog.pg_namespace n \
             JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 ORDER BY a.attnum",
            &[&"public", &"customers"],
        )
        .await
        .unwrap();
    let cols: Vec<String> = r.iter().map(|r| r.get(0)).collect();
    assert_eq!(cols, ["id", "name", "email"]);
    // information_schema: tables, columns, schemata (once, this database's), views, constraints
    assert_eq!(
        q(
            &c,
            "SELECT table_schema, table_name FROM information_schema.tables \
             WHERE table_schema IN ('public', 'inventory', 'main') ORDER BY 2"
        )
        .await,
        [
            ["public", "big"],
            ["public", "customers"],
            ["inventory", "items"],
            ["public", "orders"]
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name = 'customers'"
        )
        .await,
        [["3"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT schema_name FROM information_schema.schemata ORDER BY 1"
        )
        .await,
        [
            ["information_schema"],
            ["inventory"],
            ["pg_catalog"],
            ["public"]
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT table_schema, table_name FROM information_schema.views WHERE table_schema = 'public'"
        )
        .await,
        [["public", "big"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT constraint_schema, table_schema, constraint_type \
             FROM information_schema.table_constraints \
             WHERE table_name = 'orders' AND constraint_type <> 'CHECK' ORDER BY constraint_type"
        )
        .await,
        [
            ["public", "public", "FOREIGN KEY"],
            ["public", "public", "PRIMARY KEY"]
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT table_schema, column_name FROM information_schema.key_column_usage \
             WHERE table_name = 'customers' ORDER BY column_name"
        )
        .await,
        [["public", "email"], ["public", "id"]]
    );
    // pg_tables, pg_views, pg_indexes: this database's objects (not DuckDB's own views)
    assert_eq!(
        q(
            &c,
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname <> 'information_schema' \
             AND schemaname <> 'pg_catalog' ORDER BY 2"
        )
        .await,
        [
            ["public", "customers"],
            ["inventory", "items"],
            ["public", "orders"]
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT schemaname, viewname FROM pg_views WHERE schemaname = 'public'"
        )
        .await,
        [["public", "big"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT schemaname, indexname FROM pg_indexes WHERE tablename = 'orders' ORDER BY 2"
        )
        .await,
        [["public", "orders_customer_idx"], ["public", "orders_pkey"]]
    );
    // names printed by the catalog: visible ones unqualified, others with `public.`
    assert_eq!(
        q(
            &c,
            "SELECT 'public.orders'::regclass = 'orders'::regclass, \
             to_regclass('public.orders') IS NOT NULL, to_regclass('\"public\".orders') IS NOT NULL, \
             to_regclass('main.orders') IS NULL, to_regtype('public.mood') IS NOT NULL"
        )
        .await,
        [["t", "t", "t", "t", "t"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT c.oid::regclass::text, format_type(t.oid, NULL) FROM pg_class c, pg_type t \
             WHERE c.relname = 'items' AND t.typname = 'kind'"
        )
        .await,
        [["inventory.items", "inventory.kind"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT 'public'::regnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public'), \
             to_regnamespace('\"inventory\"') IS NOT NULL, to_regnamespace('main') IS NULL"
        )
        .await,
        [["t", "t", "t"]]
    );
    c.batch_execute("SET search_path = inventory")
        .await
        .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT c.oid::regclass::text, format_type(t.oid, NULL), \
             pg_get_indexdef(i.indexrelid), current_schema(), current_setting('search_path'), \
             pg_table_is_visible(c.oid) \
             FROM pg_class c, pg_type t, pg_index i \
             WHERE c.relname = 'orders' AND t.typname = 'mood' AND i.indrelid = c.oid \
             AND NOT i.indisprimary"
        )
        .await,
        [[
            "public.orders",
            "public.mood",
            "CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id)",
            "inventory",
            "inventory",
            "f"
        ]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        )
        .await,
        [["FOREIGN KEY (customer_id) REFERENCES public.customers(id)"]]
    );
    // PostgreSQL's SET SCHEMA
    c.batch_execute("SET SCHEMA 'public'; CREATE TABLE in_public (a INTEGER)")
        .await
        .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT current_schema(), schemaname FROM pg_tables WHERE tablename = 'in_public'"
        )
        .await,
        [["public", "public"]]
    );
    // SHOW and current_setting alone answer the session's value
    c.batch_execute("SET search_path = \"$user\", public, inventory")
        .await
        .unwrap();
    assert_eq!(
        q(&c, "SHOW search_path").await,
        [["\"$user\", public, inventory"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT current_setting('search_path'), length(current_setting('search_path'))"
        )
        .await,
        [["\"$user\", public, inventory", "26"]]
    );
    assert_eq!(
        q(&c, "SELECT current_schemas(false)::text").await,
        [["[public, inventory]"]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_types_and_the_public_schema_as_postgresql_spells_them() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TYPE mood AS ENUM ('a', 'b'); \
         CREATE TABLE ty (i INTEGER, b BIGINT, s SMALLINT, v VARCHAR(20), n DECIMAL(10, 2), \
           ts TIMESTAMP, tz TIMESTAMPTZ, d DOUBLE, r REAL, ok BOOLEAN, j JSON, blob BLOB, u UUID, \
           arr INTEGER[], m mood, st STRUCT(x INTEGER))",
    )
    .await
    .unwrap();
    // Grafana's query builder shows data_type
    assert_eq!(
        q(
            &c,
            "SELECT column_name, data_type, udt_schema || '.' || udt_name FROM information_schema.columns \
             WHERE table_name = 'ty' AND column_name <> 'm' ORDER BY ordinal_position"
        )
        .await,
        [
            ["i", "integer", "pg_catalog.int4"],
            ["b", "bigint", "pg_catalog.int8"],
            ["s", "smallint", "pg_catalog.int2"],
            // the declared length makes it PostgreSQL's varchar (tests/declared_lengths.rs)
            ["v", "character varying", "pg_catalog.varchar"],
            ["n", "numeric", "pg_catalog.numeric"],
            ["ts", "timestamp without time zone", "pg_catalog.timestamp"],
            ["tz", "timestamp with time zone", "pg_catalog.timestamptz"],
            ["d", "double precision", "pg_catalog.float8"],
            ["r", "real", "pg_catalog.float4"],
            ["ok", "boolean", "pg_catalog.bool"],
            ["j", "json", "pg_catalog.json"],
            ["blob", "bytea", "pg_catalog.bytea"],
            ["u", "uuid", "pg_catalog.uuid"],
            ["arr", "ARRAY", "pg_catalog._int4"],
            ["st", "json", "pg_catalog.json"],
        ]
    );
    assert_eq!(
        q(
            &c,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'ty' AND column_name = 'm'"
        )
        .await,
        [["USER-DEFINED"]]
    );
    // psql \dn+: the public schema is pg_database_owner's, with PostgreSQL's ACL and comment
    assert_eq!(
        q(
            &c,
            "SELECT pg_catalog.pg_get_userbyid(n.nspowner), pg_catalog.array_to_string(n.nspacl, ' '), \
             pg_catalog.obj_description(n.oid, 'pg_namespace') FROM pg_catalog.pg_namespace n \
             WHERE n.nspname = 'public'"
        )
        .await,
        [[
            "pg_database_owner",
            "pg_database_owner=UC/pg_database_owner =U/pg_database_owner",
            "standard public schema"
        ]]
    );
    // the owner is a role, as in PostgreSQL 15 (DBeaver joins pg_roles on nspowner): one that
    // cannot log in, so not a pg_user
    assert_eq!(
        q(
            &c,
            "SELECT r.rolname, r.rolcanlogin, r.rolsuper FROM pg_catalog.pg_namespace n \
             JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'public'"
        )
        .await,
        [["pg_database_owner", "f", "f"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT count(*) FROM pg_catalog.pg_user WHERE usename = 'pg_database_owner'"
        )
        .await,
        [["0"]]
    );
    // information_schema is a built-in schema: an OID below the first user OID (16384), the
    // one its views' pg_class rows point to
    let info = q(
        &c,
        "SELECT n.oid, count(c.oid) FROM pg_catalog.pg_namespace n \
         LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid \
         WHERE n.nspname = 'information_schema' GROUP BY n.oid",
    )
    .await;
    assert_eq!(info.len(), 1, "{info:?}");
    assert!(info[0][0].parse::<u32>().unwrap() < 16384, "{info:?}");
    assert!(info[0][1].parse::<u32>().unwrap() > 0, "{info:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_cursors_take_public_names() {
    use futures::{SinkExt, TryStreamExt};
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE public.cp (id INTEGER, s TEXT)")
        .await
        .unwrap();
    // psql \copy / pgJDBC's CopyManager name the table with its schema
    let sink = c
        .copy_in("COPY public.cp (id, s) FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\ta\n2\tb\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let out: Vec<bytes::Bytes> = c
        .copy_out("COPY \"public\".\"cp\" TO STDOUT (FORMAT csv)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(String::from_utf8(out.concat()).unwrap(), "1,a\n2,b\n");
    // psycopg2's named cursors wrap the query in DECLARE
    c.batch_execute("BEGIN; DECLARE cur CURSOR FOR SELECT id FROM public.cp ORDER BY id")
        .await
        .unwrap();
    assert_eq!(q(&c, "FETCH 1 FROM cur").await, [["1"]]);
    c.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_paths_with_schemas_that_do_not_exist_are_accepted() {
    let gw = start().await;
    // PostgreSQL ignores a schema of the path that does not exist (yet); DuckDB refused the
    // whole path, and with it the connection
    let c = common::connect(&format!(
        "{} options='-c search_path=app,public'",
        gw.conn_str("md:")
    ))
    .await;
    assert_eq!(
        q(
            &c,
            "SHOW search_path; SELECT current_schema(), current_schemas(false)::text"
        )
        .await,
        [
            vec!["app,public".to_owned()],
            vec!["public".to_owned(), "[public]".to_owned()]
        ]
    );
    c.batch_execute("CREATE TABLE t (a INTEGER); CREATE SCHEMA app; CREATE TABLE app.t (b TEXT)")
        .await
        .unwrap();
    assert_eq!(q(&c, "SELECT count(*) FROM public.t").await, [["0"]]);
    // set again, the path has app first
    c.batch_execute("SET search_path = app, nosuch, public")
        .await
        .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT current_schemas(false)::text, current_setting('search_path') || ''"
        )
        .await,
        [["[app, public]", "app, nosuch, public"]]
    );
    // DBeaver and psql \dconfig read it from pg_settings, under PostgreSQL's name only (not
    // DuckDB's single-schema `schema`)
    assert_eq!(
        q(
            &c,
            "SELECT name, setting FROM pg_settings WHERE name IN ('search_path', 'schema') ORDER BY name"
        )
        .await,
        [["search_path", "app, nosuch, public"]]
    );
    let st = c.prepare("SELECT * FROM t").await.unwrap();
    assert_eq!(st.columns()[0].name(), "b");
    // only schemas that do not exist: DuckDB's main, as PostgreSQL's public
    c.batch_execute("SET search_path = nosuch").await.unwrap();
    assert_eq!(
        q(&c, "SELECT current_schema(), count(*) FROM t").await,
        [["public", "0"]]
    );
}
