//! The napi surface: the only module where `#[napi]` appears.

pub mod core;
pub mod redis;
pub mod redis_loop;
pub mod store;
