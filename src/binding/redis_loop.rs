//! `RedisLoop`: get/set/has/del for a `redis://` store, with the socket watched by
//! Node's own event loop (libuv) instead of a Redis thread.
//!
//! Why: with the `redis` crate on its own thread (`RedisNative`), every awaited call
//! costs two extra thread wake-ups (JS → Redis thread, Redis thread → JS) on top of
//! the round trip, which made it slower than node-redis (0.78–0.87× awaited one by
//! one). Here the JS thread writes the request itself (a plain `write` on a
//! non-blocking socket, inside `exec`) and libuv wakes that same thread when the
//! reply is readable, like node-redis, but without Node's stream machinery: the
//! bytes are parsed by `backend::redis_wire` and each batch is answered through the
//! same `onAnswers` callback as `RedisNative`.
//!
//! Connecting (DNS, TCP, AUTH, SELECT) runs on the shared tokio thread; the socket is
//! then handed to this thread through a libuv async handle. TLS stays with
//! `RedisNative`. The libuv functions are looked up at run time (`dlsym`), so the
//! addon still loads in a runtime without them (Bun), which then uses `RedisNative`.
//!
//! Everything here runs on the JS thread that made the store; the state is an
//! `Rc<RefCell<Inner>>` shared with the libuv handles, each of which holds a strong
//! count until libuv reports it closed.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use napi::bindgen_prelude::{FnArgs, Function, JsValue, ToNapiValue, Uint8Array};
use napi::{sys, Env, Error, Result, Status};

use super::redis::{ops_from_js, to_answers, Answers};
use crate::backend::redis::{runtime, BatchResult, RedisConfig, RESPONSE_TIMEOUT, RETRY_AFTER};
use crate::backend::redis_wire::{self, Pipeline};

type Handle = *mut c_void;
type PollCb = unsafe extern "C" fn(Handle, c_int, c_int);
type HandleCb = unsafe extern "C" fn(Handle);

/// The libuv functions used, found in the running executable.
struct Uv {
    handle_size: unsafe extern "C" fn(c_int) -> usize,
    poll_init: unsafe extern "C" fn(*mut c_void, Handle, c_int) -> c_int,
    poll_start: unsafe extern "C" fn(Handle, c_int, PollCb) -> c_int,
    poll_stop: unsafe extern "C" fn(Handle) -> c_int,
    async_init: unsafe extern "C" fn(*mut c_void, Handle, HandleCb) -> c_int,
    async_send: unsafe extern "C" fn(Handle) -> c_int,
    timer_init: unsafe extern "C" fn(*mut c_void, Handle) -> c_int,
    timer_start: unsafe extern "C" fn(Handle, HandleCb, u64, u64) -> c_int,
    close: unsafe extern "C" fn(Handle, HandleCb),
    ref_: unsafe extern "C" fn(Handle),
    unref: unsafe extern "C" fn(Handle),
}

// `uv_handle_type` and `uv_poll_event` values (stable across libuv 1.x).
const UV_ASYNC: c_int = 1;
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;

/// Room for any of the three handle types (checked against `uv_handle_size`).
#[repr(C, align(16))]
struct HandleMemory([u8; 256]);

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// `RTLD_DEFAULT`: search the executable and everything it loaded.
#[cfg(target_os = "linux")]
const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();
#[cfg(not(target_os = "linux"))]
const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;

fn uv() -> Option<&'static Uv> {
    static UV: std::sync::OnceLock<Option<Uv>> = std::sync::OnceLock::new();
    UV.get_or_init(|| unsafe {
        macro_rules! find {
            ($name:literal) => {{
                let symbol = dlsym(RTLD_DEFAULT, concat!($name, "\0").as_ptr().cast());
                if symbol.is_null() {
                    return None;
                }
                std::mem::transmute::<*mut c_void, _>(symbol)
            }};
        }
        let uv = Uv {
            handle_size: find!("uv_handle_size"),
            poll_init: find!("uv_poll_init"),
            poll_start: find!("uv_poll_start"),
            poll_stop: find!("uv_poll_stop"),
            async_init: find!("uv_async_init"),
            async_send: find!("uv_async_send"),
            timer_init: find!("uv_timer_init"),
            timer_start: find!("uv_timer_start"),
            close: find!("uv_close"),
            ref_: find!("uv_ref"),
            unref: find!("uv_unref"),
        };
        let fits = [UV_ASYNC, UV_POLL, UV_TIMER]
            .iter()
            .all(|&kind| (uv.handle_size)(kind) <= std::mem::size_of::<HandleMemory>());
        fits.then_some(uv)
    })
    .as_ref()
}

type Shared = RefCell<Inner>;

/// A new handle whose `data` (its first field) holds a strong count on the store
/// (`shared` comes from `Rc::as_ptr`, and the store is alive).
fn new_handle(shared: *const Shared) -> Handle {
    let handle = Box::into_raw(Box::new(HandleMemory([0; 256]))).cast::<c_void>();
    unsafe {
        Rc::increment_strong_count(shared);
        *handle.cast::<*const Shared>() = shared;
    }
    handle
}

/// The store a handle belongs to, from inside a libuv callback.
unsafe fn shared_of<'a>(handle: Handle) -> &'a Shared {
    &**handle.cast::<*const Shared>()
}

unsafe extern "C" fn free_handle(handle: Handle) {
    drop(Rc::from_raw(*handle.cast::<*const Shared>()));
    drop(Box::from_raw(handle.cast::<HandleMemory>()));
}

unsafe fn close_handle(uv: &Uv, handle: Handle) {
    (uv.close)(handle, free_handle);
}

/// A raw handle the tokio thread may pass to `uv_async_send`, the one libuv call that
/// is safe from another thread.
struct Wakeup(Handle);
unsafe impl Send for Wakeup {}
impl Wakeup {
    fn send(&self, uv: &Uv) {
        unsafe { (uv.async_send)(self.0) };
    }
}

/// Where the tokio thread leaves a connection attempt's outcome.
#[derive(Default)]
struct Handoff {
    result: Option<std::result::Result<TcpStream, String>>,
    /// The store is closed: drop the outcome, do not touch the async handle.
    closed: bool,
}

enum Conn {
    None,
    Connecting,
    Open {
        stream: TcpStream,
        poll: Handle,
        events: c_int,
    },
}

struct Inner {
    env: sys::napi_env,
    on_answers: sys::napi_ref,
    config: Arc<RedisConfig>,
    label: String,
    pipeline: Pipeline,
    conn: Conn,
    /// When the last connection attempt failed, and why.
    failed_at: Option<(Instant, String)>,
    closed: bool,
    /// Wakes this thread when a connection attempt ends.
    wakeup: Handle,
    handoff: Arc<Mutex<Handoff>>,
    /// Checks every second for a reply overdue by `RESPONSE_TIMEOUT`.
    timer: Handle,
    /// The strong count held by the env cleanup hook, while it is registered.
    cleanup: Option<*const Shared>,
    /// This store, for new handles.
    me: *const Shared,
    /// Where reads land, allocated once.
    chunk: Box<[u8]>,
}

type Answered = Vec<(u32, BatchResult)>;

impl Inner {
    fn unreachable(&self, why: &str) -> String {
        format!("[polykv] [redis] cannot connect to {}: {why}", self.label)
    }

    fn closed_message(&self) -> String {
        format!("[polykv] [redis] the store for {} is closed", self.label)
    }

    /// Starts a connection attempt on the tokio thread; the outcome wakes `wakeup`.
    fn connect(&mut self, uv: &'static Uv) -> std::result::Result<(), String> {
        let handoff = self.handoff.clone();
        let config = self.config.clone();
        let wakeup = Wakeup(self.wakeup);
        runtime()?.spawn(async move {
            let result = match redis_wire::connect(&config).await {
                Ok(stream) => stream.into_std().map_err(|e| e.to_string()),
                Err(why) => Err(why),
            };
            let mut handoff = handoff.lock().unwrap_or_else(|e| e.into_inner());
            if !handoff.closed {
                handoff.result = Some(result);
                wakeup.send(uv);
            }
        });
        self.conn = Conn::Connecting;
        unsafe { (uv.ref_)(self.wakeup) };
        Ok(())
    }

    /// Writes what the socket takes now; listens for writability when it took less.
    fn flush(&mut self, uv: &Uv) {
        let Conn::Open { stream, poll, events } = &mut self.conn else {
            return;
        };
        let mut want = UV_READABLE;
        loop {
            let bytes = self.pipeline.unwritten();
            if bytes.is_empty() {
                break;
            }
            match stream.write(bytes) {
                Ok(n) if n > 0 => self.pipeline.written(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Would block, or failed: the poll callback writes the rest or finds the error.
                _ => {
                    want |= UV_WRITABLE;
                    break;
                }
            }
        }
        if want != *events {
            *events = want;
            unsafe { (uv.poll_start)(*poll, want, on_poll) };
        }
    }

    /// Keeps Node alive exactly while a batch waits for its answer.
    fn hold_loop_open(&self, uv: &Uv) {
        if let Conn::Open { poll, .. } = self.conn {
            unsafe {
                if self.pipeline.is_idle() {
                    (uv.unref)(poll)
                } else {
                    (uv.ref_)(poll)
                }
            };
        }
    }

    /// Closes the socket; every unanswered batch fails with `why`.
    fn disconnect(&mut self, uv: &Uv, why: &str) -> Answered {
        if let Conn::Open { stream, poll, .. } = std::mem::replace(&mut self.conn, Conn::None) {
            unsafe {
                (uv.poll_stop)(poll);
                close_handle(uv, poll);
            }
            drop(stream); // after uv_close, which forgets the fd at once
        }
        self.pipeline.fail_all(why)
    }

    fn lost(&mut self, uv: &Uv, why: impl std::fmt::Display) -> Answered {
        let message = format!("[polykv] [redis] lost the connection to {}: {why}", self.label);
        self.disconnect(uv, &message)
    }

    /// Reads and writes what the socket is ready for.
    fn on_ready(&mut self, uv: &Uv, status: c_int, events: c_int) -> Answered {
        if status < 0 {
            return self.lost(uv, format!("socket error {status}"));
        }
        let mut answers = Vec::new();
        if events & UV_READABLE != 0 {
            let Conn::Open { stream, .. } = &mut self.conn else {
                return answers;
            };
            let chunk = &mut self.chunk[..];
            loop {
                match stream.read(chunk) {
                    Ok(0) => {
                        answers.extend(self.lost(uv, "the server closed the connection"));
                        return answers;
                    }
                    Ok(n) => {
                        match self.pipeline.feed(&chunk[..n]) {
                            Ok(done) => answers.extend(done),
                            Err(why) => {
                                answers.extend(self.lost(uv, why));
                                return answers;
                            }
                        }
                        if n < chunk.len() {
                            break; // drained (saves a read that would block)
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        answers.extend(self.lost(uv, e));
                        return answers;
                    }
                }
            }
        }
        if events & UV_WRITABLE != 0 || !self.pipeline.unwritten().is_empty() {
            if let Conn::Open { stream, .. } = &mut self.conn {
                if let Err(e) = stream.take_error().and_then(|e| e.map_or(Ok(()), Err)) {
                    answers.extend(self.lost(uv, e));
                    return answers;
                }
            }
            self.flush(uv);
        }
        self.hold_loop_open(uv);
        answers
    }

    /// A connection attempt ended (we are woken by the tokio thread).
    fn on_connected(&mut self, uv: &Uv) -> Answered {
        let result = self.handoff.lock().unwrap_or_else(|e| e.into_inner()).result.take();
        unsafe { (uv.unref)(self.wakeup) };
        let Some(result) = result else { return Vec::new() };
        match result {
            Ok(stream) if !self.closed => {
                let poll = new_handle(self.me);
                let loop_ = event_loop(self.env);
                if unsafe { (uv.poll_init)(loop_, poll, stream.as_raw_fd()) } != 0 {
                    unsafe { free_handle(poll) };
                    self.conn = Conn::None;
                    return self
                        .pipeline
                        .fail_all(&self.unreachable("libuv cannot watch the socket"));
                }
                self.failed_at = None;
                self.conn = Conn::Open {
                    stream,
                    poll,
                    events: 0,
                };
                self.flush(uv); // starts watching the socket
                self.hold_loop_open(uv);
                Vec::new()
            }
            Ok(_) => Vec::new(),
            Err(why) => {
                self.conn = Conn::None;
                let message = self.unreachable(&why);
                self.failed_at = Some((Instant::now(), why));
                self.pipeline.fail_all(&message)
            }
        }
    }

    /// Closes everything. Batches still waiting fail with `why`.
    fn shut(&mut self, uv: &Uv, why: &str) -> Answered {
        if self.closed {
            return Vec::new();
        }
        self.closed = true;
        self.handoff.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        let answers = self.disconnect(uv, why);
        unsafe {
            close_handle(uv, self.wakeup);
            close_handle(uv, self.timer);
        }
        answers
    }
}

fn event_loop(env: sys::napi_env) -> *mut c_void {
    let mut loop_ = std::ptr::null_mut();
    unsafe { sys::napi_get_uv_event_loop(env, &mut loop_) };
    loop_.cast()
}

/// Hands answers to the JS `onAnswers` from a libuv callback: `napi_make_callback`
/// runs the microtasks (the awaiting callers) when it returns, as Node does after
/// any I/O callback. The store must not be borrowed here: JS may call back into it.
fn deliver(shared: &Shared, answers: Answered) {
    if answers.is_empty() {
        return;
    }
    let (env, on_answers) = {
        let inner = shared.borrow();
        (inner.env, inner.on_answers)
    };
    unsafe {
        let mut scope = std::ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let _ = call_on_answers(env, on_answers, to_answers(answers));
        sys::napi_close_handle_scope(env, scope);
    }
}

unsafe fn call_on_answers(env: sys::napi_env, on_answers: sys::napi_ref, answers: Answers) -> Result<()> {
    let mut func = std::ptr::null_mut();
    sys::napi_get_reference_value(env, on_answers, &mut func);
    let (ids, failures, values, slots, messages) = answers;
    let argv = [
        ToNapiValue::to_napi_value(env, ids)?,
        ToNapiValue::to_napi_value(env, failures)?,
        ToNapiValue::to_napi_value(env, values)?,
        ToNapiValue::to_napi_value(env, slots)?,
        ToNapiValue::to_napi_value(env, messages)?,
    ];
    let mut global = std::ptr::null_mut();
    sys::napi_get_global(env, &mut global);
    let mut result = std::ptr::null_mut();
    let status = sys::napi_make_callback(
        env,
        std::ptr::null_mut(),
        global,
        func,
        argv.len(),
        argv.as_ptr(),
        &mut result,
    );
    if status == sys::Status::napi_pending_exception {
        // onAnswers must not throw; if it does, it is an uncaught exception, as in Node.
        let mut error = std::ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut error);
        sys::napi_fatal_exception(env, error);
    }
    Ok(())
}

/// Runs a libuv callback body; a panic is contained (it must not unwind into C).
fn guarded(body: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
}

unsafe extern "C" fn on_poll(handle: Handle, status: c_int, events: c_int) {
    guarded(|| {
        let (Some(uv), shared) = (uv(), shared_of(handle)) else {
            return;
        };
        let answers = shared.borrow_mut().on_ready(uv, status, events);
        deliver(shared, answers);
    });
}

unsafe extern "C" fn on_wakeup(handle: Handle) {
    guarded(|| {
        let (Some(uv), shared) = (uv(), shared_of(handle)) else {
            return;
        };
        let answers = shared.borrow_mut().on_connected(uv);
        deliver(shared, answers);
    });
}

unsafe extern "C" fn on_timer(handle: Handle) {
    guarded(|| {
        let (Some(uv), shared) = (uv(), shared_of(handle)) else {
            return;
        };
        let answers = {
            let mut inner = shared.borrow_mut();
            let overdue = inner
                .pipeline
                .oldest_wait()
                .is_some_and(|waited| waited > RESPONSE_TIMEOUT);
            if overdue && matches!(inner.conn, Conn::Open { .. }) {
                inner.lost(uv, format!("no reply within {} ms", RESPONSE_TIMEOUT.as_millis()))
            } else {
                Vec::new()
            }
        };
        deliver(shared, answers);
    });
}

/// Env teardown (process exit, worker termination): close the handles, or libuv
/// would find them open when Node closes the loop.
unsafe extern "C" fn on_env_cleanup(arg: *mut c_void) {
    guarded(|| {
        let shared = Rc::from_raw(arg as *const Shared);
        if let (Some(uv), Ok(mut inner)) = (uv(), shared.try_borrow_mut()) {
            inner.cleanup = None;
            let _ = inner.shut(uv, "[polykv] [redis] Node is shutting down");
        };
    });
}

fn invalid(message: &str) -> Error {
    Error::new(Status::InvalidArg, format!("[polykv] [redis] {message}"))
}

#[napi]
pub struct RedisLoop {
    shared: Rc<Shared>,
}

#[napi]
impl RedisLoop {
    /// Whether this runtime exposes libuv (Node does, Bun does not); without it, or for
    /// `rediss://`, the JS driver uses `RedisNative`.
    #[napi(catch_unwind)]
    pub fn available() -> bool {
        uv().is_some()
    }

    /// A store for a plain `redis://` URL. `onAnswers` is the same callback, with the
    /// same arguments, as `RedisNative`'s. Does not connect yet: the first `exec` does.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "url: string, onAnswers: (ids: number[], failures: (string | null)[], values: (string | null)[], errorSlots: number[], errorMessages: string[]) => void"
    )]
    pub fn new(env: Env, url: String, on_answers: Function<'_, FnArgs<Answers>, ()>) -> Result<Self> {
        let uv = uv().ok_or_else(|| invalid("this runtime has no libuv; use RedisNative"))?;
        let config = RedisConfig::from_url(&url).map_err(|e| invalid(&e))?;
        if config.tcp_address().is_none() {
            return Err(invalid("RedisLoop takes redis:// URLs; rediss:// goes to RedisNative"));
        }
        let env = env.raw();
        let mut reference = std::ptr::null_mut();
        unsafe { sys::napi_create_reference(env, on_answers.value().value, 1, &mut reference) };
        let shared = Rc::new(RefCell::new(Inner {
            env,
            on_answers: reference,
            label: config.label(),
            config: Arc::new(config),
            pipeline: Pipeline::default(),
            conn: Conn::None,
            failed_at: None,
            closed: false,
            wakeup: std::ptr::null_mut(),
            handoff: Arc::default(),
            timer: std::ptr::null_mut(),
            cleanup: None,
            me: std::ptr::null(),
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
        }));
        shared.borrow_mut().me = Rc::as_ptr(&shared);
        let loop_ = event_loop(env);
        let wakeup = new_handle(Rc::as_ptr(&shared));
        let timer = new_handle(Rc::as_ptr(&shared));
        unsafe {
            if (uv.async_init)(loop_, wakeup, on_wakeup) != 0 || (uv.timer_init)(loop_, timer) != 0 {
                return Err(invalid("libuv refused a handle"));
            }
            (uv.unref)(wakeup);
            let second = 1000;
            (uv.timer_start)(timer, on_timer, second, second);
            (uv.unref)(timer);
        }
        let hook = Rc::into_raw(shared.clone());
        unsafe { sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), hook as *mut c_void) };
        {
            let mut inner = shared.borrow_mut();
            inner.wakeup = wakeup;
            inner.timer = timer;
            inner.cleanup = Some(hook);
        }
        Ok(Self { shared })
    }

    /// `redis://host:port/db`, without the password.
    #[napi(getter, catch_unwind)]
    pub fn label(&self) -> String {
        self.shared.borrow().label.clone()
    }

    /// Queues batch `id` (same arguments as `RedisNative.exec`) and writes it to the
    /// socket at once; the answer goes to `onAnswers`. Throws, queuing nothing, when
    /// the store is closed or the last connection attempt failed just now.
    #[napi(catch_unwind)]
    pub fn exec(
        &self,
        id: u32,
        ops: Uint8Array,
        keys: Vec<String>,
        values: Vec<String>,
        expires: Vec<f64>,
    ) -> Result<()> {
        let batch = ops_from_js(&ops, keys, values, expires)?;
        let uv = uv().ok_or_else(|| invalid("no libuv"))?;
        let mut inner = self.shared.borrow_mut();
        if inner.closed {
            return Err(Error::new(Status::GenericFailure, inner.closed_message()));
        }
        if let (Conn::None, Some((at, why))) = (&inner.conn, &inner.failed_at) {
            if at.elapsed() < RETRY_AFTER {
                return Err(Error::new(Status::GenericFailure, inner.unreachable(why)));
            }
        }
        inner.pipeline.queue(id, &batch);
        match inner.conn {
            Conn::None => {
                if let Err(why) = inner.connect(uv) {
                    let message = inner.unreachable(&why);
                    inner.pipeline.fail_all(&message);
                    return Err(Error::new(Status::GenericFailure, message));
                }
            }
            Conn::Connecting => {}
            Conn::Open { .. } => {
                inner.flush(uv);
                inner.hold_loop_open(uv);
            }
        }
        Ok(())
    }

    /// Closes the socket and the handles; batches still waiting fail. Later calls throw.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        let Some(uv) = uv() else { return };
        let answers = {
            let mut inner = self.shared.borrow_mut();
            let why = inner.closed_message();
            inner.shut(uv, &why)
        };
        deliver(&self.shared, answers);
    }
}

impl Drop for RedisLoop {
    /// Garbage-collected without `close()`: let go of the socket and the handles.
    fn drop(&mut self) {
        let Some(uv) = uv() else { return };
        let Ok(mut inner) = self.shared.try_borrow_mut() else {
            return;
        };
        let _ = inner.shut(uv, "[polykv] [redis] the store was garbage-collected");
        if let Some(hook) = inner.cleanup.take() {
            unsafe {
                sys::napi_remove_env_cleanup_hook(inner.env, Some(on_env_cleanup), hook as *mut c_void);
                sys::napi_delete_reference(inner.env, inner.on_answers);
                drop(Rc::from_raw(hook));
            }
        }
    }
}
