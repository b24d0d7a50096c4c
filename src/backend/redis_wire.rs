//! The Redis protocol (RESP2) for the hot path, without I/O: [`Pipeline`] turns
//! batches of single-key operations into request bytes and the bytes Redis answers
//! into per-batch results. `binding::redis_loop` moves the bytes over a socket
//! watched by Node's own event loop; the tests here feed it bytes by hand.
//!
//! Why by hand and not through the `redis` crate (which `redis.rs` still uses for
//! TLS, the group jobs and Bun): the crate answers on its own thread, and the two
//! thread hand-offs per awaited call cost more than the Redis round trip itself
//! (see `redis_loop.rs`). Four commands (GET, SET [PX], EXISTS, DEL) plus the
//! connection handshake (AUTH, SELECT) are all this needs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::redis::{text, BatchResult, Op, RedisConfig, Reply, CONNECT_TIMEOUT};

/// One parsed RESP2 reply.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Frame>>),
}

/// Appends one command (`*n` array of bulk strings) to `out`.
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    push_number(out, args.len() as u64);
    for arg in args {
        out.push(b'$');
        push_number(out, arg.len() as u64);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// Parses one reply starting at `pos`: `Ok(None)` when `buf` holds only part of it,
/// else the reply and the position after it. `Err` is a protocol violation.
pub fn parse(buf: &[u8], pos: usize) -> Result<Option<(Frame, usize)>, String> {
    let Some(end) = line_end(buf, pos + 1) else {
        return Ok(None);
    };
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let line = &buf[pos + 1..end];
    let next = end + 2;
    match kind {
        b'+' => Ok(Some((Frame::Status(lossy(line)), next))),
        b'-' => Ok(Some((Frame::Error(lossy(line)), next))),
        b':' => Ok(Some((Frame::Int(number(line)?), next))),
        b'$' => {
            let len = number(line)?;
            if len < 0 {
                return Ok(Some((Frame::Bulk(None), next)));
            }
            let stop = next + len as usize;
            if buf.len() < stop + 2 {
                return Ok(None);
            }
            if &buf[stop..stop + 2] != b"\r\n" {
                return Err("a bulk string does not end with CRLF".into());
            }
            Ok(Some((Frame::Bulk(Some(buf[next..stop].to_vec())), stop + 2)))
        }
        b'*' => {
            let len = number(line)?;
            if len < 0 {
                return Ok(Some((Frame::Array(None), next)));
            }
            let mut items = Vec::with_capacity(len.min(1024) as usize);
            let mut at = next;
            for _ in 0..len {
                match parse(buf, at)? {
                    Some((item, after)) => {
                        items.push(item);
                        at = after;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Frame::Array(Some(items)), at)))
        }
        other => Err(format!("unexpected reply type byte 0x{other:02x}")),
    }
}

/// Index of the `\r` of the first `\r\n` at or after `from`.
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < buf.len() {
        match buf[i..buf.len() - 1].iter().position(|&b| b == b'\r') {
            Some(at) if buf[i + at + 1] == b'\n' => return Some(i + at),
            Some(at) => i += at + 1,
            None => return None,
        }
    }
    None
}

fn number(line: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not a number in a reply: {:?}", lossy(line)))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Get,
    Set,
    Has,
    Del,
}

fn encode(out: &mut Vec<u8>, op: &Op) -> Kind {
    match op {
        Op::Get(key) => {
            command(out, &[b"GET", key.as_bytes()]);
            Kind::Get
        }
        Op::Set {
            key,
            json,
            expires_ms: None,
        } => {
            command(out, &[b"SET", key.as_bytes(), json.as_bytes()]);
            Kind::Set
        }
        Op::Set {
            key,
            json,
            expires_ms: Some(ms),
        } => {
            let ms = (*ms).max(1).to_string();
            command(out, &[b"SET", key.as_bytes(), json.as_bytes(), b"PX", ms.as_bytes()]);
            Kind::Set
        }
        Op::Has(key) => {
            command(out, &[b"EXISTS", key.as_bytes()]);
            Kind::Has
        }
        Op::Del(key) => {
            command(out, &[b"DEL", key.as_bytes()]);
            Kind::Del
        }
    }
}

fn read_reply(kind: Kind, frame: Frame) -> Result<Reply, String> {
    match (kind, frame) {
        (_, Frame::Error(line)) => Err(format!("[polykv] [redis] {line}")),
        (Kind::Get, Frame::Bulk(None)) => Ok(Reply::Missing),
        (Kind::Get, Frame::Bulk(Some(bytes))) => Ok(Reply::Text(text(bytes))),
        (Kind::Has, Frame::Int(n)) => Ok(Reply::Bool(n > 0)),
        (Kind::Set | Kind::Del, _) => Ok(Reply::Done),
        (_, other) => Err(format!("[polykv] [redis] unexpected reply {other:?}")),
    }
}

/// A batch sent (or queued to be sent) and not fully answered yet.
struct Waiting {
    id: u32,
    kinds: Vec<Kind>,
    replies: Vec<Result<Reply, String>>,
    queued_at: Instant,
}

/// The requests not yet written and the batches not yet answered, on one connection.
/// Redis answers one connection's commands in order, so the n-th reply belongs to
/// the n-th command still waiting.
#[derive(Default)]
pub struct Pipeline {
    out: Vec<u8>,
    input: Vec<u8>,
    waiting: VecDeque<Waiting>,
}

impl Pipeline {
    /// Queues a batch's commands for writing; its answer comes out of [`Pipeline::feed`].
    pub fn queue(&mut self, id: u32, ops: &[Op]) {
        let kinds = ops.iter().map(|op| encode(&mut self.out, op)).collect::<Vec<_>>();
        let replies = Vec::with_capacity(kinds.len());
        self.waiting.push_back(Waiting {
            id,
            kinds,
            replies,
            queued_at: Instant::now(),
        });
    }

    /// Bytes waiting to be written.
    pub fn unwritten(&self) -> &[u8] {
        &self.out
    }

    /// `n` bytes of [`Pipeline::unwritten`] reached the socket.
    pub fn written(&mut self, n: usize) {
        self.out.drain(..n);
    }

    /// True when no batch waits for an answer.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty()
    }

    /// How long the oldest unanswered batch has waited.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.waiting.front().map(|w| w.queued_at.elapsed())
    }

    /// Takes bytes read from the socket; answers the batches they complete. `Err`
    /// means Redis broke the protocol: the connection must be dropped (and
    /// [`Pipeline::fail_all`] called).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<(u32, BatchResult)>, String> {
        self.input.extend_from_slice(bytes);
        let mut answers = Vec::new();
        let mut pos = 0;
        while pos < self.input.len() {
            let Some((frame, next)) = parse(&self.input, pos)? else {
                break;
            };
            pos = next;
            let Some(batch) = self.waiting.front_mut() else {
                return Err(format!("an unexpected reply {frame:?}"));
            };
            let kind = batch.kinds[batch.replies.len()];
            batch.replies.push(read_reply(kind, frame));
            if batch.replies.len() == batch.kinds.len() {
                let done = self.waiting.pop_front().expect("front exists");
                answers.push((done.id, Ok(done.replies)));
            }
        }
        self.input.drain(..pos);
        Ok(answers)
    }

    /// Fails every unanswered batch with `why` and forgets unwritten bytes: for a
    /// connection that is gone (a write whose fate is unknown is never replayed).
    pub fn fail_all(&mut self, why: &str) -> Vec<(u32, BatchResult)> {
        self.out.clear();
        self.input.clear();
        self.waiting.drain(..).map(|w| (w.id, Err(why.to_string()))).collect()
    }
}

/// Opens a TCP connection to a `redis://` store and runs the handshake (AUTH,
/// SELECT), on the tokio runtime; the caller takes the socket over afterwards.
/// TLS (`rediss://`) is not handled here.
pub async fn connect(config: &RedisConfig) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (host, port) = config.tcp_address().ok_or("TLS is not handled by this connection")?;
    let work = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        // Small requests answered at once: Nagle's algorithm would hold a write back.
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut hello = Vec::new();
        let mut expected = 0;
        if let Some(password) = config.password() {
            match config.username() {
                Some(user) => command(&mut hello, &[b"AUTH", user.as_bytes(), password.as_bytes()]),
                None => command(&mut hello, &[b"AUTH", password.as_bytes()]),
            }
            expected += 1;
        }
        if config.db() != 0 {
            command(&mut hello, &[b"SELECT", config.db().to_string().as_bytes()]);
            expected += 1;
        }
        if expected == 0 {
            return Ok(stream);
        }
        stream.write_all(&hello).await.map_err(|e| e.to_string())?;
        let mut input = Vec::new();
        let mut chunk = [0u8; 512];
        let mut pos = 0;
        while expected > 0 {
            match parse(&input, pos)? {
                Some((Frame::Error(line), _)) => return Err(line),
                Some((_, next)) => {
                    pos = next;
                    expected -= 1;
                }
                None => {
                    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("the server closed the connection".into());
                    }
                    input.extend_from_slice(&chunk[..n]);
                }
            }
        }
        Ok(stream)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no connection within {} ms", CONNECT_TIMEOUT.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(pipeline: &mut Pipeline, bytes: &[u8]) -> Vec<(u32, BatchResult)> {
        pipeline.feed(bytes).unwrap()
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, &[b"SET", "ké".as_bytes(), b"{\"a\":1}", b"PX", b"1500"]);
        assert_eq!(
            out,
            b"*5\r\n$3\r\nSET\r\n$3\r\nk\xc3\xa9\r\n$7\r\n{\"a\":1}\r\n$2\r\nPX\r\n$4\r\n1500\r\n"
        );
        out.clear();
        command(&mut out, &[b"GET", b""]);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
    }

    #[test]
    fn replies_parse_whole_or_wait_for_more() {
        assert_eq!(parse(b"+OK\r\n", 0), Ok(Some((Frame::Status("OK".into()), 5))));
        assert_eq!(parse(b":12\r\n", 0), Ok(Some((Frame::Int(12), 5))));
        assert_eq!(parse(b"$-1\r\n", 0), Ok(Some((Frame::Bulk(None), 5))));
        assert_eq!(
            parse(b"$3\r\na\r\n\r\n", 0),
            Ok(Some((Frame::Bulk(Some(b"a\r\n".to_vec())), 9)))
        );
        assert_eq!(parse(b"-ERR no\r\n", 0), Ok(Some((Frame::Error("ERR no".into()), 9))));
        let array = b"*2\r\n$1\r\nx\r\n:3\r\n";
        assert_eq!(
            parse(array, 0),
            Ok(Some((
                Frame::Array(Some(vec![Frame::Bulk(Some(b"x".to_vec())), Frame::Int(3)])),
                array.len()
            )))
        );
        // Every strict prefix of a reply is incomplete, never an error.
        for reply in [&b"$5\r\nhello\r\n"[..], b"+OK\r\n", array, b"*-1\r\n"] {
            for cut in 0..reply.len() {
                assert_eq!(parse(&reply[..cut], 0), Ok(None), "{:?}", &reply[..cut]);
            }
        }
        assert!(parse(b"?x\r\n", 0).is_err());
        assert!(parse(b"$2\r\nabcd\r\n", 0).is_err());
        assert!(parse(b":1x\r\n", 0).is_err());
    }

    #[test]
    fn each_batch_is_answered_when_its_last_reply_arrives() {
        let mut pipeline = Pipeline::default();
        pipeline.queue(
            7,
            &[
                Op::Set {
                    key: "a".into(),
                    json: "1".into(),
                    expires_ms: Some(0),
                },
                Op::Get("a".into()),
            ],
        );
        pipeline.queue(8, &[Op::Has("a".into()), Op::Del("b".into())]);
        let out = String::from_utf8(pipeline.unwritten().to_vec()).unwrap();
        assert!(
            out.starts_with("*5\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nPX\r\n$1\r\n1\r\n"),
            "{out}"
        );
        assert!(
            out.ends_with("*2\r\n$6\r\nEXISTS\r\n$1\r\na\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"),
            "{out}"
        );
        pipeline.written(10);
        assert_eq!(pipeline.unwritten().len(), out.len() - 10);
        // Replies split at awkward places.
        assert!(feed_all(&mut pipeline, b"+OK\r\n$").is_empty());
        let first = feed_all(&mut pipeline, b"1\r\n1\r\n:1");
        assert_eq!(first, vec![(7, Ok(vec![Ok(Reply::Done), Ok(Reply::Text("1".into()))]))]);
        let second = feed_all(&mut pipeline, b"\r\n:0\r\n");
        assert_eq!(second, vec![(8, Ok(vec![Ok(Reply::Bool(true)), Ok(Reply::Done)]))]);
        assert!(pipeline.is_idle());
    }

    #[test]
    fn an_error_reply_belongs_to_its_operation_alone() {
        let mut pipeline = Pipeline::default();
        pipeline.queue(1, &[Op::Get("list".into()), Op::Get("missing".into())]);
        let answers = feed_all(
            &mut pipeline,
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$-1\r\n",
        );
        let (id, Ok(replies)) = &answers[0] else {
            panic!("{answers:?}")
        };
        assert_eq!(*id, 1);
        assert_eq!(
            replies[0],
            Err("[polykv] [redis] WRONGTYPE Operation against a key holding the wrong kind of value".into())
        );
        assert_eq!(replies[1], Ok(Reply::Missing));
    }

    #[test]
    fn a_lost_connection_fails_every_waiting_batch_and_a_stray_reply_is_an_error() {
        let mut pipeline = Pipeline::default();
        pipeline.queue(1, &[Op::Get("a".into())]);
        pipeline.queue(2, &[Op::Get("b".into())]);
        let failed = pipeline.fail_all("gone");
        assert_eq!(failed, vec![(1, Err("gone".into())), (2, Err("gone".into()))]);
        assert!(pipeline.is_idle() && pipeline.unwritten().is_empty());
        assert!(pipeline.feed(b"+OK\r\n").is_err());
    }

    #[test]
    fn invalid_utf8_is_passed_on_lossily() {
        let mut pipeline = Pipeline::default();
        pipeline.queue(1, &[Op::Get("a".into())]);
        let answers = feed_all(&mut pipeline, b"$2\r\n\xff1\r\n");
        assert_eq!(answers, vec![(1, Ok(vec![Ok(Reply::Text("\u{fffd}1".into()))]))]);
    }
}
