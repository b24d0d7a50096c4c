//! `NativeStore`: one JS class over any embedded backend (SQLite, JSON file,
//! folder). Every method is a *sync* napi call (the JS driver wraps it in the
//! facade's promise); values cross as JSON text made and parsed by V8.
//!
//! Each entry point does its work as a `core::error::Result` and hands a failure to
//! `binding::error::throw`, which throws it with its `code` (`ERR_POLYKV_…`).

use napi::Env;

use super::error::throw;
use crate::backend::file::JsonFile;
use crate::backend::folder::Folder;
use crate::backend::sqlite::Sqlite;
use crate::backend::{Backend, Change};
use crate::core::envelope::{whole_ms, write_json_string};
use crate::core::error::{Error, ErrorKind, Result};

#[napi]
pub struct NativeStore {
    backend: Box<dyn Backend>,
    kind: &'static str,
    closed: bool,
}

fn open(env: &Env, kind: &'static str, backend: Result<impl Backend + 'static>) -> napi::Result<NativeStore> {
    Ok(NativeStore {
        backend: Box::new(backend.map_err(|e| throw(env, e))?),
        kind,
        closed: false,
    })
}

/// A JS number deadline (ms) as whole ms; NaN/∞ would be a bug upstream.
fn deadline(expires_at: Option<f64>, kind: &'static str) -> Result<Option<i64>> {
    match expires_at {
        None => Ok(None),
        Some(ms) if ms.is_finite() => Ok(Some(whole_ms(ms))),
        Some(ms) => Err(Error::new(
            ErrorKind::Expires,
            kind,
            format!("the expiry deadline must be a finite number of ms, got {ms}"),
        )),
    }
}

/// One page of a scan as JSON text: `[[key, value], …]`, or `[key, …]` without values.
fn scan_json(
    backend: &mut dyn Backend,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
    values: bool,
) -> Result<String> {
    let mut out = String::from("[");
    if values {
        for (i, (key, value)) in backend.scan(prefix, after, limit)?.iter().enumerate() {
            out.push_str(if i == 0 { "[" } else { ",[" });
            write_json_string(&mut out, key);
            out.push(',');
            out.push_str(value);
            out.push(']');
        }
    } else {
        for (i, key) in backend.scan_keys(prefix, after, limit)?.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(&mut out, key);
        }
    }
    out.push(']');
    Ok(out)
}

#[napi]
impl NativeStore {
    /// A SQLite database file (created with its folders), or `:memory:`.
    #[napi(factory, catch_unwind)]
    pub fn sqlite(env: &Env, path: String) -> napi::Result<NativeStore> {
        open(env, "SQLITE", Sqlite::open(&path))
    }

    /// A JSON file holding one object of records (created as `{}` when missing);
    /// `follow_symlinks`: open a symlink's target instead of refusing it.
    #[napi(factory, catch_unwind)]
    pub fn file(env: &Env, path: String, follow_symlinks: Option<bool>) -> napi::Result<NativeStore> {
        open(env, "FILE", JsonFile::open(&path, follow_symlinks.unwrap_or(false)))
    }

    /// A folder with one JSON file per key (created when missing);
    /// `follow_symlinks`: read and write records through symlinks.
    #[napi(factory, catch_unwind)]
    pub fn folder(env: &Env, path: String, follow_symlinks: Option<bool>) -> napi::Result<NativeStore> {
        open(env, "FOLDER", Folder::open(&path, follow_symlinks.unwrap_or(false)))
    }

    fn backend(&mut self) -> Result<&mut dyn Backend> {
        if self.closed {
            return Err(Error::new(ErrorKind::Closed, self.kind, "the store is closed"));
        }
        Ok(self.backend.as_mut())
    }

    /// The value's JSON text, or null when missing or expired.
    #[napi(catch_unwind)]
    pub fn get(&mut self, env: &Env, key: String) -> napi::Result<Option<String>> {
        self.backend().and_then(|b| b.get(&key)).map_err(|e| throw(env, e))
    }

    /// `value` is JSON text; `expires_at` an absolute Unix ms deadline or null.
    #[napi(catch_unwind)]
    pub fn set(&mut self, env: &Env, key: String, value: String, expires_at: Option<f64>) -> napi::Result<()> {
        deadline(expires_at, self.kind)
            .and_then(|deadline| self.backend()?.set(&key, &value, deadline))
            .map_err(|e| throw(env, e))
    }

    /// Several writes in one go (the JSON file does them in one rewrite): `values[i]`
    /// null deletes `keys[i]`; `deadlines[i]` as in `set`.
    #[napi(catch_unwind)]
    pub fn write_many(
        &mut self,
        env: &Env,
        keys: Vec<String>,
        values: Vec<Option<String>>,
        deadlines: Vec<Option<f64>>,
    ) -> napi::Result<()> {
        let kind = self.kind;
        let writes = || -> Result<Vec<Change>> {
            if keys.len() != values.len() || keys.len() != deadlines.len() {
                let message = "writeMany needs as many values and deadlines as keys";
                return Err(Error::new(ErrorKind::Value, kind, message));
            }
            let mut writes = Vec::with_capacity(keys.len());
            for ((key, value), expires_at) in keys.into_iter().zip(values).zip(deadlines) {
                writes.push(Change {
                    key,
                    value,
                    expires_at: deadline(expires_at, kind)?,
                });
            }
            Ok(writes)
        };
        writes()
            .and_then(|writes| self.backend()?.write_many(writes))
            .map_err(|e| throw(env, e))
    }

    #[napi(catch_unwind)]
    pub fn del(&mut self, env: &Env, key: String) -> napi::Result<()> {
        self.backend().and_then(|b| b.del(&key)).map_err(|e| throw(env, e))
    }

    #[napi(catch_unwind)]
    pub fn has(&mut self, env: &Env, key: String) -> napi::Result<bool> {
        self.backend().and_then(|b| b.has(&key)).map_err(|e| throw(env, e))
    }

    /// One page of live records under `prefix`, in key order, after the key `after`,
    /// as JSON text (one `JSON.parse` on the JS side): `[[key, value], …]`, or
    /// `[key, …]` when `values` is false. Fewer than `limit` items: the last page.
    #[napi(catch_unwind)]
    pub fn scan(
        &mut self,
        env: &Env,
        prefix: String,
        after: Option<String>,
        limit: u32,
        values: bool,
    ) -> napi::Result<String> {
        let limit = limit.max(1) as usize;
        self.backend()
            .and_then(|b| scan_json(b, &prefix, after.as_deref(), limit, values))
            .map_err(|e| throw(env, e))
    }

    /// Removes every record under `prefix` ("" = all).
    #[napi(catch_unwind)]
    pub fn clear(&mut self, env: &Env, prefix: String) -> napi::Result<()> {
        self.backend().and_then(|b| b.clear(&prefix)).map_err(|e| throw(env, e))
    }

    #[napi(catch_unwind)]
    pub fn prune(&mut self, env: &Env) -> napi::Result<()> {
        self.backend().and_then(|b| b.prune()).map_err(|e| throw(env, e))
    }

    /// Releases the file or connection; later calls fail with "the store is closed".
    /// Closing twice is fine.
    #[napi(catch_unwind)]
    pub fn close(&mut self, env: &Env) -> napi::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.backend.close().map_err(|e| throw(env, e))
    }
}
