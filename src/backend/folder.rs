//! One file per key in a folder (docs/behaviour.md §22): the file name is
//! `encodeURIComponent(fullKey)` with `*` also written `%2A`, plus `.json`, and it
//! holds `{ "expires": <unix ms or null>, "value": … }` — polystore's folder format.
//!
//! - A binary value is a record file too, holding the raw bytes after a one-line
//!   header: `\0polykv:bytes:<expires ms or null>\n<bytes>`. JSON text never starts
//!   with a NUL, so the first byte tells the two apart and JSON records stay exactly
//!   as polystore writes them (polystore cannot read a bytes record).
//! - The encoding turns `/`, `\`, NUL and `%` into `%XX`, and the `.json` suffix
//!   means a name is never `.` or `..`: no key can name a path outside the folder.
//! - Every write holds an exclusive advisory lock (`flock` on the folder), so a
//!   read-modify-write (`update`: cas, increment, getAndDelete) is atomic across
//!   processes. Reads take no lock: a record is replaced by a rename.
//! - Replacing a record writes a temp file in the folder and renames it over the
//!   record, so a crash never leaves a torn record (a new small record is created in
//!   place, see `write_file`). Temp files (`.polykv-<random>.tmp`) are created
//!   exclusively, never through a symlink (`fsutil`), and keep the replaced record's
//!   mode and owner; readers skip them. A writer holds an `flock` on its temp file, so
//!   those a crash left behind (unlocked, older than [`STALE_TEMP`]) are swept at open.
//! - A symlink at a record's name is not followed (it reads as missing, is not
//!   listed, and a `set` replaces the link itself), unless the URL opts in with
//!   `?symlinks=follow`.
//! - Files that are not ours (other extensions, names that are not our exact
//!   encoding, JSON that is not a record, folders) are ignored, never deleted by
//!   `clear()`.

use super::fsutil;
use super::{Backend, Change, Entry, Record, Update, Value, ValueRef};
use crate::core::envelope::{check_value, envelope_text, is_live_at, now_ms, Envelope};
use crate::core::error::{Error, ErrorKind, Result};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const NAME: &str = "FOLDER";
const SUFFIX: &str = ".json";
/// Records up to this size are written in one `write` (see `write_file`).
const ONE_PAGE: usize = 4096;
/// Longest file name Linux filesystems accept, in bytes.
const MAX_NAME: usize = 255;
/// How a bytes record starts; the deadline and a newline follow.
const BYTES_MAGIC: &[u8] = b"\0polykv:bytes:";
/// Temp files start with this (older versions named them `.polykv-<pid>-<n>.tmp`).
const TEMP_STEM: &str = ".polykv-";
/// A temp file no writer holds and this old was left by a crash: `open` removes it.
/// (The age covers the instant between a writer creating its temp file and locking it.)
pub const STALE_TEMP: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Folder {
    dir: PathBuf,
    /// The folder itself, opened once: its `flock` serialises writers across
    /// processes. `None` once closed.
    handle: Option<File>,
    /// Read and write records through symlinks (the URL's `?symlinks=follow`).
    follow: bool,
    /// The sorted keys of the scan in progress (its prefix and keys), so paging a big
    /// folder lists it once instead of once a page.
    listing: Option<(String, Vec<String>)>,
}

/// `encodeURIComponent(key)` with `*` as `%2A`: the bytes left as they are can never
/// form a path separator.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'\'' | b'(' | b')' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The key a file name stands for, or `None` when the name is not exactly what
/// `encode_key` would write (so it is not one of ours).
pub fn decode_name(name: &str) -> Option<String> {
    let stem = name.strip_suffix(SUFFIX)?;
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = stem.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let key = String::from_utf8(out).ok()?;
    (encode_key(&key) == stem).then_some(key)
}

impl Folder {
    /// Opens the folder, creating it (and its parents) when missing, and removes the
    /// temp files crashed writers left there. `follow`: follow symlinks at record names.
    pub fn open(path: &str, follow: bool) -> Result<Self> {
        let dir = fsutil::create_folder(path, NAME)?;
        let handle = File::open(&dir).map_err(|e| {
            Error::new(
                ErrorKind::Client,
                NAME,
                format!("cannot open the folder \"{path}\": {e}"),
            )
        })?;
        sweep_stale_temps(&dir);
        Ok(Folder {
            dir,
            handle: Some(handle),
            follow,
            listing: None,
        })
    }

    fn shown(&self) -> String {
        self.dir.display().to_string()
    }

    fn check_open(&self) -> Result<()> {
        if self.handle.is_none() {
            return Err(Error::new(
                ErrorKind::Closed,
                NAME,
                format!("the store at \"{}\" is closed", self.shown()),
            ));
        }
        Ok(())
    }

    /// The record's path inside the folder.
    fn file_for(&self, key: &str) -> Result<PathBuf> {
        self.check_open()?;
        let name = encode_key(key) + SUFFIX;
        if name.len() > MAX_NAME {
            return Err(Error::new(
                ErrorKind::Key,
                NAME,
                format!(
                    "the key \"{key}\" is too long for a file name ({} bytes encoded, at most {MAX_NAME})",
                    name.len()
                ),
            ));
        }
        // The encoding already guarantees it; a cheap second look costs nothing.
        if name.contains('/') || name.contains('\0') || name == "." || name == ".." {
            return Err(Error::new(
                ErrorKind::Key,
                NAME,
                format!("the key \"{key}\" cannot be a file name"),
            ));
        }
        Ok(self.dir.join(name))
    }

    /// Reads a record file: `Ok(None)` when it is missing or not a record of ours.
    fn read(&self, path: &Path) -> Result<Option<Record>> {
        let mut bytes = match fsutil::read_bytes(path, self.follow) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            // A symlink the user did not opt in to follow is not one of our records.
            Err(e) if fsutil::is_symlink_refusal(&e) => return Ok(None),
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::of_read(&e),
                    NAME,
                    format!("cannot read \"{}\": {e}", path.display()),
                ))
            }
        };
        if bytes.is_empty() {
            return Ok(None); // being created right now, or a create that never got its write
        }
        let corrupt = |why: String| {
            Error::new(
                ErrorKind::Corrupt,
                NAME,
                format!("cannot read \"{}\": {why}", path.display()),
            )
        };
        if bytes.starts_with(BYTES_MAGIC) {
            let header = bytes[BYTES_MAGIC.len()..].iter().position(|&b| b == b'\n').map(|end| {
                (
                    BYTES_MAGIC.len() + end,
                    &bytes[BYTES_MAGIC.len()..BYTES_MAGIC.len() + end],
                )
            });
            let (end, expires_at) = match header {
                Some((end, b"null")) => (end, None),
                Some((end, digits)) => match std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()) {
                    Some(ms) => (end, Some(ms)),
                    None => return Err(corrupt("the bytes record's header is damaged".into())),
                },
                None => return Err(corrupt("the bytes record's header is cut short".into())),
            };
            bytes.drain(..=end);
            return Ok(Some(Record {
                value: Value::Bytes(bytes),
                expires_at,
            }));
        }
        let text = String::from_utf8(bytes).map_err(|_| corrupt("the file is not UTF-8 text".into()))?;
        let envelope = Envelope::parse(&text).map_err(|e| corrupt(format!("the file is not valid JSON ({e})")))?;
        Ok(envelope.map(|envelope| Record {
            expires_at: envelope.expires,
            value: Value::Text(Box::<str>::from(envelope.value).into_string()),
        }))
    }

    /// Runs `work` holding the folder's lock.
    fn locked<T>(&mut self, work: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.check_open()?;
        if let Some(Err(e)) = self.handle.as_ref().map(File::lock) {
            return Err(Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot lock the folder \"{}\": {e}", self.shown()),
            ));
        }
        let result = work(self);
        if let Some(handle) = &self.handle {
            let _ = handle.unlock();
        }
        result
    }

    /// Writes the record file for `key` (the lock held).
    fn write_record(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        let path = self.file_for(key)?;
        let content = match value {
            ValueRef::Text(text) => {
                check_value(text).map_err(|e| {
                    Error::new(
                        ErrorKind::Value,
                        NAME,
                        format!("the value for key \"{key}\" is not JSON text: {e}"),
                    )
                })?;
                envelope_text(text, expires_at).into_bytes()
            }
            ValueRef::Bytes(bytes) => {
                let deadline = expires_at.map_or_else(|| "null".to_string(), |ms| ms.to_string());
                let mut content = Vec::with_capacity(BYTES_MAGIC.len() + deadline.len() + 1 + bytes.len());
                content.extend_from_slice(BYTES_MAGIC);
                content.extend_from_slice(deadline.as_bytes());
                content.push(b'\n');
                content.extend_from_slice(bytes);
                content
            }
        };
        self.write_file(&path, &content)
    }

    fn write_file(&self, path: &Path, content: &[u8]) -> Result<()> {
        let fail = |e: io::Error| {
            Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot write \"{}\": {e}", path.display()),
            )
        };
        // A new key of at most one page: create the record itself, exclusively, and
        // write it in one call. Readers (and a crash) can only see no file, an empty
        // file (read as missing, as polystore does) or the whole record, since a write
        // of one page at offset 0 is not split; it saves the rename, a third of a write.
        if content.len() <= ONE_PAGE {
            match File::options().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    return file.write_all(content).map_err(|e| {
                        let _ = fs::remove_file(path);
                        fail(e)
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(e)),
            }
        }
        // Replacing a record (or a big one): a temp file renamed over it, so the old
        // record stays whole until the new one is. With `follow`, a link's target is
        // the record replaced; otherwise the rename replaces the link itself.
        let target = match self.follow {
            true => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            false => path.to_path_buf(),
        };
        replace(&target, content).map_err(fail)
    }

    fn remove_record(&self, key: &str) -> Result<()> {
        let path = self.file_for(key)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot delete \"{}\": {e}", path.display()),
            )),
            _ => Ok(()),
        }
    }

    fn live(&self, key: &str) -> Result<Option<Record>> {
        let path = self.file_for(key)?;
        let now = now_ms();
        Ok(self.read(&path)?.filter(|record| is_live_at(record.expires_at, now)))
    }

    /// Our keys in the folder, with their paths, that start with `prefix` (unsorted).
    fn list_files(&self, prefix: &str) -> Result<Vec<(String, PathBuf)>> {
        self.check_open()?;
        let entries = fs::read_dir(&self.dir).map_err(|e| {
            Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot list \"{}\": {e}", self.shown()),
            )
        })?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    NAME,
                    format!("cannot list \"{}\": {e}", self.shown()),
                )
            })?;
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(decode_name) else {
                continue;
            };
            // A folder named like a record is not ours either, nor a symlink unless opted in.
            if entry
                .file_type()
                .is_ok_and(|kind| kind.is_dir() || (kind.is_symlink() && !self.follow))
            {
                continue;
            }
            if key.starts_with(prefix) {
                found.push((key, entry.path()));
            }
        }
        Ok(found)
    }
}

/// Writes `bytes` to a fresh temp file beside `path` (locked while it exists, with
/// the mode and owner of the record it replaces) and renames it over `path`.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let (mut file, temp) = fsutil::create_temp(dir, TEMP_STEM)?;
    let written = file.lock().and_then(|_| {
        match fs::symlink_metadata(path) {
            Ok(old) if old.is_file() => fsutil::keep_mode_and_owner(&file, &old)?,
            _ => {}
        }
        file.write_all(bytes)?;
        fs::rename(&temp, path)
    });
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written // the lock goes with the file, after the rename
}

/// Removes temp files no live writer holds (see [`STALE_TEMP`]); errors are ignored:
/// a sweep that cannot run leaves the folder as it was.
fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_STEM) && name.ends_with(".tmp")) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|at| now.duration_since(at).ok())
            .is_some_and(|age| age >= STALE_TEMP);
        if !old || !meta.is_file() {
            continue; // a symlink at a temp name is someone's, and never followed anyway
        }
        // Not locked: no writer is writing it. Locking never follows a link (O_NOFOLLOW).
        if let Ok(file) = fsutil::open_read(&path, false) {
            if file.try_lock().is_ok() {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

impl Backend for Folder {
    fn get_record(&mut self, key: &str) -> Result<Option<Record>> {
        self.live(key)
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        Ok(self.live(key)?.is_some())
    }

    fn set(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        self.locked(|folder| folder.write_record(key, value, expires_at))
    }

    fn del(&mut self, key: &str) -> Result<()> {
        self.locked(|folder| folder.remove_record(key))
    }

    /// One after the other under one hold of the lock, stopping at the first failure
    /// (a folder has no transaction: the writes before it stay).
    fn write_many(&mut self, writes: Vec<Change>) -> Result<()> {
        self.locked(|folder| {
            writes.iter().try_for_each(|write| match &write.value {
                Some(value) => folder.write_record(&write.key, value.as_ref(), write.expires_at),
                None => folder.remove_record(&write.key),
            })
        })
    }

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        let (listed, keys) = match (self.listing.take(), after) {
            (Some((listed, keys)), Some(_)) if listed == prefix => (listed, keys),
            _ => {
                let mut keys: Vec<String> = self.list_files(prefix)?.into_iter().map(|(key, _)| key).collect();
                keys.sort_unstable();
                (prefix.to_owned(), keys)
            }
        };
        let start = match after {
            Some(cursor) => keys.partition_point(|key| key.as_str() <= cursor),
            None => 0,
        };
        let now = now_ms();
        let mut page = Vec::new();
        for key in &keys[start..] {
            if page.len() >= limit {
                break;
            }
            // Gone or unreadable since it was listed: skip it, as a listing would have.
            let Ok(Some(record)) = self.read(&self.dir.join(encode_key(key) + SUFFIX)) else {
                continue;
            };
            if is_live_at(record.expires_at, now) {
                page.push((key.clone(), record));
            }
        }
        if page.len() >= limit {
            self.listing = Some((listed, keys)); // more pages may follow
        }
        Ok(page)
    }

    /// Deletes only records: a file named like one that holds other JSON, or no JSON
    /// at all, may be someone's and stays.
    fn clear(&mut self, prefix: &str) -> Result<()> {
        self.locked(|folder| {
            for (_, path) in folder.list_files(prefix)? {
                if !matches!(folder.read(&path), Ok(Some(_))) {
                    continue;
                }
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(Error::new(
                            ErrorKind::Backend,
                            NAME,
                            format!("cannot delete \"{}\": {e}", path.display()),
                        ))
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }

    fn prune(&mut self) -> Result<()> {
        self.locked(|folder| {
            let now = now_ms();
            for (_, path) in folder.list_files("")? {
                if let Ok(Some(record)) = folder.read(&path) {
                    if !is_live_at(record.expires_at, now) {
                        let _ = fs::remove_file(&path);
                    }
                }
            }
            Ok(())
        })
    }

    /// Under the folder's lock, which every writer takes.
    fn update(&mut self, key: &str, change: &mut dyn FnMut(Option<&Record>) -> Update) -> Result<()> {
        self.locked(|folder| {
            let current = folder.live(key)?;
            match change(current.as_ref()) {
                Update::Keep => Ok(()),
                Update::Delete => folder.remove_record(key),
                Update::Put(value, expires_at) => folder.write_record(key, value.as_ref(), expires_at),
            }
        })
    }

    fn close(&mut self) -> Result<()> {
        self.handle = None;
        self.listing = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::testing::{t, text};

    fn temp_dir(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("polykv-folder-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        format!("{}/store/", dir.display())
    }

    #[test]
    fn names_match_encode_uri_component_with_star() {
        assert_eq!(encode_key("user:1"), "user%3A1");
        assert_eq!(encode_key("a*b"), "a%2Ab");
        assert_eq!(encode_key("-_.!~'()"), "-_.!~'()");
        assert_eq!(encode_key("é /"), "%C3%A9%20%2F");
        assert_eq!(decode_name("user%3A1.json").as_deref(), Some("user:1"));
        assert_eq!(decode_name("a b.json"), None); // not our encoding
        assert_eq!(decode_name("a%3a.json"), None); // lower-case hex is not ours either
        assert_eq!(decode_name("x.txt"), None);
        assert_eq!(decode_name("%FF.json"), None);
    }

    #[test]
    fn keys_never_leave_the_folder() {
        let path = temp_dir("escape");
        let mut folder = Folder::open(&path, false).unwrap();
        for key in ["../evil", "/etc/passwd", "..", ".", "a\0b", "%2e%2e/x", "..\\x", "%2F"] {
            folder.set(key, t("1"), None).unwrap();
            let file = folder.file_for(key).unwrap();
            assert_eq!(file.parent().unwrap(), folder.dir.as_path(), "{key:?}");
            assert_eq!(text(folder.get(key).unwrap()).as_deref(), Some("1"), "{key:?}");
        }
        let parent = folder.dir.parent().unwrap();
        let outside: Vec<_> = fs::read_dir(parent).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(outside, ["store"]);
        let mut keys = folder.scan_keys("", None, 100).unwrap();
        keys.sort();
        assert_eq!(keys.len(), 8);
    }

    #[test]
    fn ignores_foreign_files_and_pages_through_a_prefix() {
        let path = temp_dir("scan");
        let mut folder = Folder::open(&path, false).unwrap();
        for key in ["p:3", "p:1", "p:2", "q"] {
            folder.set(key, t("\"v\""), None).unwrap();
        }
        folder.set("p:0", t("1"), Some(now_ms() - 1)).unwrap();
        fs::write(format!("{path}notes.txt"), "hello").unwrap();
        fs::write(format!("{path}p:9.json"), "{\"expires\":null,\"value\":1}").unwrap();
        fs::write(format!("{path}p%3A8.json"), "{\"something\":\"else\"}").unwrap();
        fs::create_dir(format!("{path}p%3A7.json")).unwrap();
        assert_eq!(folder.scan_keys("p:", None, 2).unwrap(), ["p:1", "p:2"]);
        let page = folder.scan("p:", Some("p:2"), 2).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, "p:3");
        assert_eq!(page[0].1.value, Value::Text("\"v\"".into()));
        folder.clear("p:").unwrap();
        assert_eq!(folder.scan_keys("", None, 10).unwrap(), ["q"]);
        assert!(fs::metadata(format!("{path}notes.txt")).is_ok());
        assert!(fs::metadata(format!("{path}p:9.json")).is_ok());
        assert!(fs::metadata(format!("{path}p%3A8.json")).is_ok());
    }

    #[test]
    fn new_small_records_are_written_in_place_and_replacements_renamed() {
        let path = temp_dir("write");
        let mut folder = Folder::open(&path, false).unwrap();
        folder.set("k", t("1"), None).unwrap();
        let file = folder.file_for("k").unwrap();
        let first = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap());
        folder.set("k", t("2"), None).unwrap();
        assert_ne!(
            std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap()),
            first
        );
        let big = format!("\"{}\"", "x".repeat(5000));
        folder.set("big", t(&big), None).unwrap();
        assert_eq!(text(folder.get("big").unwrap()).as_deref(), Some(big.as_str()));
        fs::write(folder.file_for("empty").unwrap(), "").unwrap();
        assert_eq!(text(folder.get("empty").unwrap()), None);
        let names: Vec<_> = fs::read_dir(&folder.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");
    }

    #[test]
    fn keeps_the_atomic_contract_and_raw_bytes_records() {
        let path = temp_dir("atomic");
        let mut folder = Folder::open(&path, false).unwrap();
        crate::backend::testing::check_atomic_contract(&mut folder, true);
        folder
            .set("raw", ValueRef::Bytes(&[0xff, 0, b'\n']), Some(5_000_000_000_000))
            .unwrap();
        let file = fs::read(format!("{path}raw.json")).unwrap();
        assert_eq!(file, b"\0polykv:bytes:5000000000000\n\xff\0\n");
        let record = folder.get_record("raw").unwrap().unwrap();
        assert_eq!(record.value, Value::Bytes(vec![0xff, 0, b'\n']));
        assert_eq!(record.expires_at, Some(5_000_000_000_000));
        folder.set("raw", ValueRef::Bytes(b""), Some(now_ms() - 1)).unwrap();
        assert_eq!(folder.get("raw").unwrap(), None, "an expired bytes record");
        fs::write(format!("{path}cut.json"), b"\0polykv:bytes:12").unwrap();
        assert_eq!(folder.get("cut").unwrap_err().kind, ErrorKind::Corrupt);
    }

    #[test]
    fn bytes_records_and_updates_keep_the_mode_and_never_follow_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_dir("bytes-safe");
        let mut folder = Folder::open(&path, false).unwrap();
        folder.set("b", ValueRef::Bytes(b"one"), None).unwrap();
        let file = folder.file_for("b").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        folder.set("b", ValueRef::Bytes(b"two"), None).unwrap();
        folder
            .update("b", &mut |_| Update::Put(Value::Text("3".into()), None))
            .unwrap();
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(text(folder.get("b").unwrap()).as_deref(), Some("3"));
        let outside = format!("{path}../outside.json");
        fs::write(&outside, b"\0polykv:bytes:null\nsecret").unwrap();
        let link = folder.file_for("link").unwrap();
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert_eq!(folder.get("link").unwrap(), None, "a link is not read");
        let mut seen = None;
        folder
            .update("link", &mut |current| {
                seen = Some(current.is_some());
                Update::Put(Value::Bytes(b"mine".to_vec()), None)
            })
            .unwrap();
        assert_eq!(seen, Some(false), "update saw no record behind the link");
        assert_eq!(fs::read(&outside).unwrap(), b"\0polykv:bytes:null\nsecret");
        assert!(!fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(
            folder.get_record("link").unwrap().unwrap().value,
            Value::Bytes(b"mine".to_vec())
        );
    }

    #[test]
    fn open_sweeps_only_old_unlocked_temp_files() {
        let path = temp_dir("sweep");
        fs::create_dir_all(&path).unwrap();
        let old = SystemTime::now() - STALE_TEMP - Duration::from_secs(5);
        let make = |name: &str, age: SystemTime| {
            let file = File::create(format!("{path}{name}")).unwrap();
            file.set_modified(age).unwrap();
            file
        };
        drop(make(".polykv-crashed.tmp", old));
        let held = make(".polykv-writing.tmp", old);
        held.lock().unwrap(); // a live writer (another process, as far as flock knows)
        drop(make(".polykv-new.tmp", SystemTime::now()));
        drop(make("keep.tmp", old));
        drop(Folder::open(&path, false).unwrap());
        let mut names: Vec<_> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".polykv-new.tmp", ".polykv-writing.tmp", "keep.tmp"]);
    }

    #[test]
    fn expiry_prune_and_delete() {
        let path = temp_dir("expiry");
        let mut folder = Folder::open(&path, false).unwrap();
        folder.set("old", t("1"), Some(now_ms() - 1)).unwrap();
        folder.set("new", t("2"), Some(now_ms() + 60_000)).unwrap();
        assert!(!folder.has("old").unwrap());
        assert!(folder.has("new").unwrap());
        folder.prune().unwrap();
        assert!(fs::metadata(format!("{path}old.json")).is_err());
        folder.del("new").unwrap();
        folder.del("new").unwrap();
        assert_eq!(text(folder.get("new").unwrap()), None);
    }

    #[test]
    fn corrupt_record_is_an_error_naming_the_file_and_long_keys_are_refused() {
        let path = temp_dir("corrupt");
        let mut folder = Folder::open(&path, false).unwrap();
        fs::write(format!("{path}k.json"), "{\"expires\":nu").unwrap();
        let error = folder.get("k").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Corrupt, "{error}");
        let error = error.to_string();
        assert!(
            error.starts_with("[polykv] [FOLDER] cannot read \"") && error.contains("k.json"),
            "{error}"
        );
        assert!(folder.scan_keys("", None, 10).unwrap().is_empty());
        let error = folder.set(&"x".repeat(300), t("1"), None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Key, "{error}");
        assert!(error.to_string().contains("too long"), "{error}");
        let error = folder.set("v", t("{bad"), None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Value, "{error}");
    }
}
