//! An asset folder (`kv("file:///abs/public/assets/", { asset: true })`): each value is
//! written raw to the file its key names, relative to the folder, so a web server can
//! serve the folder as it is. `img/logo.png` is the file `<folder>/img/logo.png`.
//!
//! - A key is a relative path of `/`-separated names: never empty, no empty, `.` or
//!   `..` name, no leading `/`, no `\` and no NUL, each name at most 255 bytes; and no
//!   folder on the way may be a symbolic link. So no key names a file outside the
//!   folder, and a key is exactly the file's path.
//! - A value is the file's content: `Value::Text` here is the raw UTF-8 text (not
//!   JSON: the JS driver writes a string as it is and other values as their JSON
//!   text), `Value::Bytes` raw bytes. A read gives text when the file is UTF-8,
//!   bytes otherwise.
//! - A file holds no deadline and no metadata: a write with an expiry is refused.
//! - Writes go through a temp file (`.polykv-<random>.tmp`, skipped by listings,
//!   created exclusively and never through a symlink, with the replaced file's mode:
//!   `fsutil`) renamed over the asset, so a reader never sees half a file. No lock:
//!   the last writer wins, and there is no atomic update (`capabilities.atomic` is false).

use super::fsutil;
use super::{Backend, Entry, Listed, Record, Value, ValueRef};
use crate::core::error::{Error, ErrorKind, Result};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const NAME: &str = "FOLDER";
/// Longest file name Linux filesystems accept, in bytes.
const MAX_NAME: usize = 255;

#[derive(Debug)]
pub struct Assets {
    dir: PathBuf,
    closed: bool,
}

/// Why `key` cannot name a file inside the folder, or `None` when it can.
pub fn refuse_key(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("it is empty");
    }
    if key.contains('\0') {
        return Some("it contains a NUL character");
    }
    if key.contains('\\') {
        return Some("it contains a backslash (use / between folders)");
    }
    if key.starts_with('/') {
        return Some("it is an absolute path");
    }
    for name in key.split('/') {
        match name {
            "" => return Some("it has an empty folder or file name (// or a trailing /)"),
            "." | ".." => return Some("it has a . or .. in its path"),
            _ if name.len() > MAX_NAME => return Some("a name in its path is over 255 bytes"),
            _ => {}
        }
    }
    None
}

/// Whether a file name is one of our temp files.
fn is_temp(name: &str) -> bool {
    name.starts_with(".polykv-") && name.ends_with(".tmp")
}

impl Assets {
    /// Opens the folder, creating it (and its parents) when missing.
    pub fn open(path: &str) -> Result<Self> {
        let dir = fsutil::create_folder(path, NAME)?;
        Ok(Assets { dir, closed: false })
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::new(
                ErrorKind::Closed,
                NAME,
                format!("the store at \"{}\" is closed", self.dir.display()),
            ));
        }
        Ok(())
    }

    /// The asset's path, or a `Key` error saying why the key cannot be one.
    fn path_for(&self, key: &str) -> Result<PathBuf> {
        self.check_open()?;
        if let Some(why) = refuse_key(key) {
            return Err(Error::new(
                ErrorKind::Key,
                NAME,
                format!("the key \"{key}\" cannot name an asset file: {why}"),
            ));
        }
        Ok(self.dir.join(key))
    }

    /// Creates the folders on the way to `path`, refusing a symbolic link among them
    /// (it could lead outside the folder).
    fn make_parents(&self, key: &str, path: &Path) -> Result<()> {
        let fail = |why: String| Error::new(ErrorKind::Backend, NAME, why);
        let mut at = self.dir.clone();
        let names: Vec<&str> = key.split('/').collect();
        for name in &names[..names.len() - 1] {
            at.push(name);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(Error::new(
                        ErrorKind::Key,
                        NAME,
                        format!("the key \"{key}\" goes through the symbolic link \"{}\"", at.display()),
                    ))
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(fail(format!(
                        "cannot write \"{}\": \"{}\" is a file",
                        path.display(),
                        at.display()
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&at) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(fail(format!("cannot create the folder \"{}\": {e}", at.display()))),
                },
                Err(e) => return Err(fail(format!("cannot write \"{}\": {e}", path.display()))),
            }
        }
        Ok(())
    }

    /// Every asset under the folder, as keys, sorted.
    fn all_keys(&self) -> Result<Vec<String>> {
        self.check_open()?;
        let mut keys = Vec::new();
        let mut folders = vec![(self.dir.clone(), String::new())];
        while let Some((folder, base)) = folders.pop() {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Backend,
                        NAME,
                        format!("cannot list \"{}\": {e}", folder.display()),
                    ))
                }
            };
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue; // not UTF-8: not a key
                };
                let Ok(kind) = entry.file_type() else { continue };
                let key = if base.is_empty() {
                    name.clone()
                } else {
                    format!("{base}/{name}")
                };
                if kind.is_dir() {
                    folders.push((entry.path(), key));
                } else if kind.is_file() && !is_temp(&name) && refuse_key(&key).is_none() {
                    keys.push(key);
                }
            }
        }
        keys.sort_unstable();
        Ok(keys)
    }

    fn read(&self, path: &Path) -> Result<Option<Value>> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(match String::from_utf8(bytes) {
                Ok(text) => Value::Text(text),
                Err(e) => Value::Bytes(e.into_bytes()),
            })),
            // A folder where a file was asked for, or a name under a file, is no asset.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot read \"{}\": {e}", path.display()),
            )),
        }
    }

    /// Removes the folders `key` leaves empty, up to (never including) the root.
    fn remove_empty_parents(&self, key: &str) {
        let mut at = self.dir.join(key);
        while at.pop() && at != self.dir && at.starts_with(&self.dir) {
            if fs::remove_dir(&at).is_err() {
                break;
            }
        }
    }
}

impl Backend for Assets {
    fn get_record(&mut self, key: &str) -> Result<Option<Record>> {
        let path = self.path_for(key)?;
        Ok(self.read(&path)?.map(|value| Record {
            value,
            expires_at: None,
        }))
    }

    fn has(&mut self, key: &str) -> Result<bool> {
        let path = self.path_for(key)?;
        Ok(path.is_file())
    }

    fn set(&mut self, key: &str, value: ValueRef<'_>, expires_at: Option<i64>) -> Result<()> {
        let path = self.path_for(key)?;
        if expires_at.is_some() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                NAME,
                format!("an asset file holds no expiry: cannot set \"{key}\" with one"),
            ));
        }
        self.make_parents(key, &path)?;
        let content = match value {
            ValueRef::Text(text) => text.as_bytes(),
            ValueRef::Bytes(bytes) => bytes,
        };
        let fail = |e: io::Error| {
            Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot write \"{}\": {e}", path.display()),
            )
        };
        let (mut file, temp) = fsutil::create_temp(path.parent().unwrap_or(&self.dir), ".polykv-").map_err(fail)?;
        let written = (|| {
            if let Ok(old) = fs::symlink_metadata(&path) {
                if old.is_file() {
                    fsutil::keep_mode_and_owner(&file, &old)?;
                }
            }
            file.write_all(content)?;
            drop(file);
            fs::rename(&temp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(fail(e));
        }
        Ok(())
    }

    fn del(&mut self, key: &str) -> Result<()> {
        let path = self.path_for(key)?;
        match fs::remove_file(&path) {
            Ok(()) => {
                self.remove_empty_parents(key);
                Ok(())
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(()),
            Err(e) => Err(Error::new(
                ErrorKind::Backend,
                NAME,
                format!("cannot delete \"{}\": {e}", path.display()),
            )),
        }
    }

    fn scan(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        let mut page = Vec::new();
        for key in self.scan_keys(prefix, after, limit)? {
            if let Some(value) = self.read(&self.dir.join(&key))? {
                page.push((
                    key,
                    Record {
                        value,
                        expires_at: None,
                    },
                ));
            }
        }
        Ok(page)
    }

    fn scan_keys(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let keys = self.all_keys()?;
        let start = match after {
            Some(cursor) if cursor >= prefix => keys.partition_point(|key| key.as_str() <= cursor),
            _ => keys.partition_point(|key| key.as_str() < prefix),
        };
        Ok(keys[start..]
            .iter()
            .take_while(|key| key.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }

    /// The keys alone: an asset has no deadline and no metadata, nothing to read.
    fn list(&mut self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
        Ok(self
            .scan_keys(prefix, after, limit)?
            .into_iter()
            .map(|key| Listed {
                key,
                expires_at: None,
                metadata: None,
            })
            .collect())
    }

    fn clear(&mut self, prefix: &str) -> Result<()> {
        for key in self.all_keys()?.into_iter().filter(|key| key.starts_with(prefix)) {
            self.del(&key)?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.closed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("polykv-assets-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("public/assets")
    }

    #[test]
    fn keys_are_relative_paths_that_stay_inside() {
        for key in ["a.png", "img/logo.png", "a/b/c/d.txt", ".hidden", "..a", "a..b/c"] {
            assert_eq!(refuse_key(key), None, "{key}");
        }
        for key in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            ".",
            "..",
            "a\0b",
            "a\\b",
        ] {
            assert!(refuse_key(key).is_some(), "{key:?}");
        }
        assert!(refuse_key(&"x".repeat(256)).is_some());
    }

    #[test]
    fn writes_raw_files_in_sub_folders_and_reads_them_back() {
        let dir = temp_dir("raw");
        let mut assets = Assets::open(dir.to_str().unwrap()).unwrap();
        assets.set("css/site.css", ValueRef::Text("body{}"), None).unwrap();
        assets.set("img/a.bin", ValueRef::Bytes(&[0xff, 0, 1]), None).unwrap();
        assert_eq!(fs::read_to_string(dir.join("css/site.css")).unwrap(), "body{}");
        assert_eq!(fs::read(dir.join("img/a.bin")).unwrap(), [0xff, 0, 1]);
        assert_eq!(assets.get("css/site.css").unwrap(), Some(Value::Text("body{}".into())));
        assert_eq!(assets.get("img/a.bin").unwrap(), Some(Value::Bytes(vec![0xff, 0, 1])));
        assert_eq!(assets.get("img").unwrap(), None, "a folder is not an asset");
        assert_eq!(assets.scan_keys("", None, 10).unwrap(), ["css/site.css", "img/a.bin"]);
        assert_eq!(assets.scan_keys("img/", None, 10).unwrap(), ["img/a.bin"]);
        assert!(assets.set("x", ValueRef::Text("1"), Some(1)).is_err(), "no expiry");
        let error = assets.set("../out.txt", ValueRef::Text("x"), None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Key);
        assert!(!dir.parent().unwrap().join("out.txt").exists());
        assets.del("img/a.bin").unwrap();
        assert!(!dir.join("img").exists(), "an emptied folder goes too");
        assets.clear("").unwrap();
        assert!(assets.scan_keys("", None, 10).unwrap().is_empty());
        assert!(dir.exists(), "the root stays");
    }

    #[test]
    fn a_symbolic_link_on_the_way_is_refused() {
        let dir = temp_dir("link");
        let mut assets = Assets::open(dir.to_str().unwrap()).unwrap();
        let outside = dir.parent().unwrap().join("outside");
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("escape")).unwrap();
        let error = assets.set("escape/x.txt", ValueRef::Text("x"), None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Key, "{error}");
        assert!(!outside.join("x.txt").exists());
    }
}
