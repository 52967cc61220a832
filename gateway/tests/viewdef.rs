//! `pg_get_viewdef()` answers PostgreSQL 15's deparse of a view (psql `\d+ view` asks for the
//! pretty form, SQLAlchemy's `get_view_definition` for the plain one), and DuckDB's own SQL text
//! for a view the deparser does not handle; `pg_views.definition` and
//! `information_schema.views.view_definition` are the plain form.

mod common;

use common::{query_text as rows, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_definitions_are_postgresql_deparses() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE customers (id integer PRIMARY KEY, name varchar(100) NOT NULL, email text); \
         CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(10, 2)); \
         CREATE VIEW big_orders AS SELECT o.id, c.name, o.amount FROM orders o \
           JOIN customers c ON c.id = o.customer_id WHERE o.amount > 100; \
         CREATE VIEW named AS SELECT id AS customer, email FROM customers \
           WHERE name = 'Ada' OR email IS NULL ORDER BY id DESC LIMIT 5; \
         CREATE VIEW cased AS SELECT CASE WHEN id > 1 THEN 'big' ELSE 'small' END AS size FROM orders; \
         CREATE VIEW nested AS SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers)",
    )
    .await
    .unwrap();

    let def = |sql: String| {
        let c = &c;
        async move { rows(c, &sql).await[0][0].clone() }
    };
    let oid = def("SELECT 'big_orders'::regclass::oid".into()).await;
    let pretty = " SELECT o.id,\n    c.name,\n    o.amount\n   FROM orders o\n     \
                  JOIN customers c ON c.id = o.customer_id\n  WHERE o.amount > 100::numeric;";
    let plain = " SELECT o.id,\n    c.name,\n    o.amount\n   FROM (orders o\n     \
                 JOIN customers c ON ((c.id = o.customer_id)))\n  WHERE (o.amount > (100)::numeric);";
    assert_eq!(
        def(format!("SELECT pg_get_viewdef({oid}, true)")).await,
        pretty
    );
    assert_eq!(def(format!("SELECT pg_get_viewdef({oid})")).await, plain);
    assert_eq!(
        def(format!("SELECT pg_get_viewdef({oid}, false)")).await,
        plain
    );
    assert_eq!(
        def("SELECT pg_catalog.pg_get_viewdef('big_orders'::regclass, true)".into()).await,
        pretty
    );
    assert_eq!(
        def("SELECT definition FROM pg_views WHERE viewname = 'big_orders'".into()).await,
        plain
    );
    assert_eq!(
        def(
            "SELECT view_definition FROM information_schema.views WHERE table_name = 'big_orders'"
                .into()
        )
        .await,
        plain
    );

    // a single table's columns are qualified, a renamed one gets AS, a string literal compared
    // with varchar reads both as text
    assert_eq!(
        def("SELECT pg_get_viewdef('named'::regclass, true)".into()).await,
        " SELECT customers.id AS customer,\n    customers.email\n   FROM customers\n  \
         WHERE customers.name::text = 'Ada'::text OR customers.email IS NULL\n  \
         ORDER BY customers.id DESC\n LIMIT 5;"
    );

    // CASE on lines of its own
    assert_eq!(
        def("SELECT pg_get_viewdef('cased'::regclass, true)".into()).await,
        " SELECT\n        CASE\n            WHEN orders.id > 1 THEN 'big'::text\n            \
         ELSE 'small'::text\n        END AS size\n   FROM orders;"
    );

    // a subquery is not deparsed: DuckDB's SQL text, never an error
    let nested = def("SELECT pg_get_viewdef('nested'::regclass, true)".into()).await;
    assert!(
        nested.starts_with(" SELECT id FROM orders WHERE") && nested.contains("customers"),
        "{nested}"
    );

    // a view created in the open transaction is deparsed too
    c.batch_execute("BEGIN; CREATE VIEW fresh AS SELECT id FROM orders")
        .await
        .unwrap();
    assert_eq!(
        def("SELECT pg_get_viewdef('fresh'::regclass)".into()).await,
        " SELECT orders.id\n   FROM orders;"
    );
    c.batch_execute("ROLLBACK").await.unwrap();
}
