//! Catalog and binding errors.

/// A catalog or binding error; each maps to a PostgreSQL SQLSTATE.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    /// An evaluation error while binding (a constant that does not convert).
    Expr(#[from] rivulet_expr::Error),
    #[error(transparent)]
    /// A stored definition that no longer parses.
    Parse(#[from] rivulet_sql::ParseError),
    /// 42P01
    #[error("relation \"{0}\" does not exist")]
    UndefinedTable(String),
    /// 42P01: `x.*` or `x.col` naming no FROM item.
    #[error("missing FROM-clause entry for table \"{0}\"")]
    MissingFromEntry(String),
    /// 42703
    #[error("column \"{0}\" does not exist")]
    UndefinedColumn(String),
    /// 42703, naming the relation (INSERT's column list).
    #[error("column \"{column}\" of relation \"{table}\" does not exist")]
    UndefinedColumnOf {
        /// The column named.
        column: String,
        /// The relation it was looked for in.
        table: String,
    },
    /// 42601: a statement whose shape is wrong (not its text).
    #[error("{0}")]
    Syntax(String),
    /// 42P10
    #[error("{0}")]
    InvalidColumnReference(String),
    /// 42702
    #[error("column reference \"{0}\" is ambiguous")]
    AmbiguousColumn(String),
    /// 42703 with its whole message (JOIN ... USING).
    #[error("{0}")]
    MissingColumn(String),
    /// 42702 with its whole message (JOIN ... USING).
    #[error("{0}")]
    RepeatedColumn(String),
    /// 42712: a name given twice where names must differ (WITH).
    #[error("{0}")]
    DuplicateAlias(String),
    /// 42701
    #[error("column \"{0}\" specified more than once")]
    DuplicateColumn(String),
    /// 42701
    #[error("column \"{0}\" appears twice in primary key constraint")]
    DuplicateKeyColumn(String),
    /// 42704: a type, secret or other named thing that does not exist.
    #[error("{0}")]
    UndefinedObject(String),
    /// 42883
    #[error("{0}")]
    UndefinedFunction(String),
    /// 42P07
    #[error("relation \"{0}\" already exists")]
    DuplicateTable(String),
    /// 42710
    #[error("{0}")]
    DuplicateObject(String),
    /// 2BP01
    #[error("cannot drop {object} because other objects depend on it")]
    DependentObjects {
        /// The object that was to be dropped.
        object: String,
        /// Which objects depend on it (the DETAIL line).
        detail: String,
    },
    /// 42809: e.g. DROP TABLE on a materialized view.
    #[error("{0}")]
    WrongObjectType(String),
    /// A DROP of the wrong kind of relation (42809), with the hint
    /// naming the DROP that fits.
    #[error("{message}")]
    WrongDropKind {
        /// What was wrong.
        message: String,
        /// The DROP to use instead.
        hint: &'static str,
    },
    /// 42804
    #[error("{0}")]
    DatatypeMismatch(String),
    /// 42803
    #[error("{0}")]
    Grouping(String),
    /// 3D000
    #[error("database \"{0}\" does not exist")]
    UndefinedDatabase(String),
    /// 3F000
    #[error("schema \"{0}\" does not exist")]
    UndefinedSchema(String),
    /// 42P17: a definition that breaks the rules for its kind of object.
    #[error("{0}")]
    InvalidDefinition(String),
    /// 22023
    #[error("{0}")]
    InvalidParameter(String),
    /// 0A000
    #[error("{0}")]
    NotSupported(String),
    /// 42P20: a window function where none is allowed.
    #[error("{0}")]
    Windowing(String),
    /// 0A000: a subquery that refers to the outer query where only an
    /// uncorrelated one can be run (the planner then runs it per row).
    #[error("correlated subqueries are not supported here yet")]
    Correlated,
    /// 2201W / 2201X
    #[error("{1}")]
    InvalidRowCount(&'static str, String),
    /// 21000
    #[error("more than one row returned by a subquery used as an expression")]
    CardinalityViolation,
    /// 23502
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNullViolation {
        /// The column.
        column: String,
        /// Its table.
        table: String,
    },
    /// A subquery that ran while its statement was planned failed; the
    /// error keeps its own SQLSTATE.
    #[error("{0}")]
    Subquery(Box<dyn SqlError>),
    /// 42P16: a table definition PostgreSQL refuses (two primary keys).
    #[error("{0}")]
    InvalidTableDefinition(String),
    /// 42P19: a recursive query of a form that cannot be run.
    #[error("{0}")]
    InvalidRecursion(String),
    /// 54000: a query that would hold more than Rivulet allows.
    #[error("{0}")]
    ProgramLimitExceeded(String),
    /// XX000: a stored catalog entry that cannot be read back.
    #[error("corrupted catalog entry: {0}")]
    Corrupted(String),
}

impl Error {
    /// The PostgreSQL SQLSTATE for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Expr(e) => e.sqlstate(),
            Error::Parse(e) => e.sqlstate(),
            Error::UndefinedTable(_) | Error::MissingFromEntry(_) => "42P01",
            Error::UndefinedColumn(_) => "42703",
            Error::AmbiguousColumn(_) | Error::RepeatedColumn(_) => "42702",
            Error::MissingColumn(_) => "42703",
            Error::Windowing(_) => "42P20",
            Error::InvalidColumnReference(_) => "42P10",
            Error::UndefinedColumnOf { .. } => "42703",
            Error::Syntax(_) => "42601",
            Error::DuplicateColumn(_) | Error::DuplicateKeyColumn(_) => "42701",
            Error::DuplicateAlias(_) => "42712",
            Error::UndefinedObject(_) => "42704",
            Error::UndefinedFunction(_) => "42883",
            Error::DuplicateTable(_) => "42P07",
            Error::DuplicateObject(_) => "42710",
            Error::DependentObjects { .. } => "2BP01",
            Error::WrongObjectType(_) | Error::WrongDropKind { .. } => "42809",
            Error::DatatypeMismatch(_) => "42804",
            Error::Grouping(_) => "42803",
            Error::UndefinedDatabase(_) => "3D000",
            Error::UndefinedSchema(_) => "3F000",
            Error::InvalidDefinition(_) => "42P17",
            Error::InvalidTableDefinition(_) => "42P16",
            Error::InvalidRecursion(_) => "42P19",
            Error::ProgramLimitExceeded(_) => "54000",
            Error::InvalidParameter(_) => "22023",
            Error::NotSupported(_) | Error::Correlated => "0A000",
            Error::InvalidRowCount(code, _) => code,
            Error::NotNullViolation { .. } => "23502",
            Error::CardinalityViolation => "21000",
            Error::Corrupted(_) => "XX000",
            Error::Subquery(e) => e.sqlstate(),
        }
    }

    /// The DETAIL line, where there is one.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Expr(e) => e.detail().map(str::to_string),
            Error::DependentObjects { detail, .. } => Some(detail.clone()),
            Error::Subquery(e) => e.detail(),
            _ => None,
        }
    }

    /// The HINT line, where there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::UndefinedFunction(_) => Some(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            ),
            Error::DependentObjects { .. } => {
                Some("Use DROP ... CASCADE to drop the dependent objects too.")
            }
            Error::WrongDropKind { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

/// An error from a layer above the catalog (the engine that runs
/// subqueries), carried through planning with its SQLSTATE.
pub trait SqlError: std::error::Error + Send + Sync + 'static {
    /// The PostgreSQL SQLSTATE.
    fn sqlstate(&self) -> &'static str;
    /// The DETAIL line, where there is one.
    fn detail(&self) -> Option<String> {
        None
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
