//! polykv's native core, loaded by Node/Bun as a napi-rs addon.
//!
//! Boundary rules (measured on the target machines, see README "Design"):
//! - In-process backends (SQLite, JSON file, folder) answer through *sync* napi calls
//!   (~0.3 µs a crossing); the JS facade wraps them in its own `async` methods.
//!   Network backends own their socket in JS (`node:net`, Node's and Bun's event
//!   loop) and cross into Rust for the protocol only: Redis's RESP reply parser
//!   (`backend::resp`) is one sync call per chunk read (the JS driver writes requests).
//! - Values cross the boundary as JSON text produced and parsed by V8
//!   (`JSON.stringify` is ~5x cheaper than walking JS objects from Rust).
//!   Rust never walks JS objects.
//! - Memory stores stay in JS (they keep the very object, as polystore does).
//!
//! `core` is pure Rust (tested with `cargo test`), `backend` holds one file per
//! storage engine behind one trait, `binding` is the only place `#[napi]` appears.

#![deny(clippy::all)]

#[macro_use]
extern crate napi_derive;

pub mod backend;
pub mod binding;
pub mod core;

#[cfg(test)]
mod fuzz;
