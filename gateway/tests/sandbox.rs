//! The sandbox against an adversarial statement list (tests/data/adversarial.tsv): every
//! statement is refused with its SQLSTATE through both protocols, nothing is written, and the
//! session keeps working.

mod common;

use common::{sqlstate, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_statements_are_refused_and_the_session_survives() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute("CREATE TABLE canary(x INTEGER); INSERT INTO canary VALUES (1)")
        .await
        .unwrap();
    let data = include_str!("data/adversarial.tsv");
    let cases: Vec<(&str, &str)> = data
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('\t').expect("SQLSTATE<TAB>statement"))
        .collect();
    assert!(cases.len() >= 60, "the suite has {} cases", cases.len());
    let mut failures = Vec::new();
    for (want, sql) in &cases {
        match c.simple_query(sql).await {
            Ok(_) => failures.push(format!("ALLOWED (simple): {sql}")),
            Err(e) if sqlstate(&e) != *want => failures.push(format!(
                "{} instead of {want} (simple): {sql}: {e:?}",
                sqlstate(&e)
            )),
            Err(_) => {}
        }
        // single statements also through Parse/Bind/Execute
        if !sql.contains(';') {
            match c.query(*sql, &[]).await {
                Ok(_) => failures.push(format!("ALLOWED (extended): {sql}")),
                Err(e) if sqlstate(&e) != *want => failures.push(format!(
                    "{} instead of {want} (extended): {sql}: {e:?}",
                    sqlstate(&e)
                )),
                Err(_) => {}
            }
        }
        let n: i64 = c
            .query_one("SELECT count(*) FROM canary", &[])
            .await
            .unwrap_or_else(|e| panic!("session broken after {sql}: {e:?}"))
            .get(0);
        assert_eq!(n, 1);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // refused statements left no trace
    assert!(!std::path::Path::new("/tmp/pwned.csv").exists());
    let e = c.query("SELECT * FROM stolen", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    // the locked settings really are in force underneath
    let rows = c
        .simple_query(
            "SELECT value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration', 'allow_community_extensions', 'autoinstall_known_extensions', 'autoload_known_extensions') ORDER BY name",
        )
        .await
        .unwrap();
    let values: Vec<String> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(values, vec!["false", "false", "false", "false", "true"]);
}
