//! Catalog queries psql sends for object kinds Rivulet does not have.
//!
//! `\d table` asks for row-level security policies, extended statistics
//! and publications with SQL Rivulet does not run (array subqueries,
//! `= ANY`, `UNION`). Rivulet has none of these objects, so the true answer
//! is always no rows; this module recognises those queries by the catalog
//! they read and answers that, with the columns psql asks for.

/// The catalogs of object kinds Rivulet never has.
const ABSENT_CATALOGS: &[&str] = &[
    "pg_catalog.pg_policy",
    "pg_catalog.pg_statistic_ext",
    "pg_catalog.pg_publication",
    "pg_catalog.pg_rewrite",
    "pg_catalog.pg_event_trigger",
];

/// If `sql` is a single SELECT whose FROM clause reads one of the absent
/// catalogs, the number of columns of its (empty) result.
pub fn empty_catalog_query(sql: &str) -> Option<usize> {
    let trimmed = sql.trim_start();
    if !trimmed.get(..6)?.eq_ignore_ascii_case("select") {
        return None;
    }
    let from = trimmed.find("\nFROM ").or_else(|| trimmed.find(" FROM "))?;
    let after = &trimmed[from + 6..];
    let reads_absent = ABSENT_CATALOGS.iter().any(|c| {
        after
            .split(|ch: char| ch.is_whitespace() || ch == ',')
            .take(8)
            .any(|w| w == *c)
    });
    if !reads_absent {
        return None;
    }
    // Count the top-level commas of the select list for the column count.
    let list = &trimmed[6..from];
    let (mut depth, mut cols, mut in_str) = (0i32, 1usize, false);
    for ch in list.chars() {
        match ch {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => cols += 1,
            _ => {}
        }
    }
    Some(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_psql_footer_queries() {
        let policies = "SELECT pol.polname, pol.polpermissive,\n  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,\n  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)\nFROM pg_catalog.pg_policy pol\nWHERE pol.polrelid = '16385' ORDER BY 1;";
        assert_eq!(empty_catalog_query(policies), Some(4));
        assert_eq!(
            empty_catalog_query("SELECT * FROM pg_catalog.pg_class"),
            None
        );
        assert_eq!(
            empty_catalog_query("DELETE FROM pg_catalog.pg_policy"),
            None
        );
    }
}
