//! SQL-level prepared statements: `PREPARE name [(types)] AS statement`,
//! `EXECUTE name [(values)]`, `DEALLOCATE [name | ALL]`. A prepared
//! statement keeps its parsed form and parameter types (declared, or
//! inferred as for the extended protocol's Parse); EXECUTE puts each value,
//! cast to its parameter's type, where the `$n` was and runs the result.

use std::collections::HashMap;
use std::sync::Mutex;

use rivulet_expr::DataType;
use rivulet_sql::{Expr, Statement};

use crate::error::{Error, Result};

/// Most statements a session may prepare.
const MAX_PREPARED: usize = 1024;

/// A session's SQL-level prepared statements.
#[derive(Debug, Default)]
pub struct Prepared(Mutex<HashMap<String, (Statement, Vec<DataType>)>>);

impl Prepared {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (Statement, Vec<DataType>)>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `PREPARE name AS statement` with its parameter types.
    pub fn prepare(&self, name: &str, stmt: Statement, types: Vec<DataType>) -> Result<()> {
        self.with(|m| {
            if m.contains_key(name) {
                return Err(Error::DuplicatePrepared(name.to_string()));
            }
            if m.len() >= MAX_PREPARED {
                return Err(Error::TooManyPrepared(MAX_PREPARED));
            }
            m.insert(name.to_string(), (stmt, types));
            Ok(())
        })
    }

    /// The statement `EXECUTE name (args)` runs.
    pub fn bind(&self, name: &str, args: &[Expr]) -> Result<Statement> {
        let (mut stmt, types) = self
            .with(|m| m.get(name).cloned())
            .ok_or_else(|| Error::UndefinedPrepared(name.to_string()))?;
        if args.len() != types.len() {
            return Err(Error::PreparedArity {
                name: name.to_string(),
                expected: types.len(),
                given: args.len(),
            });
        }
        stmt.visit_exprs_mut(&mut |e| {
            if let Expr::Parameter(n) = e {
                if let (Some(arg), Some(ty)) = (args.get(*n - 1), types.get(*n - 1)) {
                    *e = Expr::Cast {
                        expr: Box::new(arg.clone()),
                        type_name: ty.to_string(),
                    };
                }
            }
        });
        Ok(stmt)
    }

    /// `DEALLOCATE name` (`None`: all). Names the protocol prepared are
    /// not here, so an unknown name is not an error.
    pub fn deallocate(&self, name: Option<&str>) {
        self.with(|m| match name {
            Some(n) => {
                m.remove(n);
            }
            None => m.clear(),
        });
    }
}
