//! Correlated subqueries in ad-hoc queries: a scalar or `EXISTS` subquery
//! that refers to the outer query's columns runs once for each distinct
//! set of the outer values it reads, with those values in place of the
//! references. Catalog queries (SQLAlchemy's reflection, psql's `\d`,
//! pg_dump, DBeaver) are written this way; the outer rows are few.
//!
//! The references are found by planning: a name the subquery cannot
//! resolve but the outer scope can becomes a parameter, and planning is
//! tried again. The outer columns are the call's arguments, so the outer
//! plan moves and remaps them like any other expression.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rivulet_expr::{CallFn, Callable, DataType, Expr, Value};
use rivulet_sql::{self as ast, Query};

use super::{one_column, Planner, SubqueryRunner};
use crate::binder::{Binder, Scope};
use crate::{Catalog, Error, Result};

/// What the subquery answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Its single value (NULL for no rows).
    Scalar,
    /// Whether it has a row.
    Exists,
    /// Its one column's values, as an array.
    Array,
}

/// Outer references become parameters numbered from here, above any a
/// client sends.
const FIRST_REFERENCE: usize = 100_001;

/// Most outer columns one subquery may refer to.
const MAX_REFERENCES: usize = 64;

/// Answers kept per subquery, by outer values.
const MAX_CACHED: usize = 4096;

impl Planner<'_> {
    /// Binds correlated subquery `q` over `outer` as a call run for each
    /// outer row.
    pub(super) fn correlated(
        &self,
        q: &Query,
        outer: &Scope,
        kind: Kind,
    ) -> Result<(Expr, DataType)> {
        let runner = self.runner.ok_or(Error::Correlated)?;
        let mut q = q.clone();
        let mut args = Vec::new();
        let mut types = Vec::new();
        let plan = loop {
            match self.query(&q) {
                Ok(plan) => break plan,
                Err(Error::UndefinedColumn(name))
                    if outer.has(&name) && args.len() < MAX_REFERENCES =>
                {
                    let parts: Vec<ast::Ident> =
                        name.split('.').map(|p| ast::Ident(p.to_string())).collect();
                    let (e, ty) = Binder::new(outer).bind(&ast::Expr::Identifier(parts.clone()))?;
                    args.push(e);
                    types.push(ty);
                    let n = FIRST_REFERENCE + args.len() - 1;
                    // Typed as the outer column, so the subquery plans as
                    // it will run.
                    let typed = ast::Expr::Cast {
                        expr: Box::new(ast::Expr::Parameter(n)),
                        type_name: if ty == DataType::Unknown {
                            "text".into()
                        } else {
                            ty.to_string()
                        },
                    };
                    q.visit_exprs_mut(&mut |x| {
                        if matches!(x, ast::Expr::Identifier(p) if *p == parts) {
                            *x = typed.clone();
                        }
                    });
                }
                Err(e) => return Err(e),
            }
        };
        runner.observe(&plan);
        let ty = match kind {
            Kind::Scalar => one_column(&plan, "subquery must return only one column")?,
            Kind::Exists => DataType::Boolean,
            Kind::Array => DataType::array_of(one_column(&plan, "subquery has too many columns")?),
        };
        let call = Correlated {
            query: q,
            types,
            kind,
            catalog: self.catalog.clone(),
            runner: runner.shared(),
            computed: self.computed.clone(),
            answers: Mutex::default(),
        };
        Ok((Expr::Call(CallFn(Arc::new(call)), args), ty))
    }
}

/// A correlated subquery with its outer references as parameters.
struct Correlated {
    query: Query,
    /// The outer references' types, in parameter order.
    types: Vec<DataType>,
    kind: Kind,
    catalog: Catalog,
    runner: Arc<dyn SubqueryRunner + Send>,
    /// The recursive WITH queries it may read.
    computed: Vec<Arc<super::recursive::Computed>>,
    /// Answers by outer values (their debug form).
    answers: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for Correlated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "correlated subquery ({})", self.query)
    }
}

impl Correlated {
    fn run(&self, args: &[Value]) -> Result<Value> {
        let mut q = self.query.clone();
        let mut failed = None;
        q.visit_exprs_mut(&mut |x| {
            let ast::Expr::Parameter(n) = x else { return };
            let Some(i) = n.checked_sub(FIRST_REFERENCE) else {
                return;
            };
            match (args.get(i), self.types.get(i)) {
                (Some(v), Some(ty)) => *x = literal(v, *ty),
                _ => failed = Some(Error::Correlated),
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let plan = Planner {
            catalog: &self.catalog,
            runner: Some(self.runner.as_ref()),
            view: false,
            computed: self.computed.clone(),
            nested: false,
        }
        .query(&q)?;
        match self.kind {
            Kind::Scalar => self.runner.scalar(&plan),
            Kind::Exists => Ok(Value::Bool(!self.runner.column(&plan, 1)?.is_empty())),
            Kind::Array => Ok(Value::Array(
                self.runner.column(&plan, super::MAX_IN_SUBQUERY_ROWS)?,
            )),
        }
    }
}

impl Callable for Correlated {
    fn call(&self, args: &[Value]) -> rivulet_expr::Result<Value> {
        let key = format!("{args:?}");
        if let Some(v) = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(v.clone());
        }
        let v = self.run(args).map_err(|e| rivulet_expr::Error::Nested {
            sqlstate: e.sqlstate(),
            message: e.to_string(),
        })?;
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() < MAX_CACHED {
            answers.insert(key, v.clone());
        }
        Ok(v)
    }
}

/// An outer value as SQL: its text, cast to its type.
fn literal(v: &Value, ty: DataType) -> ast::Expr {
    let lit = match v.to_pg_text() {
        Some(text) => ast::Literal::String(text),
        None => ast::Literal::Null,
    };
    ast::Expr::Cast {
        expr: Box::new(ast::Expr::Literal(lit)),
        type_name: ty.to_string(),
    }
}
