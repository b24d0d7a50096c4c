//! The JS face of `backend::resp`: a `RespDecoder` turns each chunk the socket read
//! into the whole replies it completed, in one crossing. The socket, and writing the
//! requests, are JS's (`lib/drivers/redis-native.js`).
//!
//! The replies cross as one plain array: typed arrays made from Rust `Vec`s (external
//! ArrayBuffers) measured 5-8 µs a chunk to make and collect, more than the round
//! trip of a small command on loopback; the plain array, under 1 µs.

use napi::bindgen_prelude::{Array, Buffer, Null};
use napi::{Env, Result};

use crate::backend::resp::{Decoder, Kind};

/// The `kind` that ends the array of [`RespDecoder::feed`] when the bytes after the
/// whole replies broke the protocol; its payload says why.
const BROKEN: u32 = 255;

/// Reads the replies of one connection, chunk by chunk.
#[napi]
pub struct RespDecoder {
    decoder: Decoder,
}

#[napi]
impl RespDecoder {
    #[napi(constructor, catch_unwind)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            decoder: Decoder::new(),
        }
    }

    /// Takes a chunk read from the socket; returns the tokens of the whole replies it
    /// completed as one flat array of pairs `kind, payload` (see `backend::resp::Kind`):
    /// the text of a bulk string, status or error, the number of an integer or of an
    /// array's elements (whose pairs follow), a Buffer for bytes (kind 7: a bulk string
    /// that starts with `BYTES_MARKER`, without it), null otherwise. A last pair of kind 255
    /// means the bytes after them broke the protocol; its payload says why.
    #[napi(catch_unwind, ts_return_type = "Array<number | string | null>")]
    pub fn feed<'env>(&mut self, env: &'env Env, chunk: &[u8]) -> Result<Array<'env>> {
        let fed = self.decoder.feed(chunk);
        let tokens = fed.replies;
        let pairs = tokens.kinds.len() + usize::from(fed.error.is_some());
        let mut out = env.create_array((pairs * 2) as u32)?;
        let mut at = 0;
        let mut blobs = tokens.bytes.into_iter();
        for ((kind, text), num) in tokens.kinds.into_iter().zip(tokens.texts).zip(tokens.nums) {
            out.set(at, u32::from(kind))?;
            match text {
                Some(text) => out.set(at + 1, text)?,
                None if kind == Kind::Int as u8 || kind == Kind::Array as u8 => out.set(at + 1, num)?,
                // The Vec becomes the Buffer's memory: no copy, even for 25 MiB.
                None if kind == Kind::Bytes as u8 => out.set(at + 1, Buffer::from(blobs.next().unwrap_or_default()))?,
                None => out.set(at + 1, Null)?,
            }
            at += 2;
        }
        if let Some(why) = fed.error {
            out.set(at, BROKEN)?;
            out.set(at + 1, why)?;
        }
        Ok(out)
    }
}
