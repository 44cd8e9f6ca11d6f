//! Expression rules, by precedence climbing over the table documented on
//! [`BinaryOperator::precedence`].

use nom::Err;

use super::lexer::{
    attempt, depth, fatal, ident, kw, number_lit, peek_kw, skip, string_lit, sym, too_deep,
    DepthGuard, PResult, MAX_TREE_DEPTH,
};
use crate::ast::{
    BinaryOperator, Expr, Ident, Literal, UnaryOperator, WindowCall, PREC_CAST, PREC_IN, PREC_IS,
    PREC_NOT, PREC_OTHER, PREC_UNARY,
};

/// expr = expression of any precedence
pub(crate) fn expr(i: &str) -> PResult<'_, Expr> {
    expr_bp(i, 0)
}

/// An expression whose operators all bind at least as tightly as `min`.
fn expr_bp(i: &str, min: u8) -> PResult<'_, Expr> {
    let _guard = DepthGuard::enter(i)?;
    let (mut i, mut lhs) = prefix(i)?;
    // Each pass of the loop wraps `lhs` once more: the tree grows a level.
    let mut chain = 0;
    loop {
        chain += 1;
        if chain + depth() > MAX_TREE_DEPTH {
            return Err(too_deep(i));
        }
        if PREC_CAST >= min {
            if let Some(r) = postfix(i, &mut lhs)? {
                i = r;
                continue;
            }
        }
        if PREC_IS >= min {
            if let Ok((r, _)) = kw("is")(i) {
                let (r, negated) = match kw("not")(r) {
                    Ok((r, _)) => (r, true),
                    Err(_) => (r, false),
                };
                if let Ok((r, _)) = kw("distinct")(r) {
                    let (r, right) = distinct_from(r)?;
                    lhs = Expr::IsDistinctFrom {
                        left: Box::new(lhs),
                        right: Box::new(right),
                        negated,
                    };
                    i = r;
                    continue;
                }
                if let Some(r) = is_truth(r, &mut lhs, negated) {
                    i = r;
                    continue;
                }
                let (r, _) = kw("null")(r)
                    .or_else(|_| kw("unknown")(r))
                    .map_err(|_| to_failure(r))?;
                lhs = Expr::IsNull {
                    expr: Box::new(lhs),
                    negated,
                };
                i = r;
                continue;
            }
        }
        // `COLLATE name` is accepted and ignored: text compares bytewise.
        if let Ok((r, _)) = kw("collate")(i) {
            let (r, _) = super::lexer::any_word(r).map_err(|_| to_failure(r))?;
            let r = match sym(".")(r) {
                Ok((r2, _)) => super::lexer::any_word(r2).map_err(|_| to_failure(r2))?.0,
                Err(_) => r,
            };
            i = r;
            continue;
        }
        if PREC_IN >= min {
            if let Some((r, e)) = in_between_like(i, &lhs)? {
                lhs = e;
                i = r;
                continue;
            }
            if let Some((r, e)) = quantified(i, &lhs)? {
                lhs = e;
                i = r;
                continue;
            }
        }
        match binary_op(i).or_else(|| qualified_operator(i)) {
            Some((r, op)) if op.precedence() >= min => {
                let (r, rhs) = expr_bp(r, op.precedence() + 1)?;
                lhs = Expr::Binary {
                    op,
                    left: Box::new(lhs),
                    right: Box::new(rhs),
                };
                i = r;
            }
            _ => return Ok((i, lhs)),
        }
    }
}

/// quantified = '=' (ANY | SOME) '(' ARRAY '[' list ']' ')'
///            | ('<>' | '!=') ALL '(' ARRAY '[' list ']' ')'
/// which mean `IN (list)` and `NOT IN (list)` (catalog queries of client
/// libraries use them). Returns `None` if the next tokens are not one.
fn quantified<'a>(
    i: &'a str,
    lhs: &Expr,
) -> Result<Option<(&'a str, Expr)>, Err<super::lexer::PErr<'a>>> {
    let negated = if let Ok((r, _)) = sym("=")(i) {
        match kw("any")(r).or_else(|_| kw("some")(r)) {
            Ok((r, _)) => Some((r, false)),
            Err(_) => None,
        }
    } else if let Ok((r, _)) = sym("<>")(i).or_else(|_| sym("!=")(i)) {
        kw("all")(r).ok().map(|(r, _)| (r, true))
    } else {
        None
    };
    let Some((r, negated)) = negated else {
        return Ok(None);
    };
    let (r, _) = sym("(")(r).map_err(|_| to_failure(r))?;
    // `= ANY (ARRAY[a, b])` is `IN (a, b)`; any other array is a value.
    let list = kw("array")(r)
        .and_then(|(r2, _)| sym("[")(r2))
        .and_then(|(r2, _)| list_until(r2, "]"))
        .and_then(|(r2, list)| sym(")")(r2).map(|(r3, _)| (r3, list)));
    match list {
        Ok((r, list)) => Ok(Some((
            r,
            Expr::InList {
                expr: Box::new(lhs.clone()),
                list,
                negated,
            },
        ))),
        Err(_) => any_array(r, lhs, negated).map(Some),
    }
}

/// `EXISTS (query)`, `ARRAY[...]` or `ARRAY(query)`; `None` if none.
#[inline(never)]
fn exists_or_array(i: &str) -> Result<Option<(&str, Expr)>, Err<super::lexer::PErr<'_>>> {
    match exists(i)? {
        Some(done) => Ok(Some(done)),
        None => array_constructor(i),
    }
}

/// `ARRAY[expr, ...]` or `ARRAY(query)`; `None` if not one.
#[inline(never)]
fn array_constructor(i: &str) -> Result<Option<(&str, Expr)>, Err<super::lexer::PErr<'_>>> {
    let Ok((r, _)) = kw("array")(i) else {
        return Ok(None);
    };
    if let Ok((r, _)) = sym("[")(r) {
        if let Ok((r, _)) = sym("]")(r) {
            return Ok(Some((r, Expr::Array(Vec::new()))));
        }
        let (r, items) = list_until(r, "]")?;
        return Ok(Some((r, Expr::Array(items))));
    }
    if let Ok((r, _)) = sym("(")(r) {
        let (r, q) = super::query(r)?;
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return Ok(Some((r, Expr::ArraySubquery(Box::new(q)))));
    }
    Ok(None)
}

/// `::type` or `[index]` after `lhs`, applied to it in place; `None` if
/// neither follows. Its own frame, so the recursive path stays small.
#[inline(never)]
fn postfix<'a>(i: &'a str, lhs: &mut Expr) -> Result<Option<&'a str>, Err<super::lexer::PErr<'a>>> {
    let taken = |lhs: &mut Expr| Box::new(std::mem::replace(lhs, Expr::Literal(Literal::Null)));
    if let Ok((r, _)) = sym("::")(i) {
        let (r, type_name) = type_name(r)?;
        *lhs = Expr::Cast {
            expr: taken(lhs),
            type_name,
        };
        return Ok(Some(r));
    }
    if let Ok((r, _)) = sym("[")(i) {
        let (r, index) = expr(r)?;
        let (r, _) = sym("]")(r).map_err(|_| to_failure(r))?;
        *lhs = Expr::Subscript {
            expr: taken(lhs),
            index: Box::new(index),
        };
        return Ok(Some(r));
    }
    Ok(None)
}

/// The rest of `IS [NOT] DISTINCT FROM right` after DISTINCT (a rare form:
/// its own frame).
#[inline(never)]
fn distinct_from(r: &str) -> PResult<'_, Expr> {
    let (r, _) = kw("from")(r).map_err(|_| to_failure(r))?;
    expr_bp(r, PREC_IS + 1)
}

/// The rest of `lhs = ANY (array)` after its '(' (a rare form: its own
/// frame, off the recursive path).
#[inline(never)]
fn any_array<'a>(r: &'a str, lhs: &Expr, negated: bool) -> PResult<'a, Expr> {
    let (r, array) = expr(r)?;
    let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
    Ok((
        r,
        Expr::AnyArray {
            expr: Box::new(lhs.clone()),
            array: Box::new(array),
            negated,
        },
    ))
}

/// `expr (',' expr)* close`: a list up to and including its closing
/// symbol.
fn list_until<'a>(mut r: &'a str, close: &'static str) -> PResult<'a, Vec<Expr>> {
    let mut list = Vec::new();
    loop {
        let (r2, e) = expr(r)?;
        list.push(e);
        match sym(",")(r2) {
            Ok((r3, _)) => r = r3,
            Err(_) => {
                let (r3, _) = sym(close)(r2).map_err(|_| to_failure(r2))?;
                return Ok((r3, list));
            }
        }
    }
}

/// in_between_like = [NOT] IN '(' expr (',' expr)* ')'
///                 | [NOT] BETWEEN expr AND expr
///                 | [NOT] (LIKE | ILIKE) expr
/// Returns `None` if the next tokens start none of these.
fn in_between_like<'a>(
    i: &'a str,
    lhs: &Expr,
) -> Result<Option<(&'a str, Expr)>, Err<super::lexer::PErr<'a>>> {
    let (r, negated) = match kw("not")(i) {
        Ok((r, _))
            if peek_kw(r, "in")
                || peek_kw(r, "between")
                || peek_kw(r, "like")
                || peek_kw(r, "ilike") =>
        {
            (r, true)
        }
        _ => (i, false),
    };
    let boxed = || Box::new(lhs.clone());
    if let Ok((r, _)) = kw("in")(r) {
        let (r, _) = sym("(")(r).map_err(|_| to_failure(r))?;
        if super::starts_query(r) {
            return in_subquery(r, boxed(), negated).map(Some);
        }
        let (r, list) = list_until(r, ")")?;
        return Ok(Some((
            r,
            Expr::InList {
                expr: boxed(),
                list,
                negated,
            },
        )));
    }
    if let Ok((r, _)) = kw("between")(r) {
        let (r, low) = expr_bp(r, PREC_IN + 1)?;
        let (r, _) = kw("and")(r).map_err(|_| to_failure(r))?;
        let (r, high) = expr_bp(r, PREC_IN + 1)?;
        return Ok(Some((
            r,
            Expr::Between {
                expr: boxed(),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            },
        )));
    }
    for (word, case_insensitive) in [("like", false), ("ilike", true)] {
        if let Ok((r, _)) = kw(word)(r) {
            let (r, pattern) = expr_bp(r, PREC_IN + 1)?;
            let (r, escape) = match kw("escape")(r) {
                Ok((r, _)) => {
                    let (r, e) = expr_bp(r, PREC_IN + 1)?;
                    (r, Some(Box::new(e)))
                }
                Err(_) => (r, None),
            };
            return Ok(Some((
                r,
                Expr::Like {
                    expr: boxed(),
                    pattern: Box::new(pattern),
                    negated,
                    case_insensitive,
                    escape,
                },
            )));
        }
    }
    Ok(None)
}

fn to_failure(i: &str) -> Err<super::lexer::PErr<'_>> {
    Err::Failure(super::lexer::PErr {
        input: skip(i),
        message: None,
        too_deep: false,
    })
}

/// `OPERATOR(schema.op)`: an operator named with its schema, as psql
/// writes them.
fn qualified_operator(i: &str) -> Option<(&str, BinaryOperator)> {
    let (r, _) = kw("operator")(i).ok()?;
    let (r, _) = sym("(")(r).ok()?;
    let r = match super::lexer::any_word(r) {
        Ok((r2, _)) => sym(".")(r2).ok()?.0,
        Err(_) => r,
    };
    let (r, op) = binary_op(r)?;
    let (r, _) = sym(")")(r).ok()?;
    Some((r, op))
}

/// binary_op = OR | AND | comparison | '||' | '->>' | '->' | '#>>' | '#>'
///           | '#-' | '?' | '?|' | '?&' | '@>' | '<@' | + - * / %
fn binary_op(i: &str) -> Option<(&str, BinaryOperator)> {
    use BinaryOperator::*;
    if let Ok((r, _)) = kw("or")(i) {
        return Some((r, Or));
    }
    if let Ok((r, _)) = kw("and")(i) {
        return Some((r, And));
    }
    let t = skip(i);
    const OPS: &[(&str, BinaryOperator)] = &[
        ("->>", LongArrow),
        ("->", Arrow),
        ("#>>", HashLongArrow),
        ("#>", HashArrow),
        ("#-", HashMinus),
        ("#", BitXor),
        ("@>", Contains),
        ("<@", ContainedBy),
        ("?|", QuestionPipe),
        ("?&", QuestionAmp),
        ("&", BitAnd),
        ("?", Question),
        ("!~*", RegexNotIMatch),
        ("!~", RegexNotMatch),
        ("~*", RegexIMatch),
        ("~", RegexMatch),
        ("||", Concat),
        ("|", BitOr),
        ("<<", ShiftLeft),
        (">>", ShiftRight),
        ("<=", LtEq),
        (">=", GtEq),
        ("<>", NotEq),
        ("!=", NotEq),
        ("=", Eq),
        ("<", Lt),
        (">", Gt),
        ("+", Plus),
        ("-", Minus),
        ("*", Multiply),
        ("/", Divide),
        ("%", Modulo),
    ];
    OPS.iter()
        .find(|(s, _)| t.starts_with(s))
        .map(|(s, op)| (&t[s.len()..], *op))
}

/// prefix = NOT expr | '-' expr | '+' expr | primary
fn prefix(i: &str) -> PResult<'_, Expr> {
    if let Ok((r, _)) = kw("not")(i) {
        let (r, e) = expr_bp(r, PREC_NOT)?;
        return Ok((
            r,
            Expr::Unary {
                op: UnaryOperator::Not,
                expr: Box::new(e),
            },
        ));
    }
    if let Ok((r, _)) = sym("-")(i) {
        let (r, e) = expr_bp(r, PREC_UNARY)?;
        // Fold a negated number into a negative literal, as PostgreSQL does.
        if let Expr::Literal(Literal::Number(n)) = &e {
            if !n.starts_with('-') {
                return Ok((r, Expr::Literal(Literal::Number(format!("-{n}")))));
            }
        }
        return Ok((
            r,
            Expr::Unary {
                op: UnaryOperator::Minus,
                expr: Box::new(e),
            },
        ));
    }
    if let Ok((r, _)) = sym("+")(i) {
        let (r, e) = expr_bp(r, PREC_UNARY)?;
        return Ok((
            r,
            Expr::Unary {
                op: UnaryOperator::Plus,
                expr: Box::new(e),
            },
        ));
    }
    primary(i)
}

/// primary = literal | '(' expr ')' | CAST '(' expr AS type ')'
///         | function_call | column_ref
fn primary(i: &str) -> PResult<'_, Expr> {
    if let Ok((r, _)) = sym("(")(i) {
        if super::starts_query(r) {
            let (r, q) = super::query(r)?;
            let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
            return Ok((r, Expr::Subquery(Box::new(q))));
        }
        let (r, e) = expr(r)?;
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return field_selection(r, e);
    }
    // `$n` is a parameter; `$$` and `$tag$` open dollar-quoted strings.
    if let Some(rest) = skip(i)
        .strip_prefix('$')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()) || !r.contains('$'))
    {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(n) = rest[..digits].parse::<usize>() {
            if n >= 1 {
                return Ok((&rest[digits..], Expr::Parameter(n)));
            }
        }
        return fatal(skip(i), "invalid parameter reference");
    }
    if let Some((r, n)) = attempt(number_lit(i))? {
        return Ok((r, Expr::Literal(Literal::Number(n))));
    }
    if let Some((r, s)) = attempt(string_lit(i))? {
        return Ok((r, Expr::Literal(Literal::String(s))));
    }
    if let Some(done) = typed_literal(i)? {
        return Ok(done);
    }
    if let Ok((r, _)) = kw("null")(i) {
        return Ok((r, Expr::Literal(Literal::Null)));
    }
    if let Ok((r, _)) = kw("true")(i) {
        return Ok((r, Expr::Literal(Literal::Boolean(true))));
    }
    if let Ok((r, _)) = kw("false")(i) {
        return Ok((r, Expr::Literal(Literal::Boolean(false))));
    }
    if let Ok((r, _)) = kw("case")(i) {
        return case(r);
    }
    if let Some(done) = exists_or_array(i)? {
        return Ok(done);
    }
    if let Ok((r, _)) = kw("cast")(i) {
        let (r, _) = sym("(")(r).map_err(|_| to_failure(r))?;
        let (r, e) = expr(r)?;
        let (r, _) = kw("as")(r).map_err(|_| to_failure(r))?;
        let (r, type_name) = type_name(r)?;
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return Ok((
            r,
            Expr::Cast {
                expr: Box::new(e),
                type_name,
            },
        ));
    }
    // Function names may be words that are otherwise reserved (`left`).
    if let Ok((r, first)) = super::lexer::any_word(i) {
        if let Ok((r, _)) = sym("(")(r) {
            if !matches!(
                first.as_str(),
                "select" | "case" | "not" | "in" | "and" | "or"
            ) {
                return call_with_over(r, first);
            }
        }
    }
    let (r, first) = ident(i)?;
    let mut parts = vec![first];
    let mut r = r;
    while let Ok((r2, _)) = sym(".")(r) {
        let (r2, part) = super::lexer::any_word(r2).map_err(|_| to_failure(r2))?;
        // `pg_catalog.func(...)`: a schema-qualified function call
        // (`information_schema`'s helpers too).
        if let Ok((r3, _)) = sym("(")(r2) {
            if parts.len() == 1 && matches!(parts[0].as_str(), "pg_catalog" | "information_schema")
            {
                return call_with_over(r3, part);
            }
        }
        parts.push(part);
        r = r2;
    }
    Ok((r, Expr::Identifier(parts)))
}

/// `(expr).field`, `((expr).a).b`: fields selected from a parenthesized
/// expression; the expression itself when no `.` follows.
#[inline(never)]
fn field_selection(mut r: &str, mut e: Expr) -> PResult<'_, Expr> {
    while let Ok((r2, _)) = sym(".")(r) {
        let (r2, field) = super::lexer::any_word(r2).map_err(|_| to_failure(r2))?;
        e = Expr::Field {
            expr: Box::new(e),
            field,
        };
        r = r2;
    }
    Ok((r, e))
}

/// case = CASE [expr] (WHEN expr THEN expr)+ [ELSE expr] END
fn case(i: &str) -> PResult<'_, Expr> {
    let (mut r, operand) = if peek_kw(i, "when") {
        (i, None)
    } else {
        let (r, e) = expr(i)?;
        (r, Some(Box::new(e)))
    };
    let mut whens = Vec::new();
    while let Ok((r2, _)) = kw("when")(r) {
        let (r2, w) = expr(r2)?;
        let (r2, _) = kw("then")(r2).map_err(|_| to_failure(r2))?;
        let (r2, t) = expr(r2)?;
        whens.push((w, t));
        r = r2;
    }
    if whens.is_empty() {
        return Err(to_failure(r));
    }
    let (r, else_result) = match kw("else")(r) {
        Ok((r2, _)) => {
            let (r2, e) = expr(r2)?;
            (r2, Some(Box::new(e)))
        }
        Err(_) => (r, None),
    };
    let (r, _) = kw("end")(r).map_err(|_| to_failure(r))?;
    Ok((
        r,
        Expr::Case {
            operand,
            whens,
            else_result,
        },
    ))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function {
        name: Ident::new(name),
        args,
        star: false,
        distinct: false,
    }
}

/// A function call and its OVER clause, if any. Out of line so the
/// recursive expression parser's frame stays small (deeply nested input
/// must end in an error, never a stack overflow).
#[inline(never)]
fn call_with_over(i: &str, name: Ident) -> PResult<'_, Expr> {
    let (r, call) = function_args(i, name)?;
    over(r, call)
}

/// over = [OVER '(' [PARTITION BY expr (',' expr)*] [ORDER BY order_by_list] ')']
/// (a named window, or a frame clause, is refused).
#[inline(never)]
fn over(i: &str, call: Expr) -> PResult<'_, Expr> {
    let Ok((r, _)) = kw("over")(i) else {
        return Ok((i, call));
    };
    let (r, _) = sym("(")(r).map_err(|_| to_failure(r))?;
    let (mut r, partition_by) = match kw("partition")(r) {
        Ok((r, _)) => {
            let (mut r, _) = kw("by")(r)?;
            let mut list = Vec::new();
            loop {
                let (r2, e) = expr(r)?;
                list.push(e);
                match sym(",")(r2) {
                    Ok((r3, _)) => r = r3,
                    Err(_) => break (r2, list),
                }
            }
        }
        Err(_) => (r, Vec::new()),
    };
    let mut order_by = Vec::new();
    if let Ok((r2, _)) = kw("order")(r) {
        let (r2, _) = kw("by")(r2)?;
        (r, order_by) = super::order_by_list(r2)?;
    }
    if peek_kw(r, "rows") || peek_kw(r, "range") || peek_kw(r, "groups") {
        return fatal(r, "window frame clauses are not supported yet");
    }
    let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
    Ok((
        r,
        Expr::Window(Box::new(WindowCall {
            func: call,
            partition_by,
            order_by,
        })),
    ))
}

/// function_args = '*' ')' | [DISTINCT] (expr (',' expr)*)? ')'
///   plus the SQL-standard forms `extract(field FROM e)`,
///   `substring(e FROM a [FOR b])`, `position(a IN b)` and
///   `trim([LEADING|TRAILING|BOTH] [chars] FROM e)`.
fn function_args(i: &str, name: Ident) -> PResult<'_, Expr> {
    let close = |r| sym(")")(r).map_err(|_| to_failure(r));
    if let Ok((r, _)) = sym("*")(i) {
        let (r, _) = close(r)?;
        return Ok((
            r,
            Expr::Function {
                name,
                args: vec![],
                star: true,
                distinct: false,
            },
        ));
    }
    match name.as_str() {
        "extract" => {
            let (r, field) = super::lexer::any_word(i)?;
            if let Ok((r, _)) = kw("from")(r) {
                let (r, e) = expr(r)?;
                let (r, _) = close(r)?;
                let args = vec![Expr::Literal(Literal::String(field.0)), e];
                return Ok((r, call("extract", args)));
            }
        }
        "position" => {
            if let Ok((r, a)) = expr_bp(i, PREC_OTHER) {
                if let Ok((r, _)) = kw("in")(r) {
                    let (r, b) = expr_bp(r, PREC_OTHER)?;
                    let (r, _) = close(r)?;
                    return Ok((r, call("position", vec![a, b])));
                }
            }
        }
        "trim" => return trim_args(i),
        _ => {}
    }
    if let Ok((r, _)) = sym(")")(i) {
        return Ok((
            r,
            Expr::Function {
                name,
                args: vec![],
                star: false,
                distinct: false,
            },
        ));
    }
    let (mut i, distinct) = match kw("distinct")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let mut args = Vec::new();
    loop {
        let (r, a) = expr(i)?;
        args.push(a);
        if let Ok((r, _)) = sym(",")(r) {
            i = r;
            continue;
        }
        if matches!(name.as_str(), "substring" | "substr") && args.len() == 1 {
            if let Ok((r2, _)) = kw("from")(r) {
                let (r2, from) = expr(r2)?;
                args.push(from);
                let r2 = match kw("for")(r2) {
                    Ok((r3, _)) => {
                        let (r3, len) = expr(r3)?;
                        args.push(len);
                        r3
                    }
                    Err(_) => r2,
                };
                let (r2, _) = close(r2)?;
                return Ok((r2, call("substring", args)));
            }
        }
        let r = match kw("order")(r) {
            Ok((r2, _)) => {
                let (r2, order) = aggregate_order(r2)?;
                args.push(Expr::AggregateOrder(order));
                r2
            }
            Err(_) => r,
        };
        let (r, _) = close(r)?;
        return Ok((
            r,
            Expr::Function {
                name,
                args,
                star: false,
                distinct,
            },
        ));
    }
}

/// The `BY ...` of an aggregate's `ORDER BY` (a rare form: its own frame).
#[inline(never)]
fn aggregate_order(r: &str) -> PResult<'_, Vec<crate::ast::OrderByExpr>> {
    let (r, _) = kw("by")(r)?;
    super::order_by_list(r)
}

/// trim_args = [LEADING|TRAILING|BOTH] [chars] FROM expr ')' | expr [',' expr] ')'
fn trim_args(i: &str) -> PResult<'_, Expr> {
    let close = |r| sym(")")(r).map_err(|_| to_failure(r));
    let (r, func) = if let Ok((r, _)) = kw("leading")(i) {
        (r, Some("ltrim"))
    } else if let Ok((r, _)) = kw("trailing")(i) {
        (r, Some("rtrim"))
    } else if let Ok((r, _)) = kw("both")(i) {
        (r, Some("btrim"))
    } else {
        (i, None)
    };
    let name = func.unwrap_or("btrim");
    if let Ok((r2, _)) = kw("from")(r) {
        let (r2, e) = expr(r2)?;
        let (r2, _) = close(r2)?;
        return Ok((r2, call(name, vec![e])));
    }
    let (r, first) = expr(r)?;
    if let Ok((r2, _)) = kw("from")(r) {
        let (r2, e) = expr(r2)?;
        let (r2, _) = close(r2)?;
        return Ok((r2, call(name, vec![e, first])));
    }
    let mut args = vec![first];
    let r = match sym(",")(r) {
        Ok((r2, _)) => {
            let (r2, chars) = expr(r2)?;
            args.push(chars);
            r2
        }
        Err(_) => r,
    };
    let (r, _) = close(r)?;
    Ok((r, call(name, args)))
}

// The rarer forms below live in functions of their own, kept out of line:
// the recursive descent's frames stay small, so the nesting limit is reached
// long before the stack's end.

/// `IN (query)`, after its opening parenthesis.
#[inline(never)]
fn in_subquery(i: &str, expr: Box<Expr>, negated: bool) -> PResult<'_, Expr> {
    let (r, q) = super::query(i)?;
    let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
    Ok((
        r,
        Expr::InSubquery {
            expr,
            query: Box::new(q),
            negated,
        },
    ))
}

/// `EXISTS (query)`, if that is what comes next.
#[inline(never)]
fn exists(i: &str) -> Result<Option<(&str, Expr)>, Err<super::lexer::PErr<'_>>> {
    let Ok((r, _)) = kw("exists")(i) else {
        return Ok(None);
    };
    let Ok((r, _)) = sym("(")(r) else {
        return Ok(None);
    };
    let (r, q) = super::query(r)?;
    let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
    Ok(Some((r, Expr::Exists(Box::new(q)))))
}

/// A typed literal, `interval '1 hour'` or `date '2024-01-31'`: the string
/// cast to the type. `None` if that is not what comes next.
#[inline(never)]
fn typed_literal(i: &str) -> Result<Option<(&str, Expr)>, Err<super::lexer::PErr<'_>>> {
    let Ok((_, word)) = super::lexer::any_word(i) else {
        return Ok(None);
    };
    if !TYPED_LITERALS.contains(&word.as_str()) {
        return Ok(None);
    }
    let Ok((r, type_name)) = type_name(i) else {
        return Ok(None);
    };
    Ok(attempt(string_lit(r))?.map(|(r, s)| {
        (
            r,
            Expr::Cast {
                expr: Box::new(Expr::Literal(Literal::String(s))),
                type_name,
            },
        )
    }))
}

/// Type names that may prefix a string literal (`interval '1 day'`).
const TYPED_LITERALS: &[&str] = &[
    "interval",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "text",
    "varchar",
    "int",
    "integer",
    "bigint",
    "int4",
    "int8",
    "numeric",
    "decimal",
    "boolean",
    "bool",
    "double",
    "float8",
    "real",
    "jsonb",
    "json",
    "bytea",
];

/// type_name = word+ ('(' number (',' number)? ')')?, for the multi-word
/// names `double precision`, `character varying` and
/// `timestamp with[out] time zone`. Returned lower-case, single-spaced.
#[inline(never)]
pub(crate) fn type_name(i: &str) -> PResult<'_, String> {
    let (r, first) = super::lexer::any_word(i).map_err(|_| to_failure(i))?;
    // `pg_catalog.text`: built-in types may be schema-qualified.
    let (r, first) = match (first.as_str(), sym(".")(r)) {
        ("pg_catalog", Ok((r2, _))) => super::lexer::any_word(r2).map_err(|_| to_failure(r2))?,
        _ => (r, first),
    };
    let mut r = r;
    let mut name = first.0;
    let follow = |r: &mut &str, words: &[&'static str]| {
        let mut t = *r;
        for w in words {
            match kw(w)(t) {
                Ok((n, _)) => t = n,
                Err(_) => return false,
            }
        }
        *r = t;
        true
    };
    match name.as_str() {
        "double" if follow(&mut r, &["precision"]) => name.push_str(" precision"),
        "character" if follow(&mut r, &["varying"]) => name.push_str(" varying"),
        "timestamp" if follow(&mut r, &["with", "time", "zone"]) => {
            name.push_str(" with time zone")
        }
        "timestamp" if follow(&mut r, &["without", "time", "zone"]) => {
            name.push_str(" without time zone")
        }
        _ => {}
    }
    if let Ok((r2, _)) = sym("(")(r) {
        let (r2, a) = number_lit(r2).map_err(|_| to_failure(r2))?;
        let (r2, b) = match sym(",")(r2) {
            Ok((r3, _)) => {
                let (r3, b) = number_lit(r3).map_err(|_| to_failure(r3))?;
                (r3, Some(b))
            }
            Err(_) => (r2, None),
        };
        let (r2, _) = sym(")")(r2).map_err(|_| to_failure(r2))?;
        name = match b {
            Some(b) => format!("{name}({a},{b})"),
            None => format!("{name}({a})"),
        };
        r = r2;
    }
    if let Ok((r2, _)) = sym("[")(r).and_then(|(r2, _)| sym("]")(r2)) {
        return Ok((r2, format!("{name}[]")));
    }
    if peek_kw(r, "array") || skip(r).starts_with('[') {
        return fatal(
            skip(r),
            "only one-dimensional arrays (type[]) are supported",
        );
    }
    Ok((r, name))
}

/// `IS [NOT] TRUE | FALSE` after `IS [NOT]`: compared as a value, NULL
/// included (`IS TRUE` is `IS NOT DISTINCT FROM true`). Kept out of the
/// expression loop so its frame stays small for deep nesting.
#[inline(never)]
fn is_truth<'a>(i: &'a str, lhs: &mut Expr, negated: bool) -> Option<&'a str> {
    let (r, v) = match kw("true")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (kw("false")(i).ok()?.0, false),
    };
    let left = std::mem::replace(lhs, Expr::Literal(Literal::Null));
    *lhs = Expr::IsDistinctFrom {
        left: Box::new(left),
        right: Box::new(Expr::Literal(Literal::Boolean(v))),
        negated: !negated,
    };
    Some(r)
}
