//! The abstract syntax tree. `Display` prints SQL that parses back to the
//! same tree, with identifiers quoted only where needed and parentheses only
//! where precedence requires them.

use std::fmt::{self, Display, Formatter, Write};

/// An identifier, already case-folded: unquoted names are lower-cased,
/// quoted names are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(pub String);

impl Ident {
    /// Creates an identifier from an already-folded name.
    pub fn new(s: impl Into<String>) -> Ident {
        Ident(s.into())
    }

    /// The folded name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let plain = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
            && !crate::keywords::is_reserved(s);
        if plain {
            f.write_str(s)
        } else {
            write!(f, "\"{}\"", s.replace('"', "\"\""))
        }
    }
}

/// A possibly schema-qualified object name (`t`, `public.t`, `dev.public.t`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName(pub Vec<Ident>);

impl ObjectName {
    /// The last part: the object's own name.
    pub fn name(&self) -> &Ident {
        // The parser never builds an empty name.
        #[allow(clippy::expect_used)]
        self.0.last().expect("object name has at least one part")
    }
}

impl Display for ObjectName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_list(f, &self.0, ".")
    }
}

/// A literal constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A numeric literal, kept as written (`42`, `2.50`, `1e3`).
    Number(String),
    /// A string literal (`'x'`, `E'x'`), unescaped.
    String(String),
    /// `TRUE` or `FALSE`.
    Boolean(bool),
    /// `NULL`.
    Null,
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => f.write_str(n),
            Literal::String(s) => write_string_literal(f, s),
            Literal::Boolean(true) => f.write_str("true"),
            Literal::Boolean(false) => f.write_str("false"),
            Literal::Null => f.write_str("NULL"),
        }
    }
}

/// Writes a SQL string literal, doubling quotes; uses `E''` syntax when the
/// string holds characters that would not survive a plain literal.
/// The expressions of RETURNING items.
fn returning_exprs(items: &mut [SelectItem]) -> impl Iterator<Item = &mut Expr> {
    items.iter_mut().filter_map(|i| match i {
        SelectItem::Expr { expr, .. } => Some(expr),
        _ => None,
    })
}

/// ` RETURNING items`, if there are any.
fn write_returning(f: &mut Formatter<'_>, items: &[SelectItem]) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    f.write_str(" RETURNING ")?;
    write_list(f, items, ", ")
}

fn write_string_literal(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    f.write_str(&s.replace('\'', "''"))?;
    f.write_char('\'')
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOperator {
    /// `NOT`.
    Not,
    /// Unary `-`.
    Minus,
    /// Unary `+`.
    Plus,
}

/// An infix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOperator {
    /// `OR`.
    Or,
    /// `AND`.
    And,
    /// `=`.
    Eq,
    /// `<>` or `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `||`.
    Concat,
    /// `->`: a JSON field or element.
    Arrow,
    /// `->>`: a JSON field or element as text.
    LongArrow,
    /// `#>`: a JSON path.
    HashArrow,
    /// `#>>`: a JSON path as text.
    HashLongArrow,
    /// `?`: whether a JSON key exists.
    Question,
    /// `@>`: JSON containment.
    Contains,
    /// `#-`: a JSON document without the item at a path.
    HashMinus,
    /// `?|`: whether any of the keys exists.
    QuestionPipe,
    /// `?&`: whether all of the keys exist.
    QuestionAmp,
    /// `<@`: JSON containment, the other way round.
    ContainedBy,
    /// `~` (and `~*` case-insensitive): POSIX regular expression match.
    RegexMatch,
    /// `~*`.
    RegexIMatch,
    /// `!~` / `!~*`: no match.
    RegexNotMatch,
    /// `!~*`.
    RegexNotIMatch,
    /// Binary `+`.
    Plus,
    /// Binary `-`.
    Minus,
    /// `*`.
    Multiply,
    /// `/`.
    Divide,
    /// `%`.
    Modulo,
    /// `&`: bitwise and.
    BitAnd,
    /// `|`: bitwise or.
    BitOr,
    /// `#`: bitwise exclusive or.
    BitXor,
    /// `<<`: shift left.
    ShiftLeft,
    /// `>>`: shift right.
    ShiftRight,
}

impl BinaryOperator {
    /// Binding power, from PostgreSQL's operator precedence table
    /// (higher binds tighter):
    ///
    /// | prec | operators                              | assoc |
    /// |------|----------------------------------------|-------|
    /// | 1    | `OR`                                   | left  |
    /// | 2    | `AND`                                  | left  |
    /// | 3    | `NOT` (prefix)                         | right |
    /// | 4    | `IS [NOT] NULL` (postfix)              |       |
    /// | 5    | `= <> < <= > >=`                       | none  |
    /// | 6    | `[NOT] IN`, `BETWEEN`, `LIKE`, `ILIKE` |       |
    /// | 7    | `\|\| -> ->> #> #>> ? @> & \| # << >>` (other ops) | left |
    /// | 8    | `+ -`                                  | left  |
    /// | 9    | `* / %`                                | left  |
    /// | 10   | unary `-` `+`                          | right |
    /// | 11   | `::` (postfix)                         | left  |
    pub fn precedence(self) -> u8 {
        use BinaryOperator::*;
        match self {
            Or => 1,
            And => 2,
            Eq | NotEq | Lt | LtEq | Gt | GtEq => 5,
            Concat | Arrow | LongArrow | HashArrow | HashLongArrow | HashMinus | Question
            | QuestionPipe | QuestionAmp | Contains | ContainedBy | RegexMatch | RegexIMatch
            | RegexNotMatch | RegexNotIMatch | BitAnd | BitOr | BitXor | ShiftLeft | ShiftRight => {
                7
            }
            Plus | Minus => 8,
            Multiply | Divide | Modulo => 9,
        }
    }

    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        use BinaryOperator::*;
        match self {
            Or => "OR",
            And => "AND",
            Eq => "=",
            NotEq => "<>",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            Concat => "||",
            Arrow => "->",
            LongArrow => "->>",
            HashArrow => "#>",
            HashLongArrow => "#>>",
            HashMinus => "#-",
            QuestionPipe => "?|",
            QuestionAmp => "?&",
            ContainedBy => "<@",
            Question => "?",
            Contains => "@>",
            RegexMatch => "~",
            RegexIMatch => "~*",
            RegexNotMatch => "!~",
            RegexNotIMatch => "!~*",
            Plus => "+",
            Minus => "-",
            Multiply => "*",
            Divide => "/",
            Modulo => "%",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "#",
            ShiftLeft => "<<",
            ShiftRight => ">>",
        }
    }
}

/// Precedence of `NOT`, `IS`, unary minus and `::` (see
/// [`BinaryOperator::precedence`]).
pub(crate) const PREC_NOT: u8 = 3;
pub(crate) const PREC_IS: u8 = 4;
pub(crate) const PREC_IN: u8 = 6;
pub(crate) const PREC_OTHER: u8 = 7;
pub(crate) const PREC_UNARY: u8 = 10;
pub(crate) const PREC_CAST: u8 = 11;

/// An expression as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Literal(Literal),
    /// A column reference, possibly qualified (`t.col`).
    Identifier(Vec<Ident>),
    /// A prefix operator applied to an operand.
    Unary {
        /// The operator.
        op: UnaryOperator,
        /// The operand.
        expr: Box<Expr>,
    },
    /// An infix operator applied to two operands.
    Binary {
        /// The operator.
        op: BinaryOperator,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL` rather than `IS NULL`.
        negated: bool,
    },
    /// `ARRAY[a, b, ...]`.
    Array(Vec<Expr>),
    /// `ARRAY(query)`: a one-column query's values as an array.
    ArraySubquery(Box<Query>),
    /// `(expr).field`: a field of a composite value.
    Field {
        /// The composite value.
        expr: Box<Expr>,
        /// The field's name.
        field: Ident,
    },
    /// `expr[index]`: an array's element (1-based).
    Subscript {
        /// The array.
        expr: Box<Expr>,
        /// The position.
        index: Box<Expr>,
    },
    /// `left IS [NOT] DISTINCT FROM right`: equality with NULL a value.
    IsDistinctFrom {
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
        /// `IS NOT DISTINCT FROM`.
        negated: bool,
    },
    /// `expr::type` or `CAST(expr AS type)`; the type name is lower-cased.
    Cast {
        /// The expression cast.
        expr: Box<Expr>,
        /// The target type as written (modifiers included).
        type_name: String,
    },
    /// `name(args)`; `count(*)` has `star` set and no args;
    /// `count(DISTINCT x)` has `distinct` set.
    Function {
        /// The function's name.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
        /// Called as `f(*)`.
        star: bool,
        /// Called as `f(DISTINCT ...)`.
        distinct: bool,
    },
    /// `ORDER BY ...` inside an aggregate call (`agg(x ORDER BY y)`): the
    /// call's last argument, printed without a comma. Kept in the
    /// arguments so a call stays small (the parser recurses through it).
    AggregateOrder(Vec<OrderByExpr>),
    /// A window function call: `f(args) OVER (PARTITION BY ... ORDER BY
    /// ...)`.
    Window(Box<WindowCall>),
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        /// The value compared with each WHEN (simple CASE), if any.
        operand: Option<Box<Expr>>,
        /// Each WHEN condition (or value) and its result.
        whens: Vec<(Expr, Expr)>,
        /// The ELSE result, if any.
        else_result: Option<Box<Expr>>,
    },
    /// `expr [NOT] IN (list)`
    InList {
        /// The tested expression.
        expr: Box<Expr>,
        /// The list's items.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr = ANY (array)` (or `expr <> ALL (array)`, `negated`) over an
    /// array value rather than an `ARRAY[...]` list.
    AnyArray {
        /// The tested expression.
        expr: Box<Expr>,
        /// The array.
        array: Box<Expr>,
        /// `<> ALL`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`
    Between {
        /// The tested expression.
        expr: Box<Expr>,
        /// The lower bound.
        low: Box<Expr>,
        /// The upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `$n`: a parameter of a prepared statement (1-based).
    Parameter(usize),
    /// `(SELECT ...)`: a scalar subquery.
    Subquery(Box<Query>),
    /// `expr [NOT] IN (SELECT ...)`
    InSubquery {
        /// The tested expression.
        expr: Box<Expr>,
        /// The one-column subquery.
        query: Box<Query>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `EXISTS (SELECT ...)`
    Exists(Box<Query>),
    /// `expr [NOT] LIKE|ILIKE pattern`
    Like {
        /// The tested text.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// `NOT LIKE`.
        negated: bool,
        /// `ILIKE`.
        case_insensitive: bool,
        /// The `ESCAPE` character, if not the default backslash.
        escape: Option<Box<Expr>>,
    },
}

/// An expression printed where at least precedence `.1` is needed.
struct AtPrecedence<'a>(&'a Expr, u8);

impl Display for AtPrecedence<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.0.fmt_prec(f, self.1)
    }
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Binary { op, .. } => op.precedence(),
            Expr::Unary {
                op: UnaryOperator::Not,
                ..
            } => PREC_NOT,
            Expr::Unary { .. } => PREC_UNARY,
            Expr::IsNull { .. } | Expr::IsDistinctFrom { .. } => PREC_IS,
            Expr::InList { .. }
            | Expr::AnyArray { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Like { .. } => PREC_IN,
            Expr::Cast { .. } => PREC_CAST,
            // Negative number literals need parentheses before `::`.
            Expr::Literal(Literal::Number(n)) if n.starts_with('-') => PREC_UNARY,
            _ => u8::MAX,
        }
    }

    /// Writes `self`, parenthesised if it binds looser than `min`.
    fn fmt_prec(&self, f: &mut Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(l) => write!(f, "{l}"),
            Expr::Parameter(n) => write!(f, "${n}"),
            Expr::Subquery(q) => write!(f, "({q})"),
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                expr.fmt_prec(f, PREC_IN + 1)?;
                write!(f, " {}IN ({query})", if *negated { "NOT " } else { "" })
            }
            Expr::Exists(q) => write!(f, "EXISTS ({q})"),
            Expr::Identifier(parts) => write_list(f, parts, "."),
            Expr::Unary { op, expr } => {
                let (sym, prec) = match op {
                    UnaryOperator::Not => ("NOT ", PREC_NOT),
                    UnaryOperator::Minus => ("-", PREC_UNARY),
                    UnaryOperator::Plus => ("+", PREC_UNARY),
                };
                f.write_str(sym)?;
                if *op == UnaryOperator::Not {
                    return expr.fmt_prec(f, prec);
                }
                // `-` before an operand that starts with `-` would print
                // `--`, which reads back as a comment.
                let operand = AtPrecedence(expr, prec).to_string();
                if operand.starts_with(['-', '+']) {
                    write!(f, "({operand})")
                } else {
                    f.write_str(&operand)
                }
            }
            Expr::Binary { op, left, right } => {
                let p = op.precedence();
                // Left-associative: the right operand needs parentheses at
                // equal precedence; comparisons are non-associative.
                let left_min = if p == 5 { p + 1 } else { p };
                left.fmt_prec(f, left_min)?;
                write!(f, " {} ", op.symbol())?;
                right.fmt_prec(f, p + 1)
            }
            Expr::IsNull { expr, negated } => {
                expr.fmt_prec(f, PREC_IS + 1)?;
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
            Expr::IsDistinctFrom {
                left,
                right,
                negated,
            } => {
                left.fmt_prec(f, PREC_IS + 1)?;
                f.write_str(if *negated {
                    " IS NOT DISTINCT FROM "
                } else {
                    " IS DISTINCT FROM "
                })?;
                right.fmt_prec(f, PREC_IS + 1)
            }
            Expr::Cast { expr, type_name } => {
                expr.fmt_prec(f, PREC_CAST)?;
                write!(f, "::{type_name}")
            }
            Expr::Function {
                name,
                args,
                star,
                distinct,
            } => {
                match (name.as_str(), args.as_slice()) {
                    ("extract", [Expr::Literal(Literal::String(field)), e]) => {
                        return write!(f, "extract({field} FROM {e})");
                    }
                    ("position", [a, b]) => {
                        // The operands bind tighter than IN.
                        f.write_str("position(")?;
                        a.fmt_prec(f, PREC_OTHER)?;
                        f.write_str(" IN ")?;
                        b.fmt_prec(f, PREC_OTHER)?;
                        return f.write_char(')');
                    }
                    _ => {}
                }
                write!(f, "{name}(")?;
                if *distinct {
                    f.write_str("DISTINCT ")?;
                }
                if *star {
                    f.write_char('*')?;
                }
                match args.split_last() {
                    Some((Expr::AggregateOrder(order), rest)) => {
                        write_list(f, rest, ", ")?;
                        write!(f, " {}", Expr::AggregateOrder(order.clone()))?;
                    }
                    _ => write_list(f, args, ", ")?,
                }
                f.write_char(')')
            }
            Expr::AggregateOrder(order) => {
                f.write_str("ORDER BY ")?;
                write_list(f, order, ", ")
            }
            Expr::Window(w) => write!(f, "{w}"),
            Expr::Array(items) => {
                f.write_str("ARRAY[")?;
                write_list(f, items, ", ")?;
                f.write_char(']')
            }
            Expr::ArraySubquery(q) => write!(f, "ARRAY({q})"),
            Expr::Subscript { expr, index } => {
                expr.fmt_prec(f, PREC_CAST)?;
                write!(f, "[{index}]")
            }
            Expr::Field { expr, field } => write!(f, "({expr}).{field}"),
            Expr::Case {
                operand,
                whens,
                else_result,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = else_result {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                expr.fmt_prec(f, PREC_IN + 1)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                write_list(f, list, ", ")?;
                f.write_char(')')
            }
            Expr::AnyArray {
                expr,
                array,
                negated,
            } => {
                expr.fmt_prec(f, PREC_IN + 1)?;
                f.write_str(if *negated { " <> ALL (" } else { " = ANY (" })?;
                write!(f, "{array})")
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                expr.fmt_prec(f, PREC_IN + 1)?;
                f.write_str(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                })?;
                low.fmt_prec(f, PREC_IN + 1)?;
                f.write_str(" AND ")?;
                high.fmt_prec(f, PREC_IN + 1)
            }
            Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
                escape,
            } => {
                expr.fmt_prec(f, PREC_IN + 1)?;
                f.write_str(match (negated, case_insensitive) {
                    (false, false) => " LIKE ",
                    (true, false) => " NOT LIKE ",
                    (false, true) => " ILIKE ",
                    (true, true) => " NOT ILIKE ",
                })?;
                pattern.fmt_prec(f, PREC_IN + 1)?;
                if let Some(e) = escape {
                    f.write_str(" ESCAPE ")?;
                    e.fmt_prec(f, PREC_IN + 1)?;
                }
                Ok(())
            }
        }
    }
}

/// One item of a SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard,
    /// `relation.*` (or `schema.relation.*`): that relation's columns.
    QualifiedWildcard(Vec<Ident>),
    /// `expr [AS alias]`
    Expr {
        /// The expression.
        expr: Expr,
        /// Its output name, if given.
        alias: Option<Ident>,
    },
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_char('*'),
            SelectItem::QualifiedWildcard(parts) => {
                for p in parts {
                    write!(f, "{p}.")?;
                }
                f.write_char('*')
            }
            SelectItem::Expr { expr, alias: None } => write!(f, "{expr}"),
            SelectItem::Expr {
                expr,
                alias: Some(a),
            } => write!(f, "{expr} AS {a}"),
        }
    }
}

/// `expr [ASC | DESC]`
#[derive(Debug, Clone, PartialEq)]
pub struct OrderByExpr {
    /// The sort key.
    pub expr: Expr,
    /// Descending.
    pub desc: bool,
    /// `NULLS FIRST` (`Some(true)`) or `NULLS LAST`; `None` for the
    /// default (NULLs last ascending, first descending).
    pub nulls_first: Option<bool>,
}

impl OrderByExpr {
    /// A key in the default NULL placement.
    pub fn new(expr: Expr, desc: bool) -> OrderByExpr {
        OrderByExpr {
            expr,
            desc,
            nulls_first: None,
        }
    }

    /// `Some(nulls_first)` when the key asks for the NULL placement the
    /// direction does not give by default.
    pub fn nulls_override(&self) -> Option<bool> {
        self.nulls_first.filter(|&first| first != self.desc)
    }

    /// The keys with each override of the NULL placement made a key of
    /// its own before it: `x IS NULL`, descending for `NULLS FIRST` (for
    /// keys that are expressions, not output positions or names).
    pub fn expand_nulls(keys: &[OrderByExpr]) -> Vec<OrderByExpr> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(first) = k.nulls_override() {
                out.push(OrderByExpr::new(
                    Expr::IsNull {
                        expr: Box::new(k.expr.clone()),
                        negated: false,
                    },
                    first,
                ));
            }
            out.push(OrderByExpr::new(k.expr.clone(), k.desc));
        }
        out
    }
}

impl Display for OrderByExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.expr, if self.desc { " DESC" } else { "" })?;
        match self.nulls_first {
            Some(true) => f.write_str(" NULLS FIRST"),
            Some(false) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

/// A call with `OVER (...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    /// The function call ([`Expr::Function`]).
    pub func: Expr,
    /// `PARTITION BY`: rows with equal values form one partition.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` within each partition.
    pub order_by: Vec<OrderByExpr>,
}

impl Display for WindowCall {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} OVER (", self.func)?;
        if !self.partition_by.is_empty() {
            f.write_str("PARTITION BY ")?;
            write_list(f, &self.partition_by, ", ")?;
            if !self.order_by.is_empty() {
                f.write_char(' ')?;
            }
        }
        if !self.order_by.is_empty() {
            f.write_str("ORDER BY ")?;
            write_list(f, &self.order_by, ", ")?;
        }
        f.write_char(')')
    }
}

/// The kind of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `[INNER] JOIN`.
    Inner,
    /// `LEFT [OUTER] JOIN`.
    Left,
}

/// A FROM item: a relation with an optional alias, or a join of two items.
#[derive(Debug, Clone, PartialEq)]
pub enum TableRef {
    /// A table or view by name.
    Table {
        /// Its name.
        name: ObjectName,
        /// The alias it is referred to by, if any.
        alias: Option<Ident>,
    },
    /// Two FROM items joined.
    Join {
        /// The left item.
        left: Box<TableRef>,
        /// The right item.
        right: Box<TableRef>,
        /// Inner or left.
        kind: JoinKind,
        /// The ON condition (`true` for a join with USING).
        on: Expr,
        /// `USING (columns)`: the columns both sides share, equal in every
        /// joined row (empty for ON).
        using: Vec<Ident>,
    },
    /// A set-returning function in FROM: `name(args) [AS] alias
    /// [(columns)]`; it may read the columns of the items before it
    /// (`LATERAL` is implied, as in PostgreSQL).
    Function {
        /// The function's name.
        name: Ident,
        /// Its arguments.
        args: Vec<Expr>,
        /// Its name in the query, if given.
        alias: Option<Ident>,
        /// New names for its columns, if given.
        columns: Vec<Ident>,
    },
    /// A subquery in FROM: `(query) [AS] alias [(columns)]`.
    Derived {
        /// The subquery.
        query: Box<Query>,
        /// Its name in the outer query.
        alias: Ident,
        /// New names for its first columns, if given.
        columns: Vec<Ident>,
    },
}

impl Display for TableRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TableRef::Table { name, alias: None } => write!(f, "{name}"),
            TableRef::Table {
                name,
                alias: Some(a),
            } => write!(f, "{name} AS {a}"),
            TableRef::Join {
                left,
                right,
                kind,
                on,
                using,
            } => {
                let k = match kind {
                    JoinKind::Inner => "JOIN",
                    JoinKind::Left => "LEFT JOIN",
                };
                match **right {
                    TableRef::Join { .. } => write!(f, "{left} {k} ({right})")?,
                    _ => write!(f, "{left} {k} {right}")?,
                }
                if using.is_empty() {
                    write!(f, " ON {on}")
                } else {
                    f.write_str(" USING (")?;
                    write_list(f, using, ", ")?;
                    f.write_char(')')
                }
            }
            TableRef::Function {
                name,
                args,
                alias,
                columns,
            } => {
                write!(f, "{name}(")?;
                write_list(f, args, ", ")?;
                f.write_str(")")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                if !columns.is_empty() {
                    f.write_str(" (")?;
                    write_list(f, columns, ", ")?;
                    f.write_str(")")?;
                }
                Ok(())
            }
            TableRef::Derived {
                query,
                alias,
                columns,
            } => {
                write!(f, "({query}) AS {alias}")?;
                if !columns.is_empty() {
                    f.write_str(" (")?;
                    write_list(f, columns, ", ")?;
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

/// A common table expression: `name [(columns)] AS (query)` in `WITH`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    /// The name the rest of the query reads it by.
    pub name: Ident,
    /// New names for its first columns, if given.
    pub columns: Vec<Ident>,
    /// Its query.
    pub query: Query,
    /// Written in `WITH RECURSIVE`: its query may read its own name (as
    /// `base UNION [ALL] step`).
    pub recursive: bool,
}

/// What `COMMENT ON` comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOn {
    /// `TABLE`.
    Table,
    /// `VIEW`.
    View,
    /// `MATERIALIZED VIEW`.
    MaterializedView,
    /// `COLUMN`.
    Column,
}

/// A SELECT query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `WITH` common table expressions, in order (each may read those
    /// before it).
    pub with: Vec<Cte>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// `SELECT DISTINCT ON (expr, ...)`: the first row of each set of
    /// rows equal in these (empty for none).
    pub distinct_on: Vec<Expr>,
    /// The select list.
    pub projection: Vec<SelectItem>,
    /// The FROM clause, if any.
    pub from: Option<TableRef>,
    /// The WHERE clause, if any.
    pub selection: Option<Expr>,
    /// The GROUP BY expressions.
    pub group_by: Vec<Expr>,
    /// The HAVING clause, if any.
    pub having: Option<Expr>,
    /// `UNION [ALL] select ...` parts following this one (`true` = ALL);
    /// ORDER BY, LIMIT and OFFSET then apply to the whole union.
    pub unions: Vec<(bool, Query)>,
    /// `left INTERSECT | EXCEPT [ALL] right`: when set, this query's rows
    /// are those (its select list, FROM and so on are empty); UNIONs,
    /// ORDER BY, LIMIT and OFFSET still follow.
    pub set_op: Option<Box<SetOperation>>,
    /// The ORDER BY keys.
    pub order_by: Vec<OrderByExpr>,
    /// The LIMIT expression, if any.
    pub limit: Option<Expr>,
    /// The OFFSET expression, if any.
    pub offset: Option<Expr>,
}

/// `INTERSECT` or `EXCEPT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// Rows in both.
    Intersect,
    /// Rows of the left not in the right.
    Except,
}

/// `left INTERSECT | EXCEPT [ALL] right`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetOperation {
    /// Which operation.
    pub op: SetOp,
    /// `ALL`: rows kept as many times as they occur (the lesser count,
    /// or the difference); otherwise each once.
    pub all: bool,
    /// The left query.
    pub left: Query,
    /// The right query.
    pub right: Query,
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, cte) in self.with.iter().enumerate() {
            f.write_str(match (i, cte.recursive) {
                (0, true) => "WITH RECURSIVE ",
                (0, false) => "WITH ",
                _ => ", ",
            })?;
            write!(f, "{}", cte.name)?;
            if !cte.columns.is_empty() {
                f.write_str(" (")?;
                write_list(f, &cte.columns, ", ")?;
                f.write_str(")")?;
            }
            write!(f, " AS ({})", cte.query)?;
        }
        if !self.with.is_empty() {
            f.write_str(" ")?;
        }
        if let Some(s) = &self.set_op {
            let op = match s.op {
                SetOp::Intersect => "INTERSECT",
                SetOp::Except => "EXCEPT",
            };
            let all = if s.all { " ALL" } else { "" };
            write!(f, "{} {op}{all} {}", s.left, s.right)?;
            return self.fmt_tail(f);
        }
        f.write_str(if self.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        })?;
        if !self.distinct_on.is_empty() {
            f.write_str("DISTINCT ON (")?;
            write_list(f, &self.distinct_on, ", ")?;
            f.write_str(") ")?;
        }
        write_list(f, &self.projection, ", ")?;
        if let Some(from) = &self.from {
            write!(f, " FROM {from}")?;
        }
        if let Some(w) = &self.selection {
            write!(f, " WHERE {w}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            write_list(f, &self.group_by, ", ")?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        self.fmt_tail(f)
    }
}

impl Query {
    /// What follows the first query of a chain: UNIONs, ORDER BY, LIMIT,
    /// OFFSET.
    fn fmt_tail(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (all, q) in &self.unions {
            write!(f, " UNION {}{q}", if *all { "ALL " } else { "" })?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            write_list(f, &self.order_by, ", ")?;
        }
        if let Some(l) = &self.limit {
            write!(f, " LIMIT {l}")?;
        }
        if let Some(o) = &self.offset {
            write!(f, " OFFSET {o}")?;
        }
        Ok(())
    }
}

/// A column in CREATE TABLE.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// The column's name.
    pub name: Ident,
    /// The type name, lower-cased (`jsonb`, `double precision`, ...).
    pub type_name: String,
    /// Declared `PRIMARY KEY`.
    pub primary_key: bool,
    /// Declared `NOT NULL` (kept so webhook tables can refuse it; a
    /// primary key is never NULL anyway).
    pub not_null: bool,
    /// A column option Rivulet does not support (`DEFAULT`, `UNIQUE`,
    /// `CHECK`, a generated column), parsed so it is refused by name.
    pub unsupported: Option<&'static str>,
}

impl Display for ColumnDef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.type_name.to_uppercase())?;
        if self.primary_key {
            f.write_str(" PRIMARY KEY")?;
        }
        if self.not_null {
            f.write_str(" NOT NULL")?;
        }
        Ok(())
    }
}

/// `INCLUDE header 'name' [AS column]` in `CREATE TABLE`: a part of each
/// incoming message stored in a column of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// What is included (`header`).
    pub kind: Ident,
    /// Which one (a header's name).
    pub key: String,
    /// The column it goes into.
    pub alias: Option<Ident>,
}

impl Display for Include {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "INCLUDE {} ", self.kind)?;
        write_string_literal(f, &self.key)?;
        if let Some(a) = &self.alias {
            write!(f, " AS {a}")?;
        }
        Ok(())
    }
}

/// `key = value` inside `WITH (...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlOption {
    /// The option's name.
    pub name: Ident,
    /// Its value.
    pub value: Literal,
}

impl Display for SqlOption {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.name, self.value)
    }
}

/// The kind of object a DROP names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    /// `DROP TABLE`.
    Table,
    /// `DROP MATERIALIZED VIEW`.
    MaterializedView,
    /// `DROP VIEW`.
    View,
    /// `DROP SECRET`.
    Secret,
    /// `DROP SUBSCRIPTION`.
    Subscription,
}

impl Display for DropKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropKind::Table => "TABLE",
            DropKind::MaterializedView => "MATERIALIZED VIEW",
            DropKind::View => "VIEW",
            DropKind::Secret => "SECRET",
            DropKind::Subscription => "SUBSCRIPTION",
        })
    }
}

/// What a SHOW statement asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ShowKind {
    /// `SHOW TABLES`.
    Tables,
    /// `SHOW MATERIALIZED VIEWS`.
    MaterializedViews,
    /// `SHOW SECRETS` (names only).
    Secrets,
    /// `SHOW CREATE TABLE name`.
    CreateTable(ObjectName),
    /// `SHOW CREATE MATERIALIZED VIEW name`.
    CreateMaterializedView(ObjectName),
    /// `SHOW SUBSCRIPTIONS`.
    Subscriptions,
    /// `SHOW SUBSCRIPTION CURSORS` (the session's).
    SubscriptionCursors,
    /// `SHOW name` for a session variable (`ALL` for every one).
    Variable(Ident),
}

/// Where a subscription cursor starts reading (`DECLARE ... SUBSCRIPTION
/// CURSOR FOR sub [SINCE ... | FULL]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// `SINCE now()` / `SINCE proctime()`, or nothing: changes committed
    /// after the cursor is declared.
    Now,
    /// `SINCE begin()`: the oldest change still retained.
    Begin,
    /// `SINCE unix_ms`: changes committed at or after that time.
    Millis(u64),
    /// `FULL`: the rows as they are, then every change after.
    Full,
}

impl Display for Since {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Since::Now => f.write_str("SINCE now()"),
            Since::Begin => f.write_str("SINCE begin()"),
            Since::Millis(ms) => write!(f, "SINCE {ms}"),
            Since::Full => f.write_str("FULL"),
        }
    }
}

/// A SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `CREATE SECRET name WITH (...) AS 'value'`
    CreateSecret {
        /// The secret's name.
        name: ObjectName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The `WITH (...)` options.
        with: Vec<SqlOption>,
        /// The secret's value (never printed).
        value: String,
    },
    /// `CREATE TABLE name (cols) [INCLUDE ...] [WITH (...)] [VALIDATE [SECRET s] AS expr]`
    CreateTable {
        /// The table's name.
        name: ObjectName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The column definitions.
        columns: Vec<ColumnDef>,
        /// A table constraint `PRIMARY KEY (a, b)`: its columns, in the
        /// key's order (empty without one; columns may instead be
        /// declared `PRIMARY KEY` themselves, keyed in table order).
        primary_key: Vec<Ident>,
        /// `INCLUDE ...` clauses, in order.
        include: Vec<Include>,
        /// The `WITH (...)` options.
        with: Vec<SqlOption>,
        /// `VALIDATE`'s secret (if any) and expression.
        validate: Option<(Option<Ident>, Expr)>,
    },
    /// `CREATE MATERIALIZED VIEW name AS query`
    CreateMaterializedView {
        /// The view's name.
        name: ObjectName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The defining query.
        query: Query,
    },
    /// `CREATE VIEW [IF NOT EXISTS] name [(columns)] AS query`: a named
    /// query, run where it is read.
    CreateView {
        /// The view's name.
        name: ObjectName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Names for the query's columns (empty: the query's own).
        columns: Vec<Ident>,
        /// The defining query.
        query: Query,
    },
    /// `CREATE SUBSCRIPTION name FROM relation WITH (retention = '...')`
    CreateSubscription {
        /// The subscription's name.
        name: ObjectName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The table or materialized view whose changes it keeps.
        from: ObjectName,
        /// The `WITH (...)` options.
        with: Vec<SqlOption>,
    },
    /// `DROP kind [IF EXISTS] names [CASCADE]`
    Drop {
        /// What kind of object is dropped.
        kind: DropKind,
        /// `IF EXISTS`.
        if_exists: bool,
        /// The objects dropped.
        names: Vec<ObjectName>,
        /// `CASCADE`: drop dependent views too.
        cascade: bool,
    },
    /// `INSERT INTO t [(cols)] VALUES (...), ...`
    Insert {
        /// The target table.
        table: ObjectName,
        /// The named target columns (empty: all, in order).
        columns: Vec<Ident>,
        /// The VALUES rows.
        rows: Vec<Vec<Expr>>,
        /// `RETURNING items`: what to answer for each inserted row.
        returning: Vec<SelectItem>,
    },
    /// `INSERT INTO t [(columns)] SELECT ...`: the query's rows.
    InsertSelect {
        /// The target table.
        table: ObjectName,
        /// The named target columns (empty: all, in order).
        columns: Vec<Ident>,
        /// The query giving the rows.
        query: Box<Query>,
        /// `RETURNING items`: what to answer for each inserted row.
        returning: Vec<SelectItem>,
    },
    /// `UPDATE t SET col = expr, ... [WHERE expr]` (also the
    /// `SET (a, b) = (x, y)` form, stored as one assignment per column).
    Update {
        /// The target table.
        table: ObjectName,
        /// Each assigned column with its new value, in statement order.
        assignments: Vec<(Ident, Expr)>,
        /// The WHERE clause, if any.
        selection: Option<Expr>,
    },
    /// `DELETE FROM t [WHERE expr]`
    Delete {
        /// The target table.
        table: ObjectName,
        /// The WHERE clause, if any.
        selection: Option<Expr>,
    },
    /// `TRUNCATE [TABLE] name, ...`: every row of each table.
    Truncate(Vec<ObjectName>),
    /// A SELECT (or UNION).
    Query(Query),
    /// A `SHOW` command.
    Show(ShowKind),
    /// `SET name = value` / `SET name TO value`
    SetVariable {
        /// The setting's name.
        name: Ident,
        /// Its value (a list for settings that take several).
        value: Vec<Literal>,
    },
    /// `RESET name`
    ResetVariable {
        /// The setting's name.
        name: Ident,
    },
    /// `BEGIN`
    Begin,
    /// `START TRANSACTION` (BEGIN by another name and tag)
    StartTransaction,
    /// `COMMIT` / `END`
    Commit,
    /// `ROLLBACK` / `ABORT`
    Rollback,
    /// `FLUSH`: RisingWave's barrier; here a no-op since writes are
    /// visible when acknowledged.
    Flush,
    /// `EXPLAIN statement`
    Explain(Box<Statement>),
    /// `SAVEPOINT name`
    Savepoint(Ident),
    /// `RELEASE [SAVEPOINT] name`
    ReleaseSavepoint(Ident),
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`
    RollbackToSavepoint(Ident),
    /// `SET [SESSION CHARACTERISTICS AS] TRANSACTION modes` (accepted;
    /// every statement commits on its own).
    SetTransaction {
        /// `SESSION CHARACTERISTICS AS`: the session's default, not the
        /// current block's.
        session: bool,
        /// The modes, as written.
        modes: String,
    },
    /// `DISCARD ALL | PLANS | SEQUENCES | TEMP`
    Discard(String),
    /// `LOCK [TABLE] [ONLY] name [*], ... [IN mode MODE] [NOWAIT]`
    /// (accepted in a transaction block: readers never block writers).
    Lock(Vec<ObjectName>),
    /// `DEALLOCATE [PREPARE] name | ALL` (`None`: all).
    Deallocate(Option<Ident>),
    /// `REFRESH MATERIALIZED VIEW name` (views are always current).
    RefreshMaterializedView(ObjectName),
    /// `COMMENT ON {TABLE | VIEW | MATERIALIZED VIEW | COLUMN} name IS
    /// {'text' | NULL}` (NULL removes the comment).
    Comment {
        /// What kind of object.
        on: CommentOn,
        /// Its name (`table.column` for a column).
        name: ObjectName,
        /// The comment; `None` for NULL.
        text: Option<String>,
    },
    /// `DECLARE name [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query`
    DeclareCursor {
        /// The cursor's name.
        name: Ident,
        /// `WITH HOLD`: it outlives the transaction block.
        hold: bool,
        /// The rows it reads.
        query: Box<Query>,
    },
    /// `DECLARE name SUBSCRIPTION CURSOR FOR subscription [SINCE ... | FULL]`
    DeclareSubscriptionCursor {
        /// The cursor's name.
        name: Ident,
        /// The subscription it reads.
        subscription: ObjectName,
        /// Where it starts.
        since: Since,
    },
    /// `FETCH [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name
    /// [WITH (timeout = '...')]`
    Fetch {
        /// The cursor.
        name: Ident,
        /// How many rows; `None` for all that are left.
        count: Option<u64>,
        /// How long a subscription cursor waits for changes, as written.
        timeout: Option<String>,
    },
    /// `CLOSE name | ALL` (`None`: all).
    CloseCursor(Option<Ident>),
    /// `PREPARE name [(type, ...)] AS statement`
    Prepare {
        /// The prepared statement's name.
        name: Ident,
        /// Declared parameter types, as written (the rest are inferred).
        types: Vec<String>,
        /// The statement, with `$n` parameters.
        statement: Box<Statement>,
    },
    /// `EXECUTE name [(expr, ...)]`
    Execute {
        /// The prepared statement's name.
        name: Ident,
        /// The parameters' values.
        args: Vec<Expr>,
    },
    /// `COPY table [(columns)] FROM STDIN ...`.
    CopyFrom {
        /// The table rows go into.
        table: ObjectName,
        /// The columns each line gives, in order (empty: all).
        columns: Vec<Ident>,
        /// How lines are read.
        options: CopyOptions,
    },
    /// `COPY table [(columns)] TO STDOUT ...` or `COPY (query) TO STDOUT ...`.
    CopyTo {
        /// What is copied out.
        source: CopySource,
        /// How rows are written.
        options: CopyOptions,
    },
}

/// What `COPY ... TO` reads.
#[derive(Debug, Clone, PartialEq)]
pub enum CopySource {
    /// A relation, all columns or the named ones.
    Table {
        /// The relation.
        name: ObjectName,
        /// The columns (empty: all, in order).
        columns: Vec<Ident>,
    },
    /// A query's result.
    Query(Box<Query>),
    /// `SUBSCRIBE [TO] relation [WITH (SNAPSHOT = bool)]`: the relation's
    /// rows, then its changes as they commit, until the client stops.
    Subscribe {
        /// The table or materialized view.
        name: ObjectName,
        /// Start with the rows as they are (the default).
        snapshot: bool,
    },
}

/// `COPY` options: text (tab-separated, `\N` for NULL) or CSV.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CopyOptions {
    /// `FORMAT csv` rather than text.
    pub csv: bool,
    /// `HEADER`: a first line of column names (CSV only).
    pub header: bool,
    /// `DELIMITER`, if not the format's default.
    pub delimiter: Option<char>,
    /// `NULL`, if not the format's default.
    pub null: Option<String>,
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let ine = |b: bool| if b { "IF NOT EXISTS " } else { "" };
        match self {
            Statement::CreateSecret {
                name,
                if_not_exists,
                with,
                ..
            } => {
                // The value is never printed: statements are safe to log.
                write!(f, "CREATE SECRET {}{name}", ine(*if_not_exists))?;
                write_with(f, with)?;
                f.write_str(" AS '[REDACTED]'")
            }
            Statement::CreateTable {
                name,
                if_not_exists,
                columns,
                primary_key,
                include,
                with,
                validate,
            } => {
                write!(f, "CREATE TABLE {}{name} (", ine(*if_not_exists))?;
                write_list(f, columns, ", ")?;
                if !primary_key.is_empty() {
                    f.write_str(", PRIMARY KEY (")?;
                    write_list(f, primary_key, ", ")?;
                    f.write_char(')')?;
                }
                f.write_char(')')?;
                for i in include {
                    write!(f, " {i}")?;
                }
                write_with(f, with)?;
                if let Some((secret, expr)) = validate {
                    f.write_str(" VALIDATE")?;
                    if let Some(s) = secret {
                        write!(f, " SECRET {s}")?;
                    }
                    write!(f, " AS {expr}")?;
                }
                Ok(())
            }
            Statement::CreateMaterializedView {
                name,
                if_not_exists,
                query,
            } => write!(
                f,
                "CREATE MATERIALIZED VIEW {}{name} AS {query}",
                ine(*if_not_exists)
            ),
            Statement::CreateView {
                name,
                if_not_exists,
                columns,
                query,
            } => {
                write!(f, "CREATE VIEW {}{name}", ine(*if_not_exists))?;
                write_columns(f, columns)?;
                write!(f, " AS {query}")
            }
            Statement::CreateSubscription {
                name,
                if_not_exists,
                from,
                with,
            } => {
                write!(
                    f,
                    "CREATE SUBSCRIPTION {}{name} FROM {from}",
                    ine(*if_not_exists)
                )?;
                write_with(f, with)
            }
            Statement::Drop {
                kind,
                if_exists,
                names,
                cascade,
            } => {
                write!(
                    f,
                    "DROP {kind} {}",
                    if *if_exists { "IF EXISTS " } else { "" }
                )?;
                write_list(f, names, ", ")?;
                if *cascade {
                    f.write_str(" CASCADE")?;
                }
                Ok(())
            }
            Statement::Insert {
                table,
                columns,
                rows,
                returning,
            } => {
                write!(f, "INSERT INTO {table}")?;
                write_columns(f, columns)?;
                f.write_str(" VALUES ")?;
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_char('(')?;
                    write_list(f, row, ", ")?;
                    f.write_char(')')?;
                }
                write_returning(f, returning)
            }
            Statement::InsertSelect {
                table,
                columns,
                query,
                returning,
            } => {
                write!(f, "INSERT INTO {table}")?;
                write_columns(f, columns)?;
                write!(f, " {query}")?;
                write_returning(f, returning)
            }
            Statement::Update {
                table,
                assignments,
                selection,
            } => {
                write!(f, "UPDATE {table} SET ")?;
                for (i, (col, e)) in assignments.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{col} = {e}")?;
                }
                if let Some(w) = selection {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Statement::Truncate(tables) => {
                f.write_str("TRUNCATE TABLE ")?;
                write_list(f, tables, ", ")
            }
            Statement::Delete { table, selection } => {
                write!(f, "DELETE FROM {table}")?;
                if let Some(w) = selection {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Statement::Query(q) => write!(f, "{q}"),
            Statement::Show(kind) => match kind {
                ShowKind::Tables => f.write_str("SHOW TABLES"),
                ShowKind::MaterializedViews => f.write_str("SHOW MATERIALIZED VIEWS"),
                ShowKind::Secrets => f.write_str("SHOW SECRETS"),
                ShowKind::CreateTable(n) => write!(f, "SHOW CREATE TABLE {n}"),
                ShowKind::CreateMaterializedView(n) => {
                    write!(f, "SHOW CREATE MATERIALIZED VIEW {n}")
                }
                ShowKind::Subscriptions => f.write_str("SHOW SUBSCRIPTIONS"),
                ShowKind::SubscriptionCursors => f.write_str("SHOW SUBSCRIPTION CURSORS"),
                ShowKind::Variable(v) => write!(f, "SHOW {v}"),
            },
            Statement::SetVariable { name, value } => {
                write!(f, "SET {name} = ")?;
                write_list(f, value, ", ")
            }
            Statement::ResetVariable { name } => write!(f, "RESET {name}"),
            Statement::Begin => f.write_str("BEGIN"),
            Statement::StartTransaction => f.write_str("START TRANSACTION"),
            Statement::Commit => f.write_str("COMMIT"),
            Statement::Rollback => f.write_str("ROLLBACK"),
            Statement::Flush => f.write_str("FLUSH"),
            Statement::Savepoint(n) => write!(f, "SAVEPOINT {n}"),
            Statement::ReleaseSavepoint(n) => write!(f, "RELEASE SAVEPOINT {n}"),
            Statement::RollbackToSavepoint(n) => write!(f, "ROLLBACK TO SAVEPOINT {n}"),
            Statement::SetTransaction {
                session: false,
                modes,
            } => write!(f, "SET TRANSACTION {modes}"),
            Statement::SetTransaction {
                session: true,
                modes,
            } => write!(f, "SET SESSION CHARACTERISTICS AS TRANSACTION {modes}"),
            Statement::Discard(what) => write!(f, "DISCARD {what}"),
            Statement::Lock(names) => {
                f.write_str("LOCK TABLE ")?;
                write_list(f, names, ", ")
            }
            Statement::Deallocate(Some(n)) => write!(f, "DEALLOCATE {n}"),
            Statement::Deallocate(None) => f.write_str("DEALLOCATE ALL"),
            Statement::RefreshMaterializedView(n) => write!(f, "REFRESH MATERIALIZED VIEW {n}"),
            Statement::Comment { on, name, text } => {
                let on = match on {
                    CommentOn::Table => "TABLE",
                    CommentOn::View => "VIEW",
                    CommentOn::MaterializedView => "MATERIALIZED VIEW",
                    CommentOn::Column => "COLUMN",
                };
                write!(f, "COMMENT ON {on} {name} IS ")?;
                match text {
                    Some(t) => write_string_literal(f, t),
                    None => f.write_str("NULL"),
                }
            }
            Statement::CopyFrom {
                table,
                columns,
                options,
            } => {
                write!(f, "COPY {table}")?;
                if !columns.is_empty() {
                    f.write_str(" (")?;
                    write_list(f, columns, ", ")?;
                    f.write_str(")")?;
                }
                f.write_str(" FROM STDIN")?;
                write_copy_options(f, options)
            }
            Statement::DeclareCursor { name, hold, query } => write!(
                f,
                "DECLARE {name} CURSOR {} HOLD FOR {query}",
                if *hold { "WITH" } else { "WITHOUT" }
            ),
            Statement::DeclareSubscriptionCursor {
                name,
                subscription,
                since,
            } => write!(
                f,
                "DECLARE {name} SUBSCRIPTION CURSOR FOR {subscription} {since}"
            ),
            Statement::Fetch {
                name,
                count,
                timeout,
            } => {
                match count {
                    Some(n) => write!(f, "FETCH FORWARD {n} FROM {name}")?,
                    None => write!(f, "FETCH ALL FROM {name}")?,
                }
                if let Some(t) = timeout {
                    write!(f, " WITH (timeout = {})", Literal::String(t.clone()))?;
                }
                Ok(())
            }
            Statement::CloseCursor(Some(name)) => write!(f, "CLOSE {name}"),
            Statement::CloseCursor(None) => f.write_str("CLOSE ALL"),
            Statement::Prepare {
                name,
                types,
                statement,
            } => {
                write!(f, "PREPARE {name}")?;
                if !types.is_empty() {
                    write!(f, " ({})", types.join(", "))?;
                }
                write!(f, " AS {statement}")
            }
            Statement::Execute { name, args } => {
                write!(f, "EXECUTE {name}")?;
                if !args.is_empty() {
                    f.write_str(" (")?;
                    write_list(f, args, ", ")?;
                    f.write_str(")")?;
                }
                Ok(())
            }
            Statement::CopyTo { source, options } => {
                match source {
                    CopySource::Table { name, columns } => {
                        write!(f, "COPY {name}")?;
                        if !columns.is_empty() {
                            f.write_str(" (")?;
                            write_list(f, columns, ", ")?;
                            f.write_str(")")?;
                        }
                    }
                    CopySource::Query(q) => write!(f, "COPY ({q})")?,
                    CopySource::Subscribe { name, snapshot } => {
                        write!(f, "COPY (SUBSCRIBE TO {name}")?;
                        if !snapshot {
                            f.write_str(" WITH (SNAPSHOT = false)")?;
                        }
                        f.write_str(")")?;
                    }
                }
                f.write_str(" TO STDOUT")?;
                write_copy_options(f, options)
            }
            Statement::Explain(s) => write!(f, "EXPLAIN {s}"),
        }
    }
}

/// ` WITH (option, ...)` of a COPY, if any option is not the default.
fn write_copy_options(f: &mut Formatter<'_>, options: &CopyOptions) -> fmt::Result {
    let mut opts = Vec::new();
    if options.csv {
        opts.push("FORMAT csv".to_string());
    }
    if options.header {
        opts.push("HEADER".to_string());
    }
    if let Some(d) = options.delimiter {
        opts.push(format!("DELIMITER {}", Literal::String(d.to_string())));
    }
    if let Some(n) = &options.null {
        opts.push(format!("NULL {}", Literal::String(n.clone())));
    }
    if !opts.is_empty() {
        write!(f, " WITH ({})", opts.join(", "))?;
    }
    Ok(())
}

fn write_with(f: &mut Formatter<'_>, with: &[SqlOption]) -> fmt::Result {
    if with.is_empty() {
        return Ok(());
    }
    f.write_str(" WITH (")?;
    write_list(f, with, ", ")?;
    f.write_char(')')
}

/// ` (a, b, ...)`, or nothing for no columns.
fn write_columns(f: &mut Formatter<'_>, columns: &[Ident]) -> fmt::Result {
    if columns.is_empty() {
        return Ok(());
    }
    f.write_str(" (")?;
    write_list(f, columns, ", ")?;
    f.write_char(')')
}

fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Expr {
    /// Calls `f` on this expression, then (unless `f` replaced it with a
    /// leaf) on each subexpression, allowing in-place rewrites.
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match self {
            Expr::Literal(_) | Expr::Identifier(_) | Expr::Parameter(_) => {}
            Expr::Subquery(q) | Expr::Exists(q) => q.visit_exprs_mut(f),
            Expr::InSubquery { expr, query, .. } => {
                expr.visit_mut(f);
                query.visit_exprs_mut(f);
            }
            Expr::IsDistinctFrom { left, right, .. } => {
                left.visit_mut(f);
                right.visit_mut(f);
            }
            Expr::Array(items) => items.iter_mut().for_each(|x| x.visit_mut(f)),
            Expr::ArraySubquery(q) => q.visit_exprs_mut(f),
            Expr::Subscript { expr, index } => {
                expr.visit_mut(f);
                index.visit_mut(f);
            }
            Expr::Unary { expr, .. }
            | Expr::IsNull { expr, .. }
            | Expr::Cast { expr, .. }
            | Expr::Field { expr, .. } => expr.visit_mut(f),
            Expr::Binary { left, right, .. } => {
                left.visit_mut(f);
                right.visit_mut(f);
            }
            Expr::Function { args, .. } => args.iter_mut().for_each(|a| a.visit_mut(f)),
            Expr::AggregateOrder(order) => order.iter_mut().for_each(|o| o.expr.visit_mut(f)),
            Expr::Window(w) => {
                w.func.visit_mut(f);
                w.partition_by.iter_mut().for_each(|e| e.visit_mut(f));
                w.order_by.iter_mut().for_each(|o| o.expr.visit_mut(f));
            }
            Expr::Case {
                operand,
                whens,
                else_result,
            } => {
                if let Some(o) = operand {
                    o.visit_mut(f);
                }
                for (w, t) in whens {
                    w.visit_mut(f);
                    t.visit_mut(f);
                }
                if let Some(e) = else_result {
                    e.visit_mut(f);
                }
            }
            Expr::InList { expr, list, .. } => {
                expr.visit_mut(f);
                list.iter_mut().for_each(|x| x.visit_mut(f));
            }
            Expr::AnyArray { expr, array, .. } => {
                expr.visit_mut(f);
                array.visit_mut(f);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.visit_mut(f);
                low.visit_mut(f);
                high.visit_mut(f);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                expr.visit_mut(f);
                pattern.visit_mut(f);
                if let Some(e) = escape {
                    e.visit_mut(f);
                }
            }
        }
    }
}

/// Calls [`Query::visit_queries_mut`] on the subqueries of `e`.
fn expr_queries_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Query)) {
    e.visit_mut(&mut |x| match x {
        Expr::Subquery(q) | Expr::Exists(q) | Expr::ArraySubquery(q) => q.visit_queries_mut(f),
        Expr::InSubquery { query, .. } => query.visit_queries_mut(f),
        _ => {}
    });
}

impl TableRef {
    fn visit_queries_mut(&mut self, f: &mut dyn FnMut(&mut Query)) {
        match self {
            TableRef::Join {
                left, right, on, ..
            } => {
                left.visit_queries_mut(f);
                right.visit_queries_mut(f);
                expr_queries_mut(on, f);
            }
            TableRef::Derived { query, .. } => query.visit_queries_mut(f),
            TableRef::Function { args, .. } => args.iter_mut().for_each(|a| expr_queries_mut(a, f)),
            TableRef::Table { .. } => {}
        }
    }

    /// Calls `f` on the name of every table or view this item reads
    /// directly (not inside subqueries).
    pub fn visit_table_names_mut(&mut self, f: &mut dyn FnMut(&mut ObjectName)) {
        match self {
            TableRef::Join { left, right, .. } => {
                left.visit_table_names_mut(f);
                right.visit_table_names_mut(f);
            }
            TableRef::Table { name, .. } => f(name),
            TableRef::Derived { .. } | TableRef::Function { .. } => {}
        }
    }

    fn visit_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            TableRef::Join {
                left, right, on, ..
            } => {
                left.visit_exprs_mut(f);
                right.visit_exprs_mut(f);
                on.visit_mut(f);
            }
            TableRef::Derived { query, .. } => query.visit_exprs_mut(f),
            TableRef::Function { args, .. } => args.iter_mut().for_each(|a| a.visit_mut(f)),
            TableRef::Table { .. } => {}
        }
    }
}

impl Query {
    /// `SELECT projection [FROM from]`, nothing else.
    pub fn select(projection: Vec<SelectItem>, from: Option<TableRef>) -> Query {
        Query {
            with: Vec::new(),
            distinct: false,
            distinct_on: Vec::new(),
            projection,
            from,
            selection: None,
            group_by: Vec::new(),
            having: None,
            unions: Vec::new(),
            set_op: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// `left INTERSECT | EXCEPT [ALL] right`.
    pub fn set_operation(op: SetOp, all: bool, left: Query, right: Query) -> Query {
        Query {
            set_op: Some(Box::new(SetOperation {
                op,
                all,
                left,
                right,
            })),
            ..Query::select(Vec::new(), None)
        }
    }

    /// Calls `f` on this query and every query inside it: WITH queries,
    /// UNION, INTERSECT and EXCEPT branches, subqueries in FROM and in
    /// expressions. A subquery nested in another expression subquery is
    /// met more than once, so `f` must be idempotent.
    pub fn visit_queries_mut(&mut self, f: &mut dyn FnMut(&mut Query)) {
        f(self);
        for cte in &mut self.with {
            cte.query.visit_queries_mut(f);
        }
        for (_, q) in &mut self.unions {
            q.visit_queries_mut(f);
        }
        if let Some(s) = &mut self.set_op {
            s.left.visit_queries_mut(f);
            s.right.visit_queries_mut(f);
        }
        if let Some(t) = &mut self.from {
            t.visit_queries_mut(f);
        }
        let own = self
            .projection
            .iter_mut()
            .filter_map(|i| match i {
                SelectItem::Expr { expr, .. } => Some(expr),
                _ => None,
            })
            .chain(self.selection.iter_mut())
            .chain(self.distinct_on.iter_mut())
            .chain(self.group_by.iter_mut())
            .chain(self.having.iter_mut())
            .chain(self.order_by.iter_mut().map(|o| &mut o.expr));
        for e in own {
            expr_queries_mut(e, f);
        }
    }

    /// Calls `f` on every expression of the query, subqueries included.
    pub fn visit_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        for cte in &mut self.with {
            cte.query.visit_exprs_mut(f);
        }
        for item in &mut self.projection {
            if let SelectItem::Expr { expr, .. } = item {
                expr.visit_mut(f);
            }
        }
        if let Some(t) = &mut self.from {
            t.visit_exprs_mut(f);
        }
        for (_, q) in &mut self.unions {
            q.visit_exprs_mut(f);
        }
        if let Some(s) = &mut self.set_op {
            s.left.visit_exprs_mut(f);
            s.right.visit_exprs_mut(f);
        }
        let rest = self
            .selection
            .iter_mut()
            .chain(self.distinct_on.iter_mut())
            .chain(self.group_by.iter_mut())
            .chain(self.having.iter_mut())
            .chain(self.order_by.iter_mut().map(|o| &mut o.expr))
            .chain(self.limit.iter_mut())
            .chain(self.offset.iter_mut());
        for e in rest {
            e.visit_mut(f);
        }
    }
}

impl Statement {
    /// Calls [`Expr::visit_mut`] on every expression of the statement.
    pub fn visit_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Statement::Query(q)
            | Statement::CreateMaterializedView { query: q, .. }
            | Statement::CreateView { query: q, .. } => q.visit_exprs_mut(f),
            Statement::InsertSelect {
                query, returning, ..
            } => {
                query.visit_exprs_mut(f);
                returning_exprs(returning).for_each(|e| e.visit_mut(f));
            }
            Statement::Insert {
                rows, returning, ..
            } => {
                rows.iter_mut().flatten().for_each(|e| e.visit_mut(f));
                returning_exprs(returning).for_each(|e| e.visit_mut(f));
            }
            Statement::Delete {
                selection: Some(e), ..
            } => e.visit_mut(f),
            Statement::Update {
                assignments,
                selection,
                ..
            } => assignments
                .iter_mut()
                .map(|(_, e)| e)
                .chain(selection.iter_mut())
                .for_each(|e| e.visit_mut(f)),
            Statement::CreateTable {
                validate: Some((_, e)),
                ..
            } => e.visit_mut(f),
            Statement::Explain(s) => s.visit_exprs_mut(f),
            Statement::CopyTo {
                source: CopySource::Query(q),
                ..
            }
            | Statement::DeclareCursor { query: q, .. } => q.visit_exprs_mut(f),
            _ => {}
        }
    }

    /// The highest `$n` the statement uses (0 if none).
    pub fn max_parameter(&self) -> usize {
        let mut copy = self.clone();
        let mut max = 0;
        copy.visit_exprs_mut(&mut |e| {
            if let Expr::Parameter(n) = e {
                max = max.max(*n);
            }
        });
        max
    }
}
