//! FROM: tables, views and joins, with join conditions split into equi
//! keys and a residual predicate.

use rivulet_expr::{BinaryOp, CmpOp, DataType, Expr, SetFunc, Value};
use rivulet_sql::{self as ast, Ident, Query, TableRef};

use super::{Plan, Planner};
use crate::binder::CatalogType;
use crate::binder::{coerce, common_type, make_array, unify, Scope, ScopeColumn};
use crate::{Error, Result};

impl Planner<'_> {
    /// Plans a FROM item, returning the plan and the scope of its columns.
    pub(super) fn from(&self, t: &TableRef) -> Result<(Plan, Scope)> {
        match t {
            TableRef::Table { name, alias } => {
                // A recursive WITH query computed before the query.
                if let [only] = name.0.as_slice() {
                    if let Some(c) = self.computed.iter().rev().find(|c| c.name == *only) {
                        let qualifier = alias.as_ref().unwrap_or(only).as_str();
                        return Ok(Self::computed_rows(c, qualifier));
                    }
                }
                let rel = self.catalog.get_relation(name)?.clone();
                // A view reads as its query, under its name.
                if let Some(v) = rel.plain_view() {
                    let alias = alias.clone().unwrap_or_else(|| Ident(rel.name.clone()));
                    let (plan, mut scope) = self.derived(&v.query, &alias, &v.columns)?;
                    // Its columns are the view's own to clients.
                    set_origins(&mut scope, &rel);
                    return Ok((plan, scope));
                }
                let qualifier = alias.as_ref().map_or(rel.name.as_str(), |a| a.as_str());
                let mut scope = Scope::of_relation(qualifier, &rel.columns);
                set_origins(&mut scope, &rel);
                if let crate::RelationKind::System(_) = rel.kind {
                    return Ok(with_tableoid(rel, scope));
                }
                Ok((Plan::Scan { rel }, scope))
            }
            // A catalog function without arguments (`pg_get_keywords()`)
            // reads as its system relation.
            TableRef::Function {
                name, args, alias, ..
            } if args.is_empty()
                && crate::SystemTable::lookup(Some("pg_catalog"), name.as_str()).is_some() =>
            {
                let rel = crate::SystemTable::lookup(Some("pg_catalog"), name.as_str())
                    .map(|s| s.relation())
                    .ok_or_else(|| Error::UndefinedTable(name.as_str().to_string()))?;
                let qualifier = alias.as_ref().unwrap_or(name).as_str().to_string();
                let scope = Scope::of_relation(&qualifier, &rel.columns);
                Ok((Plan::Scan { rel }, scope))
            }
            TableRef::Function { .. } => {
                self.set_function(Plan::Values, Scope::default(), t, false, false)
            }
            TableRef::Join {
                left,
                right,
                kind,
                using,
                ..
            } if !using.is_empty() => self.join_using(left, right, *kind, using),
            TableRef::Join {
                left,
                right,
                kind,
                on,
                ..
            } if matches!(**right, TableRef::Function { .. }) => {
                let (lp, ls) = self.from(left)?;
                let outer = *kind == ast::JoinKind::Left;
                let (plan, scope) = self.set_function(lp, ls, right, outer, false)?;
                let on = self.binder(&scope).bind_predicate(on, "JOIN/ON")?;
                match on {
                    Expr::Literal(Value::Bool(true)) => Ok((plan, scope)),
                    on if !outer => Ok((
                        Plan::Filter {
                            input: Box::new(plan),
                            predicate: on,
                        },
                        scope,
                    )),
                    _ => Err(Error::NotSupported(
                        "LEFT JOIN of a set-returning function is supported ON true only".into(),
                    )),
                }
            }
            TableRef::Join {
                left,
                right,
                kind,
                on,
                ..
            } => {
                let (lp, ls) = self.from(left)?;
                let (rp, rs) = self.from(right)?;
                let lw = ls.columns.len();
                let mut scope = ls;
                scope.join(rs);
                let on = self.binder(&scope).bind_predicate(on, "JOIN/ON")?;
                let (mut left_keys, mut right_keys, mut residual) =
                    (Vec::new(), Vec::new(), Vec::new());
                for conjunct in split_and(on) {
                    match equi_key(&conjunct, lw) {
                        Some((l, r)) => {
                            left_keys.push(l);
                            right_keys.push(r.map_columns(&|i| i - lw));
                        }
                        None => residual.push(conjunct),
                    }
                }
                // Outside a view (whose plan its state was built for), a
                // condition on one side only filters that side before the
                // join: either side of an inner join, the right of a left
                // join (whose ON decides only which right rows match).
                let (mut lp, mut rp) = (lp, rp);
                if !self.view {
                    let filter = |plan: Plan, predicate| Plan::Filter {
                        input: Box::new(plan),
                        predicate,
                    };
                    let mut kept = Vec::new();
                    for c in residual {
                        let mut cols = Vec::new();
                        c.collect_columns(&mut cols);
                        if cols.is_empty() {
                            kept.push(c);
                        } else if cols.iter().all(|&i| i >= lw) {
                            rp = filter(rp, c.map_columns(&|i| i - lw));
                        } else if *kind == ast::JoinKind::Inner && cols.iter().all(|&i| i < lw) {
                            lp = filter(lp, c);
                        } else {
                            kept.push(c);
                        }
                    }
                    residual = kept;
                }
                let residual = residual
                    .into_iter()
                    .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)));
                let plan = Plan::Join {
                    left: Box::new(lp),
                    right: Box::new(rp),
                    kind: (*kind).into(),
                    left_keys,
                    right_keys,
                    residual,
                };
                Ok((plan, scope))
            }
            TableRef::Derived {
                query,
                alias,
                columns,
            } => self.derived(query, alias, columns),
        }
    }

    /// A set-returning function `f` in FROM over `input` (the items before
    /// it, whose columns its argument may read): each input row once for
    /// each row `f` makes, the function's columns after the input's.
    /// `select_list`: called in a select list, where a function of several
    /// columns makes one record.
    pub(super) fn set_function(
        &self,
        input: Plan,
        scope: Scope,
        f: &TableRef,
        outer: bool,
        select_list: bool,
    ) -> Result<(Plan, Scope)> {
        let TableRef::Function {
            name,
            args,
            alias,
            columns,
        } = f
        else {
            return Err(Error::InvalidDefinition("not a function in FROM".into()));
        };
        let binder = self.binder(&scope);
        let bound = args
            .iter()
            .map(|a| binder.bind(a))
            .collect::<Result<Vec<(Expr, DataType)>>>()?;
        let lower = name.as_str().to_ascii_lowercase();
        let func = SetFunc::from_name(&lower);
        let (func, arg) = match (func, bound.as_slice()) {
            (None, [(arg, DataType::Array(e))]) if lower == "unnest" => {
                (SetFunc::Unnest(e), arg.clone())
            }
            (None, [(arg, DataType::Array(elem))]) if lower == "_pg_expandarray" => (
                SetFunc::ExpandArray {
                    elem,
                    record: select_list,
                },
                arg.clone(),
            ),
            (None, [_, _] | [_, _, _]) if lower == "generate_series" => series(&bound)?,
            (None, [(arg, ty @ (DataType::Array(DataType::Text) | DataType::Unknown))])
                if lower == "pg_options_to_table" =>
            {
                let text_array = DataType::array_of(DataType::Text);
                (
                    SetFunc::OptionsToTable,
                    coerce(arg.clone(), *ty, text_array, "")?,
                )
            }
            (None, [(arr, DataType::Array(_)), rest @ ..])
                if lower == "generate_subscripts" && rest.len() <= 2 =>
            {
                let mut args = vec![arr.clone()];
                let wanted = [DataType::Int4, DataType::Boolean];
                for ((e, ty), want) in rest.iter().zip(wanted) {
                    args.push(coerce(e.clone(), *ty, want, "generate_subscripts")?);
                }
                (SetFunc::Subscripts, make_array(args))
            }
            (Some(func), [(arg, ty)]) if matches!(ty, DataType::Jsonb | DataType::Unknown) => {
                (func, coerce(arg.clone(), *ty, DataType::Jsonb, "")?)
            }
            _ => {
                let types: Vec<String> = bound.iter().map(|(_, t)| t.to_string()).collect();
                return Err(Error::UndefinedFunction(format!(
                    "function {}({}) does not exist",
                    name.as_str(),
                    types.join(", ")
                )));
            }
        };
        let qualifier = alias.as_ref().unwrap_or(name).as_str().to_string();
        let made = func.columns();
        if columns.len() > made.len() {
            return Err(Error::InvalidColumnReference(format!(
                "too many column aliases specified for function {}",
                name.as_str()
            )));
        }
        let mut scope = scope;
        for (i, (col, ty)) in made.into_iter().enumerate() {
            let name = match (columns.get(i), col) {
                (Some(a), _) => a.as_str().to_string(),
                (None, Some(n)) => n.to_string(),
                (None, None) => qualifier.clone(),
            };
            scope.columns.push(ScopeColumn {
                qualifier: Some(qualifier.clone()),
                name,
                ty,
                hidden: false,
                system: false,
                catalog_type: CatalogType::Plain,
                origin: None,
            });
            if let Some(star) = &mut scope.star {
                star.push(scope.columns.len() - 1);
            }
        }
        let plan = Plan::Unnest {
            input: Box::new(input),
            funcs: vec![(func, arg)],
            outer,
        };
        Ok((plan, scope))
    }

    /// `left JOIN right USING (columns)`: equal on each pair of same-named
    /// columns (cast to their common type). As in PostgreSQL, each pair is
    /// one column to `*` and to an unqualified name — the left one, for
    /// inner and left joins — which `*` lists first, then the left side's
    /// other columns, then the right side's; the right copies stay
    /// reachable by their qualified names (and in `right.*`).
    fn join_using(
        &self,
        left: &TableRef,
        right: &TableRef,
        kind: ast::JoinKind,
        using: &[Ident],
    ) -> Result<(Plan, Scope)> {
        let (lp, ls) = self.from(left)?;
        let (rp, mut rs) = self.from(right)?;
        let find = |scope: &Scope, name: &str, side: &str| -> Result<usize> {
            let mut found = scope
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.hidden && c.name == name)
                .map(|(i, _)| i);
            match (found.next(), found.next()) {
                (Some(i), None) => Ok(i),
                (None, _) => Err(Error::MissingColumn(format!(
                    "column \"{name}\" specified in USING clause does not exist in {side} table"
                ))),
                (Some(_), Some(_)) => Err(Error::RepeatedColumn(format!(
                    "common column name \"{name}\" appears more than once in {side} table"
                ))),
            }
        };
        let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for name in using {
            let name = name.as_str();
            let (l, r) = (find(&ls, name, "left")?, find(&rs, name, "right")?);
            if pairs.iter().any(|&(pl, _)| pl == l) {
                return Err(Error::Syntax(format!(
                    "column \"{name}\" appears more than once in USING clause"
                )));
            }
            let (keys, _) = unify(
                vec![
                    (Expr::Column(l), ls.columns[l].ty),
                    (Expr::Column(r), rs.columns[r].ty),
                ],
                "JOIN/USING",
            )?;
            let mut keys = keys.into_iter();
            if let (Some(lk), Some(rk)) = (keys.next(), keys.next()) {
                left_keys.push(lk);
                right_keys.push(rk);
            }
            pairs.push((l, r));
        }
        let join = Plan::Join {
            left: Box::new(lp),
            right: Box::new(rp),
            kind: kind.into(),
            left_keys,
            right_keys,
            residual: None,
        };
        // The right copies are reached by qualified names only; `*` lists
        // the merged columns first, then the rest of each side.
        for &(_, r) in &pairs {
            rs.columns[r].hidden = true;
        }
        let mut scope = ls;
        scope.join(rs);
        let mut star: Vec<usize> = pairs.iter().map(|&(l, _)| l).collect();
        star.extend(
            scope
                .star_order()
                .into_iter()
                .filter(|i| !pairs.iter().any(|&(l, _)| l == *i)),
        );
        scope.star = Some(star);
        Ok((join, scope))
    }

    /// A subquery in FROM: its plan, cut to its visible columns, under
    /// `alias` with the columns renamed by `columns`.
    fn derived(&self, query: &Query, alias: &Ident, columns: &[Ident]) -> Result<(Plan, Scope)> {
        let plan = Planner {
            catalog: self.catalog,
            runner: self.runner,
            view: self.view,
            computed: self.computed.clone(),
            nested: true,
        }
        .query(query)?;
        if plan.limit.is_some() || plan.offset > 0 {
            return Err(Error::NotSupported(
                "LIMIT and OFFSET in a subquery in FROM are not supported yet".into(),
            ));
        }
        let n = plan.output.len();
        if columns.len() > n {
            return Err(Error::InvalidColumnReference(format!(
                "table \"{}\" has {n} columns available but {} columns specified",
                alias.as_str(),
                columns.len()
            )));
        }
        // Hidden ORDER BY columns go; the order itself means nothing here.
        let root = if plan.root.width() > n {
            Plan::Project {
                input: Box::new(plan.root),
                exprs: (0..n).map(Expr::Column).collect(),
            }
        } else {
            plan.root
        };
        let scope = Scope {
            columns: plan
                .output
                .iter()
                .enumerate()
                .map(|(i, c)| ScopeColumn {
                    qualifier: Some(alias.as_str().to_string()),
                    name: columns
                        .get(i)
                        .map_or_else(|| c.name.clone(), |a| a.as_str().to_string()),
                    ty: c.ty,
                    hidden: false,
                    system: false,
                    // A catalog vector is printed as one where selected.
                    catalog_type: if c.origin.is_some_and(crate::system::is_vector) {
                        CatalogType::Vector
                    } else {
                        CatalogType::Plain
                    },
                    // A subquery's column that is a relation's column as
                    // such still is one.
                    origin: c.origin,
                })
                .collect(),
            star: None,
        };
        Ok((root, scope))
    }
}

/// `generate_series(start, stop [, step])`: integers (a bigint series if
/// either end is one), or timestamps with an interval step. Its arguments
/// go to the function as one array.
fn series(bound: &[(Expr, DataType)]) -> Result<(SetFunc, Expr)> {
    static INT4: DataType = DataType::Int4;
    static INT8: DataType = DataType::Int8;
    static TIMESTAMPTZ: DataType = DataType::Timestamptz;
    let types: Vec<String> = bound.iter().map(|(_, t)| t.to_string()).collect();
    let undefined = || {
        Error::UndefinedFunction(format!(
            "function generate_series({}) does not exist",
            types.join(", ")
        ))
    };
    let timestamps = bound[..2]
        .iter()
        .any(|(_, t)| matches!(t, DataType::Timestamptz | DataType::Date));
    let (elem, step_ty): (&'static DataType, DataType) = if timestamps {
        (&TIMESTAMPTZ, DataType::Interval)
    } else {
        match common_type(bound[0].1, bound[1].1) {
            Some(DataType::Int8) => (&INT8, DataType::Int8),
            Some(DataType::Int4 | DataType::Unknown | DataType::Text)
                if bound[..2]
                    .iter()
                    .all(|(_, t)| matches!(t, DataType::Int4 | DataType::Unknown)) =>
            {
                (&INT4, DataType::Int4)
            }
            _ => return Err(undefined()),
        }
    };
    if timestamps && bound.len() < 3 {
        return Err(undefined());
    }
    let mut args = Vec::with_capacity(3);
    for (i, (e, t)) in bound.iter().enumerate() {
        let to = if i < 2 { *elem } else { step_ty };
        let e = match (t, to) {
            (DataType::Date, DataType::Timestamptz) => Expr::Cast(Box::new(e.clone()), to),
            _ => coerce(e.clone(), *t, to, "").map_err(|_| undefined())?,
        };
        args.push(e);
    }
    Ok((SetFunc::Series(elem), make_array(args)))
}

fn split_and(e: Expr) -> Vec<Expr> {
    match e {
        Expr::And(a, b) => {
            let mut v = split_and(*a);
            v.extend(split_and(*b));
            v
        }
        other => vec![other],
    }
}

/// `l = r` with `l` reading only left columns and `r` only right ones (or
/// the other way round): a join key pair.
fn equi_key(e: &Expr, left_width: usize) -> Option<(Expr, Expr)> {
    let Expr::Binary(BinaryOp::Cmp(CmpOp::Eq), a, b) = e else {
        return None;
    };
    let side = |x: &Expr| {
        let mut cols = Vec::new();
        x.collect_columns(&mut cols);
        if cols.is_empty() {
            None
        } else if cols.iter().all(|&c| c < left_width) {
            Some(true)
        } else if cols.iter().all(|&c| c >= left_width) {
            Some(false)
        } else {
            None
        }
    };
    match (side(a)?, side(b)?) {
        (true, false) => Some(((**a).clone(), (**b).clone())),
        (false, true) => Some(((**b).clone(), (**a).clone())),
        _ => None,
    }
}

/// A system catalog's scan with its `tableoid` system column (the
/// catalog's own OID, which pg_dump reads with every object) after its
/// columns.
fn with_tableoid(rel: std::sync::Arc<crate::Relation>, mut scope: Scope) -> (Plan, Scope) {
    let n = rel.columns.len();
    for c in &mut scope.columns {
        c.catalog_type = if c.origin.is_some_and(crate::system::is_vector) {
            CatalogType::Vector
        } else if c.ty == DataType::Text {
            CatalogType::Name
        } else {
            CatalogType::Plain
        };
    }
    let oid = crate::system::relation_oid(&rel);
    scope.columns.push(ScopeColumn {
        qualifier: scope.columns.first().and_then(|c| c.qualifier.clone()),
        name: "tableoid".into(),
        ty: DataType::Int8,
        hidden: false,
        system: true,
        catalog_type: CatalogType::Plain,
        origin: None,
    });
    let plan = Plan::Project {
        input: Box::new(Plan::Scan { rel }),
        exprs: (0..n)
            .map(Expr::Column)
            .chain([Expr::Literal(Value::Int8(oid))])
            .collect(),
    };
    (plan, scope)
}

/// Marks each of `scope`'s first columns as the column of `rel` at its
/// position, as clients are told of it (a view's column declared from a
/// `varchar` one is `varchar` too).
fn set_origins(scope: &mut Scope, rel: &crate::Relation) {
    let oid = crate::system::relation_oid(rel);
    let varchar = rel
        .table()
        .map(|t| t.varchar.as_slice())
        .unwrap_or_default();
    for (i, c) in scope.columns.iter_mut().enumerate().take(rel.columns.len()) {
        let copied = rel.columns[i].origin.is_some_and(|o| o.varchar);
        c.origin = Some(crate::ColumnOrigin {
            table_oid: oid,
            attnum: i16::try_from(i + 1).unwrap_or(i16::MAX),
            varchar: copied || varchar.iter().any(|(p, _)| *p == i),
        });
    }
}
