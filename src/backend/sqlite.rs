//! SQLite through rusqlite (bundled, so no system library): polystore's table
//! `kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)` with
//! `expires_at` in Unix ms or NULL, so the same database works with either library
//! and users can query it with SQL.
//!
//! Tuned for a key-value workload: WAL (readers never block the writer),
//! `synchronous=NORMAL` (a commit is durable once the WAL is synced at checkpoint;
//! a process crash loses nothing, a power cut at most the last commits), a busy
//! timeout so two processes take turns instead of failing, cached prepared
//! statements, an index on `expires_at` for `prune()`, and prefix queries as range
//! scans on the primary key (`id >= p AND id < bound(p)`) rather than `LIKE`.

use super::{Backend, Entry};
use crate::core::envelope::now_ms;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::prefix::prefix_upper_bound;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};
use std::time::Duration;

const NAME: &str = "SQLITE";

/// How long a write waits for another connection's write to finish. Default: 10 s.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A live row, in SQL, `?2` being now: core's `envelope::is_live_at` (no deadline, or
/// one still ahead), written where SQLite can use it. A macro so the statements of
/// `get` and `has` are constants, not a `format!` a call.
macro_rules! live {
    () => {
        "(expires_at IS NULL OR expires_at > ?2)"
    };
}
const LIVE: &str = live!();
const GET: &str = concat!("SELECT value FROM kv WHERE id = ?1 AND ", live!());
const HAS: &str = concat!("SELECT 1 FROM kv WHERE id = ?1 AND ", live!());

pub struct Sqlite {
    /// `None` once closed.
    conn: Option<Connection>,
    /// The path as given (or `:memory:`), for error messages.
    path: String,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

impl Sqlite {
    /// Opens (creating the file, its folders and the table when missing) the database
    /// at `path`; `:memory:` is a private in-memory database.
    pub fn open(path: &str) -> Result<Self> {
        let fail = |kind, e: &dyn std::fmt::Display| Error::new(kind, NAME, format!("cannot open \"{path}\": {e}"));
        // A file SQLite cannot open is a path the user should fix, not a failing database.
        let sql_fail = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(ErrorCode::CannotOpen) => fail(ErrorKind::Client, &e),
            _ => fail(kind_of(&e), &e),
        };
        let memory = path == ":memory:" || path.is_empty();
        if !memory {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| fail(ErrorKind::Client, &e))?;
                }
            }
        }
        let conn = Connection::open(if memory { ":memory:" } else { path }).map_err(sql_fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_fail)?;
        if !memory {
            // The first statement that reads the file: a file that is not a database fails here.
            let _mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .map_err(sql_fail)?;
        }
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER);
             CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at);",
        )
        .map_err(sql_fail)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Sqlite {
            conn: Some(conn),
            path: if memory { ":memory:".into() } else { path.into() },
        })
    }

    fn conn(&self) -> Result<&Connection> {
        self.conn.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Closed,
                NAME,
                format!("the store at \"{}\" is closed", self.path),
            )
        })
    }

    fn fail(&self, what: &str, e: rusqlite::Error) -> Error {
        Error::new(kind_of(&e), NAME, format!("{what} failed on \"{}\": {e}", self.path))
    }

    /// The scan statement for one shape of query: lower bound inclusive (first page)
    /// or exclusive (after a cursor), with or without an upper bound, keys or entries.
    /// Parameters: ?1 lower bound, ?2 now, ?3 limit, ?4 upper bound.
    fn scan_sql(values: bool, after: bool, upper: bool) -> String {
        format!(
            "SELECT id{} FROM kv WHERE id {} ?1{} AND {LIVE} ORDER BY id LIMIT ?3",
            if values { ", value" } else { "" },
            if after { ">" } else { ">=" },
            if upper { " AND id < ?4" } else { "" },
        )
    }

    fn run_scan<T>(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        values: bool,
        read: impl Fn(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let upper = prefix_upper_bound(prefix);
        // A cursor below the prefix would let keys outside it in: start at the prefix then.
        let (lower, exclusive) = match after {
            Some(cursor) if cursor >= prefix => (cursor, true),
            _ => (prefix, false),
        };
        let conn = self.conn()?;
        let sql = Self::scan_sql(values, exclusive, upper.is_some());
        let run = || -> rusqlite::Result<Vec<T>> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let limit = limit.min(i64::MAX as usize) as i64;
            let rows = match &upper {
                Some(upper) => stmt.query_map(params![lower, now_ms(), limit, upper], &read)?,
                None => stmt.query_map(params![lower, now_ms(), limit], &read)?,
            };
            rows.collect()
        };
        run().map_err(|e| self.fail("scan", e))
    }
}

/// The kind of a failed SQLite call: a file that is not a database, or a damaged one,
/// is corrupt data; a string over SQLite's size limit a value it cannot store; the
/// rest (busy, locked, I/O, disk full, …) a failing backend.
fn kind_of(e: &rusqlite::Error) -> ErrorKind {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ErrorKind::Corrupt,
        Some(ErrorCode::TooBig) => ErrorKind::Value,
        _ => ErrorKind::Backend,
    }
}

/// The `value` column as JSON text. It is declared TEXT, but a user may have stored
/// a number through SQL; numbers are valid JSON text too.
fn value_text(row: &Row, index: usize) -> rusqlite::Result<String> {
    Ok(match row.get_ref(index)? {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Null => "null".into(),
    })
}

impl Backend for Sqlite {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        let run = || -> rusqlite::Result<Option<String>> {
            let mut stmt = conn.prepare_cached(GET)?;
            stmt.query_row(params![key, now_ms()], |row| value_text(row, 0))
                .optional()
        };
        run().map_err(|e| self.fail("get", e))
    }

    fn set(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()> {
        let conn = self.conn()?;
        let run = || -> rusqlite::Result<usize> {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO kv (id, value, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            )?;
            stmt.execute(params![key, value, expires_at])
        };
        run().map(|_| ()).map_err(|e| self.fail("set", e))
    }

    fn del(&mut self, key: &str) -> Result<()> {
        let conn = self.conn()?;
        let run = || conn.prepare_cached("DELETE FROM kv WHERE id = ?1")?.execute([key]);
        run().map(|_| ()).map_err(|e| self.fail("del", e))
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        let conn = self.conn()?;
        let run = || conn.prepare_cached(HAS)?.exists(params![key, now_ms()]);
        run().map_err(|e| self.fail("has", e))
    }

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        self.run_scan(prefix, after, limit, true, |row| {
            Ok((row.get::<_, String>(0)?, value_text(row, 1)?))
        })
    }

    fn scan_keys(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.run_scan(prefix, after, limit, false, |row| row.get::<_, String>(0))
    }

    fn clear(&mut self, prefix: &str) -> Result<()> {
        let conn = self.conn()?;
        let run = || -> rusqlite::Result<usize> {
            match (prefix, prefix_upper_bound(prefix)) {
                ("", _) => conn.prepare_cached("DELETE FROM kv")?.execute([]),
                (_, Some(upper)) => conn
                    .prepare_cached("DELETE FROM kv WHERE id >= ?1 AND id < ?2")?
                    .execute(params![prefix, upper]),
                (_, None) => conn.prepare_cached("DELETE FROM kv WHERE id >= ?1")?.execute([prefix]),
            }
        };
        run().map(|_| ()).map_err(|e| self.fail("clear", e))
    }

    fn prune(&mut self) -> Result<()> {
        let conn = self.conn()?;
        let run = || {
            conn.prepare_cached("DELETE FROM kv WHERE expires_at <= ?1")?
                .execute([now_ms()])
        };
        run().map(|_| ()).map_err(|e| self.fail("prune", e))
    }

    fn close(&mut self) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            conn.flush_prepared_statement_cache();
            conn.close().map_err(|(_, e)| self.fail("close", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("polykv-sqlite-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("nested/store.db").to_string_lossy().into_owned()
    }

    #[test]
    fn set_get_has_del_with_expiry() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.set("a", "{\"x\":1}", None).unwrap();
        assert_eq!(db.get("a").unwrap().as_deref(), Some("{\"x\":1}"));
        assert!(db.has("a").unwrap());
        db.set("a", "2", Some(now_ms() - 1)).unwrap();
        assert_eq!(db.get("a").unwrap(), None);
        assert!(!db.has("a").unwrap());
        db.set("b", "3", Some(now_ms() + 60_000)).unwrap();
        assert!(db.has("b").unwrap());
        db.del("b").unwrap();
        db.del("missing").unwrap();
        assert_eq!(db.get("b").unwrap(), None);
    }

    #[test]
    fn scans_pages_in_order_within_the_prefix() {
        let mut db = Sqlite::open(":memory:").unwrap();
        for key in ["a:1", "a:2", "a:3", "a;", "a", "b:1", "a:4"] {
            db.set(key, "true", None).unwrap();
        }
        db.set("a:5", "0", Some(1)).unwrap(); // long expired
        let first = db.scan("a:", None, 2).unwrap();
        assert_eq!(first.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["a:1", "a:2"]);
        let second = db.scan_keys("a:", Some("a:2"), 2).unwrap();
        assert_eq!(second, ["a:3", "a:4"]);
        assert!(db.scan_keys("a:", Some("a:4"), 2).unwrap().is_empty());
        assert_eq!(db.scan_keys("", None, 100).unwrap().len(), 7);
        db.clear("a:").unwrap();
        assert_eq!(db.scan_keys("", None, 100).unwrap(), ["a", "a;", "b:1"]);
        db.clear("").unwrap();
        assert!(db.scan_keys("", None, 100).unwrap().is_empty());
    }

    #[test]
    fn like_wildcards_in_prefixes_are_plain_characters() {
        let mut db = Sqlite::open(":memory:").unwrap();
        for key in ["a_1", "ab1", "A_2", "a%"] {
            db.set(key, "1", None).unwrap();
        }
        assert_eq!(db.scan_keys("a_", None, 10).unwrap(), ["a_1"]);
        db.clear("a_").unwrap();
        assert_eq!(db.scan_keys("", None, 10).unwrap(), ["A_2", "a%", "ab1"]);
    }

    #[test]
    fn prefix_queries_are_primary_key_range_searches() {
        let db = Sqlite::open(":memory:").unwrap();
        let conn = db.conn().unwrap();
        for (values, after, upper) in [(true, false, true), (false, true, true), (true, true, false)] {
            let sql = format!("EXPLAIN QUERY PLAN {}", Sqlite::scan_sql(values, after, upper));
            let args: Vec<rusqlite::types::Value> =
                vec!["p".to_string().into(), 0.into(), 10.into(), "q".to_string().into()];
            let args = &args[..if upper { 4 } else { 3 }];
            let plan: String = conn
                .query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(3))
                .unwrap();
            assert!(
                plan.starts_with("SEARCH kv USING INDEX sqlite_autoindex_kv_1 (id>"),
                "{plan}"
            );
        }
        let plan: String = conn
            .query_row("EXPLAIN QUERY PLAN DELETE FROM kv WHERE expires_at <= ?1", [0], |r| {
                r.get(3)
            })
            .unwrap();
        assert!(plan.contains("idx_kv_expires_at"), "{plan}");
    }

    #[test]
    fn prune_removes_only_expired_rows() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.set("old", "1", Some(now_ms() - 5)).unwrap();
        db.set("new", "1", Some(now_ms() + 60_000)).unwrap();
        db.set("forever", "1", None).unwrap();
        db.prune().unwrap();
        let count: i64 = db
            .conn()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM kv", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn file_database_uses_wal_and_survives_reopen() {
        let path = temp_path("reopen");
        let mut db = Sqlite::open(&path).unwrap();
        let mode: String = db
            .conn()
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        db.set("k", "\"v\"", None).unwrap();
        db.close().unwrap();
        let closed = db.get("k").unwrap_err();
        assert!(closed.to_string().contains("is closed"), "{closed}");
        assert_eq!(closed.kind, ErrorKind::Closed);
        let mut again = Sqlite::open(&path).unwrap();
        assert_eq!(again.get("k").unwrap().as_deref(), Some("\"v\""));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let path = temp_path("corrupt");
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "this is not a database, it is a text file with enough bytes to have a header....",
        )
        .unwrap();
        let error = Sqlite::open(&path).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Corrupt, "{error}");
        let error = error.to_string();
        assert!(error.starts_with("[polykv] [SQLITE] cannot open \""), "{error}");
        assert!(error.contains(&path) && error.contains("not a database"), "{error}");
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("this is not"));
    }

    #[test]
    fn a_path_that_cannot_be_a_database_is_a_client_error() {
        let file = temp_path("client");
        std::fs::create_dir_all(std::path::Path::new(&file).parent().unwrap()).unwrap();
        std::fs::write(&file, "").unwrap();
        // A folder inside a plain file cannot be created; a folder cannot be opened as a database.
        for path in [
            format!("{file}/inside/x.db"),
            std::env::temp_dir().to_string_lossy().into_owned(),
        ] {
            let error = Sqlite::open(&path).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Client, "{error}");
            assert!(
                error.to_string().starts_with("[polykv] [SQLITE] cannot open \""),
                "{error}"
            );
        }
    }
}
