//! `varchar(n)` / `char(n)` columns keep their declared length as PostgreSQL does: the catalog
//! reports it (pg_attribute, format_type, information_schema, pgJDBC's getColumns) and a longer
//! value fails with 22001. DuckDB itself forgets the length; the gateway keeps it in the database
//! as a CHECK constraint of one exact shape, hidden from the constraint catalogs.

mod common;

use common::{query_text as rows, sqlstate, start};
use tokio_postgres::Client;

/// The SQLSTATE and message of a statement that must fail.
async fn failure(c: &Client, sql: &str) -> (String, String) {
    let e = c
        .batch_execute(sql)
        .await
        .expect_err(&format!("{sql} should fail"));
    let message = e.as_db_error().map(|d| d.message().to_owned());
    (sqlstate(&e), message.unwrap_or_default())
}

const TOO_LONG_5: &str = "value too long for type character varying(5)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_lengths_are_reported_and_enforced() {
    let gw = start().await;
    let c = gw.connect().await;
    // SQLAlchemy's String(5) with a SERIAL key, a char(n), a quoted name, an unbounded text, a
    // user CHECK that stays one, and a varchar(n) array (DuckDB's behaviour: no length)
    c.batch_execute(
        "CREATE TABLE people (id SERIAL PRIMARY KEY, name VARCHAR(5) NOT NULL, code character(3), \
           \"Nick Name\" character varying(10), note TEXT, age INTEGER CHECK (age > 0), tags varchar(4)[])",
    )
    .await
    .unwrap();

    // enforcement: INSERT, UPDATE, COPY; exact lengths, NULLs, char(n)'s trailing blanks pass
    c.batch_execute(
        "INSERT INTO people (name, code, \"Nick Name\", age) VALUES ('abcde', 'ab ', 'ten chars!', 1); \
         INSERT INTO people (name, code) VALUES ('héllo', 'abc   ')",
    )
    .await
    .unwrap();
    assert_eq!(
        failure(&c, "INSERT INTO people (name) VALUES ('abcdef')").await,
        ("22001".into(), TOO_LONG_5.into())
    );
    assert_eq!(
        failure(&c, "UPDATE people SET \"Nick Name\" = repeat('x', 11)").await,
        (
            "22001".into(),
            "value too long for type character varying(10)".into()
        )
    );
    assert_eq!(
        failure(&c, "INSERT INTO people (name, code) VALUES ('a', 'abcd')").await,
        (
            "22001".into(),
            "value too long for type character(3)".into()
        )
    );
    // a parameter through the extended protocol
    let e = c
        .execute("INSERT INTO people (name) VALUES ($1)", &[&"toolong"])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22001");
    // a user's own CHECK keeps its SQLSTATE
    assert_eq!(
        failure(&c, "INSERT INTO people (name, age) VALUES ('a', 0)")
            .await
            .0,
        "23514"
    );
    {
        use futures::SinkExt;
        let sink = c
            .copy_in("COPY people (name, code) FROM STDIN")
            .await
            .unwrap();
        futures::pin_mut!(sink);
        sink.send(bytes::Bytes::from_static(b"ok\tab\nsixsix\tab\n"))
            .await
            .unwrap();
        let e = sink.finish().await.unwrap_err();
        assert_eq!(sqlstate(&e), "22001", "{e:?}");
    }
    assert_eq!(
        rows(&c, "SELECT count(*) FROM people").await,
        [["2".to_owned()]]
    );

    // introspection: pg_attribute / format_type as psql's \d and SQLAlchemy read them
    assert_eq!(
        rows(
            &c,
            "SELECT attname, atttypid, atttypmod, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'people'::regclass AND attnum > 0 ORDER BY attnum"
        )
        .await,
        [
            ["id", "23", "-1", "integer"],
            ["name", "1043", "9", "character varying(5)"],
            ["code", "1042", "7", "character(3)"],
            ["Nick Name", "1043", "14", "character varying(10)"],
            ["note", "25", "-1", "text"],
            ["age", "23", "-1", "integer"],
            ["tags", "1009", "-1", "text[]"],
        ]
    );
    // information_schema.columns (Grafana, dbt, Metabase)
    assert_eq!(
        rows(
            &c,
            "SELECT column_name, data_type, character_maximum_length, udt_name FROM information_schema.columns \
             WHERE table_name = 'people' ORDER BY ordinal_position"
        )
        .await
        .into_iter()
        .map(|r| r.join("|"))
        .collect::<Vec<_>>(),
        [
            "id|integer|NULL|int4",
            "name|character varying|5|varchar",
            "code|character|3|bpchar",
            "Nick Name|character varying|10|varchar",
            "note|text|NULL|text",
            "age|integer|NULL|int4",
            "tags|ARRAY|NULL|_text",
        ]
    );
    // pgJDBC's DatabaseMetaData.getColumns: atttypid joins pg_type, atttypmod is the size
    assert_eq!(
        rows(
            &c,
            "SELECT a.attname, t.typname, a.atttypmod FROM pg_catalog.pg_namespace n \
             JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid) \
             JOIN pg_catalog.pg_attribute a ON (a.attrelid = c.oid) \
             JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) \
             WHERE c.relkind IN ('r','p','v','f','m') AND a.attnum > 0 AND NOT a.attisdropped \
               AND c.relname LIKE 'people' AND a.attname LIKE '%' ORDER BY a.attnum"
        )
        .await[1..4],
        [
            ["name", "varchar", "9"],
            ["code", "bpchar", "7"],
            ["Nick Name", "varchar", "14"],
        ]
    );
    // the length CHECKs are not constraints PostgreSQL would list; the user's CHECK is
    assert_eq!(
        rows(
            &c,
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = 'people'::regclass ORDER BY conname"
        )
        .await,
        [
            ["people_age_check", "c", "CHECK ((age > 0))"],
            ["people_pkey", "p", "PRIMARY KEY (id)"],
        ]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT relchecks FROM pg_class WHERE oid = 'people'::regclass"
        )
        .await,
        [["1"]]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT check_clause FROM information_schema.check_constraints \
             WHERE check_clause LIKE 'CHECK%'"
        )
        .await,
        [["CHECK((age > 0))"]]
    );
    assert_eq!(
        rows(
            &c,
            "SELECT constraint_name FROM information_schema.table_constraints \
             WHERE table_name = 'people' AND constraint_name LIKE '%check' ORDER BY 1"
        )
        .await,
        [["people_age_check"]]
    );

    // the length lives in the database: another session sees and enforces it
    let other = gw.connect().await;
    assert_eq!(
        rows(
            &other,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'people'::regclass AND attname = 'name'"
        )
        .await,
        [["character varying(5)"]]
    );
    assert_eq!(
        failure(&other, "INSERT INTO people (name) VALUES ('abcdef')").await,
        ("22001".into(), TOO_LONG_5.into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_ddl_over_declared_lengths() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE SCHEMA s; CREATE TABLE s.t (k varchar(3)); INSERT INTO s.t VALUES ('abc'); \
         CREATE TEMP TABLE scratch (k varchar(2))",
    )
    .await
    .unwrap();
    // a schema-qualified and a temporary table keep their lengths too
    assert_eq!(
        failure(&c, "INSERT INTO s.t VALUES ('abcd')").await.0,
        "22001"
    );
    assert_eq!(
        failure(&c, "INSERT INTO scratch VALUES ('abc')").await.0,
        "22001"
    );
    // CREATE TABLE AS over such a column keeps working, without the length (as DuckDB types
    // it); a view's column that is the table's column has its length, as in PostgreSQL, also
    // through a join, an alias and `*`; an expression is text
    c.batch_execute(
        "CREATE TABLE copy AS SELECT * FROM s.t; INSERT INTO copy VALUES ('longer'); \
         CREATE TABLE s.u (id INTEGER, label char(4)); \
         CREATE VIEW s.v AS SELECT x.k, y.label AS tag, upper(x.k) AS up, id FROM s.t x JOIN s.u y ON true; \
         CREATE VIEW s.w AS SELECT * FROM s.u",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT k FROM s.v").await,
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        rows(
            &c,
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('copy', 'v', 'w') AND a.attnum > 0 \
             ORDER BY c.relname, a.attnum"
        )
        .await,
        [
            ["copy", "k", "text"],
            ["v", "k", "character varying(3)"],
            ["v", "tag", "character(4)"],
            ["v", "up", "text"],
            ["v", "id", "integer"],
            ["w", "id", "integer"],
            ["w", "label", "character(4)"],
        ]
    );
    // DuckDB cannot add a column with a constraint: ADD COLUMN accepts the length and
    // forgets it, as before
    c.batch_execute("ALTER TABLE s.t ADD COLUMN extra varchar(2)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO s.t VALUES ('x', 'three')")
        .await
        .unwrap();
    // nor change the type of a column a CHECK names: a feature this endpoint does not have
    assert_eq!(
        failure(&c, "ALTER TABLE s.t ALTER COLUMN k TYPE varchar(10)")
            .await
            .0,
        "0A000"
    );
    // dropping the column drops its length
    c.batch_execute("ALTER TABLE s.t DROP COLUMN k; INSERT INTO s.t VALUES ('yy')")
        .await
        .unwrap();
}
