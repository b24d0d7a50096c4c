//! Storage engines. Embedded ones (SQLite, JSON file, folder, asset folder) implement
//! the sync `Backend` trait below; the binding wraps any of them in one JS class.
pub mod assets;
pub mod file;
pub mod folder;
mod fsutil;
#[cfg(feature = "redis")]
pub mod resp;
pub mod sqlite;

use crate::core::error::{Error, ErrorKind, Result};

/// A stored value: JSON text made by V8, or bytes on engines that keep bytes
/// (SQLite's BLOB, the folder's raw record files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bytes(Vec<u8>),
}

/// A value as writes and comparisons take it, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Text(text) => ValueRef::Text(text),
            Value::Bytes(bytes) => ValueRef::Bytes(bytes),
        }
    }
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Text(text) => Value::Text(text.to_owned()),
            ValueRef::Bytes(bytes) => Value::Bytes(bytes.to_owned()),
        }
    }
}

/// A live record: its value and its deadline (absolute Unix ms, `None` never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub value: Value,
    pub expires_at: Option<i64>,
}

/// One entry of a scan: the full key and its record.
pub type Entry = (String, Record);

/// One entry of a `list()` page: the key, its deadline, and the metadata's JSON text
/// when the record carries some (`core::tagged::metadata_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub expires_at: Option<i64>,
    pub metadata: Option<String>,
}

/// One write of a batch: `value: None` deletes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub value: Option<Value>,
    pub expires_at: Option<i64>,
}

/// What `update` does with the record it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Keep,
    Delete,
    Put(Value, Option<i64>),
}

/// The deadline a `swap` gives the new record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The replaced record's deadline (none when there was no live record).
    Keep,
    Set(Option<i64>),
}

/// The outcome of each write of a group commit (`write_group`), in order: `None` done.
pub type Outcomes = Vec<Option<Error>>;

/// The contract every embedded engine keeps. Keys are full keys (prefix included),
/// values JSON text made by V8 (or bytes where the engine keeps them), deadlines
/// absolute Unix ms.
///
/// Promises common to every method:
/// - an expired record (deadline <= now) is invisible at once: `get` → `None`,
///   `has` → `false`, scans skip it, swaps treat it as absent, whether or not it was
///   pruned;
/// - errors read `[polykv] [<BACKEND>] …` and name the path or key involved;
/// - nothing panics on bad data from disk: it is an `Err` or, for foreign records
///   that are not ours, treated as missing.
pub trait Backend {
    /// The live record, or `None` when missing or expired.
    fn get_record(&mut self, key: &str) -> Result<Option<Record>>;

    /// The value of a live record, or `None` when missing or expired.
    fn get(&mut self, key: &str) -> Result<Option<Value>> {
        Ok(self.get_record(key)?.map(|record| record.value))
    }

    /// Inserts or replaces; `expires_at` is an absolute deadline in Unix ms, `None`
    /// never expires. An engine that holds only text refuses bytes (a `Value` error).
    fn set(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()>;

    /// Removes the record. Deleting a missing key is `Ok`.
    fn del(&mut self, key: &str) -> Result<()>;

    /// Whether a live record exists.
    fn has(&mut self, key: &str) -> Result<bool> {
        Ok(self.get_record(key)?.is_some())
    }

    /// The values of `keys`, in order (`None` where missing), read together where
    /// the engine can (one read transaction).
    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Value>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Applies the writes in order as one unit: all or nothing where the engine has
    /// transactions (SQLite) or writes everything at once (the JSON file); the
    /// folder applies them one by one and stops at the first failure.
    fn write_many(&mut self, writes: Vec<Change>) -> Result<()> {
        for write in writes {
            match write.value {
                Some(value) => self.set(&write.key, value.as_ref(), write.expires_at)?,
                None => self.del(&write.key)?,
            }
        }
        Ok(())
    }

    /// A group commit: the writes of one tick, applied in order and committed
    /// together, each succeeding or failing alone. `Ok` holds each write's outcome;
    /// `Err` means none of them is stored (the commit itself failed).
    fn write_group(&mut self, writes: Vec<Change>) -> Result<Outcomes> {
        Ok(writes
            .into_iter()
            .map(|write| {
                match write.value {
                    Some(value) => self.set(&write.key, value.as_ref(), write.expires_at),
                    None => self.del(&write.key),
                }
                .err()
            })
            .collect())
    }

    /// Up to `limit` live entries whose key starts with `prefix`, in ascending key
    /// (byte) order, starting after `after` (the last key of the previous page) when
    /// given. A page shorter than `limit` is the last one. Memory stays bounded by
    /// the page, so callers stream big stores page by page.
    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>>;

    /// Same as `scan` but only the keys (engines that can skip reading values override it).
    fn scan_keys(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        Ok(self
            .scan(prefix, after, limit)?
            .into_iter()
            .map(|(key, _)| key)
            .collect())
    }

    /// One `list()` page, as `scan` pages: keys, deadlines and metadata, the values
    /// themselves left behind.
    fn list(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
        Ok(self
            .scan(prefix, after, limit)?
            .into_iter()
            .map(|(key, record)| Listed {
                metadata: crate::core::tagged::metadata_of(record.value.as_ref()),
                key,
                expires_at: record.expires_at,
            })
            .collect())
    }

    /// Removes every record whose key starts with `prefix` (`""`: all of them).
    fn clear(&mut self, prefix: &str) -> Result<()> {
        loop {
            let keys = self.scan_keys(prefix, None, 1000)?;
            for key in &keys {
                self.del(key)?;
            }
            if keys.len() < 1000 {
                return Ok(());
            }
        }
    }

    /// Removes expired records to reclaim space; reads never depend on it.
    fn prune(&mut self) -> Result<()> {
        Ok(())
    }

    /// The atomic read-modify-write of one key: shows `change` the live record (or
    /// `None`) and applies what it answers, under the engine's write lock (SQLite: a
    /// write transaction; the JSON file and the folder: their cross-process lock), so
    /// no other writer, in this process or another, comes in between.
    fn update(&mut self, key: &str, change: &mut dyn FnMut(Option<&Record>) -> Update) -> Result<()> {
        let _ = (key, change);
        Err(Error::new(
            ErrorKind::Unsupported,
            "",
            "this store cannot update a record atomically",
        ))
    }

    /// Replaces the record by `next` (`None` deletes) only if its value is still
    /// `seen` (`None`: missing or expired), byte for byte; true when it did.
    fn swap(
        &mut self,
        key: &str,
        seen: Option<ValueRef<'_>>,
        next: Option<ValueRef<'_>>,
        deadline: Deadline,
    ) -> Result<bool> {
        let mut swapped = false;
        self.update(key, &mut |current| {
            if current.map(|record| record.value.as_ref()) != seen {
                return Update::Keep;
            }
            swapped = true;
            match next {
                None if current.is_none() => Update::Keep,
                None => Update::Delete,
                Some(value) => Update::Put(
                    value.to_owned(),
                    match deadline {
                        Deadline::Keep => current.and_then(|record| record.expires_at),
                        Deadline::Set(expires_at) => expires_at,
                    },
                ),
            }
        })?;
        Ok(swapped)
    }

    /// Adds `by` to the JSON number stored under `key` and returns the sum; a missing
    /// key starts at `by` with deadline `expires_at`, an existing one keeps its own.
    /// `None` (nothing changed) when the record is not a plain JSON number, or the
    /// sum is not finite: the caller decides what that means (lib/atomic.js).
    fn increment(&mut self, key: &str, by: f64, expires_at: Option<i64>) -> Result<Option<f64>> {
        let mut sum = None;
        self.update(key, &mut |current| {
            let (base, deadline) = match current {
                None => (0.0, expires_at),
                Some(record) => match crate::core::number::plain_number(record.value.as_ref()) {
                    Some(number) => (number, record.expires_at),
                    None => return Update::Keep,
                },
            };
            let next = base + by;
            if !next.is_finite() {
                return Update::Keep;
            }
            sum = Some(next);
            Update::Put(Value::Text(crate::core::number::json_number(next)), deadline)
        })?;
        Ok(sum)
    }

    /// Removes the live record and returns its value: one caller gets it.
    fn get_and_delete(&mut self, key: &str) -> Result<Option<Value>> {
        let mut taken = None;
        self.update(key, &mut |current| match current {
            None => Update::Keep,
            Some(record) => {
                taken = Some(record.value.clone());
                Update::Delete
            }
        })?;
        Ok(taken)
    }

    /// Flushes and releases the underlying resources. Calls after it are errors
    /// (the binding enforces that).
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The `Value` error of an engine that holds only JSON text, asked to store bytes.
pub(crate) fn text_only(backend: &'static str, key: &str) -> Error {
    Error::new(
        ErrorKind::Value,
        backend,
        format!("the value for key \"{key}\" is bytes; this store holds only JSON text"),
    )
}

/// Shorthands for the engines' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Value, ValueRef};

    /// JSON text to write.
    pub fn t(text: &str) -> ValueRef<'_> {
        ValueRef::Text(text)
    }

    /// What a read gave, as JSON text (bytes are a test failure).
    pub fn text(value: Option<Value>) -> Option<String> {
        value.map(|value| match value {
            Value::Text(text) => text,
            Value::Bytes(bytes) => panic!("bytes where JSON text was expected: {bytes:?}"),
        })
    }

    /// The promises of `swap`, `increment` and `get_and_delete`, checked on any engine
    /// (`bytes`: whether it keeps bytes).
    pub fn check_atomic_contract(db: &mut dyn super::Backend, bytes: bool) {
        use super::Deadline;
        use crate::core::envelope::now_ms;
        let later = Some(now_ms() + 60_000);
        assert!(
            db.swap("s", None, Some(t("1")), Deadline::Set(later)).unwrap(),
            "absent → put"
        );
        assert!(
            !db.swap("s", None, Some(t("2")), Deadline::Set(None)).unwrap(),
            "present is not absent"
        );
        assert!(
            !db.swap("s", Some(t("2")), Some(t("3")), Deadline::Keep).unwrap(),
            "another value"
        );
        assert!(db.swap("s", Some(t("1")), Some(t("3")), Deadline::Keep).unwrap());
        let record = db.get_record("s").unwrap().unwrap();
        assert_eq!(
            (record.value, record.expires_at),
            (Value::Text("3".into()), later),
            "deadline kept"
        );
        assert!(db.swap("s", Some(t("3")), Some(t("4")), Deadline::Set(None)).unwrap());
        assert_eq!(db.get_record("s").unwrap().unwrap().expires_at, None, "deadline set");
        assert!(
            !db.swap("s", None, None, Deadline::Keep).unwrap(),
            "present is not absent"
        );
        assert!(
            db.swap("s", Some(t("4")), None, Deadline::Keep).unwrap(),
            "seen → delete"
        );
        assert_eq!(db.get("s").unwrap(), None);
        assert!(db.swap("s", None, None, Deadline::Keep).unwrap(), "absent stays absent");
        db.set("old", t("1"), Some(now_ms() - 1)).unwrap();
        assert!(
            !db.swap("old", Some(t("1")), Some(t("2")), Deadline::Keep).unwrap(),
            "expired is absent"
        );
        assert!(db.swap("old", None, Some(t("2")), Deadline::Keep).unwrap());
        assert_eq!(db.get_record("old").unwrap().unwrap().expires_at, None);

        assert_eq!(db.increment("n", 2.5, later).unwrap(), Some(2.5));
        assert_eq!(db.increment("n", 1.0, None).unwrap(), Some(3.5));
        assert_eq!(
            db.get_record("n").unwrap().unwrap().expires_at,
            later,
            "keeps its deadline"
        );
        db.set("word", t("\"5\""), None).unwrap();
        assert_eq!(db.increment("word", 1.0, None).unwrap(), None);
        assert_eq!(text(db.get("word").unwrap()).as_deref(), Some("\"5\""));
        db.set("big", t("1e308"), None).unwrap();
        assert_eq!(db.increment("big", 1e308, None).unwrap(), None, "not finite");

        assert_eq!(text(db.get_and_delete("word").unwrap()).as_deref(), Some("\"5\""));
        assert_eq!(db.get_and_delete("word").unwrap(), None);
        db.set("gone", t("1"), Some(now_ms() - 1)).unwrap();
        assert_eq!(db.get_and_delete("gone").unwrap(), None);

        if bytes {
            db.set("b", ValueRef::Bytes(b"5"), None).unwrap();
            assert_eq!(db.get("b").unwrap(), Some(Value::Bytes(b"5".to_vec())));
            assert!(
                !db.swap("b", Some(t("5")), None, Deadline::Keep).unwrap(),
                "bytes are not text"
            );
            assert_eq!(db.increment("b", 1.0, None).unwrap(), None, "bytes are no number");
            assert!(db
                .swap(
                    "b",
                    Some(ValueRef::Bytes(b"5")),
                    Some(ValueRef::Bytes(&[0, 255])),
                    Deadline::Keep
                )
                .unwrap());
            assert_eq!(db.get_and_delete("b").unwrap(), Some(Value::Bytes(vec![0, 255])));
        }
    }
}
