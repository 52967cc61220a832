//! Writes the CustomResourceDefinitions derived from the Rust types to `crds/` (or the
//! directory given as the first argument).

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crds"));
    std::fs::create_dir_all(&dir)?;
    for (file, crd) in duckgate_operator::crd::all() {
        let path = dir.join(file);
        std::fs::write(&path, duckgate_operator::crd::render(&crd))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
