//! Pure Rust semantics shared by every backend: expiry parsing, key generation,
//! the `{expires, value}` envelope, errors.

pub mod envelope;
pub mod error;
pub mod expires;
pub mod key;
