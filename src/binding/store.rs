//! `NativeStore`: one JS class over any embedded backend (SQLite, JSON file,
//! folder, asset folder). Every method is a *sync* napi call (the JS driver wraps it
//! in the facade's promise); values cross as JSON text made and parsed by V8, or as
//! bytes in a Buffer (never a JS array, never JSON).
//!
//! Each entry point does its work as a `core::error::Result` and hands a failure to
//! `binding::error::throw`, which throws it with its `code` (`ERR_POLYKV_…`).

use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi::Env;

use super::error::throw;
use crate::backend::assets::Assets;
use crate::backend::file::JsonFile;
use crate::backend::folder::Folder;
use crate::backend::sqlite::Sqlite;
use crate::backend::{Backend, Change, Deadline, Value, ValueRef};
use crate::core::envelope::{whole_ms, write_json_string};
use crate::core::error::{Error, ErrorKind, Result};

/// A value as JS hands it over: JSON text, or bytes (a Uint8Array or Buffer).
type JsValueIn = Either<String, Uint8Array>;
/// A value as JS gets it back: JSON text (JS parses it), or a Buffer.
type JsValueOut = Either<String, Buffer>;
/// A group commit's failures: null when none, else per write null or `[code, message]`.
type Failures = Option<Vec<Option<(String, String)>>>;

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

fn value_in(value: &JsValueIn) -> ValueRef<'_> {
    match value {
        Either::A(text) => ValueRef::Text(text),
        Either::B(bytes) => ValueRef::Bytes(bytes),
    }
}

fn value_out(value: Value) -> JsValueOut {
    match value {
        Value::Text(text) => Either::A(text),
        Value::Bytes(bytes) => Either::B(bytes.into()),
    }
}

/// JSON `null` or a number, for a deadline in JSON text.
fn push_deadline(out: &mut String, expires_at: Option<i64>) {
    match expires_at {
        Some(ms) => out.push_str(&ms.to_string()),
        None => out.push_str("null"),
    }
}

/// One page of a scan: `[text, …buffers]`, where `text` is the JSON of
/// `[[key, value, expiresAt], …]` (one `JSON.parse` on the JS side) and a bytes value
/// is written `[key, null, expiresAt, i]`, its bytes at index `i` of the answer.
fn scan_page(backend: &mut dyn Backend, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<JsValueOut>> {
    let mut out = String::from("[");
    let mut answer = vec![];
    for (i, (key, record)) in backend.scan(prefix, after, limit)?.into_iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        write_json_string(&mut out, &key);
        match record.value {
            Value::Text(text) => {
                out.push(',');
                out.push_str(&text);
                out.push(',');
                push_deadline(&mut out, record.expires_at);
            }
            Value::Bytes(bytes) => {
                out.push_str(",null,");
                push_deadline(&mut out, record.expires_at);
                answer.push(Either::B(bytes.into()));
                out.push_str(&format!(",{}", answer.len()));
            }
        }
        out.push(']');
    }
    out.push(']');
    answer.insert(0, Either::A(out));
    Ok(answer)
}

/// A page of keys as JSON text: `[key, …]`.
fn scan_keys_json(backend: &mut dyn Backend, prefix: &str, after: Option<&str>, limit: usize) -> Result<String> {
    let mut out = String::from("[");
    for (i, key) in backend.scan_keys(prefix, after, limit)?.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(&mut out, key);
    }
    out.push(']');
    Ok(out)
}

/// A `list()` page as JSON text: `[[key, expiresAt, metadata?], …]`.
fn list_json(backend: &mut dyn Backend, prefix: &str, after: Option<&str>, limit: usize) -> Result<String> {
    let mut out = String::from("[");
    for (i, listed) in backend.list(prefix, after, limit)?.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        write_json_string(&mut out, &listed.key);
        out.push(',');
        push_deadline(&mut out, listed.expires_at);
        if let Some(metadata) = &listed.metadata {
            out.push(',');
            out.push_str(metadata);
        }
        out.push(']');
    }
    out.push(']');
    Ok(out)
}

/// The writes of `writeMany`/`writeGroup`: `values[i]` null deletes `keys[i]`.
fn changes(
    kind: &'static str,
    keys: Vec<String>,
    values: Vec<Option<JsValueIn>>,
    deadlines: Vec<Option<f64>>,
) -> Result<Vec<Change>> {
    if keys.len() != values.len() || keys.len() != deadlines.len() {
        let message = "a batch needs as many values and deadlines as keys";
        return Err(Error::new(ErrorKind::Value, kind, message));
    }
    let mut writes = Vec::with_capacity(keys.len());
    for ((key, value), expires_at) in keys.into_iter().zip(values).zip(deadlines) {
        writes.push(Change {
            key,
            value: value.as_ref().map(|value| value_in(value).to_owned()),
            expires_at: deadline(expires_at, kind)?,
        });
    }
    Ok(writes)
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

    /// An asset folder: each value raw in the file its key names (created when missing).
    #[napi(factory, catch_unwind)]
    pub fn assets(env: &Env, path: String) -> napi::Result<NativeStore> {
        open(env, "FOLDER", Assets::open(&path))
    }

    fn backend(&mut self) -> Result<&mut dyn Backend> {
        if self.closed {
            return Err(Error::new(ErrorKind::Closed, self.kind, "the store is closed"));
        }
        Ok(self.backend.as_mut())
    }

    /// The value's JSON text (or its bytes), or null when missing or expired.
    #[napi(catch_unwind)]
    pub fn get(&mut self, env: &Env, key: String) -> napi::Result<Option<JsValueOut>> {
        self.backend()
            .and_then(|b| b.get(&key))
            .map(|value| value.map(value_out))
            .map_err(|e| throw(env, e))
    }

    /// `[value, expiresAt]` (expiresAt null: never), or null when missing or expired.
    #[napi(catch_unwind)]
    pub fn get_record(&mut self, env: &Env, key: String) -> napi::Result<Option<(JsValueOut, Option<f64>)>> {
        self.backend()
            .and_then(|b| b.get_record(&key))
            .map(|record| record.map(|r| (value_out(r.value), r.expires_at.map(|ms| ms as f64))))
            .map_err(|e| throw(env, e))
    }

    /// `value` is JSON text or bytes; `expires_at` an absolute Unix ms deadline or null.
    #[napi(catch_unwind)]
    pub fn set(&mut self, env: &Env, key: String, value: JsValueIn, expires_at: Option<f64>) -> napi::Result<()> {
        deadline(expires_at, self.kind)
            .and_then(|deadline| self.backend()?.set(&key, value_in(&value), deadline))
            .map_err(|e| throw(env, e))
    }

    /// Several writes as one unit (one transaction, one rewrite): `values[i]` null
    /// deletes `keys[i]`; `deadlines[i]` as in `set`.
    #[napi(catch_unwind)]
    pub fn write_many(
        &mut self,
        env: &Env,
        keys: Vec<String>,
        values: Vec<Option<JsValueIn>>,
        deadlines: Vec<Option<f64>>,
    ) -> napi::Result<()> {
        changes(self.kind, keys, values, deadlines)
            .and_then(|writes| self.backend()?.write_many(writes))
            .map_err(|e| throw(env, e))
    }

    /// A group commit of the writes of one tick, as `writeMany` takes them, each
    /// failing alone: null when all are stored, else one entry per write, null or
    /// `[code, message]`. Throws when none is stored.
    #[napi(catch_unwind)]
    pub fn write_group(
        &mut self,
        env: &Env,
        keys: Vec<String>,
        values: Vec<Option<JsValueIn>>,
        deadlines: Vec<Option<f64>>,
    ) -> napi::Result<Failures> {
        let outcomes = changes(self.kind, keys, values, deadlines)
            .and_then(|writes| self.backend()?.write_group(writes))
            .map_err(|e| throw(env, e))?;
        if outcomes.iter().all(Option::is_none) {
            return Ok(None);
        }
        Ok(Some(
            outcomes
                .into_iter()
                .map(|outcome| outcome.map(|e| (e.kind.code().to_owned(), e.to_string())))
                .collect(),
        ))
    }

    #[napi(catch_unwind)]
    pub fn del(&mut self, env: &Env, key: String) -> napi::Result<()> {
        self.backend().and_then(|b| b.del(&key)).map_err(|e| throw(env, e))
    }

    #[napi(catch_unwind)]
    pub fn has(&mut self, env: &Env, key: String) -> napi::Result<bool> {
        self.backend().and_then(|b| b.has(&key)).map_err(|e| throw(env, e))
    }

    /// The values of `keys` in order, as `get` returns them (null where missing).
    #[napi(catch_unwind)]
    pub fn get_many(&mut self, env: &Env, keys: Vec<String>) -> napi::Result<Vec<Option<JsValueOut>>> {
        self.backend()
            .and_then(|b| b.get_many(&keys))
            .map(|values| values.into_iter().map(|value| value.map(value_out)).collect())
            .map_err(|e| throw(env, e))
    }

    /// Replaces the record by `next` (null deletes) only if its value is still `seen`
    /// (null: missing or expired). `keep`: the new record keeps the old deadline,
    /// else it takes `expiresAt`. True when it swapped.
    #[napi(catch_unwind)]
    pub fn swap(
        &mut self,
        env: &Env,
        key: String,
        seen: Option<JsValueIn>,
        next: Option<JsValueIn>,
        keep: bool,
        expires_at: Option<f64>,
    ) -> napi::Result<bool> {
        let kind = self.kind;
        let mut run = || -> Result<bool> {
            let deadline = if keep {
                Deadline::Keep
            } else {
                Deadline::Set(deadline(expires_at, kind)?)
            };
            self.backend()?
                .swap(&key, seen.as_ref().map(value_in), next.as_ref().map(value_in), deadline)
        };
        run().map_err(|e| throw(env, e))
    }

    /// Adds `by` to the number under `key` (a missing key starts at `by` with
    /// `expiresAt`); null, and nothing changed, when it does not hold a plain number.
    #[napi(catch_unwind)]
    pub fn increment(&mut self, env: &Env, key: String, by: f64, expires_at: Option<f64>) -> napi::Result<Option<f64>> {
        let kind = self.kind;
        deadline(expires_at, kind)
            .and_then(|deadline| self.backend()?.increment(&key, by, deadline))
            .map_err(|e| throw(env, e))
    }

    /// The live value, deleted in the same step; null when missing or expired.
    #[napi(catch_unwind)]
    pub fn get_and_delete(&mut self, env: &Env, key: String) -> napi::Result<Option<JsValueOut>> {
        self.backend()
            .and_then(|b| b.get_and_delete(&key))
            .map(|value| value.map(value_out))
            .map_err(|e| throw(env, e))
    }

    /// One page of live records under `prefix`, in key order, after the key `after`:
    /// `[text, …buffers]` (see `scan_page`). Fewer than `limit` records: the last page.
    #[napi(catch_unwind)]
    pub fn scan(
        &mut self,
        env: &Env,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> napi::Result<Vec<JsValueOut>> {
        let limit = limit.max(1) as usize;
        self.backend()
            .and_then(|b| scan_page(b, &prefix, after.as_deref(), limit))
            .map_err(|e| throw(env, e))
    }

    /// Same as `scan`, the keys only, as JSON text `[key, …]`.
    #[napi(catch_unwind)]
    pub fn scan_keys(&mut self, env: &Env, prefix: String, after: Option<String>, limit: u32) -> napi::Result<String> {
        let limit = limit.max(1) as usize;
        self.backend()
            .and_then(|b| scan_keys_json(b, &prefix, after.as_deref(), limit))
            .map_err(|e| throw(env, e))
    }

    /// One `list()` page as JSON text: `[[key, expiresAt, metadata?], …]`, one range
    /// read of `limit` records, no values.
    #[napi(catch_unwind)]
    pub fn list(&mut self, env: &Env, prefix: String, after: Option<String>, limit: u32) -> napi::Result<String> {
        let limit = limit.max(1) as usize;
        self.backend()
            .and_then(|b| list_json(b, &prefix, after.as_deref(), limit))
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
