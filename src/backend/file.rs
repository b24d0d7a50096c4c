//! One JSON file holding every record (docs/behaviour.md §21):
//! `{ "<fullKey>": { "expires": <unix ms or null>, "value": … } }`, the format
//! polystore's file store reads and writes.
//!
//! - Reads are served from an in-memory copy while the file's identity, size and
//!   times are unchanged (one `stat` per call), so another process's writes are seen.
//! - Every write holds an exclusive advisory lock (`flock` on the folder), re-reads
//!   the file if someone else changed it, writes the whole object to a temp file in
//!   the same folder and renames it over the old one: a crash leaves either the old
//!   or the new file, never a torn one, and two processes never lose each other's
//!   writes. The temp file is not fsynced: that costs ~5 ms a write on this class
//!   of disk (measured), and the rename is what makes a process crash safe.
//! - The temp file (`.<name>.polykv-<random>.tmp`) is created exclusively, never
//!   through a symlink, with the file's own mode and owner (`fsutil`); the ones a
//!   crash left behind are removed at open, under the lock (no writer is mid-write).
//! - The file itself is never a symlink unless the URL opts in (`?symlinks=follow`,
//!   which resolves the link once, at open): a rename would replace the link.
//! - Entries that are not records of ours are kept verbatim on rewrite and read as
//!   missing; a file that is not a JSON object is an error naming the path, never
//!   silently replaced by an empty store.

use super::fsutil;
use super::{text_only, Backend, Change, Entry, Outcomes, Record, Update, Value, ValueRef};
use crate::core::envelope::{check_value, is_live_at, now_ms, write_envelope, write_json_string, Envelope};

use crate::core::error::{Error, ErrorKind, Result};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::ops::{Bound, Range};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

const NAME: &str = "FILE";

/// An entry as it is written in the file, `"<key>":<record>`, kept pre-rendered so a
/// write is one concatenation instead of re-encoding every record.
#[derive(Debug)]
struct Slot {
    line: String,
    /// Where the value's JSON text sits in `line`; `None` for an entry that is not a
    /// record of ours (kept verbatim, read as missing).
    value: Option<Range<usize>>,
    expires: Option<i64>,
}

impl Slot {
    fn record(key: &str, value: &str, expires: Option<i64>) -> Slot {
        let mut line = String::with_capacity(key.len() + value.len() + 36);
        write_json_string(&mut line, key);
        line.push(':');
        let value = write_envelope(&mut line, value, expires);
        Slot {
            line,
            value: Some(value),
            expires,
        }
    }

    fn foreign(key: &str, raw: &RawValue) -> Slot {
        let mut line = String::new();
        write_json_string(&mut line, key);
        line.push(':');
        line.push_str(raw.get());
        Slot {
            line,
            value: None,
            expires: None,
        }
    }

    fn is_record(&self) -> bool {
        self.value.is_some()
    }

    fn is_expired(&self, now: i64) -> bool {
        self.is_record() && !is_live_at(self.expires, now)
    }

    /// The value's JSON text when this is a live record.
    fn live_value(&self, now: i64) -> Option<&str> {
        match &self.value {
            Some(range) if !self.is_expired(now) => Some(&self.line[range.clone()]),
            _ => None,
        }
    }

    fn live_record(&self, now: i64) -> Option<Record> {
        self.live_value(now).map(|value| Record {
            value: Value::Text(value.to_owned()),
            expires_at: self.expires,
        })
    }
}

/// What tells us the file changed: a rename gives a new inode, a rewrite in place a
/// new size or times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Self {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        }
    }
}

#[derive(Debug)]
pub struct JsonFile {
    path: PathBuf,
    /// The folder, where each new version is written to a temp file before the rename.
    dir: PathBuf,
    /// Temp files are named `<temp_stem><random>.tmp`; only written under the lock.
    temp_stem: String,
    /// The folder, opened once: its `flock` serialises writers across processes.
    folder: Option<File>,
    slots: BTreeMap<String, Slot>,
    /// The file these slots were read from; `None` when it did not exist.
    stamp: Option<Stamp>,
}

impl JsonFile {
    /// Opens the file, creating it as `{}` (and its folders) when missing. A file that
    /// is not a JSON object is an error: nothing is overwritten. A symlink is refused
    /// unless `follow`, which opens its target instead.
    pub fn open(path: &str, follow: bool) -> Result<Self> {
        let mut path = PathBuf::from(path);
        let shown = path.display().to_string();
        let fail = |kind, what: &str, e: &dyn std::fmt::Display| {
            Error::new(kind, NAME, format!("cannot {what} \"{shown}\": {e}"))
        };
        if fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            if !follow {
                let why = "it is a symbolic link; polykv follows one only when the URL ends in ?symlinks=follow";
                return Err(fail(ErrorKind::Client, "open", &why));
            }
            path = fs::canonicalize(&path).map_err(|e| fail(ErrorKind::Client, "follow the link", &e))?;
        }
        let name = path
            .file_name()
            .ok_or_else(|| Error::new(ErrorKind::Client, NAME, format!("\"{shown}\" does not name a file")))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(|e| fail(ErrorKind::Client, "create the folder of", &e))?;
        match File::options().write(true).create_new(true).open(&path) {
            Ok(mut file) => file
                .write_all(b"{}")
                .map_err(|e| fail(ErrorKind::Backend, "create", &e))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(fail(ErrorKind::Client, "create", &e)),
        }
        let folder = File::open(&dir).map_err(|e| fail(ErrorKind::Client, "open the folder of", &e))?;
        let temp_stem = format!(".{}.polykv-", name.to_string_lossy());
        let mut file = JsonFile {
            path,
            dir,
            temp_stem,
            folder: Some(folder),
            slots: BTreeMap::new(),
            stamp: None,
        };
        file.write_locked(|_| false)?; // reads the file, and sweeps stale temp files under the lock
        Ok(file)
    }

    /// Removes the temp files of writers that crashed. Only under the lock: a live
    /// writer holds it for as long as its temp file exists.
    fn sweep_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        // Older versions used one fixed name, `.<name>.polykv-tmp`.
        let legacy = format!("{}tmp", self.temp_stem);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name == legacy || (name.starts_with(&self.temp_stem) && name.ends_with(".tmp")) {
                let _ = fs::remove_file(entry.path()); // a link is removed, never followed
            }
        }
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    fn check_open(&self) -> Result<()> {
        match self.folder {
            Some(_) => Ok(()),
            None => Err(Error::new(
                ErrorKind::Closed,
                NAME,
                format!("the store at \"{}\" is closed", self.shown()),
            )),
        }
    }

    /// Re-reads the file when it is not the one in memory.
    fn refresh(&mut self) -> Result<()> {
        self.check_open()?;
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Removed behind our back: an empty store, recreated on the next write.
                self.slots.clear();
                self.stamp = None;
                return Ok(());
            }
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    NAME,
                    format!("cannot read \"{}\": {e}", self.shown()),
                ))
            }
        };
        let stamp = Stamp::of(&meta);
        if self.stamp == Some(stamp) {
            return Ok(());
        }
        let text = fs::read_to_string(&self.path).map_err(|e| {
            Error::new(
                ErrorKind::of_read(&e),
                NAME,
                format!("cannot read \"{}\": {e}", self.shown()),
            )
        })?;
        self.slots = parse_document(&text).map_err(|why| {
            Error::new(
                ErrorKind::Corrupt,
                NAME,
                format!(
                    "cannot read \"{}\": {why}; fix or move the file, polykv will not overwrite it",
                    self.shown()
                ),
            )
        })?;
        self.stamp = Some(stamp);
        Ok(())
    }

    /// Runs `change` on the freshest records under the lock and writes the result
    /// when `change` says something changed.
    fn write_locked(&mut self, change: impl FnOnce(&mut BTreeMap<String, Slot>) -> bool) -> Result<()> {
        self.check_open()?;
        let locked = self.folder.as_ref().map(|f| f.lock());
        if let Some(Err(e)) = locked {
            return Err(Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot lock the folder of \"{}\": {e}", self.shown()),
            ));
        }
        if self.stamp.is_none() {
            self.sweep_temps(); // at open, and after a failed write
        }
        let result = self.refresh().and_then(|_| {
            if change(&mut self.slots) {
                self.persist()
            } else {
                Ok(())
            }
        });
        if let Some(folder) = &self.folder {
            let _ = folder.unlock();
        }
        if result.is_err() {
            // What is in memory may not be what is on disk any more: read it again next time.
            self.stamp = None;
        }
        result
    }

    fn persist(&mut self) -> Result<()> {
        let text = render_document(&self.slots);
        let fail = |e: io::Error| {
            Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot write \"{}\": {e}", self.path.display()),
            )
        };
        let (mut temp, temp_path) = fsutil::create_temp(&self.dir, &self.temp_stem).map_err(fail)?;
        let written = (|| {
            // The rewrite keeps the file's mode and owner (a 0600 file stays 0600).
            if let Ok(old) = fs::symlink_metadata(&self.path) {
                if old.is_file() {
                    fsutil::keep_mode_and_owner(&temp, &old)?;
                }
            }
            temp.write_all(text.as_bytes())?;
            temp.flush()?;
            drop(temp);
            fs::rename(&temp_path, &self.path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp_path);
            return Err(fail(e));
        }
        self.stamp = Some(Stamp::of(&fs::metadata(&self.path).map_err(fail)?));
        Ok(())
    }
}

/// The JS side sends JSON.stringify output; check anyway: one bad write would make
/// the whole file unreadable. Bytes are refused: the file holds JSON text only (the
/// JS side stores them as base64 in a tagged record).
fn checked_slot(key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<Slot> {
    let ValueRef::Text(value) = value else {
        return Err(text_only(NAME, key));
    };
    check_value(value).map_err(|e| {
        Error::new(
            ErrorKind::Value,
            NAME,
            format!("the value for key \"{key}\" is not JSON text: {e}"),
        )
    })?;
    Ok(Slot::record(key, value, expires_at))
}

fn parse_document(text: &str) -> std::result::Result<BTreeMap<String, Slot>, String> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new()); // polystore reads an empty file as `{}`
    }
    let raw: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            "the file is JSON but not an object of records".to_string()
        } else {
            format!("the file is not valid JSON ({e})")
        }
    })?;
    Ok(raw
        .into_iter()
        .map(|(key, raw)| {
            let slot = match Envelope::from_raw(&raw) {
                Some(record) => Slot::record(&key, record.value.get(), record.expires),
                None => Slot::foreign(&key, &raw),
            };
            (key, slot)
        })
        .collect())
}

/// One record per line: compact yet readable, and diffable.
fn render_document(slots: &BTreeMap<String, Slot>) -> String {
    let size: usize = slots.values().map(|slot| slot.line.len() + 2).sum();
    let mut out = String::with_capacity(size + 4);
    out.push('{');
    for (i, slot) in slots.values().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&slot.line);
    }
    out.push_str(if slots.is_empty() { "}" } else { "\n}\n" });
    out
}

impl Backend for JsonFile {
    fn get_record(&mut self, key: &str) -> Result<Option<Record>> {
        self.refresh()?;
        Ok(self.slots.get(key).and_then(|slot| slot.live_record(now_ms())))
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        self.refresh()?;
        Ok(self.slots.get(key).and_then(|slot| slot.live_value(now_ms())).is_some())
    }

    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Value>>> {
        self.refresh()?;
        let now = now_ms();
        Ok(keys
            .iter()
            .map(|key| {
                self.slots
                    .get(key)
                    .and_then(|slot| slot.live_value(now))
                    .map(|value| Value::Text(value.to_owned()))
            })
            .collect())
    }

    fn set(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        let slot = checked_slot(key, value, expires_at)?;
        self.write_locked(|slots| {
            slots.insert(key.to_owned(), slot);
            true
        })
    }

    fn del(&mut self, key: &str) -> Result<()> {
        self.write_locked(|slots| slots.remove(key).is_some())
    }

    /// A whole batch in one locked rewrite; one bad write and nothing is written.
    fn write_many(&mut self, writes: Vec<Change>) -> Result<()> {
        let mut changes = Vec::with_capacity(writes.len());
        for write in writes {
            let slot = match &write.value {
                Some(value) => Some(checked_slot(&write.key, value.as_ref(), write.expires_at)?),
                None => None,
            };
            changes.push((write.key, slot));
        }
        self.apply(changes)
    }

    /// The writes of one tick (the JS driver batches them) in one locked rewrite:
    /// many concurrent writers cost one rename, not one each. A bad write fails alone.
    fn write_group(&mut self, writes: Vec<Change>) -> Result<Outcomes> {
        let mut changes = Vec::with_capacity(writes.len());
        let mut outcomes = Vec::with_capacity(writes.len());
        for write in writes {
            match &write.value {
                Some(value) => match checked_slot(&write.key, value.as_ref(), write.expires_at) {
                    Ok(slot) => changes.push((write.key, Some(slot))),
                    Err(error) => {
                        outcomes.push(Some(error));
                        continue;
                    }
                },
                None => changes.push((write.key, None)),
            }
            outcomes.push(None);
        }
        self.apply(changes)?;
        Ok(outcomes)
    }

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        self.refresh()?;
        let now = now_ms();
        let start = match after {
            Some(cursor) if cursor >= prefix => Bound::Excluded(cursor),
            _ => Bound::Included(prefix),
        };
        Ok(self
            .slots
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(key, slot)| slot.live_record(now).map(|record| (key.clone(), record)))
            .take(limit)
            .collect())
    }

    fn clear(&mut self, prefix: &str) -> Result<()> {
        self.write_locked(|slots| {
            let before = slots.len();
            slots.retain(|key, _| !key.starts_with(prefix));
            slots.len() != before
        })
    }

    fn prune(&mut self) -> Result<()> {
        let now = now_ms();
        self.write_locked(|slots| {
            let before = slots.len();
            slots.retain(|_, slot| !slot.is_expired(now));
            slots.len() != before
        })
    }

    /// Under the file's lock, on the freshest records.
    fn update(&mut self, key: &str, change: &mut dyn FnMut(Option<&Record>) -> Update) -> Result<()> {
        let mut failed = None;
        self.write_locked(|slots| {
            let current = slots.get(key).and_then(|slot| slot.live_record(now_ms()));
            match change(current.as_ref()) {
                Update::Keep => false,
                Update::Delete => slots.remove(key).is_some(),
                Update::Put(value, expires_at) => match checked_slot(key, value.as_ref(), expires_at) {
                    Ok(slot) => {
                        slots.insert(key.to_owned(), slot);
                        true
                    }
                    Err(error) => {
                        failed = Some(error);
                        false
                    }
                },
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    fn close(&mut self) -> Result<()> {
        self.folder = None;
        self.slots.clear();
        Ok(())
    }
}

impl JsonFile {
    /// Applies checked changes in order, in one locked rewrite.
    fn apply(&mut self, changes: Vec<(String, Option<Slot>)>) -> Result<()> {
        self.write_locked(|slots| {
            let mut changed = false;
            for (key, slot) in changes {
                changed |= match slot {
                    Some(slot) => {
                        slots.insert(key, slot);
                        true
                    }
                    None => slots.remove(&key).is_some(),
                };
            }
            changed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::testing::{t, text};

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("polykv-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("deep/data.json")
    }

    #[test]
    fn creates_an_empty_object_with_its_folders() {
        let path = temp_file("create");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
        assert_eq!(text(file.get("a").unwrap()), None);
    }

    #[test]
    fn writes_the_contract_format_and_reads_it_back() {
        let path = temp_file("format");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        file.set("b", t("{\"n\":1}"), None).unwrap();
        file.set("a", t("\"x\""), Some(4_000_000_000_000)).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"a": {"expires": 4_000_000_000_000i64, "value": "x"}, "b": {"expires": null, "value": {"n": 1}}})
        );
        let mut again = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        assert_eq!(text(again.get("b").unwrap()).as_deref(), Some("{\"n\":1}"));
        assert_eq!(again.scan_keys("", None, 10).unwrap(), ["a", "b"]);
    }

    #[test]
    fn sees_writes_from_another_handle_and_merges_under_the_lock() {
        let path = temp_file("two");
        let mut one = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        let mut two = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        one.set("a", t("1"), None).unwrap();
        assert_eq!(text(two.get("a").unwrap()).as_deref(), Some("1"));
        two.set("b", t("2"), None).unwrap();
        one.set("c", t("3"), None).unwrap(); // must not drop "b"
        assert_eq!(two.scan_keys("", None, 10).unwrap(), ["a", "b", "c"]);
        two.del("a").unwrap();
        assert!(!one.has("a").unwrap());
    }

    #[test]
    fn expired_records_are_invisible_and_pruned() {
        let path = temp_file("expiry");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        file.set("old", t("1"), Some(now_ms() - 1)).unwrap();
        file.set("new", t("1"), None).unwrap();
        assert_eq!(text(file.get("old").unwrap()), None);
        assert_eq!(file.scan_keys("", None, 10).unwrap(), ["new"]);
        file.prune().unwrap();
        assert!(!fs::read_to_string(&path).unwrap().contains("old"));
    }

    #[test]
    fn keeps_foreign_entries_and_reads_polystore_pretty_files() {
        let path = temp_file("foreign");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            "{\n  \"k\": {\n    \"expires\": null,\n    \"value\": [1, 2]\n  },\n  \"junk\": 5\n}",
        )
        .unwrap();
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        assert_eq!(text(file.get("k").unwrap()).as_deref(), Some("[1, 2]"));
        assert_eq!(text(file.get("junk").unwrap()), None);
        file.set("z", t("0"), None).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\"junk\":5"));
    }

    #[test]
    fn corrupt_files_are_errors_naming_the_path_and_stay_untouched() {
        for (name, text, why) in [
            ("trunc", "{\"a\":{\"expires\":null,\"val", "not valid JSON"),
            ("array", "[1,2]", "not an object"),
        ] {
            let path = temp_file(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            let error = JsonFile::open(path.to_str().unwrap(), false).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Corrupt, "{error}");
            let error = error.to_string();
            assert!(error.starts_with("[polykv] [FILE] cannot read \""), "{error}");
            assert!(error.contains(path.to_str().unwrap()) && error.contains(why), "{error}");
            assert_eq!(fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[test]
    fn a_batch_is_one_rewrite_applied_in_order() {
        let path = temp_file("batch");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        file.set("gone", t("0"), None).unwrap();
        let write = |key: &str, value: Option<&str>| Change {
            key: key.into(),
            value: value.map(|text| Value::Text(text.into())),
            expires_at: None,
        };
        file.write_many(vec![
            write("a", Some("1")),
            write("b", Some("2")),
            write("a", Some("3")),
            write("gone", None),
        ])
        .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"a": {"expires": null, "value": 3}, "b": {"expires": null, "value": 2}})
        );
        let error = file
            .write_many(vec![write("c", Some("4")), write("d", Some("{bad"))])
            .unwrap_err();
        assert!(error.to_string().contains("\"d\" is not JSON text"), "{error}");
        assert_eq!(text(file.get("c").unwrap()), None, "a bad batch writes nothing");
    }

    #[test]
    fn keeps_the_atomic_contract_and_refuses_bytes() {
        let path = temp_file("atomic");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        crate::backend::testing::check_atomic_contract(&mut file, false);
        let error = file.set("b", ValueRef::Bytes(b"x"), None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Value, "{error}");
        let mut other = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        assert_eq!(
            other.increment("n", 1.0, None).unwrap(),
            Some(4.5),
            "sees the other handle's writes"
        );
    }

    #[test]
    fn scans_page_through_a_prefix() {
        let path = temp_file("scan");
        let mut file = JsonFile::open(path.to_str().unwrap(), false).unwrap();
        for key in ["p:1", "p:2", "p:3", "p;", "q"] {
            file.set(key, t("1"), None).unwrap();
        }
        assert_eq!(file.scan_keys("p:", None, 2).unwrap(), ["p:1", "p:2"]);
        assert_eq!(file.scan_keys("p:", Some("p:2"), 2).unwrap(), ["p:3"]);
        file.clear("p:").unwrap();
        assert_eq!(file.scan_keys("", None, 10).unwrap(), ["p;", "q"]);
    }
}
