//! Expression rules, by precedence climbing over the table documented on
//! [`BinaryOperator::precedence`].

use nom::Err;

use super::lexer::{
    attempt, fatal, ident, kw, number_lit, peek_kw, skip, string_lit, sym, DepthGuard, PResult,
};
use crate::ast::{
    BinaryOperator, Expr, Ident, Literal, UnaryOperator, PREC_CAST, PREC_IS, PREC_NOT, PREC_UNARY,
};

/// expr = expression of any precedence
pub(crate) fn expr(i: &str) -> PResult<'_, Expr> {
    expr_bp(i, 0)
}

/// An expression whose operators all bind at least as tightly as `min`.
fn expr_bp(i: &str, min: u8) -> PResult<'_, Expr> {
    let _guard = DepthGuard::enter(i)?;
    let (mut i, mut lhs) = prefix(i)?;
    loop {
        if PREC_CAST >= min {
            if let Ok((r, _)) = sym("::")(i) {
                let (r, type_name) = type_name(r)?;
                lhs = Expr::Cast {
                    expr: Box::new(lhs),
                    type_name,
                };
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
                let (r, _) = kw("null")(r).map_err(|_| to_failure(r))?;
                lhs = Expr::IsNull {
                    expr: Box::new(lhs),
                    negated,
                };
                i = r;
                continue;
            }
        }
        match binary_op(i) {
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

fn to_failure(i: &str) -> Err<super::lexer::PErr<'_>> {
    Err::Failure(super::lexer::PErr {
        input: skip(i),
        message: None,
    })
}

/// binary_op = OR | AND | comparison | '||' | '->>' | '->' | + - * / %
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
        ("||", Concat),
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
        let (r, e) = expr(r)?;
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return Ok((r, e));
    }
    if let Some((r, n)) = attempt(number_lit(i))? {
        return Ok((r, Expr::Literal(Literal::Number(n))));
    }
    if let Some((r, s)) = attempt(string_lit(i))? {
        return Ok((r, Expr::Literal(Literal::String(s))));
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
    let (r, first) = ident(i)?;
    if let Ok((r, _)) = sym("(")(r) {
        return function_args(r, first);
    }
    let mut parts = vec![first];
    let mut r = r;
    while let Ok((r2, _)) = sym(".")(r) {
        let (r2, part) = ident(r2).map_err(|_| to_failure(r2))?;
        parts.push(part);
        r = r2;
    }
    Ok((r, Expr::Identifier(parts)))
}

/// function_args = '*' ')' | (expr (',' expr)*)? ')'
fn function_args(i: &str, name: Ident) -> PResult<'_, Expr> {
    if let Ok((r, _)) = sym("*")(i) {
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return Ok((
            r,
            Expr::Function {
                name,
                args: vec![],
                star: true,
            },
        ));
    }
    let mut args = Vec::new();
    if let Ok((r, _)) = sym(")")(i) {
        return Ok((
            r,
            Expr::Function {
                name,
                args,
                star: false,
            },
        ));
    }
    let mut i = i;
    loop {
        let (r, a) = expr(i)?;
        args.push(a);
        if let Ok((r, _)) = sym(",")(r) {
            i = r;
            continue;
        }
        let (r, _) = sym(")")(r).map_err(|_| to_failure(r))?;
        return Ok((
            r,
            Expr::Function {
                name,
                args,
                star: false,
            },
        ));
    }
}

/// type_name = word+ ('(' number (',' number)? ')')?, for the multi-word
/// names `double precision`, `character varying` and
/// `timestamp with[out] time zone`. Returned lower-case, single-spaced.
pub(crate) fn type_name(i: &str) -> PResult<'_, String> {
    let (r, first) = super::lexer::any_word(i).map_err(|_| to_failure(i))?;
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
    if peek_kw(r, "array") || skip(r).starts_with('[') {
        return fatal(skip(r), "array types are not supported");
    }
    Ok((r, name))
}
