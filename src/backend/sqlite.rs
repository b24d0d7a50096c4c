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
//!
//! The index polykv creates is partial (`WHERE expires_at IS NOT NULL`): a record
//! that never expires then costs no index write, which was most of the difference
//! between a polykv write and a bare INSERT on the same table (measured: a write
//! dirtied three pages instead of two). `prune()`'s `expires_at <= ?` implies the
//! condition, so it still uses the index; a table polystore made keeps its own.

use super::{Backend, Change, Deadline, Entry, Listed, Outcomes, Record, Update, Value, ValueRef};
use crate::core::envelope::{now_ms, whole_ms};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::prefix::prefix_upper_bound;
use crate::core::tagged::metadata_of;
use rusqlite::types::{ToSqlOutput, ValueRef as SqlRef};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, ToSql};
use std::time::Duration;

const NAME: &str = "SQLITE";

/// How long a write waits for another connection's write to finish. Default: 10 s.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A live row, in SQL, `?2` being now: core's `envelope::is_live_at` (no deadline, or
/// one still ahead), written where SQLite can use it. A macro so the statements are
/// constants, not a `format!` a call.
macro_rules! live {
    () => {
        "(expires_at IS NULL OR expires_at > ?2)"
    };
}
const LIVE: &str = live!();
const GET: &str = concat!("SELECT value FROM kv WHERE id = ?1 AND ", live!());
const GET_RECORD: &str = concat!("SELECT value, expires_at FROM kv WHERE id = ?1 AND ", live!());
const HAS: &str = concat!("SELECT 1 FROM kv WHERE id = ?1 AND ", live!());
const SET: &str = "INSERT INTO kv (id, value, expires_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at";
const DEL: &str = "DELETE FROM kv WHERE id = ?1";
const TAKE: &str = concat!("DELETE FROM kv WHERE id = ?1 AND ", live!(), " RETURNING value");
// The swaps, one statement each (?1 key, ?2 now, ?3 seen, ?4 next, ?5 deadline). A
// BLOB never equals TEXT, so bytes and JSON text are told apart by the comparison.
const SWAP_ABSENT_PUT: &str = "INSERT INTO kv (id, value, expires_at) VALUES (?1, ?4, ?5)
     ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
     WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?2";
const SWAP_ABSENT_DEL: &str = concat!("SELECT NOT EXISTS (SELECT 1 FROM kv WHERE id = ?1 AND ", live!(), ")");
const SWAP_PUT: &str = concat!(
    "UPDATE kv SET value = ?4, expires_at = ?5 WHERE id = ?1 AND value = ?3 AND ",
    live!()
);
const SWAP_PUT_KEEP: &str = concat!("UPDATE kv SET value = ?4 WHERE id = ?1 AND value = ?3 AND ", live!());
const SWAP_DEL: &str = concat!("DELETE FROM kv WHERE id = ?1 AND value = ?3 AND ", live!());

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

/// Text binds as TEXT, bytes as a BLOB: `typeof(value)` tells them apart in SQL.
impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            ValueRef::Text(text) => SqlRef::Text(text.as_bytes()),
            ValueRef::Bytes(bytes) => SqlRef::Blob(bytes),
        }))
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
             CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;",
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
    /// or exclusive (after a cursor), with or without an upper bound, keys or records.
    /// Parameters: ?1 lower bound, ?2 now, ?3 limit, ?4 upper bound.
    fn scan_sql(values: bool, after: bool, upper: bool) -> String {
        format!(
            "SELECT id{} FROM kv WHERE id {} ?1{} AND {LIVE} ORDER BY id LIMIT ?3",
            if values { ", value, expires_at" } else { "" },
            if after { ">" } else { ">=" },
            if upper { " AND id < ?4" } else { "" },
        )
    }

    /// One indexed range read: the live rows under `prefix` after `after`, each read by `read`.
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

    /// Runs `work` inside one transaction (`BEGIN IMMEDIATE` takes the write lock at
    /// once, so two processes take turns instead of failing on upgrade), committed
    /// when it succeeds and rolled back when it fails.
    fn transaction<T>(&self, what: &str, begin: &str, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn()?;
        conn.prepare_cached(begin)
            .and_then(|mut stmt| stmt.execute([]))
            .map_err(|e| self.fail(what, e))?;
        let done = work(conn).and_then(|value| {
            conn.prepare_cached("COMMIT")
                .and_then(|mut stmt| stmt.execute([]))
                .map_err(|e| self.fail(what, e))?;
            Ok(value)
        });
        if done.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        done
    }

    fn put(&self, conn: &Connection, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        let run = || conn.prepare_cached(SET)?.execute(params![key, value, expires_at]);
        run().map(|_| ()).map_err(|e| self.fail("set", e))
    }

    fn remove(&self, conn: &Connection, key: &str) -> Result<()> {
        let run = || conn.prepare_cached(DEL)?.execute([key]);
        run().map(|_| ()).map_err(|e| self.fail("del", e))
    }

    fn write(&self, conn: &Connection, write: &Change) -> Result<()> {
        match &write.value {
            Some(value) => self.put(conn, &write.key, value.as_ref(), write.expires_at),
            None => self.remove(conn, &write.key),
        }
    }

    fn read_record(&self, conn: &Connection, key: &str) -> Result<Option<Record>> {
        let run = || -> rusqlite::Result<Option<Record>> {
            let mut stmt = conn.prepare_cached(GET_RECORD)?;
            stmt.query_row(params![key, now_ms()], |row| {
                Ok(Record {
                    value: value_of(row, 0)?,
                    expires_at: deadline_of(row, 1)?,
                })
            })
            .optional()
        };
        run().map_err(|e| self.fail("get", e))
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

/// The `value` column: a BLOB is bytes, anything else JSON text (it is declared
/// TEXT, but a user may have stored a number through SQL; numbers are JSON text too).
fn value_of(row: &Row, index: usize) -> rusqlite::Result<Value> {
    Ok(match row.get_ref(index)? {
        SqlRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
        SqlRef::Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
        SqlRef::Integer(n) => Value::Text(n.to_string()),
        SqlRef::Real(x) => Value::Text(x.to_string()),
        SqlRef::Null => Value::Text("null".into()),
    })
}

/// `expires_at` as whole ms: polystore may have written a fraction (a REAL).
fn deadline_of(row: &Row, index: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(index)? {
        SqlRef::Integer(ms) => Some(ms),
        SqlRef::Real(ms) => Some(whole_ms(ms)),
        _ => None,
    })
}

impl Backend for Sqlite {
    fn get(&mut self, key: &str) -> Result<Option<Value>> {
        let conn = self.conn()?;
        let run = || -> rusqlite::Result<Option<Value>> {
            let mut stmt = conn.prepare_cached(GET)?;
            stmt.query_row(params![key, now_ms()], |row| value_of(row, 0))
                .optional()
        };
        run().map_err(|e| self.fail("get", e))
    }

    fn get_record(&mut self, key: &str) -> Result<Option<Record>> {
        let conn = self.conn()?;
        self.read_record(conn, key)
    }

    fn set(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        let conn = self.conn()?;
        self.put(conn, key, value, expires_at)
    }

    fn del(&mut self, key: &str) -> Result<()> {
        let conn = self.conn()?;
        self.remove(conn, key)
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        let conn = self.conn()?;
        let run = || conn.prepare_cached(HAS)?.exists(params![key, now_ms()]);
        run().map_err(|e| self.fail("has", e))
    }

    /// One read transaction: every value from the same snapshot.
    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Value>>> {
        self.transaction("getMany", "BEGIN", |conn| {
            let mut stmt = conn.prepare_cached(GET).map_err(|e| self.fail("getMany", e))?;
            let now = now_ms();
            keys.iter()
                .map(|key| {
                    stmt.query_row(params![key, now], |row| value_of(row, 0))
                        .optional()
                        .map_err(|e| self.fail("getMany", e))
                })
                .collect()
        })
    }

    /// One write transaction: all or nothing.
    fn write_many(&mut self, writes: Vec<Change>) -> Result<()> {
        self.transaction("setMany", "BEGIN IMMEDIATE", |conn| {
            writes.iter().try_for_each(|write| self.write(conn, write))
        })
    }

    /// One write transaction; a statement that fails is undone alone (SQLite rolls
    /// back the statement, not the transaction) and fails only its own write. A lone
    /// write needs no transaction.
    fn write_group(&mut self, writes: Vec<Change>) -> Result<Outcomes> {
        if writes.len() == 1 {
            let conn = self.conn()?;
            return Ok(vec![self.write(conn, &writes[0]).err()]);
        }
        self.transaction("write", "BEGIN IMMEDIATE", |conn| {
            let mut outcomes = Vec::with_capacity(writes.len());
            for write in &writes {
                let outcome = self.write(conn, write).err();
                if let Some(error) = &outcome {
                    // Some failures (disk full, I/O) end the whole transaction: then
                    // none of the writes is stored.
                    if conn.is_autocommit() {
                        return Err(error.clone());
                    }
                }
                outcomes.push(outcome);
            }
            Ok(outcomes)
        })
    }

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        self.run_scan(prefix, after, limit, true, |row| {
            Ok((
                row.get::<_, String>(0)?,
                Record {
                    value: value_of(row, 1)?,
                    expires_at: deadline_of(row, 2)?,
                },
            ))
        })
    }

    fn scan_keys(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.run_scan(prefix, after, limit, false, |row| row.get::<_, String>(0))
    }

    /// The scan's range read, the values looked at where SQLite holds them (only a
    /// tagged record is parsed, for its metadata) and never copied.
    fn list(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
        self.run_scan(prefix, after, limit, true, |row| {
            let metadata = match row.get_ref(1)? {
                SqlRef::Text(bytes) => std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| metadata_of(ValueRef::Text(text))),
                _ => None,
            };
            Ok(Listed {
                key: row.get(0)?,
                expires_at: deadline_of(row, 2)?,
                metadata,
            })
        })
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

    /// A write transaction around the read and the write.
    fn update(&mut self, key: &str, change: &mut dyn FnMut(Option<&Record>) -> Update) -> Result<()> {
        self.transaction("update", "BEGIN IMMEDIATE", |conn| {
            let current = self.read_record(conn, key)?;
            match change(current.as_ref()) {
                Update::Keep => Ok(()),
                Update::Delete => self.remove(conn, key),
                Update::Put(value, expires_at) => self.put(conn, key, value.as_ref(), expires_at),
            }
        })
    }

    /// One statement, atomic on its own: the row is replaced only where it still
    /// holds `seen` and is live (or, for `seen` = none, is missing or expired).
    fn swap(
        &mut self,
        key: &str,
        seen: Option<ValueRef<'_>>,
        next: Option<ValueRef<'_>>,
        deadline: Deadline,
    ) -> Result<bool> {
        let conn = self.conn()?;
        let now = now_ms();
        let expires_at = match deadline {
            Deadline::Keep => None, // only read by the statements that set it
            Deadline::Set(expires_at) => expires_at,
        };
        let run = || -> rusqlite::Result<bool> {
            let changed = match (seen, next) {
                (None, None) => {
                    return conn
                        .prepare_cached(SWAP_ABSENT_DEL)?
                        .query_row(params![key, now], |r| r.get(0))
                }
                (None, Some(next)) => conn.prepare_cached(SWAP_ABSENT_PUT)?.execute(params![
                    key,
                    now,
                    rusqlite::types::Null,
                    next,
                    expires_at
                ])?,
                (Some(seen), None) => conn.prepare_cached(SWAP_DEL)?.execute(params![key, now, seen])?,
                (Some(seen), Some(next)) => match deadline {
                    Deadline::Keep => conn
                        .prepare_cached(SWAP_PUT_KEEP)?
                        .execute(params![key, now, seen, next])?,
                    Deadline::Set(_) => conn
                        .prepare_cached(SWAP_PUT)?
                        .execute(params![key, now, seen, next, expires_at])?,
                },
            };
            Ok(changed > 0)
        };
        run().map_err(|e| self.fail("swap", e))
    }

    /// One statement: `DELETE … RETURNING`.
    fn get_and_delete(&mut self, key: &str) -> Result<Option<Value>> {
        let conn = self.conn()?;
        let run = || -> rusqlite::Result<Option<Value>> {
            conn.prepare_cached(TAKE)?
                .query_row(params![key, now_ms()], |row| value_of(row, 0))
                .optional()
        };
        run().map_err(|e| self.fail("getAndDelete", e))
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
    use crate::backend::testing::{t, text};

    fn temp_path(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("polykv-sqlite-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("nested/store.db").to_string_lossy().into_owned()
    }

    #[test]
    fn set_get_has_del_with_expiry() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.set("a", t("{\"x\":1}"), None).unwrap();
        assert_eq!(text(db.get("a").unwrap()).as_deref(), Some("{\"x\":1}"));
        assert!(db.has("a").unwrap());
        db.set("a", t("2"), Some(now_ms() - 1)).unwrap();
        assert_eq!(text(db.get("a").unwrap()), None);
        assert!(!db.has("a").unwrap());
        db.set("b", t("3"), Some(now_ms() + 60_000)).unwrap();
        assert!(db.has("b").unwrap());
        db.del("b").unwrap();
        db.del("missing").unwrap();
        assert_eq!(text(db.get("b").unwrap()), None);
    }

    #[test]
    fn scans_pages_in_order_within_the_prefix() {
        let mut db = Sqlite::open(":memory:").unwrap();
        for key in ["a:1", "a:2", "a:3", "a;", "a", "b:1", "a:4"] {
            db.set(key, t("true"), None).unwrap();
        }
        db.set("a:5", t("0"), Some(1)).unwrap(); // long expired
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
            db.set(key, t("1"), None).unwrap();
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
    fn keeps_the_atomic_contract_with_bytes_as_blobs() {
        let mut db = Sqlite::open(":memory:").unwrap();
        crate::backend::testing::check_atomic_contract(&mut db, true);
        db.set("b", ValueRef::Bytes(&[0, 1]), None).unwrap();
        db.set("j", t("{}"), None).unwrap();
        let kinds: Vec<String> = db
            .conn()
            .unwrap()
            .prepare("SELECT typeof(value) FROM kv WHERE id IN ('b', 'j') ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kinds, ["blob", "text"]);
    }

    #[test]
    fn a_group_commit_fails_only_the_failing_write() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.conn()
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON kv WHEN NEW.id = 'bad'
                 BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END;",
            )
            .unwrap();
        let write = |key: &str, value: Option<&str>| Change {
            key: key.into(),
            value: value.map(|v| Value::Text(v.into())),
            expires_at: None,
        };
        db.set("gone", t("0"), None).unwrap();
        let outcomes = db
            .write_group(vec![
                write("a", Some("1")),
                write("bad", Some("2")),
                write("gone", None),
                write("c", Some("3")),
            ])
            .unwrap();
        let failed: Vec<bool> = outcomes.iter().map(Option::is_some).collect();
        assert_eq!(failed, [false, true, false, false]);
        assert!(outcomes[1]
            .as_ref()
            .unwrap()
            .to_string()
            .contains("refused by a trigger"));
        assert_eq!(db.scan_keys("", None, 10).unwrap(), ["a", "c"]);
        // All or nothing: the same failure undoes the whole setMany.
        assert!(db
            .write_many(vec![write("d", Some("4")), write("bad", Some("5"))])
            .is_err());
        assert_eq!(db.get("d").unwrap(), None);
        assert_eq!(
            db.get_many(&["c".into(), "x".into(), "a".into()]).unwrap(),
            [Some(Value::Text("3".into())), None, Some(Value::Text("1".into()))]
        );
    }

    #[test]
    fn lists_deadlines_and_the_metadata_of_tagged_records() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.set(
            "l:a",
            t(r#"{"$polykv":1,"value":1,"metadata":{"m":1}}"#),
            Some(5_000_000_000_000),
        )
        .unwrap();
        db.set("l:b", ValueRef::Bytes(b"x"), None).unwrap();
        db.set("l:c", t("2"), None).unwrap();
        let page = db.list("l:", None, 2).unwrap();
        assert_eq!(
            page,
            [
                Listed {
                    key: "l:a".into(),
                    expires_at: Some(5_000_000_000_000),
                    metadata: Some(r#"{"m":1}"#.into())
                },
                Listed {
                    key: "l:b".into(),
                    expires_at: None,
                    metadata: None
                },
            ]
        );
        assert_eq!(db.list("l:", Some("l:b"), 2).unwrap().len(), 1);
    }

    #[test]
    fn prune_removes_only_expired_rows() {
        let mut db = Sqlite::open(":memory:").unwrap();
        db.set("old", t("1"), Some(now_ms() - 5)).unwrap();
        db.set("new", t("1"), Some(now_ms() + 60_000)).unwrap();
        db.set("forever", t("1"), None).unwrap();
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
        db.set("k", t("\"v\""), None).unwrap();
        db.close().unwrap();
        let closed = db.get("k").unwrap_err();
        assert!(closed.to_string().contains("is closed"), "{closed}");
        assert_eq!(closed.kind, ErrorKind::Closed);
        let mut again = Sqlite::open(&path).unwrap();
        assert_eq!(text(again.get("k").unwrap()).as_deref(), Some("\"v\""));
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
