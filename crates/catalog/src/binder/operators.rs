//! Operators: unary and binary operators, CASE, picking the typed
//! operator PostgreSQL would for the operand types.

use rivulet_expr::{ArithOp, BinaryOp, CmpOp, DataType, Expr, Func, Value};
use rivulet_sql::{self as ast, BinaryOperator};

use super::coercion::{coerce, common_type, unify};
use super::Binder;
use crate::{Error, Result};

/// `+` and `-` on dates, timestamps and intervals, as PostgreSQL types
/// them: the types each operand is taken as, and the result's. A string
/// literal added to a timestamp is an interval, subtracted from one a
/// timestamp; beside an interval it is an interval.
fn temporal(
    op: BinaryOperator,
    l: DataType,
    r: DataType,
) -> Option<(DataType, DataType, DataType)> {
    use BinaryOperator::{Minus, Plus};
    use DataType::{Date, Int4, Interval as Iv, Timestamptz as Ts, Unknown};
    Some(match (op, l, r) {
        (Plus, Ts, Iv | Unknown) | (Minus, Ts, Iv) => (Ts, Iv, Ts),
        (Plus, Iv | Unknown, Ts) => (Iv, Ts, Ts),
        (Minus, Ts, Ts | Unknown) | (Minus, Unknown, Ts) => (Ts, Ts, Iv),
        (Plus | Minus, Iv, Iv | Unknown) | (Plus | Minus, Unknown, Iv) => (Iv, Iv, Iv),
        (Plus | Minus, Date, Int4) => (Date, Int4, Date),
        (Plus, Int4, Date) => (Int4, Date, Date),
        (Minus, Date, Date) => (Date, Date, Int4),
        _ => return None,
    })
}

impl Binder<'_> {
    pub(super) fn bind_binary(
        &self,
        op: BinaryOperator,
        left: &ast::Expr,
        right: &ast::Expr,
    ) -> Result<(Expr, DataType)> {
        use BinaryOperator as B;
        let (l, lt) = self.bind(left)?;
        let (r, rt) = self.bind(right)?;
        let no_operator = || {
            Error::UndefinedFunction(format!(
                "operator does not exist: {lt} {} {rt}",
                op.symbol()
            ))
        };
        let boxed = |l, r| (Box::new(l), Box::new(r));
        match op {
            B::And | B::Or => {
                let what = if op == B::And {
                    "argument of AND"
                } else {
                    "argument of OR"
                };
                let (l, r) = boxed(
                    coerce(l, lt, DataType::Boolean, what)?,
                    coerce(r, rt, DataType::Boolean, what)?,
                );
                let e = if op == B::And {
                    Expr::And(l, r)
                } else {
                    Expr::Or(l, r)
                };
                Ok((e, DataType::Boolean))
            }
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                let ty = common_type(lt, rt).ok_or_else(no_operator)?;
                let cmp = match op {
                    B::Eq => CmpOp::Eq,
                    B::NotEq => CmpOp::NotEq,
                    B::Lt => CmpOp::Lt,
                    B::LtEq => CmpOp::LtEq,
                    B::Gt => CmpOp::Gt,
                    _ => CmpOp::GtEq,
                };
                let (l, r) = boxed(coerce(l, lt, ty, "")?, coerce(r, rt, ty, "")?);
                Ok((Expr::Binary(BinaryOp::Cmp(cmp), l, r), DataType::Boolean))
            }
            B::Arrow | B::LongArrow => {
                if !matches!(lt, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_operator());
                }
                let key_ty = match rt {
                    DataType::Text | DataType::Unknown => DataType::Text,
                    DataType::Int4 | DataType::Int8 => rt,
                    _ => return Err(no_operator()),
                };
                let (l, r) = boxed(
                    coerce(l, lt, DataType::Jsonb, "")?,
                    coerce(r, rt, key_ty, "")?,
                );
                Ok(if op == B::Arrow {
                    (Expr::Binary(BinaryOp::JsonGet, l, r), DataType::Jsonb)
                } else {
                    (Expr::Binary(BinaryOp::JsonGetText, l, r), DataType::Text)
                })
            }
            B::Concat if matches!(lt, DataType::Array(_)) || matches!(rt, DataType::Array(_)) => {
                super::arrays::concat(l, lt, r, rt)
            }
            B::Concat => {
                use DataType::{Bytea, Jsonb, Text, Unknown};
                let (kind, ty) = match (lt, rt) {
                    (Jsonb, Jsonb | Unknown) | (Unknown, Jsonb) => (BinaryOp::ConcatJsonb, Jsonb),
                    (Bytea, Bytea | Unknown) | (Unknown, Bytea) => (BinaryOp::ConcatBytea, Bytea),
                    (Text | Unknown, _) | (_, Text | Unknown) => (BinaryOp::ConcatText, Text),
                    _ => return Err(no_operator()),
                };
                let cl = if lt == Unknown {
                    coerce(l, lt, ty, "")?
                } else {
                    l
                };
                let cr = if rt == Unknown {
                    coerce(r, rt, ty, "")?
                } else {
                    r
                };
                Ok((Expr::Binary(kind, Box::new(cl), Box::new(cr)), ty))
            }
            B::Minus | B::HashMinus
                if lt == DataType::Jsonb || (op == B::HashMinus && lt == DataType::Unknown) =>
            {
                let l = coerce(l, lt, DataType::Jsonb, "")?;
                // `jsonb - text | text[] | integer`, `jsonb #- text[]`.
                let (func, rty) = match (op, rt) {
                    (B::HashMinus, DataType::Array(DataType::Text) | DataType::Unknown) => {
                        (Func::JsonbDeletePath, DataType::array_of(DataType::Text))
                    }
                    (B::Minus, DataType::Text | DataType::Unknown) => {
                        (Func::JsonbDelete, DataType::Text)
                    }
                    (B::Minus, DataType::Int4 | DataType::Int8) => (Func::JsonbDelete, rt),
                    (B::Minus, DataType::Array(DataType::Text)) => (Func::JsonbDelete, rt),
                    _ => return Err(no_operator()),
                };
                let r = coerce(r, rt, rty, "")?;
                Ok((Expr::Func(func, vec![l, r]), DataType::Jsonb))
            }
            B::HashMinus => Err(no_operator()),
            B::QuestionPipe | B::QuestionAmp => {
                if !matches!(lt, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_operator());
                }
                let keys = DataType::array_of(DataType::Text);
                if rt != keys && rt != DataType::Unknown {
                    return Err(no_operator());
                }
                let func = if op == B::QuestionPipe {
                    Func::JsonbExistsAny
                } else {
                    Func::JsonbExistsAll
                };
                let (l, r) = (
                    coerce(l, lt, DataType::Jsonb, "")?,
                    coerce(r, rt, keys, "")?,
                );
                Ok((Expr::Func(func, vec![l, r]), DataType::Boolean))
            }
            B::ContainedBy => {
                let jsonb = |t| matches!(t, DataType::Jsonb | DataType::Unknown);
                if !jsonb(lt) || !jsonb(rt) || (lt, rt) == (DataType::Unknown, DataType::Unknown) {
                    return Err(no_operator());
                }
                // `a <@ b` is `b @> a`.
                let (l, r) = (
                    coerce(l, lt, DataType::Jsonb, "")?,
                    coerce(r, rt, DataType::Jsonb, "")?,
                );
                Ok((
                    Expr::Binary(BinaryOp::JsonContains, Box::new(r), Box::new(l)),
                    DataType::Boolean,
                ))
            }
            B::Plus | B::Minus if temporal(op, lt, rt).is_some() => {
                let Some((lt_to, rt_to, ty)) = temporal(op, lt, rt) else {
                    return Err(no_operator());
                };
                let a = if op == B::Plus {
                    ArithOp::Add
                } else {
                    ArithOp::Sub
                };
                let (l, r) = boxed(coerce(l, lt, lt_to, "")?, coerce(r, rt, rt_to, "")?);
                Ok((Expr::Binary(BinaryOp::Arith(a), l, r), ty))
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                let ty = match common_type(lt, rt) {
                    Some(t) if t.is_numeric() => t,
                    _ => return Err(no_operator()),
                };
                if ty == DataType::Float8 && op == B::Modulo {
                    return Err(no_operator());
                }
                let a = match op {
                    B::Plus => ArithOp::Add,
                    B::Minus => ArithOp::Sub,
                    B::Multiply => ArithOp::Mul,
                    B::Divide => ArithOp::Div,
                    _ => ArithOp::Mod,
                };
                let (l, r) = boxed(coerce(l, lt, ty, "")?, coerce(r, rt, ty, "")?);
                Ok((Expr::Binary(BinaryOp::Arith(a), l, r), ty))
            }
            B::BitAnd | B::BitOr | B::BitXor | B::ShiftLeft | B::ShiftRight => {
                bitwise(op, (l, lt), (r, rt)).ok_or_else(no_operator)
            }
            B::RegexMatch | B::RegexIMatch | B::RegexNotMatch | B::RegexNotIMatch => {
                let text = |e, t: DataType| match t {
                    DataType::Text | DataType::Unknown => coerce(e, t, DataType::Text, ""),
                    _ => Err(no_operator()),
                };
                let kind = BinaryOp::Regex {
                    case_insensitive: matches!(op, B::RegexIMatch | B::RegexNotIMatch),
                    negated: matches!(op, B::RegexNotMatch | B::RegexNotIMatch),
                };
                Ok((
                    Expr::Binary(kind, Box::new(text(l, lt)?), Box::new(text(r, rt)?)),
                    DataType::Boolean,
                ))
            }
            B::HashArrow | B::HashLongArrow | B::Question | B::Contains => {
                if !matches!(lt, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_operator());
                }
                let l = coerce(l, lt, DataType::Jsonb, "")?;
                let (kind, rty, out) = match op {
                    B::HashArrow => (BinaryOp::JsonPath, DataType::Text, DataType::Jsonb),
                    B::HashLongArrow => (BinaryOp::JsonPathText, DataType::Text, DataType::Text),
                    B::Question => (BinaryOp::JsonHasKey, DataType::Text, DataType::Boolean),
                    _ => (BinaryOp::JsonContains, DataType::Jsonb, DataType::Boolean),
                };
                if rt != rty && rt != DataType::Unknown {
                    return Err(no_operator());
                }
                let r = coerce(r, rt, rty, "")?;
                Ok((Expr::Binary(kind, Box::new(l), Box::new(r)), out))
            }
        }
    }

    pub(super) fn bind_case(
        &self,
        operand: Option<&ast::Expr>,
        whens: &[(ast::Expr, ast::Expr)],
        else_result: Option<&ast::Expr>,
    ) -> Result<(Expr, DataType)> {
        let mut conds = Vec::with_capacity(whens.len());
        let mut results = Vec::with_capacity(whens.len() + 1);
        for (w, t) in whens {
            let cond = match operand {
                Some(o) => ast::Expr::Binary {
                    op: BinaryOperator::Eq,
                    left: Box::new(o.clone()),
                    right: Box::new(w.clone()),
                },
                None => w.clone(),
            };
            conds.push(self.bind_predicate(&cond, "CASE/WHEN")?);
            results.push(self.bind(t)?);
        }
        results.push(match else_result {
            Some(e) => self.bind(e)?,
            None => (Expr::Literal(Value::Null), DataType::Unknown),
        });
        let (mut results, ty) = unify(results, "CASE")?;
        let otherwise = results.pop().unwrap_or(Expr::Literal(Value::Null));
        Ok((
            Expr::Case(
                conds.into_iter().zip(results).collect(),
                Box::new(otherwise),
            ),
            ty,
        ))
    }
}

/// `&`, `|`, `#`, `<<` and `>>` on integers (a shift's count an
/// `integer`); `None` for other operand types. Off the binder's
/// recursive path.
#[inline(never)]
fn bitwise(
    op: ast::BinaryOperator,
    (l, lt): (Expr, DataType),
    (r, rt): (Expr, DataType),
) -> Option<(Expr, DataType)> {
    use ast::BinaryOperator as B;
    let integer = |t: DataType| matches!(t, DataType::Int4 | DataType::Int8);
    let (a, lt_to, rt_to) = match op {
        B::ShiftLeft | B::ShiftRight => {
            let lt_to = if lt == DataType::Unknown {
                DataType::Int4
            } else {
                lt
            };
            let a = if op == B::ShiftLeft {
                ArithOp::Shl
            } else {
                ArithOp::Shr
            };
            (a, lt_to, DataType::Int4)
        }
        _ => {
            let ty = match common_type(lt, rt) {
                Some(DataType::Text) | None => lt,
                Some(t) => t,
            };
            let a = match op {
                B::BitAnd => ArithOp::BitAnd,
                B::BitOr => ArithOp::BitOr,
                _ => ArithOp::BitXor,
            };
            (a, ty, ty)
        }
    };
    if !integer(lt_to) || !(integer(rt) || rt == DataType::Unknown) {
        return None;
    }
    let l = coerce(l, lt, lt_to, "").ok()?;
    let r = coerce(r, rt, rt_to, "").ok()?;
    Some((
        Expr::Binary(BinaryOp::Arith(a), Box::new(l), Box::new(r)),
        lt_to,
    ))
}
