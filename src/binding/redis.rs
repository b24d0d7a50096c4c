//! `RedisNative`: the JS face of `backend::redis`. The JS driver
//! (`lib/drivers/redis-native.js`) queues the operations of one tick and sends them
//! here in one `exec` call as parallel arrays; see the backend for why.
//!
//! Batch answers come back through one threadsafe function per store, created once:
//! a promise per call would cost a threadsafe function per call (~µs each) on top of
//! the wake-up. The function is "weak" (it does not keep Node alive) except while
//! batches are pending, so an idle store never holds the process open, and a pending
//! `await store.get(…)` always does.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{FnArgs, Function, Object, ToNapiValue, Uint8Array};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, Error, Result, Status};

use crate::backend::redis::{BatchResult, Done, Op, RedisConfig, RedisStore, Reply};

/// Operation codes of `exec`, mirrored in `lib/drivers/redis-native.js`.
const OP_GET: u8 = 0;
const OP_SET: u8 = 1;
const OP_HAS: u8 = 2;
const OP_DEL: u8 = 3;

/// The arguments of the JS `onAnswers` callback, for the batches one pipeline round
/// answered: `(ids, failures, values, errorSlots, errorMessages)`.
/// - `failures[i]`: why batch `ids[i]` failed as a whole (Redis unreachable), or null;
/// - `values`: the replies of the batches that did not fail, concatenated in order:
///   JSON text or null for a get, "1" or null for a has, null for set and del;
/// - `errorSlots[j]` indexes into `values`: that operation failed alone, with
///   `errorMessages[j]` (e.g. a WRONGTYPE error).
pub(crate) type Answers = (
    Vec<u32>,
    Vec<Option<String>>,
    Vec<Option<String>>,
    Vec<u32>,
    Vec<String>,
);

pub(crate) fn to_answers(rounds: Vec<(u32, BatchResult)>) -> Answers {
    let mut answers: Answers = (
        Vec::with_capacity(rounds.len()),
        Vec::with_capacity(rounds.len()),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let (ids, failures, values, error_slots, error_messages) = &mut answers;
    for (id, result) in rounds {
        ids.push(id);
        match result {
            Err(message) => failures.push(Some(message)),
            Ok(replies) => {
                failures.push(None);
                for reply in replies {
                    values.push(match reply {
                        Ok(Reply::Text(text)) => Some(text),
                        Ok(Reply::Bool(true)) => Some("1".to_string()),
                        Ok(Reply::Bool(false) | Reply::Missing | Reply::Done) => None,
                        Err(message) => {
                            error_slots.push(values.len() as u32);
                            error_messages.push(message);
                            None
                        }
                    });
                }
            }
        }
    }
    answers
}

/// The operations of an `exec` call, from its parallel arrays.
pub(crate) fn ops_from_js(ops: &[u8], keys: Vec<String>, values: Vec<String>, expires: Vec<f64>) -> Result<Vec<Op>> {
    if ops.len() != keys.len() {
        return Err(invalid("exec: ops and keys differ in length"));
    }
    let mut batch = Vec::with_capacity(keys.len());
    let mut values = values.into_iter();
    let mut expires = expires.into_iter();
    for (&code, key) in ops.iter().zip(keys) {
        batch.push(match code {
            OP_GET => Op::Get(key),
            OP_SET => {
                let json = values.next().ok_or_else(|| invalid("exec: a set without a value"))?;
                let ms = expires.next().unwrap_or(0.0);
                let expires_ms = (ms.is_finite() && ms > 0.0).then(|| ms.ceil() as u64);
                Op::Set { key, json, expires_ms }
            }
            OP_HAS => Op::Has(key),
            OP_DEL => Op::Del(key),
            other => return Err(invalid(&format!("exec: unknown op {other}"))),
        });
    }
    Ok(batch)
}

/// Keeps Node's event loop alive exactly while batches are pending.
struct KeepAlive {
    pending: AtomicU32,
    /// The raw `napi_threadsafe_function`, set right after it is created.
    tsfn: AtomicUsize,
}

impl KeepAlive {
    /// On the JS thread, when a batch is queued.
    fn hold(&self, env: &Env) {
        if self.pending.fetch_add(1, Ordering::Relaxed) == 0 {
            unsafe { napi::sys::napi_ref_threadsafe_function(env.raw(), self.raw()) };
        }
    }

    /// On the JS thread, when `count` batches are answered.
    fn release(&self, env: &Env, count: u32) {
        if self.pending.fetch_sub(count, Ordering::Relaxed) == count {
            unsafe { napi::sys::napi_unref_threadsafe_function(env.raw(), self.raw()) };
        }
    }

    fn raw(&self) -> napi::sys::napi_threadsafe_function {
        self.tsfn.load(Ordering::Relaxed) as napi::sys::napi_threadsafe_function
    }
}

#[napi]
pub struct RedisNative {
    store: RedisStore,
    keep_alive: Arc<KeepAlive>,
}

fn failure(message: String) -> Error {
    Error::new(Status::GenericFailure, message)
}

fn invalid(message: &str) -> Error {
    Error::new(Status::InvalidArg, format!("[polykv] [redis] {message}"))
}

/// A promise settled by a group job's `Done` callback (from the Redis thread).
fn promise<'env, T: ToNapiValue + Send + 'static>(env: &'env Env, start: impl FnOnce(Done<T>)) -> Result<Object<'env>> {
    type Resolver<T> = Box<dyn FnOnce(Env) -> Result<T>>;
    let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
    start(Box::new(move |result| match result {
        Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
        Err(message) => deferred.reject(failure(message)),
    }));
    Ok(promise)
}

/// Entries under a prefix, as parallel arrays of full keys and JSON texts.
#[napi(object)]
pub struct RedisEntries {
    pub keys: Vec<String>,
    pub values: Vec<String>,
}

/// One iteration step: continue from `cursor` unless it is `"0"`.
#[napi(object)]
pub struct RedisPage {
    pub cursor: String,
    pub keys: Vec<String>,
    pub values: Vec<String>,
}

#[napi]
impl RedisNative {
    /// Opens a store for a `redis://` or `rediss://` URL; `onAnswers(ids, failures,
    /// values, errorSlots, errorMessages)` receives batch answers (it must not throw).
    /// Does not connect yet: the first operation does, and fails if Redis cannot be reached.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "url: string, onAnswers: (ids: number[], failures: (string | null)[], values: (string | null)[], errorSlots: number[], errorMessages: string[]) => void"
    )]
    pub fn new(url: String, on_answers: Function<'_, FnArgs<Answers>, ()>) -> Result<Self> {
        let config = RedisConfig::from_url(&url).map_err(|e| invalid(&e))?;
        let keep_alive = Arc::new(KeepAlive {
            pending: AtomicU32::new(0),
            tsfn: AtomicUsize::new(0),
        });
        let releaser = keep_alive.clone();
        let tsfn = on_answers
            .build_threadsafe_function::<Vec<(u32, BatchResult)>>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |ctx| {
                releaser.release(&ctx.env, ctx.value.len() as u32);
                Ok(FnArgs::from(to_answers(ctx.value)))
            })?;
        keep_alive.tsfn.store(tsfn.raw() as usize, Ordering::Relaxed);
        let sink = Arc::new(move |rounds: Vec<(u32, BatchResult)>| {
            tsfn.call(rounds, ThreadsafeFunctionCallMode::NonBlocking);
        });
        let store = RedisStore::open(config, sink).map_err(failure)?;
        Ok(Self { store, keep_alive })
    }

    /// `redis://host:port/db`, without the password.
    #[napi(getter, catch_unwind)]
    pub fn label(&self) -> String {
        self.store.label().to_string()
    }

    /// Queues batch `id`: `ops[i]` is 0 get, 1 set, 2 has, 3 del on `keys[i]`; the n-th
    /// set takes `values[n]` (JSON text) and `expires[n]` (ms, or 0 for never). The
    /// answer goes to `onAnswers`. Throws (and queues nothing) if the store is closed.
    #[napi(catch_unwind)]
    pub fn exec(
        &self,
        env: &Env,
        id: u32,
        ops: Uint8Array,
        keys: Vec<String>,
        values: Vec<String>,
        expires: Vec<f64>,
    ) -> Result<()> {
        let batch = ops_from_js(&ops, keys, values, expires)?;
        self.store.batch(id, batch).map_err(failure)?;
        self.keep_alive.hold(env);
        Ok(())
    }

    /// Full keys starting with `prefix`, each once.
    #[napi(catch_unwind, ts_return_type = "Promise<string[]>")]
    pub fn keys<'env>(&self, env: &'env Env, prefix: String) -> Result<Object<'env>> {
        promise(env, |done| self.store.keys(&prefix, done))
    }

    /// Full keys starting with `prefix` with their JSON texts.
    #[napi(catch_unwind, ts_return_type = "Promise<RedisEntries>")]
    pub fn entries<'env>(&self, env: &'env Env, prefix: String) -> Result<Object<'env>> {
        promise(env, |done: Done<RedisEntries>| {
            self.store.entries(
                &prefix,
                Box::new(move |result| {
                    done(result.map(|e| RedisEntries {
                        keys: e.keys,
                        values: e.values,
                    }))
                }),
            )
        })
    }

    /// One iteration step under `prefix` from `cursor` (`"0"` to start).
    #[napi(catch_unwind, ts_return_type = "Promise<RedisPage>")]
    pub fn page<'env>(&self, env: &'env Env, prefix: String, cursor: String) -> Result<Object<'env>> {
        promise(env, |done: Done<RedisPage>| {
            self.store.page(
                &prefix,
                cursor,
                Box::new(move |result| {
                    done(result.map(|page| RedisPage {
                        cursor: page.cursor,
                        keys: page.entries.keys,
                        values: page.entries.values,
                    }))
                }),
            )
        })
    }

    /// Removes the keys starting with `prefix`; resolves to how many.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn clear<'env>(&self, env: &'env Env, prefix: String) -> Result<Object<'env>> {
        promise(env, |done: Done<f64>| {
            self.store
                .clear(&prefix, Box::new(move |result| done(result.map(|n| n as f64))))
        })
    }

    /// Closes the connection after the operations already queued; later calls fail.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        promise(env, |done: Done<()>| self.store.close(done))
    }
}
