//! The JS face of `backend::resp`: one sync call encodes a batch of commands into one
//! Buffer (`respEncode`), and a `RespDecoder` turns each chunk the socket read into
//! the whole replies it completed, in one crossing (parallel arrays, see
//! `backend::resp`). The socket itself is JS's (`lib/drivers/redis-native.js`).

use napi::bindgen_prelude::{Buffer, Float64Array, Uint8Array};
use napi::{Error, Result, Status};

use crate::backend::resp::{Decoder, Encoder};

/// The whole replies of one chunk: `kinds[i]`, `texts[i]` and `nums[i]` describe
/// token `i` (see `backend::resp::Kind`); `count` top-level replies in all; `error`
/// says why the bytes after them broke the protocol (the connection must go).
#[napi(object)]
pub struct RespReplies {
    pub kinds: Uint8Array,
    pub texts: Vec<Option<String>>,
    pub nums: Float64Array,
    pub count: u32,
    pub error: Option<String>,
}

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

    /// Takes a chunk read from the socket; returns the replies it completed.
    #[napi(catch_unwind)]
    pub fn feed(&mut self, chunk: Buffer) -> RespReplies {
        let fed = self.decoder.feed(&chunk);
        let replies = fed.replies;
        RespReplies {
            kinds: Uint8Array::new(replies.kinds),
            texts: replies.texts,
            nums: Float64Array::new(replies.nums),
            count: replies.count,
            error: fed.error,
        }
    }
}

/// The request bytes of a batch: `ops[i]` is an operation code (0 GET, 1 SET, 2 SET
/// PX, 3 EXISTS, 4 DEL, 5 any command) taking its arguments in order from `texts`
/// and `nums` (see `backend::resp::op`).
#[napi(catch_unwind)]
pub fn resp_encode(ops: Uint8Array, texts: Vec<String>, nums: Vec<f64>) -> Result<Buffer> {
    let mut encoder = Encoder::default();
    encoder
        .batch(&ops, &texts, &nums)
        .map_err(|why| Error::new(Status::InvalidArg, format!("[polykv] [REDIS] {why}")))?;
    Ok(Buffer::from(encoder.out))
}
