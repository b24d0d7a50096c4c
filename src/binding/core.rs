//! Core helpers the JS facade calls synchronously.

use napi::Env;

use super::error::throw;
use crate::core::{expires, key};

/// Parses an `expires` string into seconds. Lenient mode returns `null` for
/// anything it cannot read (polystore's "never expire"); strict mode throws a
/// `TypeError` with code `ERR_POLYKV_EXPIRES`.
#[napi(catch_unwind, js_name = "parseExpires")]
pub fn parse_expires(env: &Env, input: String, strict: bool) -> napi::Result<Option<f64>> {
    if strict {
        expires::parse_strict(&input)
            .map(Some)
            .map_err(|e| throw(env, e.into()))
    } else {
        Ok(expires::parse_lenient(&input))
    }
}

/// A fresh key for `add()`.
#[napi(catch_unwind, js_name = "generateKey")]
pub fn generate_key() -> String {
    key::generate()
}

/// Test hook: panics on purpose so the tests can prove a Rust panic reaches JS as
/// an ordinary Error instead of aborting the process. Every `#[napi]` entry point
/// that could panic is declared with `catch_unwind` in the same way. Only in builds
/// with the `test-hooks` feature (`npm run build:test`), never in a release build.
#[cfg(feature = "test-hooks")]
#[napi(catch_unwind, js_name = "__panicForTests")]
pub fn panic_for_tests(message: String) {
    panic!("{message}");
}
