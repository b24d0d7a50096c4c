//! Pure Rust semantics shared by every backend, each rule written once: expiry
//! parsing, key generation, the `{expires, value}` envelope and its liveness, prefix
//! ranges, errors. `rules_fixture` checks them against the cases lib/rules.js passes.

pub mod envelope;
pub mod error;
pub mod expires;
pub mod hash;
pub mod key;
pub mod number;
pub mod prefix;
pub mod tagged;

#[cfg(test)]
mod rules_fixture;
