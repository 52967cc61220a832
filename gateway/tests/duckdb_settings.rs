//! Layer one of the sandbox on its own: DuckDB's settings, as the gateway applies them to every
//! database instance, refuse file access, extension loading and configuration changes even
//! for SQL that never passes the statement guard.

use duckgate_gateway::storage::{open_instance, InstanceOptions};

#[test]
fn locked_instance_refuses_everything_the_guard_also_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.duckdb");
    let db = open_instance(path.to_str().unwrap(), &InstanceOptions::default()).unwrap();
    let conn = db.connect().unwrap();
    let secret_file = dir.path().join("server-file.csv");
    std::fs::write(&secret_file, "a,b\n1,2\n").unwrap();
    let f = secret_file.display();
    let out = dir.path().join("written.csv");
    let o = out.display();
    let cases = [
        (format!("SELECT * FROM read_csv('{f}')"), "Permission Error"),
        (format!("SELECT * FROM '{f}'"), "Permission Error"),
        (format!("COPY (SELECT 1) TO '{o}'"), "Permission Error"),
        (
            format!(
                "ATTACH '{}' AS other",
                dir.path().join("other.duckdb").display()
            ),
            "Permission Error",
        ),
        (
            "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')".to_owned(),
            "Permission Error",
        ),
        ("LOAD httpfs".to_owned(), "Permission Error"),
        ("INSTALL httpfs".to_owned(), "Permission Error"),
        (
            "SET enable_external_access = true".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET GLOBAL lock_configuration = false".to_owned(),
            "configuration has been locked",
        ),
        (
            "RESET lock_configuration".to_owned(),
            "configuration has been locked",
        ),
        (
            "PRAGMA enable_external_access = true".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET allow_community_extensions = true".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET autoinstall_known_extensions = true".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET allowed_directories = ['/']".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET temp_directory = '/etc'".to_owned(),
            "configuration has been locked",
        ),
        (
            "SET memory_limit = '1TB'".to_owned(),
            "configuration has been locked",
        ),
    ];
    for (sql, want) in &cases {
        let e = conn.execute_batch(sql).expect_err(sql);
        assert!(e.message.contains(want), "{sql}: {}", e.message);
    }
    assert!(!out.exists(), "nothing was written");
    // ordinary work still runs, including a session's own search_path
    conn.execute_batch("SET search_path = 'main'; CREATE TABLE t AS SELECT * FROM range(10); CREATE TEMP TABLE tt(a INTEGER)")
        .unwrap();
    let values = conn
        .query_strings("SELECT value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration', 'allow_community_extensions', 'allow_unsigned_extensions', 'allow_persistent_secrets', 'autoinstall_known_extensions', 'autoload_known_extensions') ORDER BY name")
        .unwrap();
    let values: Vec<String> = values.into_iter().map(Option::unwrap).collect();
    assert_eq!(
        values,
        ["false", "false", "false", "false", "false", "false", "true"]
    );
}
