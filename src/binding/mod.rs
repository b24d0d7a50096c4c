//! The napi surface: the only module where `#[napi]` appears.

pub mod core;
mod error;
pub mod redis;
pub mod redis_loop;
pub mod store;
