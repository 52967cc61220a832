//! What dbt-postgres sends to materialize models, replayed over the simple protocol: views are
//! swapped with `alter table … rename to …`, and columns are read from
//! `"<database>".INFORMATION_SCHEMA.columns`. Its target schema is PostgreSQL's `public` (DuckDB's
//! `main`); `main` names the same relations.

mod common;

use common::{start, text_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_models_swap_and_columns_are_read_by_three_part_names() {
    let gw = start().await;
    let c = gw.connect().await;
    let db = text_rows(&c.simple_query("SELECT current_database()").await.unwrap())[0][0].clone();
    // first run of a view model, then a second run that swaps the old view out
    for run in 0..2 {
        c.batch_execute(&format!(
            "BEGIN; \
             create view \"{db}\".\"public\".\"orders__dbt_tmp\" as (select {run} as run, 'x' as label); \
             {backup} \
             alter table \"{db}\".\"public\".\"orders__dbt_tmp\" rename to \"orders\"; \
             COMMIT; \
             drop view if exists \"{db}\".\"main\".\"orders__dbt_backup\" cascade",
            backup = if run == 0 {
                String::new()
            } else {
                format!("alter table \"{db}\".\"public\".\"orders\" rename to \"orders__dbt_backup\";")
            }
        ))
        .await
        .unwrap();
        let r = text_rows(&c.simple_query("SELECT run FROM orders").await.unwrap());
        assert_eq!(r, [[run.to_string()]]);
    }
    // a table keeps ALTER TABLE
    c.batch_execute("CREATE TABLE t_rename(i INTEGER); ALTER TABLE t_rename RENAME TO t_renamed")
        .await
        .unwrap();
    assert_eq!(
        text_rows(
            &c.simple_query("SELECT count(*) FROM t_renamed")
                .await
                .unwrap()
        ),
        [["0"]]
    );
    let cols = text_rows(
        &c.simple_query(&format!(
            "select column_name, data_type from \"{db}\".INFORMATION_SCHEMA.columns \
             where table_name = 'orders' and table_schema = 'public' order by ordinal_position"
        ))
        .await
        .unwrap(),
    );
    assert_eq!(cols, [["run", "integer"], ["label", "text"]]);
}
