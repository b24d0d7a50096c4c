//! Storage engines. Embedded ones (SQLite, JSON file, folder) implement the sync
//! `Backend` trait below; the binding wraps any of them in one JS class.
pub mod file;
pub mod folder;
mod fsutil;
#[cfg(feature = "redis")]
pub mod resp;
pub mod sqlite;

use crate::core::error::Result;

/// One entry of a scan: the full key and its value as JSON text.
pub type Entry = (String, String);

/// One write of a batch: `value: None` deletes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub value: Option<String>,
    pub expires_at: Option<i64>,
}

/// The contract every embedded engine keeps. Keys are full keys (prefix included),
/// values are JSON text made by V8, deadlines are absolute Unix ms.
///
/// Promises common to every method:
/// - an expired record (deadline <= now) is invisible at once: `get` → `None`,
///   `has` → `false`, scans skip it, whether or not it was pruned;
/// - errors read `[polykv] [<BACKEND>] …` and name the path or key involved;
/// - nothing panics on bad data from disk: it is an `Err` or, for foreign records
///   that are not ours, treated as missing.
pub trait Backend {
    /// The value of a live record, or `None` when missing or expired.
    fn get(&mut self, key: &str) -> Result<Option<String>>;

    /// Inserts or replaces; `expires_at` is an absolute deadline in Unix ms, `None` never expires.
    fn set(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()>;

    /// Removes the record. Deleting a missing key is `Ok`.
    fn del(&mut self, key: &str) -> Result<()>;

    /// Applies the writes in order, as one unit where the engine can: the JSON file,
    /// where every write rewrites the whole file, does the batch in one rewrite.
    fn write_many(&mut self, writes: Vec<Change>) -> Result<()> {
        for write in writes {
            match write.value {
                Some(value) => self.set(&write.key, &value, write.expires_at)?,
                None => self.del(&write.key)?,
            }
        }
        Ok(())
    }

    /// Whether a live record exists.
    fn has(&mut self, key: &str) -> Result<bool> {
        Ok(self.get(key)?.is_some())
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

    /// Flushes and releases the underlying resources. Calls after it are errors
    /// (the binding enforces that).
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}
