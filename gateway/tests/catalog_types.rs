//! Catalog columns reach clients with PostgreSQL's catalog types (name, "char", int2vector,
//! oidvector), in text and binary format, while still working in DuckDB functions, and a user's
//! own columns keep their types.

mod common;

use common::{start, text_rows};
use tokio_postgres::types::Type;

const SCHEMA: &str =
    "CREATE TABLE ct_orders (id INTEGER PRIMARY KEY, customer VARCHAR, n UINTEGER);
                      CREATE INDEX ct_orders_cn ON ct_orders (customer, n);";

const INDEX_QUERY: &str = "SELECT c.relname, c.relkind, i.indkey, i.indclass, i.indoption
     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
     WHERE c.relname = 'ct_orders_cn'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_columns_have_postgres_types() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(SCHEMA).await.unwrap();

    // binary format (tokio-postgres's extended protocol): types and values as PostgreSQL sends
    let row = c.query_one(INDEX_QUERY, &[]).await.unwrap();
    let types: Vec<Type> = row.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![
            Type::NAME,
            Type::CHAR,
            Type::INT2_VECTOR,
            Type::OID_VECTOR,
            Type::INT2_VECTOR
        ]
    );
    assert_eq!(row.get::<_, String>(0), "ct_orders_cn");
    assert_eq!(row.get::<_, i8>(1), b'i' as i8);
    assert_eq!(row.get::<_, Vec<i16>>(2), vec![2, 3]);
    // text_ops for VARCHAR, oid_ops for UINTEGER (PostgreSQL's default btree opclasses)
    assert_eq!(row.get::<_, Vec<u32>>(3), vec![3126, 1981]);
    assert_eq!(row.get::<_, Vec<i16>>(4), vec![0, 0]);

    // text format: the vectors space-separated, as PostgreSQL prints them
    let rows = text_rows(&c.simple_query(INDEX_QUERY).await.unwrap());
    assert_eq!(
        rows,
        vec![vec!["ct_orders_cn", "i", "2 3", "3126 1981", "0 0"]]
    );

    // the types survive the client's own column references and aliases
    let stmt = c
        .prepare(
            "SELECT n.nspname AS \"Schema\", sub.relname, sub.relkind, sub.oid, n.oid
             FROM (SELECT oid, relname, relkind, relnamespace FROM pg_class) sub
             JOIN pg_namespace n ON n.oid = sub.relnamespace ORDER BY sub.relname",
        )
        .await
        .unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![Type::NAME, Type::NAME, Type::CHAR, Type::OID, Type::OID]
    );
    // oid columns are PostgreSQL's unsigned 32-bit oids, and still join and compare
    let row = c
        .query_one(
            "SELECT c.oid, c.relnamespace FROM pg_class c WHERE c.oid = $1::regclass",
            &[&"ct_orders"],
        )
        .await
        .unwrap();
    assert_eq!(row.columns()[0].type_(), &Type::OID);
    assert!(row.get::<_, u32>(0) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_types_work_in_functions() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(SCHEMA).await.unwrap();
    // string and list functions bind to the aliased columns; computed values keep their plain
    // types, and the vectors subscript, unnest and aggregate like lists
    let q = "SELECT upper(c.relname), c.relname || '!', c.relname LIKE 'ct%', length(c.relkind),
                    len(i.indkey), i.indkey[1] + 1, list_contains(i.indkey, 3), array_to_string(i.indclass, ',')
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ct_orders_cn'";
    let rows = text_rows(&c.simple_query(q).await.unwrap());
    assert_eq!(
        rows,
        vec![vec![
            "CT_ORDERS_CN",
            "ct_orders_cn!",
            "t",
            "1",
            "2",
            "3",
            "t",
            "3126,1981"
        ]]
    );
    let stmt = c.prepare(q).await.unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types[0], Type::TEXT);
    assert_eq!(types[1], Type::TEXT);

    // SQLAlchemy's index reflection: unnest and generate_subscripts over int2vector
    let q = "SELECT unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname = 'ct_orders_cn' ORDER BY ord";
    let stmt = c.prepare(q).await.unwrap();
    assert_eq!(stmt.columns()[0].type_(), &Type::INT2);
    let rows = c.query(&stmt, &[]).await.unwrap();
    let attnums: Vec<i16> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(attnums, vec![2, 3]);

    // a parameter compared with a name column is bound as text
    let row = c
        .query_one(
            "SELECT relkind FROM pg_class WHERE relname = $1",
            &[&"ct_orders"],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i8>(0), b'r' as i8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_columns_keep_their_types() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(SCHEMA).await.unwrap();
    c.batch_execute("INSERT INTO ct_orders VALUES (1, 'ann', 7)")
        .await
        .unwrap();
    let stmt = c
        .prepare("SELECT customer, n, [n], [id::SMALLINT] FROM ct_orders")
        .await
        .unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![Type::TEXT, Type::OID, Type::OID_ARRAY, Type::INT2_ARRAY]
    );
    let rows = text_rows(
        &c.simple_query("SELECT [id::SMALLINT] FROM ct_orders")
            .await
            .unwrap(),
    );
    assert_eq!(rows, vec![vec!["{1}"]]);
    // a table copied from catalog columns keeps their types, and pg_attribute agrees
    c.batch_execute(
        "CREATE TABLE ct_copy AS SELECT c.relname, i.indkey FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid",
    )
    .await
    .unwrap();
    let rows = text_rows(
        &c.simple_query(
            "SELECT attname, atttypid FROM pg_attribute
             WHERE attrelid = 'ct_copy'::regclass AND attnum > 0 ORDER BY attnum",
        )
        .await
        .unwrap(),
    );
    assert_eq!(rows, vec![vec!["relname", "19"], vec!["indkey", "22"]]);
    let stmt = c
        .prepare("SELECT relname, indkey FROM ct_copy")
        .await
        .unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, vec![Type::NAME, Type::INT2_VECTOR]);
    // the aliases are internal: not user types in pg_type
    let rows = text_rows(
        &c.simple_query("SELECT count(*) FROM pg_type WHERE typname LIKE 'duckgate%'")
            .await
            .unwrap(),
    );
    assert_eq!(rows, vec![vec!["0"]]);
}
