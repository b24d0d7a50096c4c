//! `NativeStore`: one JS class over any embedded backend (SQLite, JSON file,
//! folder). Every method is a *sync* napi call (the JS driver wraps it in the
//! facade's promise); values cross as JSON text made and parsed by V8.

use crate::backend::file::JsonFile;
use crate::backend::folder::Folder;
use crate::backend::sqlite::Sqlite;
use crate::backend::{Backend, Change};
use crate::core::envelope::write_json_string;
use crate::core::error::Error;

#[napi]
pub struct NativeStore {
    backend: Box<dyn Backend>,
    kind: &'static str,
    closed: bool,
}

fn js_error(error: Error) -> napi::Error {
    napi::Error::from_reason(error.to_string())
}

fn open(kind: &'static str, backend: crate::core::error::Result<impl Backend + 'static>) -> napi::Result<NativeStore> {
    Ok(NativeStore {
        backend: Box::new(backend.map_err(js_error)?),
        kind,
        closed: false,
    })
}

/// A JS number deadline (ms) as whole ms; NaN/∞ would be a bug upstream.
fn deadline(expires_at: Option<f64>, kind: &'static str) -> napi::Result<Option<i64>> {
    match expires_at {
        None => Ok(None),
        Some(ms) if ms.is_finite() => Ok(Some(ms.ceil() as i64)),
        Some(ms) => Err(js_error(Error::new(
            kind,
            format!("the expiry deadline must be a finite number of ms, got {ms}"),
        ))),
    }
}

#[napi]
impl NativeStore {
    /// A SQLite database file (created with its folders), or `:memory:`.
    #[napi(factory, catch_unwind)]
    pub fn sqlite(path: String) -> napi::Result<NativeStore> {
        open("SQLITE", Sqlite::open(&path))
    }

    /// A JSON file holding one object of records (created as `{}` when missing).
    #[napi(factory, catch_unwind)]
    pub fn file(path: String) -> napi::Result<NativeStore> {
        open("FILE", JsonFile::open(&path))
    }

    /// A folder with one JSON file per key (created when missing).
    #[napi(factory, catch_unwind)]
    pub fn folder(path: String) -> napi::Result<NativeStore> {
        open("FOLDER", Folder::open(&path))
    }

    fn backend(&mut self) -> napi::Result<&mut Box<dyn Backend>> {
        if self.closed {
            return Err(js_error(Error::new(self.kind, "the store is closed")));
        }
        Ok(&mut self.backend)
    }

    /// The value's JSON text, or null when missing or expired.
    #[napi(catch_unwind)]
    pub fn get(&mut self, key: String) -> napi::Result<Option<String>> {
        self.backend()?.get(&key).map_err(js_error)
    }

    /// `value` is JSON text; `expires_at` an absolute Unix ms deadline or null.
    #[napi(catch_unwind)]
    pub fn set(&mut self, key: String, value: String, expires_at: Option<f64>) -> napi::Result<()> {
        let deadline = deadline(expires_at, self.kind)?;
        self.backend()?.set(&key, &value, deadline).map_err(js_error)
    }

    /// Several writes in one go (the JSON file does them in one rewrite): `values[i]`
    /// null deletes `keys[i]`; `deadlines[i]` as in `set`.
    #[napi(catch_unwind)]
    pub fn write_many(
        &mut self,
        keys: Vec<String>,
        values: Vec<Option<String>>,
        deadlines: Vec<Option<f64>>,
    ) -> napi::Result<()> {
        if keys.len() != values.len() || keys.len() != deadlines.len() {
            return Err(js_error(Error::new(
                self.kind,
                "writeMany needs as many values and deadlines as keys",
            )));
        }
        let mut writes = Vec::with_capacity(keys.len());
        for ((key, value), expires_at) in keys.into_iter().zip(values).zip(deadlines) {
            writes.push(Change {
                key,
                value,
                expires_at: deadline(expires_at, self.kind)?,
            });
        }
        self.backend()?.write_many(writes).map_err(js_error)
    }

    #[napi(catch_unwind)]
    pub fn del(&mut self, key: String) -> napi::Result<()> {
        self.backend()?.del(&key).map_err(js_error)
    }

    #[napi(catch_unwind)]
    pub fn has(&mut self, key: String) -> napi::Result<bool> {
        self.backend()?.has(&key).map_err(js_error)
    }

    /// One page of live records under `prefix`, in key order, after the key `after`,
    /// as JSON text (one `JSON.parse` on the JS side): `[[key, value], …]`, or
    /// `[key, …]` when `values` is false. Fewer than `limit` items: the last page.
    #[napi(catch_unwind)]
    pub fn scan(&mut self, prefix: String, after: Option<String>, limit: u32, values: bool) -> napi::Result<String> {
        let limit = limit.max(1) as usize;
        let backend = self.backend()?;
        let mut out = String::from("[");
        if values {
            for (i, (key, value)) in backend
                .scan(&prefix, after.as_deref(), limit)
                .map_err(js_error)?
                .iter()
                .enumerate()
            {
                out.push_str(if i == 0 { "[" } else { ",[" });
                write_json_string(&mut out, key);
                out.push(',');
                out.push_str(value);
                out.push(']');
            }
        } else {
            for (i, key) in backend
                .scan_keys(&prefix, after.as_deref(), limit)
                .map_err(js_error)?
                .iter()
                .enumerate()
            {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, key);
            }
        }
        out.push(']');
        Ok(out)
    }

    /// Removes every record under `prefix` ("" = all).
    #[napi(catch_unwind)]
    pub fn clear(&mut self, prefix: String) -> napi::Result<()> {
        self.backend()?.clear(&prefix).map_err(js_error)
    }

    #[napi(catch_unwind)]
    pub fn prune(&mut self) -> napi::Result<()> {
        self.backend()?.prune().map_err(js_error)
    }

    /// Releases the file or connection; later calls fail with "the store is closed".
    /// Closing twice is fine.
    #[napi(catch_unwind)]
    pub fn close(&mut self) -> napi::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.backend.close().map_err(js_error)
    }
}
