//! File-system rules the JSON file and folder stores share, so a planted symlink or
//! a crash can never make them write outside their folder or widen a file's mode:
//!
//! - Temp files get an unpredictable name and are created with
//!   `O_CREAT|O_EXCL|O_NOFOLLOW` (`create_new`): an existing file or symlink at that
//!   name is never opened, so nothing is written through a link.
//! - A rewrite gives the new file the old one's permission bits (and owner, where
//!   the process may): a record created 0600 stays 0600. New files follow the umask.
//! - Records are opened with `O_NOFOLLOW` unless the user opted in to symlinks.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Random characters in a temp file's name (nanoid's URL-safe alphabet, 72 bits).
const TEMP_RANDOM: usize = 12;

/// Creates a new temp file in `dir` named `<stem><random>.tmp`, never opening an
/// existing file or link. Returns the file (open for writing) and its path.
pub fn create_temp(dir: &Path, stem: &str) -> io::Result<(File, PathBuf)> {
    let mut last = None;
    for _ in 0..8 {
        let path = dir.join(format!("{stem}{}.tmp", nanoid::nanoid!(TEMP_RANDOM)));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            // Someone holds that name (72 random bits: only on purpose): draw again.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp file name")))
}

/// Gives `file` (a fresh temp file) the permission bits and, where allowed, the
/// owner of `old` (the file it will replace). A process that may not chown keeps
/// its own ownership, as any editor does.
pub fn keep_mode_and_owner(file: &File, old: &fs::Metadata) -> io::Result<()> {
    let mine = file.metadata()?;
    if mine.uid() != old.uid() || mine.gid() != old.gid() {
        let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    }
    // After the chown: changing the owner may clear set-id bits.
    file.set_permissions(fs::Permissions::from_mode(old.mode() & 0o7777))
}

/// Opens `path` for reading; a symlink there is refused (`ELOOP`) unless `follow`.
pub fn open_read(path: &Path, follow: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    if !follow {
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Whether an open error says the path is a symlink we refused to follow.
pub fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Reads all of `path` through [`open_read`].
pub fn read_bytes(path: &Path, follow: bool) -> io::Result<Vec<u8>> {
    let mut file = open_read(path, follow)?;
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// The folder at `path`, created with its parents when missing; `backend` names the
/// store in the errors (a path that cannot be made, or that is not a folder).
pub fn create_folder(path: &str, backend: &'static str) -> crate::core::error::Result<PathBuf> {
    use crate::core::error::{Error, ErrorKind};
    let dir = PathBuf::from(path);
    fs::create_dir_all(&dir).map_err(|e| {
        Error::new(
            ErrorKind::Client,
            backend,
            format!("cannot create the folder \"{path}\": {e}"),
        )
    })?;
    if !dir.is_dir() {
        return Err(Error::new(
            ErrorKind::Client,
            backend,
            format!("\"{path}\" is not a folder"),
        ));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("polykv-fsutil-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temp_files_are_new_and_unpredictable() {
        let dir = dir("temp");
        let (_, one) = create_temp(&dir, ".x-").unwrap();
        let (_, two) = create_temp(&dir, ".x-").unwrap();
        assert_ne!(one, two);
        let name = one.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".x-") && name.ends_with(".tmp") && name.len() == 3 + TEMP_RANDOM + 4);
    }

    #[test]
    fn records_are_not_read_through_a_symlink_unless_asked() {
        let dir = dir("read");
        fs::write(dir.join("target"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.join("target"), dir.join("link")).unwrap();
        let error = read_bytes(&dir.join("link"), false).unwrap_err();
        assert!(is_symlink_refusal(&error), "{error}");
        assert_eq!(read_bytes(&dir.join("link"), true).unwrap(), b"secret");
    }
}
