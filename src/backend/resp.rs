//! Redis replies (RESP2) without I/O: [`Decoder`] turns the bytes Redis answers into
//! flat tokens. The socket is owned by the JS driver (`lib/drivers/redis-native.js`,
//! `node:net` / `node:tls`), which crosses into Rust once per chunk read
//! (`binding::resp`); the tests here feed the decoder bytes by hand.
//!
//! Requests are written by the driver itself, one string per batch: a command is an
//! array of bulk strings, a few concatenations, which measured 0.3-0.4 µs for a GET
//! against 1.5-2.3 µs for a crossing into Rust that returns the bytes as a Buffer.

/// Deepest nesting of arrays accepted (polykv's own commands nest two deep: SCAN).
pub const MAX_DEPTH: usize = 32;
/// Most elements in one array (polykv asks for at most 1 000 keys per SCAN or MGET).
pub const MAX_ARRAY: i64 = 1 << 20;
/// Most tokens in one top-level reply.
pub const MAX_TOKENS: usize = 1 << 22;
/// Longest status, error or header line, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// Longest bulk string, in bytes (Redis's own `proto-max-bulk-len` default).
pub const MAX_BULK: i64 = 512 * 1024 * 1024;
/// The first byte of a binary value as polykv stores it (the bytes follow it): JSON
/// text never starts with it (nor does any UTF-8 text: 0xFF is never valid UTF-8),
/// so a bulk string starting with it is bytes, handed to JS as a Buffer.
pub const BYTES_MARKER: u8 = 0xff;

/// What a token is; the numbers are the ones JS reads (`lib/drivers/redis-native.js`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// `$-1` or `*-1`.
    Nil = 0,
    /// `$n`: the text is the string, lossily decoded from UTF-8.
    Bulk = 1,
    /// `+line`, other than `+OK`: the text is the line.
    Status = 2,
    /// `:n`: the number.
    Int = 3,
    /// `-line`: the text is the line.
    Error = 4,
    /// `*n`: the number of elements, whose tokens follow.
    Array = 5,
    /// `+OK` (the most common reply, without a string to make).
    Ok = 6,
    /// `$n` starting with [`BYTES_MARKER`]: the bytes after the marker.
    Bytes = 7,
}

/// Tokens of whole replies, in parallel arrays; `count` top-level replies.
#[derive(Debug, Default, PartialEq)]
pub struct Tokens {
    pub kinds: Vec<u8>,
    pub texts: Vec<Option<String>>,
    pub nums: Vec<f64>,
    /// The bytes of each [`Kind::Bytes`] token, in order (the other kinds have none).
    pub bytes: Vec<Vec<u8>>,
    pub count: u32,
}

impl Tokens {
    fn push(&mut self, kind: Kind, text: Option<String>, num: f64) {
        self.kinds.push(kind as u8);
        self.texts.push(text);
        self.nums.push(num);
    }

    /// Moves the first `len` tokens out (and the first `blobs` byte strings), keeping the rest.
    fn take_front(&mut self, len: usize, blobs: usize, count: u32) -> Tokens {
        let kinds = self.kinds.split_off(len);
        let texts = self.texts.split_off(len);
        let nums = self.nums.split_off(len);
        let bytes = self.bytes.split_off(blobs);
        Tokens {
            kinds: std::mem::replace(&mut self.kinds, kinds),
            texts: std::mem::replace(&mut self.texts, texts),
            nums: std::mem::replace(&mut self.nums, nums),
            bytes: std::mem::replace(&mut self.bytes, bytes),
            count,
        }
    }
}

/// What one `feed` gives: the whole replies it completed and, when the bytes broke
/// the protocol after them, why (the connection must then be dropped).
#[derive(Debug, Default, PartialEq)]
pub struct Fed {
    pub replies: Tokens,
    pub error: Option<String>,
}

/// Reads replies from the bytes of one connection, chunk by chunk.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes not consumed yet (consumed ones are dropped at the end of each feed).
    buf: Vec<u8>,
    /// Where the next element starts in `buf`.
    pos: usize,
    /// Where the search for the end of the line at `pos` resumes (0: from its start).
    scanned: usize,
    /// A bulk header was read: the length of the string now expected at `pos`.
    bulk: Option<usize>,
    /// Elements still expected by each open array, innermost last.
    stack: Vec<i64>,
    /// Tokens of whole replies (the first `done` tokens, `done_bytes` byte strings,
    /// `count` replies) and of the reply being read.
    tokens: Tokens,
    done: usize,
    done_bytes: usize,
    count: u32,
    /// Set by a protocol error: every later feed fails the same way.
    broken: Option<String>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a chunk read from the socket; returns the replies it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Fed {
        if let Some(why) = &self.broken {
            return Fed {
                replies: Tokens::default(),
                error: Some(why.clone()),
            };
        }
        self.buf.extend_from_slice(chunk);
        let error = self.parse().err();
        if let Some(why) = &error {
            self.broken = Some(why.clone());
            self.buf = Vec::new();
            self.stack.clear();
        } else {
            self.buf.drain(..self.pos);
            self.scanned = self.scanned.saturating_sub(self.pos);
            self.pos = 0;
        }
        let replies = self.tokens.take_front(self.done, self.done_bytes, self.count);
        if error.is_some() {
            self.tokens = Tokens::default();
        }
        self.done = 0;
        self.done_bytes = 0;
        self.count = 0;
        Fed { replies, error }
    }

    fn parse(&mut self) -> Result<(), String> {
        loop {
            if let Some(len) = self.bulk {
                if self.buf.len() - self.pos < len + 2 {
                    return Ok(()); // checked again, by length, on the next chunk
                }
                let body = &self.buf[self.pos..self.pos + len];
                if &self.buf[self.pos + len..self.pos + len + 2] != b"\r\n" {
                    return Err("a bulk string does not end with CRLF".into());
                }
                if body.first() == Some(&BYTES_MARKER) {
                    let bytes = body[1..].to_vec();
                    self.pos += len + 2;
                    self.bulk = None;
                    self.tokens.bytes.push(bytes);
                    self.element(Kind::Bytes, None, 0.0)?;
                    continue;
                }
                let text = text(body);
                self.pos += len + 2;
                self.bulk = None;
                self.element(Kind::Bulk, Some(text), 0.0)?;
                continue;
            }
            if self.pos >= self.buf.len() {
                return Ok(());
            }
            let from = self.scanned.max(self.pos + 1);
            let Some(at) = self.buf[from..].iter().position(|&b| b == b'\n') else {
                if self.buf.len() - self.pos > MAX_LINE + 3 {
                    return Err(format!("a reply line is longer than {MAX_LINE} bytes"));
                }
                self.scanned = self.buf.len();
                return Ok(());
            };
            let newline = from + at;
            self.scanned = 0;
            if self.buf[newline - 1] != b'\r' || newline - 1 < self.pos + 1 {
                return Err("a reply line does not end with CRLF".into());
            }
            let kind = self.buf[self.pos];
            let line = &self.buf[self.pos + 1..newline - 1];
            if line.len() > MAX_LINE {
                return Err(format!("a reply line is longer than {MAX_LINE} bytes"));
            }
            self.pos = newline + 1;
            match kind {
                b'+' if line == b"OK" => self.element(Kind::Ok, None, 0.0)?,
                b'+' => {
                    let text = text(line);
                    self.element(Kind::Status, Some(text), 0.0)?
                }
                b'-' => {
                    let text = text(line);
                    self.element(Kind::Error, Some(text), 0.0)?
                }
                b':' => {
                    let n = number(line)?;
                    self.element(Kind::Int, None, n as f64)?
                }
                b'$' => match number(line)? {
                    -1 => self.element(Kind::Nil, None, 0.0)?,
                    n if (0..=MAX_BULK).contains(&n) => self.bulk = Some(n as usize),
                    n => return Err(format!("a bulk string of length {n}")),
                },
                b'*' => match number(line)? {
                    -1 => self.element(Kind::Nil, None, 0.0)?,
                    0 => self.element(Kind::Array, None, 0.0)?,
                    n if (1..=MAX_ARRAY).contains(&n) => {
                        if self.stack.len() >= MAX_DEPTH {
                            return Err(format!("a reply nested more than {MAX_DEPTH} arrays deep"));
                        }
                        self.token(Kind::Array, None, n as f64)?;
                        self.stack.push(n);
                    }
                    n => return Err(format!("an array of length {n}")),
                },
                other => return Err(format!("unexpected reply type byte 0x{other:02x}")),
            }
        }
    }

    fn token(&mut self, kind: Kind, text: Option<String>, num: f64) -> Result<(), String> {
        if self.tokens.kinds.len() - self.done >= MAX_TOKENS {
            return Err(format!("a reply of more than {MAX_TOKENS} elements"));
        }
        self.tokens.push(kind, text, num);
        Ok(())
    }

    /// A whole element was read: it ends the arrays it completes, or the reply.
    fn element(&mut self, kind: Kind, text: Option<String>, num: f64) -> Result<(), String> {
        self.token(kind, text, num)?;
        while let Some(left) = self.stack.last_mut() {
            *left -= 1;
            if *left > 0 {
                return Ok(());
            }
            self.stack.pop();
        }
        self.done = self.tokens.kinds.len();
        self.done_bytes = self.tokens.bytes.len();
        self.count += 1;
        Ok(())
    }
}

/// Redis strings are bytes; what polykv or polystore wrote is UTF-8 JSON. Anything
/// else is passed on lossily, and then fails JSON parsing with a clear error in JS.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn number(line: &[u8]) -> Result<i64, String> {
    let digits = line.strip_prefix(b"-").unwrap_or(line);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "not a number in a reply: {:?}",
            text(&line[..line.len().min(40)])
        ));
    }
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "a number out of range in a reply".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Fed {
        Decoder::new().feed(bytes)
    }

    fn tokens(kinds: &[Kind], texts: &[Option<&str>], nums: &[f64], count: u32) -> Tokens {
        Tokens {
            kinds: kinds.iter().map(|&k| k as u8).collect(),
            texts: texts.iter().map(|t| t.map(str::to_string)).collect(),
            nums: nums.to_vec(),
            bytes: Vec::new(),
            count,
        }
    }

    #[test]
    fn replies_parse_whole() {
        assert_eq!(all(b"+OK\r\n").replies, tokens(&[Kind::Ok], &[None], &[0.0], 1));
        assert_eq!(
            all(b"+PONG\r\n").replies,
            tokens(&[Kind::Status], &[Some("PONG")], &[0.0], 1)
        );
        assert_eq!(all(b":-12\r\n").replies, tokens(&[Kind::Int], &[None], &[-12.0], 1));
        assert_eq!(all(b"$-1\r\n").replies, tokens(&[Kind::Nil], &[None], &[0.0], 1));
        assert_eq!(
            all(b"$3\r\na\r\n\r\n").replies,
            tokens(&[Kind::Bulk], &[Some("a\r\n")], &[0.0], 1)
        );
        assert_eq!(
            all(b"-ERR no\r\n").replies,
            tokens(&[Kind::Error], &[Some("ERR no")], &[0.0], 1)
        );
        assert_eq!(all(b"*0\r\n").replies, tokens(&[Kind::Array], &[None], &[0.0], 1));
        let scan = all(b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nx\r\n$-1\r\n:3\r\n").replies;
        let kinds = [Kind::Array, Kind::Bulk, Kind::Array, Kind::Bulk, Kind::Nil, Kind::Int];
        assert_eq!(
            scan,
            tokens(
                &kinds,
                &[None, Some("0"), None, Some("x"), None, None],
                &[2.0, 0.0, 2.0, 0.0, 0.0, 3.0],
                2
            )
        );
    }

    const REPLIES: [&[u8]; 8] = [
        b"$5\r\nhello\r\n",
        b"+OK\r\n",
        b"-WRONGTYPE Operation against a key\r\n",
        b":1000\r\n",
        b"*2\r\n$1\r\nx\r\n:3\r\n",
        b"*-1\r\n",
        b"*2\r\n$1\r\n7\r\n*3\r\n$2\r\nk1\r\n$0\r\n\r\n*1\r\n$-1\r\n",
        b"$4\r\n\r\n\r\n\r\n",
    ];

    #[test]
    fn every_strict_prefix_is_incomplete_never_an_error() {
        for reply in REPLIES {
            let whole = all(reply);
            assert_eq!(whole.error, None, "{reply:?}");
            assert_eq!(whole.replies.count, 1, "{reply:?}");
            for cut in 0..reply.len() {
                let fed = all(&reply[..cut]);
                assert_eq!(fed, Fed::default(), "{:?}", &reply[..cut]);
                // The rest, fed afterwards, completes the same reply.
                let mut decoder = Decoder::new();
                assert_eq!(decoder.feed(&reply[..cut]), Fed::default());
                assert_eq!(decoder.feed(&reply[cut..]), whole, "{reply:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn replies_fed_byte_by_byte_come_out_once_each_in_order() {
        let stream: Vec<u8> = REPLIES.concat();
        let mut decoder = Decoder::new();
        let mut kinds = Vec::new();
        let mut count = 0;
        for byte in &stream {
            let fed = decoder.feed(std::slice::from_ref(byte));
            assert_eq!(fed.error, None);
            count += fed.replies.count;
            kinds.extend(fed.replies.kinds);
        }
        assert_eq!(count, REPLIES.len() as u32);
        assert_eq!(kinds, all(&stream).replies.kinds);
    }

    #[test]
    fn protocol_errors_come_after_the_whole_replies_before_them() {
        let fed = all(b"+OK\r\n$1\r\nx\r\n?garbage\r\n");
        assert_eq!(fed.replies.count, 2);
        assert_eq!(fed.replies.kinds, vec![Kind::Ok as u8, Kind::Bulk as u8]);
        assert!(fed.error.as_deref().unwrap().contains("0x3f"), "{fed:?}");
        for bad in [
            &b"?x\r\n"[..],
            b"$2\r\nabcd\r\n",
            b":1x\r\n",
            b"+a\nb\r\n",
            b"$-2\r\n",
            b"*-5\r\n",
            b":\r\n",
        ] {
            assert!(all(bad).error.is_some(), "{bad:?}");
        }
        // A broken decoder stays broken.
        let mut decoder = Decoder::new();
        assert!(decoder.feed(b"?\r\n").error.is_some());
        assert!(decoder.feed(b"+OK\r\n").error.is_some());
    }

    #[test]
    fn hostile_replies_hit_a_cap_instead_of_the_stack_or_memory() {
        let deep = b"*1\r\n".repeat(20_000);
        let fed = all(&deep);
        assert!(fed.error.as_deref().unwrap().contains("deep"), "{:?}", fed.error);
        let fed = all(b"+OK\r\n*1\r\n*1\r\n");
        assert_eq!(
            (fed.replies.count, fed.error),
            (1, None),
            "nesting within the cap is fine"
        );
        assert!(all(format!("*{}\r\n", MAX_ARRAY + 1).as_bytes()).error.is_some());
        assert!(all(format!("${}\r\n", MAX_BULK + 1).as_bytes()).error.is_some());
        assert!(all(b"*99999999999999999999\r\n").error.is_some());
        // A line that never ends is refused once it is too long, fed in pieces.
        let mut decoder = Decoder::new();
        let piece = vec![b'a'; 4096];
        assert_eq!(decoder.feed(b"+").error, None);
        let mut error = None;
        for _ in 0..(MAX_LINE / piece.len() + 2) {
            error = decoder.feed(&piece).error;
            if error.is_some() {
                break;
            }
        }
        assert!(error.unwrap().contains("longer"));
    }

    #[test]
    fn a_partial_line_is_not_searched_again_from_its_start() {
        let mut decoder = Decoder::new();
        decoder.feed(b"+");
        for _ in 0..1000 {
            decoder.feed(b"abcdefgh");
        }
        assert_eq!(decoder.scanned, decoder.buf.len(), "the search resumes at the end");
        let fed = decoder.feed(b"\r\n");
        assert_eq!(fed.replies.texts, vec![Some("abcdefgh".repeat(1000))]);
    }

    #[test]
    fn a_big_bulk_string_arrives_in_many_chunks() {
        let body = "é".repeat(300_000);
        let reply = format!("${}\r\n{body}\r\n:1\r\n", body.len());
        let mut decoder = Decoder::new();
        let mut got = Tokens::default();
        for chunk in reply.as_bytes().chunks(65_536) {
            let fed = decoder.feed(chunk);
            assert_eq!(fed.error, None);
            got.count += fed.replies.count;
            got.texts.extend(fed.replies.texts);
        }
        assert_eq!(got.count, 2);
        assert_eq!(got.texts[0].as_deref(), Some(body.as_str()));
    }

    #[test]
    fn invalid_utf8_is_passed_on_lossily() {
        assert_eq!(
            all(b"$2\r\n\xfe1\r\n").replies.texts,
            vec![Some("\u{fffd}1".to_string())]
        );
    }

    #[test]
    fn a_bulk_string_starting_with_the_marker_is_bytes_without_it() {
        let fed = all(b"$3\r\n\xff\x00\xc3\r\n$1\r\n\xff\r\n");
        assert_eq!(fed.error, None);
        assert_eq!(fed.replies.kinds, vec![Kind::Bytes as u8, Kind::Bytes as u8]);
        assert_eq!(fed.replies.texts, vec![None, None]);
        assert_eq!(fed.replies.bytes, vec![vec![0x00, 0xc3], vec![]]);
        // In an array (MGET), beside text and nil.
        let fed = all(b"*3\r\n$3\r\n\xffab\r\n$-1\r\n$2\r\n12\r\n");
        let kinds = [Kind::Array, Kind::Bytes, Kind::Nil, Kind::Bulk];
        assert_eq!(fed.replies.kinds, kinds.map(|k| k as u8).to_vec());
        assert_eq!(fed.replies.bytes, vec![b"ab".to_vec()]);
    }

    #[test]
    fn bytes_of_an_unfinished_reply_wait_for_it() {
        // A whole reply with bytes, then an array whose first element (bytes) is read
        // but whose second is not: only the first reply's bytes come out.
        let mut decoder = Decoder::new();
        let fed = decoder.feed(b"$2\r\n\xff1\r\n*2\r\n$2\r\n\xff2\r\n$2\r\n\xff");
        assert_eq!(fed.replies.count, 1);
        assert_eq!(fed.replies.bytes, vec![b"1".to_vec()]);
        let fed = decoder.feed(b"3\r\n");
        assert_eq!(fed.replies.count, 1);
        assert_eq!(fed.replies.bytes, vec![b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(fed.replies.kinds.len(), 3);
    }
}
