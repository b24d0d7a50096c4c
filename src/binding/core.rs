//! Core helpers the JS facade calls synchronously.

use napi::Env;

use super::error::throw;
use napi::bindgen_prelude::Buffer;

use crate::core::{expires, hash, key};

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

/// `hash(string)`: BLAKE3 of the string's UTF-8 bytes, as lowercase hex.
#[napi(catch_unwind, js_name = "hashText")]
pub fn hash_text(text: String) -> String {
    hash::content_hash(text.as_bytes())
}

/// `hash(bytes)`: the bytes are read where they are (a Buffer over the caller's memory).
#[napi(catch_unwind, js_name = "hashBytes")]
pub fn hash_bytes(bytes: Buffer) -> String {
    hash::content_hash(&bytes)
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
