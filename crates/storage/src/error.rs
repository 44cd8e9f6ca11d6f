//! Storage errors.

/// A storage failure. Always an internal error from a client's view.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The sled database reported an error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// The fjall database reported an error.
    #[error("storage error: {0}")]
    Fjall(#[from] fjall::Error),
    /// Stored data that cannot be what this version wrote.
    #[error("storage is corrupt: {0}")]
    Corrupt(String),
    /// A write to a read-only view of storage (a snapshot), or an engine
    /// that cannot take snapshots was asked for one.
    #[error("storage does not support this: {0}")]
    Unsupported(&'static str),
    /// An I/O error outside the engines (e.g. creating the data directory).
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The SQLSTATE: `58030` (io_error).
    pub fn sqlstate(&self) -> &'static str {
        "58030"
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
