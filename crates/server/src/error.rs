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
    /// An error with an explicit SQLSTATE.
    #[error("{1}")]
    Sql(&'static str, String),
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
            Error::Sql(code, _) => code,
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
            Error::Expr(e) => info.detail = e.detail().map(str::to_string),
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
