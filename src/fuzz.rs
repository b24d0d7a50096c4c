//! Bounded, deterministic fuzzing as ordinary `cargo test` targets (no nightly
//! toolchain, no cargo-fuzz): each target starts from its corpus in
//! `fuzz/corpus/<target>/` plus inputs it generates, mutates them with a seeded
//! generator, and checks properties on every input, not just "no panic".
//!
//! - `POLYKV_FUZZ_SECONDS`: how long each target runs (default: a fixed 2 000
//!   inputs, well under a second; `.ci/run` gives each target several seconds).
//! - `POLYKV_FUZZ_SEED`: the generator's seed (default fixed, so a run repeats).
//!
//! A failing input is printed in hex with the seed; add it to the corpus once fixed.

use crate::backend::folder::{decode_name, encode_key};
#[cfg(feature = "redis")]
use crate::backend::resp::{Decoder, Fed, Kind};
use crate::core::envelope::{envelope_text, Envelope};
use crate::core::expires::{parse_lenient, parse_strict};
use std::time::{Duration, Instant};

/// xorshift64*: small, fast, and the same sequence everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Bytes that matter to the formats under test, drawn more often than others.
const INTERESTING: &[u8] = b"\r\n*$+-:%.,_e0123456789{}[]\":/\\\0 smhdwyb";

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(input.len());
                input.drain(at.min(end)..end);
            }
            1 => input.insert(at, *rng.pick(INTERESTING)),
            2 => input.insert(at, rng.next() as u8),
            3 if at < input.len() => input[at] ^= 1 << rng.below(8),
            4 => {
                // Splice in a piece of another corpus entry.
                let other = rng.pick(corpus);
                let start = rng.below(other.len() + 1);
                let end = (start + rng.below(16)).min(other.len());
                input.splice(at..at, other[start..end].iter().copied());
            }
            _ if !input.is_empty() => {
                // Repeat a piece (deep nesting, long lines).
                let start = rng.below(input.len());
                let end = (start + 1 + rng.below(8)).min(input.len());
                let piece = input[start..end].to_vec();
                for _ in 0..rng.below(64) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            _ => {}
        }
    }
}

/// Runs `check` on the corpus, then on generated and mutated inputs until the budget
/// is spent; a panic names the seed and the input.
fn run(target: &str, generate: impl Fn(&mut Rng) -> Vec<u8>, check: impl Fn(&[u8])) {
    let seed: u64 = std::env::var("POLYKV_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let budget = std::env::var("POLYKV_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().filter_map(|e| std::fs::read(e.path()).ok()).collect())
        .unwrap_or_default();
    assert!(!corpus.is_empty(), "no corpus in {}", dir.display());
    let mut rng = Rng(seed ^ target.len() as u64);
    let started = Instant::now();
    let try_one = |input: &[u8]| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(input)));
        if let Err(panic) = outcome {
            let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
            eprintln!("[fuzz {target}] seed {seed}: failing input (hex) {hex}");
            std::panic::resume_unwind(panic);
        }
    };
    for input in &corpus {
        try_one(input);
    }
    let mut done = 0u64;
    loop {
        match budget {
            Some(budget) if started.elapsed() >= budget => break,
            None if done >= 2_000 => break,
            _ => {}
        }
        let mut input = if rng.chance(3) {
            generate(&mut rng)
        } else {
            rng.pick(&corpus).clone()
        };
        mutate(&mut rng, &mut input, &corpus);
        try_one(&input);
        if corpus.len() < 4_096 && rng.chance(64) {
            corpus.push(input); // later mutations build on earlier ones
        }
        done += 1;
    }
    eprintln!("[fuzz {target}] {done} inputs in {:?} (seed {seed})", started.elapsed());
}

const UNITS: &[(&str, f64)] = &[
    ("ms", 0.001),
    ("msec", 0.001),
    ("s", 1.0),
    ("sec", 1.0),
    ("seconds", 1.0),
    ("m", 60.0),
    ("min", 60.0),
    ("mins", 60.0),
    ("h", 3600.0),
    ("hrs", 3600.0),
    ("d", 86_400.0),
    ("days", 86_400.0),
    ("w", 604_800.0),
    ("", 1.0),
];

#[test]
fn fuzz_expires() {
    // A round trip first: "<number><unit>" reads as number × unit, in both modes.
    let mut rng = Rng(7);
    for _ in 0..2_000 {
        let number = (rng.next() % 1_000_000) as f64 / 1000.0;
        let (unit, factor) = *rng.pick(UNITS);
        let text = format!("{number}{}{unit}", if rng.chance(2) { " " } else { "" });
        let expected = ((factor * number) * 1000.0 + 0.5).floor() / 1000.0;
        assert_eq!(parse_lenient(&text), Some(expected), "{text:?}");
        assert_eq!(parse_strict(&text), Ok(expected), "{text:?}");
    }
    let generate = |rng: &mut Rng| {
        let (unit, _) = *rng.pick(UNITS);
        format!("{}{}{unit}", rng.next() as i32, if rng.chance(2) { "e9" } else { "" }).into_bytes()
    };
    run("expires", generate, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let lenient = parse_lenient(&text);
        assert!(lenient.is_none_or(|s| !s.is_nan()), "{text:?} → NaN");
        match parse_strict(&text) {
            // Strict never reads a string differently from lenient mode, only refuses more.
            Ok(seconds) => {
                assert!(!seconds.is_nan(), "{text:?}");
                if let Some(lenient) = lenient {
                    assert_eq!(seconds, lenient, "{text:?}");
                }
            }
            Err(error) => assert!(error.reason().contains("invalid expires"), "{text:?}"),
        }
    });
}

#[test]
fn fuzz_envelope() {
    let generate = |rng: &mut Rng| {
        let value = *rng.pick(&[
            "1",
            "\"x\"",
            "null",
            "[1,{\"a\":null}]",
            "{\"value\":2}",
            "-0.5e3",
            "true",
        ]);
        let expires = *rng.pick(&["null", "1700000000000", "1e300", "-1", "\"soon\"", "1.5"]);
        format!("{{\"expires\":{expires},\"value\":{value}}}").into_bytes()
    };
    run("envelope", generate, |bytes| {
        let text = &*String::from_utf8_lossy(bytes);
        // Err (not JSON), Ok(None) (JSON, not ours) or a record: never a panic.
        if let Ok(Some(record)) = Envelope::parse(text) {
            assert_ne!(record.value.get(), "null");
            // What we would write back reads back the same.
            let again = envelope_text(record.value.get(), record.expires);
            let back = Envelope::parse(&again).unwrap().expect("our own record");
            assert_eq!(back.expires, record.expires, "{text:?}");
            assert_eq!(back.value.get(), record.value.get(), "{text:?}");
        }
    });
}

#[cfg(feature = "redis")]
/// One well-formed reply and the kinds of the tokens it decodes to.
fn reply(rng: &mut Rng, depth: usize, out: &mut Vec<u8>, kinds: &mut Vec<u8>) {
    let word: String = (0..rng.below(6))
        .map(|_| *rng.pick(&['a', 'Z', ' ', '\r', '\n', 'é']))
        .collect();
    match rng.below(if depth < 3 { 8 } else { 6 }) {
        0 => {
            out.extend_from_slice(b"+OK\r\n");
            kinds.push(Kind::Ok as u8);
        }
        1 => {
            let line: String = word.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            out.extend_from_slice(format!("+{line}\r\n").as_bytes());
            kinds.push(if line == "OK" { Kind::Ok } else { Kind::Status } as u8);
        }
        2 => {
            out.extend_from_slice(format!("-ERR {}\r\n", word.replace(['\r', '\n'], "")).as_bytes());
            kinds.push(Kind::Error as u8);
        }
        3 => {
            out.extend_from_slice(format!(":{}\r\n", rng.next() as i32).as_bytes());
            kinds.push(Kind::Int as u8);
        }
        4 => {
            out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
            kinds.push(Kind::Bulk as u8);
        }
        5 => {
            out.extend_from_slice(if rng.chance(2) { b"$-1\r\n" } else { b"*-1\r\n" });
            kinds.push(Kind::Nil as u8);
        }
        _ => {
            let n = rng.below(4);
            out.extend_from_slice(format!("*{n}\r\n").as_bytes());
            kinds.push(Kind::Array as u8);
            for _ in 0..n {
                reply(rng, depth + 1, out, kinds);
            }
        }
    }
}

#[cfg(feature = "redis")]
/// Everything the decoder gives for `bytes` cut into the pieces `cuts` says.
fn decode_in_pieces(bytes: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<Option<String>>, u32, bool) {
    let mut decoder = Decoder::new();
    let (mut kinds, mut texts, mut count, mut broken) = (Vec::new(), Vec::new(), 0, false);
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let Fed { replies, error } = decoder.feed(&bytes[start..end.max(start)]);
        start = end.max(start);
        kinds.extend(replies.kinds);
        texts.extend(replies.texts);
        count += replies.count;
        broken |= error.is_some();
        if broken {
            break; // a broken decoder stays broken: nothing more to compare
        }
    }
    (kinds, texts, count, broken)
}

#[cfg(feature = "redis")]
#[test]
fn fuzz_resp() {
    // Round trip: generated replies decode to their own tokens, and no strict
    // prefix of a reply is ever complete or an error.
    let mut rng = Rng(11);
    for _ in 0..2_000 {
        let (mut bytes, mut kinds) = (Vec::new(), Vec::new());
        reply(&mut rng, 0, &mut bytes, &mut kinds);
        let whole = Decoder::new().feed(&bytes);
        assert_eq!(
            (whole.replies.kinds, whole.replies.count, whole.error),
            (kinds, 1, None)
        );
        let cut = rng.below(bytes.len());
        assert_eq!(
            Decoder::new().feed(&bytes[..cut]),
            Fed::default(),
            "{bytes:?} cut at {cut}"
        );
        // Whole replies before a protocol error are delivered with it, never dropped.
        bytes.extend_from_slice(bytes.clone().as_slice());
        const BAD: [&[u8]; 4] = [b"?x\r\n", b"$2\r\nabcd\r\n", b":1x\r\n", b"+a\nb\r\n"];
        let bad: &[u8] = BAD[rng.below(BAD.len())];
        bytes.extend_from_slice(bad);
        let fed = Decoder::new().feed(&bytes);
        assert_eq!(fed.replies.count, 2, "{bytes:?}");
        assert!(fed.error.is_some(), "{bytes:?}");
    }
    let generate = |rng: &mut Rng| {
        let (mut bytes, mut kinds) = (Vec::new(), Vec::new());
        for _ in 0..=rng.below(3) {
            reply(rng, 0, &mut bytes, &mut kinds);
        }
        bytes
    };
    run("resp", generate, |bytes| {
        // However the bytes are cut into reads, the replies (and a break) are the same.
        let whole = decode_in_pieces(bytes, &[]);
        let mut rng = Rng(bytes.len() as u64 + 1);
        let mut cuts: Vec<usize> = (0..rng.below(6)).map(|_| rng.below(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let pieces = decode_in_pieces(bytes, &cuts);
        if whole.3 {
            // Broken: the pieces see the same replies before the break (the same
            // tokens may come out before the error is found).
            assert!(pieces.3, "{bytes:?}");
            assert_eq!(pieces.2, whole.2, "{bytes:?}");
        } else {
            assert_eq!(pieces, whole, "{bytes:?} cut at {cuts:?}");
        }
        let bytewise: Vec<usize> = (1..bytes.len().min(300)).collect();
        if bytes.len() < 300 {
            assert_eq!(decode_in_pieces(bytes, &bytewise).2, whole.2, "{bytes:?} byte by byte");
        }
    });
}

#[test]
fn fuzz_folder_names() {
    let generate = |rng: &mut Rng| {
        let pieces = [
            "a", "/", "\\", "..", ".", "%", "%2F", "*", "\0", "é", "😀", " ", ":", "%2A", ".json",
        ];
        (0..rng.below(8))
            .map(|_| *rng.pick(&pieces))
            .collect::<String>()
            .into_bytes()
    };
    run("folder-names", generate, |bytes| {
        // Any key: its file name stays in the folder and decodes back to it.
        let key = String::from_utf8_lossy(bytes);
        let name = encode_key(&key) + ".json";
        assert!(
            !name.contains('/') && !name.contains('\\') && !name.contains('\0'),
            "{key:?}"
        );
        assert!(name != "." && name != "..");
        assert_eq!(decode_name(&name).as_deref(), Some(&*key), "{key:?}");
        // Any file name: it is ours only when it is exactly the encoding of its key.
        if let Ok(name) = std::str::from_utf8(bytes) {
            if let Some(key) = decode_name(name) {
                assert_eq!(encode_key(&key) + ".json", name, "{name:?}");
            }
        }
    });
}
