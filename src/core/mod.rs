//! Pure Rust semantics shared by every backend: expiry parsing, key generation,
//! the `{expires, value}` envelope, errors.

pub mod expires;
pub mod key;
pub mod envelope;
pub mod error;
