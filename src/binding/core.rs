//! Core helpers the JS facade calls synchronously.

use crate::core::{expires, key};

/// Parses an `expires` string into seconds. Lenient mode returns `null` for
/// anything it cannot read (polystore's "never expire"); strict mode throws.
#[napi(js_name = "parseExpires")]
pub fn parse_expires(input: String, strict: bool) -> napi::Result<Option<f64>> {
    if strict {
        expires::parse_strict(&input)
            .map(Some)
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))
    } else {
        Ok(expires::parse_lenient(&input))
    }
}

/// A fresh key for `add()`.
#[napi(js_name = "generateKey")]
pub fn generate_key() -> String {
    key::generate()
}
