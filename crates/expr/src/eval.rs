//! Bound scalar expressions and their evaluation.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use crate::arith::{arith, negate, ArithOp};
use crate::cast::text_for_concat;
use crate::func::json;
use crate::like::like;
use crate::{cast, DataType, Error, Func, JsonKind, JsonRef, Result, Value};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`.
    Eq,
    /// `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
}

impl CmpOp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord.is_eq(),
            CmpOp::NotEq => ord.is_ne(),
            CmpOp::Lt => ord.is_lt(),
            CmpOp::LtEq => ord.is_le(),
            CmpOp::Gt => ord.is_gt(),
            CmpOp::GtEq => ord.is_ge(),
        }
    }

    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        }
    }
}

/// A typed binary operator chosen by the binder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// Comparison of two values already cast to one type.
    Cmp(CmpOp),
    /// `jsonb -> text` / `jsonb -> int`.
    JsonGet,
    /// `jsonb ->> text` / `jsonb ->> int`.
    JsonGetText,
    /// `text || anything`: concatenation of output forms.
    ConcatText,
    /// `bytea || bytea`.
    ConcatBytea,
    /// `jsonb || jsonb`.
    ConcatJsonb,
    /// `+ - * / %` on two values of one numeric type.
    Arith(ArithOp),
    /// `text LIKE pattern` (`ILIKE` when the flag is set).
    Like(bool),
    /// `jsonb #> text[]`.
    JsonPath,
    /// `jsonb #>> text[]`.
    JsonPathText,
    /// `jsonb ? text`.
    JsonHasKey,
    /// `jsonb @> jsonb`.
    JsonContains,
    /// `~`, `~*`, `!~`, `!~*`: (case-insensitive, negated) regex match.
    Regex {
        /// `ILIKE`.
        case_insensitive: bool,
        /// `NOT LIKE`.
        negated: bool,
    },
}

impl BinaryOp {
    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Cmp(op) => op.symbol(),
            BinaryOp::JsonGet => "->",
            BinaryOp::JsonGetText => "->>",
            BinaryOp::ConcatText | BinaryOp::ConcatBytea | BinaryOp::ConcatJsonb => "||",
            BinaryOp::Arith(op) => op.symbol(),
            BinaryOp::Like(false) => "LIKE",
            BinaryOp::Like(true) => "ILIKE",
            BinaryOp::JsonPath => "#>",
            BinaryOp::JsonPathText => "#>>",
            BinaryOp::JsonHasKey => "?",
            BinaryOp::JsonContains => "@>",
            BinaryOp::Regex {
                case_insensitive: false,
                negated: false,
            } => "~",
            BinaryOp::Regex {
                case_insensitive: true,
                negated: false,
            } => "~*",
            BinaryOp::Regex {
                case_insensitive: false,
                negated: true,
            } => "!~",
            BinaryOp::Regex {
                case_insensitive: true,
                negated: true,
            } => "!~*",
        }
    }
}

/// A function the binder builds while binding, called with its argument
/// values for each row: a correlated subquery, run with the outer row's
/// values.
pub trait Callable: Send + Sync + std::fmt::Debug {
    /// The value for these arguments.
    fn call(&self, args: &[Value]) -> Result<Value>;

    /// Its name, as plans print it.
    fn name(&self) -> &'static str {
        "subquery"
    }
}

/// A [`Callable`], compared by identity.
#[derive(Debug, Clone)]
pub struct CallFn(pub std::sync::Arc<dyn Callable>);

impl PartialEq for CallFn {
    fn eq(&self, other: &CallFn) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A bound expression: names are resolved to column positions and every
/// operator and function to its typed implementation.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Literal(Value),
    /// The value of the input row's column at this position.
    Column(usize),
    /// `expr::type`.
    Cast(Box<Expr>, DataType),
    /// `NOT expr`.
    Not(Box<Expr>),
    /// `a AND b` (three-valued).
    And(Box<Expr>, Box<Expr>),
    /// `a OR b` (three-valued).
    Or(Box<Expr>, Box<Expr>),
    /// `expr IS NULL` (or `IS NOT NULL` when the flag is set).
    IsNull(Box<Expr>, bool),
    /// A typed binary operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A builtin function call.
    Func(Func, Vec<Expr>),
    /// `coalesce(a, b, ...)`: the first non-null argument, evaluated lazily.
    Coalesce(Vec<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// `CASE WHEN c THEN r ... ELSE e END` (a simple CASE is bound to this
    /// form with equality conditions).
    Case(Vec<(Expr, Expr)>, Box<Expr>),
    /// `expr [NOT] IN (list)` with SQL's NULL rules.
    InList(Box<Expr>, Vec<Expr>, bool),
    /// `expr [NOT] IN (values)` over a large set of constants (an `IN
    /// (subquery)`'s rows), found by binary search.
    InSet(Box<Expr>, std::sync::Arc<ValueSet>, bool),
    /// `greatest(...)` (flag set) or `least(...)`: NULLs ignored.
    Extreme(Vec<Expr>, bool),
    /// A prepared statement's parameter (0-based). Only used to infer
    /// parameter types; values are substituted before execution.
    Param(usize),
    /// A function built while binding, over its arguments' values.
    Call(CallFn, Vec<Expr>),
}

impl Expr {
    /// Evaluates the expression against `row`.
    pub fn eval(&self, row: &[Value]) -> Result<Value> {
        Ok(match self {
            Expr::Literal(v) => v.clone(),
            Expr::Column(i) => row
                .get(*i)
                .cloned()
                .ok_or(Error::Corrupted("row shorter than its schema"))?,
            Expr::Cast(e, DataType::Numeric)
                if matches!(**e, Expr::Binary(BinaryOp::JsonGetText, ..)) =>
            {
                numeric_of_json_text(e, row)?
            }
            Expr::Cast(e, to) => cast(e.eval_cow(row)?.into_owned(), *to)?,
            Expr::Not(e) => match e.eval(row)? {
                Value::Bool(b) => Value::Bool(!b),
                Value::Null => Value::Null,
                other => return Err(not_boolean(&other)),
            },
            Expr::And(a, b) => {
                let l = truth(a.eval(row)?)?;
                if l == Some(false) {
                    return Ok(Value::Bool(false));
                }
                match (l, truth(b.eval(row)?)?) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            Expr::Or(a, b) => {
                let l = truth(a.eval(row)?)?;
                if l == Some(true) {
                    return Ok(Value::Bool(true));
                }
                match (l, truth(b.eval(row)?)?) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            Expr::IsNull(e, negated) => Value::Bool(e.eval_cow(row)?.is_null() != *negated),
            Expr::Binary(BinaryOp::JsonGet | BinaryOp::JsonGetText, ..) => {
                self.eval_cow(row)?.into_owned()
            }
            Expr::Binary(op, a, b) => binary(*op, a.eval(row)?, b.eval(row)?)?,
            Expr::Call(func, args) => {
                let values = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<Value>>>()?;
                func.0.call(&values)?
            }
            Expr::Func(f, args) => {
                let values = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<_>>>()?;
                f.eval(&values)?
            }
            Expr::Coalesce(args) => {
                for a in args {
                    let v = a.eval(row)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Value::Null
            }
            Expr::Neg(e) => negate(e.eval_cow(row)?.as_ref())?,
            Expr::Param(i) => return Err(Error::UndefinedParameter(*i + 1)),
            Expr::Case(whens, otherwise) => {
                for (cond, result) in whens {
                    if cond.eval_predicate(row)? {
                        return result.eval(row);
                    }
                }
                otherwise.eval(row)?
            }
            Expr::InSet(e, set, negated) => {
                let v = e.eval_cow(row)?;
                match set.contains(&v) {
                    Some(true) => Value::Bool(!negated),
                    Some(false) => Value::Bool(*negated),
                    None => Value::Null,
                }
            }
            Expr::InList(e, list, negated) => {
                let v = e.eval_cow(row)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                for item in list {
                    let x = item.eval_cow(row)?;
                    if x.is_null() {
                        saw_null = true;
                    } else if v.total_cmp(&x).is_eq() {
                        return Ok(Value::Bool(!negated));
                    }
                }
                if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                }
            }
            Expr::Extreme(args, greatest) => {
                let mut best: Option<Value> = None;
                for a in args {
                    let v = a.eval(row)?;
                    if v.is_null() {
                        continue;
                    }
                    let better = match &best {
                        None => true,
                        Some(b) => {
                            let o = v.total_cmp(b);
                            if *greatest {
                                o.is_gt()
                            } else {
                                o.is_lt()
                            }
                        }
                    };
                    if better {
                        best = Some(v);
                    }
                }
                best.unwrap_or(Value::Null)
            }
        })
    }

    /// Evaluates without copying what can be borrowed: a column, a literal,
    /// or a `->` path into either. `data->'a'->>'b'` thus copies only the
    /// final value, never the whole document.
    pub fn eval_cow<'a>(&'a self, row: &'a [Value]) -> Result<Cow<'a, Value>> {
        match self {
            Expr::Literal(v) => Ok(Cow::Borrowed(v)),
            Expr::Column(i) => row
                .get(*i)
                .map(Cow::Borrowed)
                .ok_or(Error::Corrupted("row shorter than its schema")),
            Expr::Binary(op @ (BinaryOp::JsonGet | BinaryOp::JsonGetText), a, b) => {
                // `column -> 'k1' -> ... ->> 'kn'` ending at a string or a
                // number: its text, read where it lies, building no
                // document for the steps between.
                if *op == BinaryOp::JsonGetText {
                    match path_value(self, row) {
                        Some(None) => return Ok(Cow::Owned(Value::Null)),
                        Some(Some(j)) => {
                            if let Some(t) = j.text() {
                                return Ok(Cow::Owned(Value::Text(t.to_owned())));
                            }
                        }
                        None => {}
                    }
                }
                let doc = a.eval_cow(row)?;
                let key = b.eval_cow(row)?;
                json_get(*op, &doc, &key).map(Cow::Owned)
            }
            other => other.eval(row).map(Cow::Owned),
        }
    }

    /// Evaluates a predicate: true only when the result is boolean true
    /// (NULL and false both reject the row).
    pub fn eval_predicate(&self, row: &[Value]) -> Result<bool> {
        if let Expr::Binary(BinaryOp::Cmp(c), a, b) = self {
            if let Some(holds) = cmp_json_text(*c, a, b, row) {
                return Ok(holds);
            }
            // Both sides borrowed where they can be (a literal is never
            // copied); the comparison is `binary`'s.
            let (l, r) = (a.eval_cow(row)?, b.eval_cow(row)?);
            return Ok(!l.is_null() && !r.is_null() && c.holds(l.total_cmp(&r)));
        }
        Ok(truth(self.eval(row)?)? == Some(true))
    }

    /// Calls `f` on this expression and every subexpression, parents first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Literal(_) | Expr::Column(_) | Expr::Param(_) => {}
            Expr::Cast(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Neg(e) => e.walk(f),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Func(_, args)
            | Expr::Coalesce(args)
            | Expr::Extreme(args, _)
            | Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Case(whens, e) => {
                for (c, r) in whens {
                    c.walk(f);
                    r.walk(f);
                }
                e.walk(f);
            }
            Expr::InList(e, list, _) => {
                e.walk(f);
                list.iter().for_each(|x| x.walk(f));
            }
            Expr::InSet(e, _, _) => e.walk(f),
        }
    }

    /// Adds the column positions the expression reads to `out`.
    pub fn collect_columns(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Literal(_) | Expr::Param(_) => {}
            Expr::Column(i) => out.push(*i),
            Expr::Cast(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Neg(e) => {
                e.collect_columns(out)
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Binary(_, a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
            Expr::Func(_, args)
            | Expr::Coalesce(args)
            | Expr::Extreme(args, _)
            | Expr::Call(_, args) => args.iter().for_each(|a| a.collect_columns(out)),
            Expr::Case(whens, e) => {
                for (c, r) in whens {
                    c.collect_columns(out);
                    r.collect_columns(out);
                }
                e.collect_columns(out);
            }
            Expr::InList(e, list, _) => {
                e.collect_columns(out);
                list.iter().for_each(|x| x.collect_columns(out));
            }
            Expr::InSet(e, _, _) => e.collect_columns(out),
        }
    }

    /// The same expression with every column position mapped by `f`.
    pub fn map_columns(&self, f: &impl Fn(usize) -> usize) -> Expr {
        self.rewrite(&mut |e| match e {
            Expr::Column(i) => Some(Expr::Column(f(*i))),
            _ => None,
        })
    }

    /// A copy of the expression in which every subexpression for which
    /// `f` returns a replacement is replaced (parents are offered first;
    /// a replaced subexpression is not looked into).
    pub fn rewrite(&self, f: &mut impl FnMut(&Expr) -> Option<Expr>) -> Expr {
        if let Some(e) = f(self) {
            return e;
        }
        let mut m = |e: &Expr| Box::new(e.rewrite(f));
        match self {
            Expr::Literal(_) | Expr::Column(_) | Expr::Param(_) => self.clone(),
            Expr::Cast(e, t) => Expr::Cast(m(e), *t),
            Expr::Not(e) => Expr::Not(m(e)),
            Expr::IsNull(e, n) => Expr::IsNull(m(e), *n),
            Expr::Neg(e) => Expr::Neg(m(e)),
            Expr::And(a, b) => Expr::And(m(a), m(b)),
            Expr::Or(a, b) => Expr::Or(m(a), m(b)),
            Expr::Binary(op, a, b) => Expr::Binary(*op, m(a), m(b)),
            Expr::InSet(e, set, n) => Expr::InSet(m(e), set.clone(), *n),
            Expr::InList(e, list, n) => {
                let e = m(e);
                Expr::InList(e, list.iter().map(|x| x.rewrite(f)).collect(), *n)
            }
            Expr::Func(func, args) => {
                Expr::Func(*func, args.iter().map(|a| a.rewrite(f)).collect())
            }
            Expr::Call(func, args) => {
                Expr::Call(func.clone(), args.iter().map(|a| a.rewrite(f)).collect())
            }
            Expr::Coalesce(args) => Expr::Coalesce(args.iter().map(|a| a.rewrite(f)).collect()),
            Expr::Extreme(args, g) => {
                Expr::Extreme(args.iter().map(|a| a.rewrite(f)).collect(), *g)
            }
            Expr::Case(whens, e) => Expr::Case(
                whens
                    .iter()
                    .map(|(c, r)| (c.rewrite(f), r.rewrite(f)))
                    .collect(),
                Box::new(e.rewrite(f)),
            ),
        }
    }

    /// Calls `f` on this expression and, parents first, on every
    /// subexpression that is evaluated whenever it is: not the right side
    /// of `AND`/`OR`, a `CASE` past its first condition, a `coalesce`
    /// argument past the first or an `IN` list's items, which evaluation
    /// may skip. Where `f` returns false, the parts of that subexpression
    /// are skipped.
    pub fn visit_eager(&self, f: &mut impl FnMut(&Expr) -> bool) {
        if !f(self) {
            return;
        }
        match self {
            Expr::Literal(_) | Expr::Column(_) | Expr::Param(_) => {}
            Expr::Cast(e, _)
            | Expr::Not(e)
            | Expr::IsNull(e, _)
            | Expr::Neg(e)
            | Expr::InSet(e, ..)
            | Expr::InList(e, ..)
            | Expr::And(e, _)
            | Expr::Or(e, _) => e.visit_eager(f),
            Expr::Binary(_, a, b) => {
                a.visit_eager(f);
                b.visit_eager(f);
            }
            Expr::Func(_, args) | Expr::Extreme(args, _) | Expr::Call(_, args) => {
                args.iter().for_each(|a| a.visit_eager(f))
            }
            Expr::Coalesce(args) => args.iter().take(1).for_each(|a| a.visit_eager(f)),
            Expr::Case(whens, _) => whens.iter().take(1).for_each(|(c, _)| c.visit_eager(f)),
        }
    }

    /// Whether the expression reads no columns (so it can be folded).
    pub fn is_constant(&self) -> bool {
        match self {
            Expr::Literal(_) => true,
            Expr::Column(_) | Expr::Param(_) => false,
            Expr::Cast(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Neg(e) => e.is_constant(),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Binary(_, a, b) => {
                a.is_constant() && b.is_constant()
            }
            Expr::Func(f, _) if f.is_volatile() => false,
            // Reads storage when called.
            Expr::Call(..) => false,
            Expr::Func(_, args) | Expr::Coalesce(args) | Expr::Extreme(args, _) => {
                args.iter().all(Expr::is_constant)
            }
            Expr::Case(whens, e) => {
                e.is_constant()
                    && whens
                        .iter()
                        .all(|(c, r)| c.is_constant() && r.is_constant())
            }
            Expr::InList(e, list, _) => e.is_constant() && list.iter().all(Expr::is_constant),
            Expr::InSet(e, _, _) => e.is_constant(),
        }
    }
}

/// A set of constants for [`Expr::InSet`]: sorted and without duplicates
/// by SQL's ordering, NULLs kept aside.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSet {
    values: Vec<Value>,
    has_null: bool,
}

impl ValueSet {
    /// The set of `values` (of one type).
    pub fn new(values: Vec<Value>) -> ValueSet {
        let has_null = values.iter().any(Value::is_null);
        let mut values: Vec<Value> = values.into_iter().filter(|v| !v.is_null()).collect();
        values.sort_by(Value::total_cmp);
        values.dedup_by(|a, b| a.total_cmp(b).is_eq());
        ValueSet { values, has_null }
    }

    /// Whether `v` is in the set, by SQL's rules: NULL (`None`) when `v`
    /// is NULL, or is not found and the set holds a NULL.
    pub fn contains(&self, v: &Value) -> Option<bool> {
        if v.is_null() {
            return None;
        }
        match self.values.binary_search_by(|x| x.total_cmp(v)) {
            Ok(_) => Some(true),
            Err(_) if self.has_null => None,
            Err(_) => Some(false),
        }
    }

    /// The values, in order (NULL last if the set has one).
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.values
            .iter()
            .chain(self.has_null.then_some(&Value::Null))
    }
}

fn not_boolean(v: &Value) -> Error {
    Error::DatatypeMismatch(format!(
        "argument of boolean operator must be type boolean, not type {}",
        v.data_type()
    ))
}

fn truth(v: Value) -> Result<Option<bool>> {
    match v {
        Value::Bool(b) => Ok(Some(b)),
        Value::Null => Ok(None),
        other => Err(not_boolean(&other)),
    }
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    match op {
        BinaryOp::ConcatText => {
            // `||` with text is strict: NULL on either side gives NULL.
            match (text_for_concat(&l), text_for_concat(&r)) {
                (Some(a), Some(b)) => {
                    crate::check_value_len(a.len().saturating_add(b.len()))?;
                    Ok(Value::Text(a + &b))
                }
                _ => Ok(Value::Null),
            }
        }
        _ if l.is_null() || r.is_null() => Ok(Value::Null),
        BinaryOp::Cmp(c) => Ok(Value::Bool(c.holds(l.total_cmp(&r)))),
        BinaryOp::JsonGet | BinaryOp::JsonGetText => json_get(op, &l, &r),
        BinaryOp::ConcatBytea => match (l, r) {
            (Value::Bytea(mut a), Value::Bytea(b)) => {
                crate::check_value_len(a.len().saturating_add(b.len()))?;
                a.extend_from_slice(&b);
                Ok(Value::Bytea(a))
            }
            _ => Err(Error::DatatypeMismatch("|| expects bytea".into())),
        },
        BinaryOp::ConcatJsonb => match (l, r) {
            (Value::Jsonb(a), Value::Jsonb(b)) => {
                let (x, y) = (a.as_bytes().len(), b.as_bytes().len());
                crate::check_value_len(x.saturating_add(y))?;
                Ok(Value::Jsonb(a.concat(&b)))
            }
            _ => Err(Error::DatatypeMismatch("|| expects jsonb".into())),
        },
        BinaryOp::Arith(op) => arith(op, &l, &r),
        BinaryOp::Like(ci) => match (&l, &r) {
            (Value::Text(t), Value::Text(p)) => Ok(Value::Bool(like(t, p, ci)?)),
            _ => Err(Error::DatatypeMismatch("LIKE expects text".into())),
        },
        BinaryOp::JsonPath => json::path(&l, &r, false),
        BinaryOp::JsonPathText => json::path(&l, &r, true),
        BinaryOp::JsonHasKey => json::has_key(&l, &r),
        BinaryOp::JsonContains => json::contains_op(&l, &r),
        BinaryOp::Regex {
            case_insensitive,
            negated,
        } => match (&l, &r) {
            (Value::Text(t), Value::Text(p)) => {
                let re = regex::RegexBuilder::new(p)
                    .case_insensitive(case_insensitive)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| Error::InvalidRegex(e.to_string()))?;
                Ok(Value::Bool(re.is_match(t) != negated))
            }
            _ => Err(Error::DatatypeMismatch("~ expects text".into())),
        },
    }
}

/// `(doc ->> key)::numeric` without building the intermediate text: a JSON
/// number or string is parsed in place. Other kinds take the general path
/// (so errors read exactly as PostgreSQL's).
fn numeric_of_json_text(e: &Expr, row: &[Value]) -> Result<Value> {
    // `column -> 'k1' -> ... ->> 'kn'`: walked in place.
    match path_value(e, row) {
        Some(None) => return Ok(Value::Null),
        Some(Some(j)) => {
            if let Some(t) = j.text() {
                return crate::cast::parse_text(t, DataType::Numeric);
            }
        }
        None => {}
    }
    let Expr::Binary(_, a, b) = e else {
        return cast(e.eval(row)?, DataType::Numeric);
    };
    let doc = a.eval_cow(row)?;
    let key = b.eval_cow(row)?;
    let found = match (&*doc, &*key) {
        (Value::Jsonb(d), Value::Text(k)) => d.get_key(k),
        _ => {
            return cast(
                json_get(BinaryOp::JsonGetText, &doc, &key)?,
                DataType::Numeric,
            )
        }
    };
    match found {
        None => Ok(Value::Null),
        Some(j) => match j.kind() {
            JsonKind::Null => Ok(Value::Null),
            JsonKind::Number | JsonKind::String => match j.text() {
                Some(t) => crate::cast::parse_text(t, DataType::Numeric),
                None => cast(
                    json_get(BinaryOp::JsonGetText, &doc, &key)?,
                    DataType::Numeric,
                ),
            },
            _ => cast(
                json_get(BinaryOp::JsonGetText, &doc, &key)?,
                DataType::Numeric,
            ),
        },
    }
}

impl Expr {
    /// For `(column -> 'k1' -> ... ->> 'kn')::numeric` whose value is a
    /// plain decimal (`-?digits[.digits]`, at most 38 digits): the value as
    /// `units × 10^-scale`, read in place (`Some(Some(..))`), or SQL NULL
    /// (`Some(None)`). `None` whenever evaluating it the general way might
    /// say anything else — other shapes, exponents, whitespace, errors —
    /// so callers fall back to [`Expr::eval`] and get exactly its answer.
    pub fn eval_json_decimal(&self, row: &[Value]) -> Option<Option<(i128, u32)>> {
        let Expr::Cast(inner, DataType::Numeric) = self else {
            return None;
        };
        match path_value(inner, row)? {
            None => Some(None),
            Some(j) => plain_decimal(j.text()?.as_bytes()).map(Some),
        }
    }
}

/// For `column -> 'k1' -> ... ->> 'kn'`, the value at the end of the path,
/// found in place: `Some(None)` when the result is SQL NULL (NULL column,
/// missing key, JSON null), `None` when `e` has another shape or the
/// column holds no document.
fn path_value<'r>(e: &Expr, row: &'r [Value]) -> Option<Option<JsonRef<'r>>> {
    let mut keys = [""; MAX_PATH];
    let (column, n) = key_path(e, &mut keys)?;
    let doc = match row.get(column)? {
        Value::Null => return Some(None),
        Value::Jsonb(doc) => doc,
        _ => return None,
    };
    Some(doc.get_path(&keys[MAX_PATH - n..]).filter(|j| !j.is_null()))
}

/// `-?digits[.digits]` with at most 38 digits, as `units × 10^-scale`.
fn plain_decimal(t: &[u8]) -> Option<(i128, u32)> {
    let (neg, digits) = match t.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, t),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(p) => (&digits[..p], Some(&digits[p + 1..])),
        None => (digits, None),
    };
    if int.is_empty() || frac.is_some_and(<[u8]>::is_empty) {
        return None;
    }
    let frac = frac.unwrap_or_default();
    if int.len() + frac.len() > 38 {
        return None;
    }
    let mut units: i128 = 0;
    for &b in int.iter().chain(frac) {
        if !b.is_ascii_digit() {
            return None;
        }
        units = units * 10 + i128::from(b - b'0');
    }
    Some((if neg { -units } else { units }, frac.len() as u32))
}

/// `column -> ... ->> 'k' <op> 'text'` (either way round) decided on the
/// string or number text inside the stored document, without building a
/// value; `None` for any other shape or value (the caller evaluates it the
/// general way, which gives the same answer).
fn cmp_json_text(c: CmpOp, a: &Expr, b: &Expr, row: &[Value]) -> Option<bool> {
    let (path, lit, flipped) = match (a, b) {
        (path, Expr::Literal(Value::Text(t))) => (path, t, false),
        (Expr::Literal(Value::Text(t)), path) => (path, t, true),
        _ => return None,
    };
    match path_value(path, row)? {
        // SQL NULL: the comparison is NULL, which rejects the row.
        None => Some(false),
        Some(j) => {
            let ord = j.text_bytes()?.cmp(lit.as_bytes());
            Some(c.holds(if flipped { ord.reverse() } else { ord }))
        }
    }
}

/// Longest key path [`key_path`] follows.
const MAX_PATH: usize = 8;

/// For `column -> 'k1' -> ... ->> 'kn'` (literal keys, at most
/// [`MAX_PATH`]), the column and the number of keys, which end `keys`.
fn key_path<'e>(e: &'e Expr, keys: &mut [&'e str; MAX_PATH]) -> Option<(usize, usize)> {
    let mut e = e;
    let mut n = 0;
    let mut op = BinaryOp::JsonGetText;
    loop {
        match e {
            Expr::Binary(o, a, b) if *o == op && n < MAX_PATH => {
                let Expr::Literal(Value::Text(k)) = &**b else {
                    return None;
                };
                n += 1;
                keys[MAX_PATH - n] = k;
                e = a;
                op = BinaryOp::JsonGet;
            }
            Expr::Column(c) if n > 0 => return Some((*c, n)),
            _ => return None,
        }
    }
}

/// `doc -> key` / `doc ->> key`: NULL when either side is NULL or the key
/// or index is absent; `->>` gives text (JSON null gives SQL NULL).
fn json_get(op: BinaryOp, doc: &Value, key: &Value) -> Result<Value> {
    if doc.is_null() || key.is_null() {
        return Ok(Value::Null);
    }
    let Value::Jsonb(d) = doc else {
        return Err(Error::DatatypeMismatch(format!(
            "{} expects jsonb",
            op.symbol()
        )));
    };
    let found = match key {
        Value::Text(k) => d.get_key(k),
        Value::Int4(i) => d.get_index(*i as i64),
        Value::Int8(i) => d.get_index(*i),
        _ => None,
    };
    Ok(match (op, found) {
        (_, None) => Value::Null,
        (BinaryOp::JsonGet, Some(j)) => Value::Jsonb(j),
        (_, Some(j)) => j.to_text().map_or(Value::Null, Value::Text),
    })
}

impl fmt::Display for Expr {
    /// Prints the expression in SQL-like form; columns print as `#index`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(Value::Null) => f.write_str("NULL"),
            Expr::Literal(
                v @ (Value::Text(_) | Value::Jsonb(_) | Value::Bytea(_) | Value::Timestamptz(_)),
            ) => {
                let text = v.to_pg_text().unwrap_or_default().replace('\'', "''");
                write!(f, "'{text}'::{}", v.data_type())
            }
            Expr::Literal(v) => f.write_str(&v.to_pg_text().unwrap_or_default()),
            Expr::Column(i) => write!(f, "#{i}"),
            Expr::Param(i) => write!(f, "${}", i + 1),
            Expr::Cast(e, t) => write!(f, "CAST({e} AS {t})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::IsNull(e, false) => write!(f, "({e} IS NULL)"),
            Expr::IsNull(e, true) => write!(f, "({e} IS NOT NULL)"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Func(func, args) => write_call(f, func.name(), args),
            Expr::Call(func, args) => write_call(f, func.0.name(), args),
            Expr::Coalesce(args) => write_call(f, "coalesce", args),
            Expr::Extreme(args, true) => write_call(f, "greatest", args),
            Expr::Extreme(args, false) => write_call(f, "least", args),
            Expr::Neg(e) => write!(f, "(-{e})"),
            Expr::Case(whens, otherwise) => {
                f.write_str("CASE")?;
                for (c, r) in whens {
                    write!(f, " WHEN {c} THEN {r}")?;
                }
                write!(f, " ELSE {otherwise} END")
            }
            Expr::InList(e, list, negated) => {
                write!(f, "({e} {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("))")
            }
            Expr::InSet(e, set, negated) => {
                write!(f, "({e} {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, x) in set.values().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&x.to_pg_text().unwrap_or_else(|| "NULL".into()))?;
                }
                f.write_str("))")
            }
        }
    }
}

fn write_call(f: &mut fmt::Formatter<'_>, name: &str, args: &[Expr]) -> fmt::Result {
    write!(f, "{name}(")?;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_str(")")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Jsonb;

    fn lit(v: Value) -> Box<Expr> {
        Box::new(Expr::Literal(v))
    }

    /// `#0 -> 'k1' -> ... ->> 'last'`.
    fn path(keys: &[&str], last: &str) -> Expr {
        let mut e = Expr::Column(0);
        for k in keys {
            e = Expr::Binary(
                BinaryOp::JsonGet,
                Box::new(e),
                lit(Value::Text((*k).into())),
            );
        }
        Expr::Binary(
            BinaryOp::JsonGetText,
            Box::new(e),
            lit(Value::Text(last.into())),
        )
    }

    #[test]
    fn three_valued_logic() {
        let t = || lit(Value::Bool(true));
        let f = || lit(Value::Bool(false));
        let n = || lit(Value::Null);
        assert_eq!(Expr::And(n(), f()).eval(&[]), Ok(Value::Bool(false)));
        assert_eq!(Expr::And(n(), t()).eval(&[]), Ok(Value::Null));
        assert_eq!(Expr::Or(n(), t()).eval(&[]), Ok(Value::Bool(true)));
        assert_eq!(Expr::Or(n(), f()).eval(&[]), Ok(Value::Null));
        assert_eq!(Expr::Not(n()).eval(&[]), Ok(Value::Null));
    }

    #[test]
    fn value_sets_follow_sql_equality_and_null_rules() {
        let n = |s: &str| Value::Numeric(crate::Numeric::parse(s).unwrap());
        let set = ValueSet::new(vec![n("12.50"), n("3"), n("12.5"), n("-1")]);
        assert_eq!(set.values().count(), 3);
        assert_eq!(set.contains(&n("12.500")), Some(true));
        assert_eq!(set.contains(&n("4")), Some(false));
        assert_eq!(set.contains(&Value::Null), None);
        let with_null = ValueSet::new(vec![Value::Int4(1), Value::Null]);
        assert_eq!(with_null.contains(&Value::Int4(1)), Some(true));
        assert_eq!(with_null.contains(&Value::Int4(2)), None);
        let e = Expr::InSet(
            Box::new(Expr::Column(0)),
            std::sync::Arc::new(with_null),
            true,
        );
        assert_eq!(e.eval(&[Value::Int4(1)]), Ok(Value::Bool(false)));
        assert_eq!(e.eval(&[Value::Int4(2)]), Ok(Value::Null));
    }

    #[test]
    fn json_text_paths_read_in_place_agree_with_step_by_step_access() {
        let docs = [
            r#"{"p":{"k":"x\"y"}}"#,
            r#"{"p":{"k":12.50}}"#,
            r#"{"p":{"k":null}}"#,
            r#"{"p":{"k":false}}"#,
            r#"{"p":{"k":[1,{"a":2}]}}"#,
            r#"{"p":{}}"#,
            r#"{"p":["k"]}"#,
            r#"{"p":"k"}"#,
            r#"[{"p":1}]"#,
            r#"7"#,
        ];
        let path = path(&["p"], "k");
        let key = |k: &str| Value::Text(k.into());
        for d in docs {
            let doc = Value::Jsonb(Jsonb::parse(d).unwrap());
            let step = json_get(BinaryOp::JsonGet, &doc, &key("p")).unwrap();
            let expected = json_get(BinaryOp::JsonGetText, &step, &key("k")).unwrap();
            assert_eq!(
                path.eval(std::slice::from_ref(&doc)),
                Ok(expected.clone()),
                "{d}"
            );
            assert_eq!(path.eval_cow(&[doc]).unwrap().into_owned(), expected, "{d}");
        }
        assert_eq!(path.eval(&[Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn json_text_comparisons_in_place_agree_with_evaluation() {
        let path = || Box::new(path(&["p"], "k"));
        let docs = [
            r#"{"p":{"k":"Signed Up"}}"#,
            r#"{"p":{"k":"Signed Uq"}}"#,
            r#"{"p":{"k":"a\"b\u00e9"}}"#,
            r#"{"p":{"k":12.50}}"#,
            r#"{"p":{"k":null}}"#,
            r#"{"p":{"k":true}}"#,
            r#"{"p":{"k":{"x":1}}}"#,
            r#"{"p":{}}"#,
            r#"{"p":[1]}"#,
            r#"[]"#,
        ];
        let texts = [
            "Signed Up",
            "a\"bé",
            "12.50",
            "12.5",
            "true",
            "",
            "{\"x\": 1}",
        ];
        let ops = [
            CmpOp::Eq,
            CmpOp::NotEq,
            CmpOp::Lt,
            CmpOp::LtEq,
            CmpOp::Gt,
            CmpOp::GtEq,
        ];
        let mut rows: Vec<Vec<Value>> = docs
            .iter()
            .map(|d| vec![Value::Jsonb(Jsonb::parse(d).unwrap())])
            .collect();
        rows.push(vec![Value::Null]);
        for row in &rows {
            for t in texts {
                for op in ops {
                    for flipped in [false, true] {
                        let (a, b) = if flipped {
                            (lit(Value::Text(t.into())), path())
                        } else {
                            (path(), lit(Value::Text(t.into())))
                        };
                        let e = Expr::Binary(BinaryOp::Cmp(op), a, b);
                        let general = truth(e.eval(row).unwrap()).unwrap() == Some(true);
                        assert_eq!(e.eval_predicate(row), Ok(general), "{row:?} {op:?} {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn json_access_and_concat() {
        let doc = Value::Jsonb(Jsonb::parse(r#"{"a":{"b":[10,"x"]}}"#).unwrap());
        let e = path(&["a"], "b");
        assert_eq!(e.eval(&[doc]), Ok(Value::Text("[10, \"x\"]".into())));
        let c = Expr::Binary(
            BinaryOp::ConcatText,
            lit(Value::Text("n=".into())),
            lit(Value::Int4(3)),
        );
        assert_eq!(c.eval(&[]), Ok(Value::Text("n=3".into())));
        let c = Expr::Binary(
            BinaryOp::ConcatText,
            lit(Value::Text("n=".into())),
            lit(Value::Null),
        );
        assert_eq!(c.eval(&[]), Ok(Value::Null));
        assert_eq!(c.to_string(), "('n='::text || NULL)");
    }
}
