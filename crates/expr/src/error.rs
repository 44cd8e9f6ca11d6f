//! Errors raised while evaluating expressions or parsing values.

/// An evaluation or input error. Every variant maps to a PostgreSQL SQLSTATE.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Text that is not a valid literal of the target type (22P02).
    #[error("invalid input syntax for type {ty}: \"{input}\"")]
    InvalidTextRepresentation {
        /// The target type's name.
        ty: &'static str,
        /// The text that did not convert.
        input: String,
    },
    /// Input that does not convert, with PostgreSQL's own message for it
    /// (22P02).
    #[error("{0}")]
    InvalidText(String),
    /// JSON text that does not parse (22P02); `detail` says where.
    #[error("invalid input syntax for type json")]
    InvalidJson {
        /// Where and why parsing stopped (the DETAIL line).
        detail: String,
    },
    /// An error of a query run for one row (a correlated subquery), with
    /// its own SQLSTATE.
    #[error("{message}")]
    Nested {
        /// The query's error's SQLSTATE.
        sqlstate: &'static str,
        /// Its message.
        message: String,
    },
    /// A JSON `\u0000` or lone surrogate (22P05).
    #[error("unsupported Unicode escape sequence")]
    UntranslatableCharacter {
        /// Which escape (the DETAIL line).
        detail: String,
    },
    /// A value that does not fit its type (22003).
    #[error("{0}")]
    NumericValueOutOfRange(String),
    /// A limit of the system, with PostgreSQL's message for it (54000).
    #[error("{0}")]
    ProgramLimitExceeded(String),
    /// A logarithm of zero or of a negative number (2201E).
    #[error("{0}")]
    LogarithmArgument(String),
    /// A square root of a negative number or an undefined power (2201F).
    #[error("{0}")]
    PowerArgument(String),
    /// Division by zero (22012).
    #[error("division by zero")]
    DivisionByZero,
    /// A function argument outside its domain (22023).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// Bytes that are not valid UTF-8 (22021).
    #[error("invalid byte sequence for encoding \"UTF8\": {0}")]
    CharacterNotInRepertoire(String),
    /// A cast that PostgreSQL does not allow (42846).
    #[error("cannot cast type {from} to {to}")]
    CannotCoerce {
        /// The value's type.
        from: String,
        /// The type asked for.
        to: String,
    },
    /// A value that was not of the type an operator expected (42804).
    #[error("{0}")]
    DatatypeMismatch(String),
    /// No function matches the name and argument types (42883).
    #[error("{0}")]
    UndefinedFunction(String),
    /// A regular expression that does not compile (2201B).
    #[error("invalid regular expression: {0}")]
    InvalidRegex(String),
    /// A relation named at run time (`$1::regclass`) that does not exist
    /// (42P01).
    #[error("{0}")]
    UndefinedTable(String),
    /// Another object named at run time that does not exist, with its
    /// SQLSTATE (a schema 3F000, a database 3D000, a column 42703, a
    /// role 42704).
    #[error("{1}")]
    Undefined(&'static str, String),
    /// A `$n` with no value (42P02).
    #[error("there is no parameter ${0}")]
    UndefinedParameter(usize),
    /// `substr` with a negative length (22011).
    #[error("negative substring length not allowed")]
    SubstringError,
    /// A NULL where none is allowed, e.g. a jsonb_build_object key (22004).
    #[error("{0}")]
    NullValueNotAllowed(String),
    /// Something valid in PostgreSQL that Rivulet does not do (0A000).
    #[error("{0}")]
    FeatureNotSupported(String),
    /// A date or time field out of range, such as month 13 (22008).
    #[error("date/time field value out of range: \"{0}\"")]
    FieldOutOfRange(String),
    /// Text that is not a valid date, time or interval (22007).
    #[error("{0}")]
    InvalidDatetime(String),
    /// An interval outside the supported range (22008).
    #[error("interval out of range")]
    IntervalOverflow,
    /// A timestamp outside the supported range (22008).
    #[error("timestamp out of range")]
    DatetimeOverflow,
    /// JSON nested deeper than the limit (54001).
    #[error("stack depth limit exceeded")]
    StackDepthExceeded,
    /// A value would exceed [`MAX_VALUE_BYTES`](crate::MAX_VALUE_BYTES)
    /// (54000, as PostgreSQL's "requested length too large").
    #[error("requested length too large")]
    ValueTooLarge,
    /// A LIKE escape string or pattern that does not escape well (22025).
    #[error("{0}")]
    InvalidEscape(String),
    /// A stored row that does not decode; indicates corruption (XX001).
    #[error("corrupted row encoding: {0}")]
    Corrupted(&'static str),
}

impl Error {
    /// The PostgreSQL SQLSTATE for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::InvalidTextRepresentation { .. }
            | Error::InvalidText(_)
            | Error::InvalidJson { .. } => "22P02",
            Error::UntranslatableCharacter { .. } => "22P05",
            Error::NumericValueOutOfRange(_) => "22003",
            Error::Nested { sqlstate, .. } => sqlstate,
            Error::DivisionByZero => "22012",
            Error::LogarithmArgument(_) => "2201E",
            Error::ProgramLimitExceeded(_) => "54000",
            Error::PowerArgument(_) => "2201F",
            Error::InvalidParameterValue(_) => "22023",
            Error::CharacterNotInRepertoire(_) => "22021",
            Error::CannotCoerce { .. } => "42846",
            Error::DatatypeMismatch(_) => "42804",
            Error::UndefinedFunction(_) => "42883",
            Error::UndefinedTable(_) => "42P01",
            Error::Undefined(code, _) => code,
            Error::SubstringError => "22011",
            Error::UndefinedParameter(_) => "42P02",
            Error::InvalidRegex(_) => "2201B",
            Error::InvalidEscape(_) => "22025",
            Error::NullValueNotAllowed(_) => "22004",
            Error::FeatureNotSupported(_) => "0A000",
            Error::DatetimeOverflow | Error::FieldOutOfRange(_) | Error::IntervalOverflow => {
                "22008"
            }
            Error::InvalidDatetime(_) => "22007",
            Error::StackDepthExceeded => "54001",
            Error::ValueTooLarge => "54000",
            Error::Corrupted(_) => "XX001",
        }
    }

    /// Extra detail for the client, when the error has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::InvalidJson { detail } | Error::UntranslatableCharacter { detail } => {
                Some(detail)
            }
            _ => None,
        }
    }

    /// The HINT line PostgreSQL adds, if any.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::FieldOutOfRange(_) => {
                Some("Perhaps you need a different \"datestyle\" setting.")
            }
            Error::InvalidParameterValue(m) if m == "cannot replace existing key" => {
                Some("Try using the function jsonb_set to replace key value.")
            }
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
