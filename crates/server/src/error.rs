//! Turning any error into a PostgreSQL error response.

use pgwire::error::{ErrorInfo, PgWireError};

/// An error while executing a statement, carrying what the client sees.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A syntax error, with the query text it points into.
    #[error("{error}")]
    Parse {
        error: rivulet_sql::ParseError,
        sql: String,
    },
    #[error(transparent)]
    Catalog(#[from] rivulet_catalog::Error),
    #[error(transparent)]
    Stream(#[from] rivulet_stream::Error),
    #[error(transparent)]
    Expr(#[from] rivulet_expr::Error),
    /// 57014: a cancel request or the statement timeout stopped the
    /// statement.
    #[error("canceling statement due to {0}")]
    Canceled(rivulet_stream::CancelReason),
    /// 0A000: a statement or type Rivulet does not support.
    #[error("{0}")]
    NotSupported(String),
    /// 42601: several statements in one Parse message.
    #[error("cannot insert multiple commands into a prepared statement")]
    MultipleCommands,
    /// 54000: more parameters than the protocol can number.
    #[error("too many parameters: {0} (at most 65535)")]
    TooManyParameters(usize),
    /// 08P01: a Bind message whose parameter count does not match.
    #[error("bind message supplies {given} parameters, but prepared statement requires {wanted}")]
    ParameterCount { given: usize, wanted: usize },
    /// 22021: a text-format parameter that is not UTF-8 (1-based).
    #[error("parameter ${0} is not valid UTF-8")]
    ParameterEncoding(usize),
    /// 22P03: a binary-format parameter that does not decode as its type.
    #[error("incorrect binary data format in {0} parameter")]
    BinaryFormat(String),
    /// 42704: `SET`/`SHOW` of a setting that does not exist.
    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),
    /// 55P02: `SET` of a setting fixed for the server's life.
    #[error("parameter \"{0}\" cannot be changed")]
    ReadOnlySetting(String),
    /// 22023: a value a setting cannot take, with why.
    #[error("{0}")]
    InvalidSetting(String),
    /// 25P01: a savepoint command outside a transaction block.
    #[error("{0} can only be used in transaction blocks")]
    NoTransactionBlock(&'static str),
    /// 25001: a command that may not run inside a transaction block.
    #[error("{0} cannot run inside a transaction block")]
    InTransactionBlock(&'static str),
    /// 42P05
    #[error("prepared statement \"{0}\" already exists")]
    DuplicatePrepared(String),
    /// 26000
    #[error("prepared statement \"{0}\" does not exist")]
    UndefinedPrepared(String),
    /// 42601
    #[error("wrong number of parameters for prepared statement \"{name}\"")]
    PreparedArity {
        /// The prepared statement.
        name: String,
        /// Its parameters.
        expected: usize,
        /// The values EXECUTE gave.
        given: usize,
    },
    /// 54000: more prepared statements than a session may hold.
    #[error("a session may hold at most {0} prepared statements")]
    TooManyPrepared(usize),
    /// 42P03
    #[error("cursor \"{0}\" already exists")]
    DuplicateCursor(String),
    /// 34000
    #[error("cursor \"{0}\" does not exist")]
    UndefinedCursor(String),
    /// 54000: more open cursors than a session may hold.
    #[error("a session may hold at most {0} open cursors")]
    TooManyCursors(usize),
    /// 25P02
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    InFailedTransaction,
    /// 3B001
    #[error("savepoint \"{0}\" does not exist")]
    UndefinedSavepoint(String),
    /// A value of `COPY FROM` data that did not convert; `context` says
    /// where (PostgreSQL's CONTEXT line).
    #[error("{source}")]
    CopyValue {
        /// `COPY t, line n, column c: "text"`.
        context: String,
        /// Why it did not convert.
        source: rivulet_expr::Error,
    },
    /// 22P04: `COPY FROM` data of the wrong shape (too few or many
    /// columns, an unterminated quote).
    #[error("{message}")]
    BadCopyData {
        /// What is wrong.
        message: String,
        /// `COPY t, line n`.
        context: String,
    },
    /// 57014: the client ended `COPY FROM STDIN` with CopyFail.
    #[error("COPY from stdin failed: {0}")]
    CopyFailed(String),
    /// XX000: a result row the protocol layer could not encode.
    #[error("could not encode a result row: {0}")]
    Encode(#[source] pgwire::error::PgWireError),
    /// XX000: the task running a statement ended without an answer.
    #[error("the statement's task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// 08006: the connection failed while a statement wrote to it.
    #[error("could not send to the client: {0}")]
    Connection(#[source] pgwire::error::PgWireError),
}

/// Result alias for the server.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The SQLSTATE.
    pub fn sqlstate(&self) -> &str {
        match self {
            Error::Parse { error, .. } => error.sqlstate(),
            Error::Catalog(e) => e.sqlstate(),
            Error::Stream(e) => e.sqlstate(),
            Error::Expr(e) => e.sqlstate(),
            Error::Canceled(_) => "57014",
            Error::NotSupported(_) => "0A000",
            Error::MultipleCommands => "42601",
            Error::TooManyParameters(_) => "54000",
            Error::ParameterCount { .. } => "08P01",
            Error::ParameterEncoding(_) => "22021",
            Error::BinaryFormat(_) => "22P03",
            Error::UnknownSetting(_) => "42704",
            Error::ReadOnlySetting(_) => "55P02",
            Error::InvalidSetting(_) => "22023",
            Error::NoTransactionBlock(_) => "25P01",
            Error::InTransactionBlock(_) => "25001",
            Error::UndefinedSavepoint(_) => "3B001",
            Error::InFailedTransaction => "25P02",
            Error::DuplicateCursor(_) => "42P03",
            Error::DuplicatePrepared(_) => "42P05",
            Error::UndefinedPrepared(_) => "26000",
            Error::PreparedArity { .. } => "42601",
            Error::TooManyPrepared(_) => "54000",
            Error::UndefinedCursor(_) => "34000",
            Error::TooManyCursors(_) => "54000",
            Error::CopyValue { source, .. } => source.sqlstate(),
            Error::BadCopyData { .. } => "22P04",
            Error::CopyFailed(_) => "57014",
            Error::Encode(_) | Error::Task(_) => "XX000",
            Error::Connection(_) => "08006",
        }
    }

    /// The PostgreSQL error for the client.
    pub fn to_error_info(&self) -> ErrorInfo {
        let mut info = ErrorInfo::new("ERROR".into(), self.sqlstate().into(), self.to_string());
        match self {
            Error::Parse { error, sql } => info.position = Some(error.position(sql).to_string()),
            Error::Catalog(e) => {
                info.detail = e.detail();
                info.hint = e.hint().map(str::to_string);
            }
            Error::Stream(rivulet_stream::Error::Catalog(e)) => {
                info.detail = e.detail();
                info.hint = e.hint().map(str::to_string);
            }
            Error::Expr(e) => {
                info.detail = e.detail().map(str::to_string);
                info.hint = e.hint().map(str::to_string);
            }
            Error::PreparedArity {
                expected, given, ..
            } => info.detail = Some(format!("Expected {expected} parameters but got {given}.")),
            Error::CopyValue { context, source } => {
                info.detail = source.detail().map(str::to_string);
                info.hint = source.hint().map(str::to_string);
                info.where_context = Some(context.clone());
            }
            Error::BadCopyData { context, .. } => info.where_context = Some(context.clone()),
            _ => {}
        }
        info
    }
}

impl From<Error> for PgWireError {
    fn from(e: Error) -> PgWireError {
        PgWireError::UserError(Box::new(e.to_error_info()))
    }
}
