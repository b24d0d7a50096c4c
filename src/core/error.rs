//! The one error type of the embedded backends. Its text is what JS users read,
//! so every message names the backend and, where there is one, the path:
//! `[polykv] [SQLITE] cannot open "/data/app.db": file is not a database`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The store kind, as in `store.type`: `SQLITE`, `FILE`, `FOLDER`.
    pub backend: &'static str,
    /// What went wrong, for a person: name the path or key, say what to do.
    pub message: String,
}

impl Error {
    pub fn new(backend: &'static str, message: impl Into<String>) -> Self {
        Error {
            backend,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[polykv] [{}] {}", self.backend, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_backend_then_message() {
        let e = Error::new("FILE", "cannot read \"/x.json\"");
        assert_eq!(e.to_string(), "[polykv] [FILE] cannot read \"/x.json\"");
    }
}
