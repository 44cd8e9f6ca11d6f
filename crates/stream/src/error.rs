//! Engine errors.

/// An error from the engine; each maps to a PostgreSQL SQLSTATE.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    /// A catalog or binding error.
    Catalog(#[from] rivulet_catalog::Error),
    #[error(transparent)]
    /// An evaluation error.
    Expr(#[from] rivulet_expr::Error),
    #[error(transparent)]
    /// A storage error.
    Storage(#[from] rivulet_storage::Error),
    /// The relation was dropped while the request was in flight (42P01).
    #[error("relation with id {0} does not exist")]
    RelationGone(u64),
    /// The data directory has a storage format this build cannot read.
    #[error(
        "the data directory has storage format {0}, which this build of Rivulet cannot read \
         (it reads formats 1 to 3); run the Rivulet release that wrote it, or start with \
         an empty --data-dir"
    )]
    UnsupportedFormat(String),
    /// The query was cancelled (57014).
    #[error("canceling statement due to {0}")]
    Canceled(crate::CancelReason),
    /// Queries in progress would hold more rows and operator state than the
    /// query memory limit allows (53200).
    #[error(
        "out of memory: running queries and copies would hold more than the query memory \
         limit of {} MiB in rows and operator state",
        limit >> 20
    )]
    OutOfMemory {
        /// The limit in bytes.
        limit: usize,
    },
    /// The engine is shutting down (57P01).
    #[error("the database is shutting down")]
    ShuttingDown,
    /// The writer's queue is full (53000).
    #[error("the writer has more work queued than it takes; retry shortly")]
    Busy,
    /// Changes a subscription cursor had yet to read were removed past
    /// the subscription's retention (22023).
    #[error(
        "changes this cursor has not read were removed past the subscription's retention; \
         declare the cursor again (SINCE begin() reads the oldest change kept)"
    )]
    ChangesExpired,
    /// A live subscriber fell too many commits behind (53000).
    #[error("the subscriber fell {0} commits behind the changes and was stopped; subscribe again")]
    Lagged(u64),
}

impl Error {
    /// The PostgreSQL SQLSTATE for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Catalog(e) => e.sqlstate(),
            Error::Expr(e) => e.sqlstate(),
            Error::Storage(e) => e.sqlstate(),
            Error::RelationGone(_) => "42P01",
            Error::ShuttingDown => "57P01",
            Error::Busy | Error::Lagged(_) => "53000",
            Error::ChangesExpired => "22023",
            Error::Canceled(_) => "57014",
            Error::OutOfMemory { .. } => "53200",
            Error::UnsupportedFormat(_) => "XX001",
        }
    }
}

impl rivulet_catalog::SqlError for Error {
    fn sqlstate(&self) -> &'static str {
        Error::sqlstate(self)
    }

    fn detail(&self) -> Option<String> {
        match self {
            Error::Catalog(e) => e.detail(),
            Error::Expr(e) => e.detail().map(str::to_string),
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
