//! The one error type of the embedded backends. Its text is what JS users read,
//! so every message names the backend and, where there is one, the path:
//! `[polykv] [SQLITE] cannot open "/data/app.db": file is not a database`.
//! Its `kind` is what programs read: a stable code (`error.code` in JS), the same
//! codes as `lib/errors.js`, and whether JS throws it as a `TypeError`.

use std::fmt;

/// What went wrong, as a program tells errors apart. The codes are public API:
/// never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A key the backend cannot hold (too long for a file name, …).
    Key,
    /// A value that cannot be stored (not JSON text, too big for the backend).
    Value,
    /// An `expires` of the wrong type or, in strict mode, unreadable.
    Expires,
    /// Not something polykv can use as a store: a path that cannot be opened or
    /// created, a bad URL.
    Client,
    /// The backend cannot do this operation.
    Unsupported,
    /// The server cannot be reached, or the connection was lost.
    Connection,
    /// Stored data that should be ours cannot be read (a JSON file that is not
    /// JSON, a record file cut short, a database file that is not a database).
    Corrupt,
    /// The store was closed.
    Closed,
    /// The backend refused or failed the operation: I/O, SQLite, lock errors.
    Backend,
}

impl ErrorKind {
    /// Every kind, for tests that check the codes against `lib/errors.js`.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Key,
        ErrorKind::Value,
        ErrorKind::Expires,
        ErrorKind::Client,
        ErrorKind::Unsupported,
        ErrorKind::Connection,
        ErrorKind::Corrupt,
        ErrorKind::Closed,
        ErrorKind::Backend,
    ];

    /// The stable code JS reads as `error.code`.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Key => "ERR_POLYKV_KEY",
            ErrorKind::Value => "ERR_POLYKV_VALUE",
            ErrorKind::Expires => "ERR_POLYKV_EXPIRES",
            ErrorKind::Client => "ERR_POLYKV_CLIENT",
            ErrorKind::Unsupported => "ERR_POLYKV_UNSUPPORTED",
            ErrorKind::Connection => "ERR_POLYKV_CONNECTION",
            ErrorKind::Corrupt => "ERR_POLYKV_CORRUPT",
            ErrorKind::Closed => "ERR_POLYKV_CLOSED",
            ErrorKind::Backend => "ERR_POLYKV_BACKEND",
        }
    }

    /// A failed read of a file that should be ours: text that is not UTF-8 is corrupt
    /// data, any other failure (permissions, I/O) the backend's.
    pub fn of_read(e: &std::io::Error) -> ErrorKind {
        match e.kind() {
            std::io::ErrorKind::InvalidData => ErrorKind::Corrupt,
            _ => ErrorKind::Backend,
        }
    }

    /// The caller passed something wrong: JS throws these as `TypeError`, the rest as `Error`.
    pub const fn is_type_error(self) -> bool {
        matches!(self, ErrorKind::Key | ErrorKind::Value | ErrorKind::Expires)
    }
}

/// The code, so a kind can be napi's error status (`error.code` in JS).
impl AsRef<str> for ErrorKind {
    fn as_ref(&self) -> &str {
        self.code()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The store kind, as in `store.type`: `SQLITE`, `FILE`, `FOLDER`; `""` for the
    /// core's own checks (`[polykv] invalid expires …`).
    pub backend: &'static str,
    /// What went wrong, for a person: name the path or key, say what to do.
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, backend: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind,
            backend,
            message: message.into(),
        }
    }
}

/// `[polykv] [<BACKEND>] message`, or `[polykv] message` without a backend, as in `lib/errors.js`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.backend.is_empty() {
            write!(f, "[polykv] {}", self.message)
        } else {
            write!(f, "[polykv] [{}] {}", self.backend, self.message)
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_backend_then_message() {
        let e = Error::new(ErrorKind::Backend, "FILE", "cannot read \"/x.json\"");
        assert_eq!(e.to_string(), "[polykv] [FILE] cannot read \"/x.json\"");
        let e = Error::new(ErrorKind::Expires, "", "invalid expires \"x\"");
        assert_eq!(e.to_string(), "[polykv] invalid expires \"x\"");
    }

    /// The codes and their TypeError-ness are the ones `lib/errors.js` lists
    /// (`ERR_POLYKV_<NAME>: true|false,`), so the two sides cannot drift apart.
    #[test]
    fn codes_match_lib_errors_js() {
        let js = include_str!("../../lib/errors.js");
        for kind in ErrorKind::ALL {
            let line = js
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with(&format!("{}:", kind.code())))
                .unwrap_or_else(|| panic!("{} is not in lib/errors.js", kind.code()));
            let type_error = line.split(':').nth(1).map(|rest| rest.trim().starts_with("true"));
            assert_eq!(type_error, Some(kind.is_type_error()), "{line}");
            assert_eq!(kind.as_ref(), kind.code());
        }
    }
}
