//! Cargo.lock holds only what the workspace can build: no `rsa` (RUSTSEC-2023-0071, which audit
//! tools flag wherever it is locked) and none of sqlx's other database drivers, which sqlx's
//! `migrate`/`chrono` features pull in as weak dependencies (see the workspace Cargo.toml).

#[test]
fn cargo_lock_has_no_rsa_and_no_unused_sqlx_drivers() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let lock = std::fs::read_to_string(&path).unwrap();
    let locked: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    assert!(
        locked.contains(&"sqlx-postgres"),
        "{} was not read",
        path.display()
    );
    for unwanted in ["rsa", "sqlx-mysql", "sqlx-sqlite"] {
        assert!(
            !locked.contains(&unwanted),
            "{unwanted} is back in {}: a dependency feature pulls it in \
             (`cargo tree -i {unwanted} --target all -e features` shows which)",
            path.display()
        );
    }
}
