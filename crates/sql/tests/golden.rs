//! Parser golden files: each case in `tests/golden/*.txt` is SQL text and
//! what the parser makes of it — every statement printed back as SQL (the
//! AST's `Display`, which parses to the same tree), or the error with its
//! SQLSTATE and position. A change to the grammar or the printer shows up
//! as a diff of these files.
//!
//! A case is a `== name` line, the SQL, a `--` line, and the expected
//! output up to the next case. `GOLDEN_UPDATE=1 cargo test -p rivulet-sql
//! --test golden` rewrites the files from what the parser does now.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write;
use std::path::Path;

/// What the parser makes of `sql`, one line per statement.
fn outcome(sql: &str) -> String {
    match rivulet_sql::parse(sql) {
        Ok(stmts) => stmts.iter().fold(String::new(), |mut out, s| {
            let _ = writeln!(out, "{s}");
            out
        }),
        Err(e) => format!("error {} at {}: {}\n", e.sqlstate(), e.position(sql), e),
    }
}

/// Checks (or with `GOLDEN_UPDATE` rewrites) one golden file; returns the
/// names of the cases that differ.
fn check(path: &Path, update: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("golden file reads");
    let mut rewritten = String::new();
    let mut failures = Vec::new();
    for case in text.split("== ").filter(|c| !c.trim().is_empty()) {
        let (name, rest) = case.split_once('\n').expect("a case has a name line");
        let (sql, expected) = rest
            .split_once("\n--\n")
            .unwrap_or_else(|| panic!("case {name} has no `--` line"));
        let got = outcome(sql);
        if got.trim_end() != expected.trim_end() {
            failures.push(format!(
                "{}: {name}\n  sql:      {sql}\n  expected: {}\n  got:      {}",
                path.display(),
                expected.trim_end(),
                got.trim_end()
            ));
        }
        let _ = write!(rewritten, "== {name}\n{sql}\n--\n{got}\n");
    }
    if update {
        std::fs::write(path, rewritten.trim_end().to_string() + "\n").expect("golden file writes");
        return Vec::new();
    }
    failures
}

#[test]
fn parser_golden_files() {
    let update = std::env::var_os("GOLDEN_UPDATE").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    let failures: Vec<String> = files.iter().flat_map(|f| check(f, update)).collect();
    assert!(
        failures.is_empty(),
        "{} golden case(s) differ (GOLDEN_UPDATE=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
