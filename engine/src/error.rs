//! Errors of the engine as a whole. Per-file problems during a scan are not errors: they are
//! recorded as [`crate::FailReason`]s on the photo's row and the scan goes on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the database was written by a newer precious (schema {found}, this build knows {known}); upgrade precious")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("backbone model: {0}")]
    Model(String),
    #[error("no photo with id {0}")]
    NoSuchPhoto(i64),
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
