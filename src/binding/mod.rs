//! The napi surface: the only module where `#[napi]` appears.

pub mod core;
mod error;
#[cfg(feature = "redis")]
pub mod resp;
pub mod store;
