//! One file per key in a folder (docs/behaviour.md §22): the file name is
//! `encodeURIComponent(fullKey)` with `*` also written `%2A`, plus `.json`, and it
//! holds `{ "expires": <unix ms or null>, "value": … }` — polystore's folder format.
//!
//! - The encoding turns `/`, `\`, NUL and `%` into `%XX`, and the `.json` suffix
//!   means a name is never `.` or `..`: no key can name a path outside the folder.
//! - Replacing a record writes a temp file in the folder and renames it over the
//!   record, so a crash never leaves a torn record (a new small record is created in
//!   place, see `set`). Temp files (`.polykv-<random>.tmp`) are created exclusively,
//!   never through a symlink (`fsutil`), and keep the replaced record's mode and
//!   owner; readers skip them. A writer holds an `flock` on its temp file, so those a
//!   crash left behind (unlocked, older than [`STALE_TEMP`]) are swept at open.
//! - A symlink at a record's name is not followed (it reads as missing, is not
//!   listed, and a `set` replaces the link itself), unless the URL opts in with
//!   `?symlinks=follow`.
//! - Files that are not ours (other extensions, names that are not our exact
//!   encoding, JSON that is not a record, folders) are ignored, never deleted by
//!   `clear()`.

use super::fsutil;
use super::{Backend, Entry};
use crate::core::envelope::{check_value, envelope_text, now_ms, Envelope};
use crate::core::error::{Error, ErrorKind, Result};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const NAME: &str = "FOLDER";
const SUFFIX: &str = ".json";
/// Records up to this size are written in one `write` (see `set`).
const ONE_PAGE: usize = 4096;
/// Longest file name Linux filesystems accept, in bytes.
const MAX_NAME: usize = 255;
/// Temp files start with this (older versions named them `.polykv-<pid>-<n>.tmp`).
const TEMP_STEM: &str = ".polykv-";
/// A temp file no writer holds and this old was left by a crash: `open` removes it.
/// (The age covers the instant between a writer creating its temp file and locking it.)
pub const STALE_TEMP: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Folder {
    dir: PathBuf,
    closed: bool,
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
        let dir = PathBuf::from(path);
        fs::create_dir_all(&dir).map_err(|e| {
            Error::new(
                ErrorKind::Client,
                NAME,
                format!("cannot create the folder \"{path}\": {e}"),
            )
        })?;
        if !dir.is_dir() {
            return Err(Error::new(
                ErrorKind::Client,
                NAME,
                format!("\"{path}\" is not a folder"),
            ));
        }
        sweep_stale_temps(&dir);
        Ok(Folder {
            dir,
            closed: false,
            follow,
            listing: None,
        })
    }

    fn shown(&self) -> String {
        self.dir.display().to_string()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
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
    fn read(&self, path: &Path) -> Result<Option<Envelope>> {
        let text = match fsutil::read_text(path, self.follow) {
            Ok(text) => text,
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
        if text.is_empty() {
            return Ok(None); // being created right now, or a create that never got its write
        }
        Envelope::parse(&text).map_err(|e| {
            Error::new(
                ErrorKind::Corrupt,
                NAME,
                format!("cannot read \"{}\": the file is not valid JSON ({e})", path.display()),
            )
        })
    }

    fn live(&self, key: &str) -> Result<Option<Envelope>> {
        let path = self.file_for(key)?;
        Ok(self.read(&path)?.filter(|record| record.is_live(now_ms())))
    }

    /// Our keys in the folder, with their paths, that start with `prefix` (unsorted).
    fn list(&self, prefix: &str) -> Result<Vec<(String, PathBuf)>> {
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
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.live(key)?.map(|record| record.value.get().to_owned()))
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        Ok(self.live(key)?.is_some())
    }

    fn set(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()> {
        let path = self.file_for(key)?;
        check_value(value).map_err(|e| {
            Error::new(
                ErrorKind::Value,
                NAME,
                format!("the value for key \"{key}\" is not JSON text: {e}"),
            )
        })?;
        let text = envelope_text(value, expires_at);
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
        if text.len() <= ONE_PAGE {
            match File::options().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    return file.write_all(text.as_bytes()).map_err(|e| {
                        let _ = fs::remove_file(&path);
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
            true => fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
            false => path.clone(),
        };
        replace(&target, text.as_bytes()).map_err(fail)
    }

    fn del(&mut self, key: &str) -> Result<()> {
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

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        let (listed, keys) = match (self.listing.take(), after) {
            (Some((listed, keys)), Some(_)) if listed == prefix => (listed, keys),
            _ => {
                let mut keys: Vec<String> = self.list(prefix)?.into_iter().map(|(key, _)| key).collect();
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
            if record.is_live(now) {
                page.push((key.clone(), record.value.get().to_owned()));
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
        for (_, path) in self.list(prefix)? {
            if !matches!(self.read(&path), Ok(Some(_))) {
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
    }

    fn prune(&mut self) -> Result<()> {
        let now = now_ms();
        for (_, path) in self.list("")? {
            if let Ok(Some(record)) = self.read(&path) {
                if !record.is_live(now) {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.closed = true;
        self.listing = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            folder.set(key, "1", None).unwrap();
            let file = folder.file_for(key).unwrap();
            assert_eq!(file.parent().unwrap(), folder.dir.as_path(), "{key:?}");
            assert_eq!(folder.get(key).unwrap().as_deref(), Some("1"), "{key:?}");
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
            folder.set(key, "\"v\"", None).unwrap();
        }
        folder.set("p:0", "1", Some(now_ms() - 1)).unwrap();
        fs::write(format!("{path}notes.txt"), "hello").unwrap();
        fs::write(format!("{path}p:9.json"), "{\"expires\":null,\"value\":1}").unwrap();
        fs::write(format!("{path}p%3A8.json"), "{\"something\":\"else\"}").unwrap();
        fs::create_dir(format!("{path}p%3A7.json")).unwrap();
        assert_eq!(folder.scan_keys("p:", None, 2).unwrap(), ["p:1", "p:2"]);
        assert_eq!(
            folder.scan("p:", Some("p:2"), 2).unwrap(),
            [("p:3".to_string(), "\"v\"".to_string())]
        );
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
        folder.set("k", "1", None).unwrap();
        let file = folder.file_for("k").unwrap();
        let first = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap());
        folder.set("k", "2", None).unwrap();
        assert_ne!(
            std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap()),
            first
        );
        let big = format!("\"{}\"", "x".repeat(5000));
        folder.set("big", &big, None).unwrap();
        assert_eq!(folder.get("big").unwrap().as_deref(), Some(big.as_str()));
        fs::write(folder.file_for("empty").unwrap(), "").unwrap();
        assert_eq!(folder.get("empty").unwrap(), None);
        let names: Vec<_> = fs::read_dir(&folder.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");
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
        folder.set("old", "1", Some(now_ms() - 1)).unwrap();
        folder.set("new", "2", Some(now_ms() + 60_000)).unwrap();
        assert!(!folder.has("old").unwrap());
        assert!(folder.has("new").unwrap());
        folder.prune().unwrap();
        assert!(fs::metadata(format!("{path}old.json")).is_err());
        folder.del("new").unwrap();
        folder.del("new").unwrap();
        assert_eq!(folder.get("new").unwrap(), None);
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
        let error = folder.set(&"x".repeat(300), "1", None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Key, "{error}");
        assert!(error.to_string().contains("too long"), "{error}");
        let error = folder.set("v", "{bad", None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Value, "{error}");
    }
}
