//! The operator must not compile DuckDB: its dependency tree is checked with cargo itself.

#[test]
fn operator_dependency_tree_has_no_duckdb() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal,build",
            "-p",
            "duckgate-operator",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("duckgate-config"), "{tree}");
    assert!(
        !tree.contains("duckdb"),
        "operator depends on DuckDB:\n{tree}"
    );
}
