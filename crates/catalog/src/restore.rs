//! Rebuilding the catalog from stored definitions at start-up.

use rivulet_sql::Statement;

use crate::ddl::{self, Created, NewObject};
use crate::{Catalog, Error, Result, StoredObject};

/// Rebuilds a catalog from its stored objects, which must come in id order
/// (an object only refers to older ones). Each definition is re-bound
/// through [`ddl::create`], the code path that created it, so a restored
/// object is exactly what creation produced.
pub fn restore(objects: impl IntoIterator<Item = StoredObject>) -> Result<Catalog> {
    let mut catalog = Catalog::new();
    for stored in objects {
        let mut stmts = rivulet_sql::parse(&stored.sql)?;
        let mut stmt = stmts
            .pop()
            .ok_or_else(|| Error::Corrupted(format!("empty definition of object {}", stored.id)))?;
        if let (Statement::CreateSecret { value, .. }, Some(v)) = (&mut stmt, &stored.secret_value)
        {
            *value = v.clone();
        }
        match ddl::create(&stmt, stored.id, &catalog)? {
            Created::New(NewObject::Secret(s)) => catalog.insert_secret(s),
            Created::New(NewObject::Relation(r)) => catalog.insert_relation(*r),
            Created::New(NewObject::Subscription(s)) => catalog.insert_subscription(*s),
            Created::New(NewObject::Comment {
                relation,
                attnum,
                text,
            }) => {
                catalog.set_comment(relation, attnum, text.map(|t| (stored.id, t)));
            }
            Created::Skipped(_) => {
                return Err(Error::Corrupted(format!(
                    "duplicate catalog object {}",
                    stored.id
                )))
            }
        }
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_objects_in_order() {
        let objects = [
            (
                1,
                "CREATE TABLE t (data JSONB) WITH (connector = 'webhook')",
            ),
            (
                2,
                "CREATE MATERIALIZED VIEW v AS SELECT data->>'a' AS a FROM t",
            ),
        ]
        .map(|(id, sql)| StoredObject {
            id,
            sql: sql.into(),
            secret_value: None,
        });
        let mut c = restore(objects).unwrap();
        assert_eq!(c.relation("v").unwrap().view().unwrap().sources, vec![1]);
        assert_eq!(c.allocate_id(), 3);
        c.reserve_ids_through(9);
        assert_eq!(c.allocate_id(), 10);
    }

    #[test]
    fn a_comment_restored_last_keeps_its_id_taken() {
        let objects = [
            (1, "CREATE TABLE t (a INT)"),
            (2, "COMMENT ON TABLE t IS 'x'"),
        ]
        .map(|(id, sql)| StoredObject {
            id,
            sql: sql.into(),
            secret_value: None,
        });
        let mut c = restore(objects).unwrap();
        assert_eq!(c.comment(1, 0), Some("x"));
        // A new object must not reuse the comment's stored key.
        assert_eq!(c.allocate_id(), 3);
    }
}
