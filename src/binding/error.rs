//! How a `core::error::Error` reaches JS, in one place for every entry point of the
//! embedded stores: a `TypeError` (KEY, VALUE and EXPIRES kinds: the caller passed
//! something wrong) or an `Error`, with `code` = the kind's stable code
//! (`ERR_POLYKV_…`, as in `lib/errors.js`) and the message unchanged
//! (`[polykv] [SQLITE] …`).
//!
//! napi-rs 3 gives a returned `napi::Error<S>` the code `S::as_ref()`, but always
//! throws it as a plain `Error`. So the error is thrown here, through napi's own
//! `JsTypeError`/`JsError` (which set `code` and keep NUL bytes in the message), and
//! the entry point returns a `PendingException` status, which napi-rs's generated
//! code reads as "already thrown" and leaves alone. Only the error path pays for it.

use napi::{Env, JsError, JsTypeError, Status};

use crate::core::error::Error;

/// Throws `error` as described above; return the result as the entry point's `Err`.
pub(crate) fn throw(env: &Env, error: Error) -> napi::Error {
    let message = error.to_string();
    let js = napi::Error::new(error.kind, message.clone());
    // SAFETY: `env` is the env of the napi call in progress, on its own JS thread,
    // which is all `throw_into` needs.
    unsafe {
        if error.kind.is_type_error() {
            JsTypeError::from(js).throw_into(env.raw());
        } else {
            JsError::from(js).throw_into(env.raw());
        }
    }
    napi::Error::new(Status::PendingException, message)
}
