"use strict";
// The `expires` grammar in JS: seconds (fractions allowed) from a string such as
// "10s", "2 minutes", "1_000ms", "1.5h". The Rust copy is src/core/expires.rs; both
// pass the `expiresLenient` and `expiresStrict` cases of __test__/fixtures/rules.json
// (node --test here, cargo test there). This copy is the one the facade uses, so
// memory, Map, custom clients and the browser build need no native addon.
//
// Lenient mode follows polystore 0.27 exactly, since drop-in apps depend on it:
// lower-case, drop `,` and `_`, then `<number><spaces?><unit>`, a trailing `s` on the
// unit ignored, the result rounded to 3 decimals, and anything unparseable means
// "never expire" (null). Strict mode turns that last case into an error, after also
// accepting the compound durations of Rust's humantime crate ("1h 30m", "2h 37min"),
// and refuses what lenient mode reads only by accident: a `,` or `_` that is not
// between two digits ("_1s", "1_s"), a plural `s` after a one-letter unit or `ms`
// ("10ss", "5hs"). Neither mode bounds the result: the facade refuses anything over
// MAX_EXPIRES (lib/rules.js) with a RangeError.

const DAY = 86_400;
const YEAR = DAY * 365.25;
// Seconds per unit, as polystore defines them (a year is 365.25 days, a month a twelfth of it).
const UNITS = new Map([
  ...["ms", "msec", "millisecond"].map((u) => [u, 0.001]),
  ...["", "s", "sec", "second"].map((u) => [u, 1]),
  ...["m", "min", "minute"].map((u) => [u, 60]),
  ...["h", "hr", "hour"].map((u) => [u, 3_600]),
  ...["d", "day"].map((u) => [u, DAY]),
  ...["w", "wk", "week"].map((u) => [u, DAY * 7]),
  ...["y", "yr", "year"].map((u) => [u, YEAR]),
  ...["b", "month"].map((u) => [u, YEAR / 12]),
]);

// `<-?><digits><.digits?><e±digits?>` then spaces, then letters only.
const NUMBER_UNIT = /^(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\p{White_Space}*(\p{Alphabetic}*)$/u;
// Rust's `str::trim` (Unicode White_Space, which String.prototype.trim does not quite match).
const trim = (text) => text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "");

/** JavaScript's `Math.round(x * 1000) / 1000`, as polystore rounds. */
const round3 = (x) => Math.floor(x * 1000 + 0.5) / 1000;

/** polystore's string form in seconds, or null when it is not understood. */
function parseLenient(input) {
  const cleaned = trim(input).toLowerCase().replace(/[,_]/g, "");
  const match = NUMBER_UNIT.exec(cleaned);
  if (match === null) return null;
  const unit = match[2];
  const factor = UNITS.get(unit) ?? (unit.endsWith("s") ? UNITS.get(unit.slice(0, -1)) : undefined);
  if (factor === undefined) return null;
  return round3(factor * Number(match[1]));
}

// humantime 2's units, in seconds (`sec`) or nanoseconds (`ns`) per unit.
const HUMANTIME = new Map();
for (const [names, unit] of [
  ["nanos nsec ns", { ns: 1n }],
  ["usec us µs", { ns: 1_000n }],
  ["millis msec ms", { ns: 1_000_000n }],
  ["seconds second secs sec s", { sec: 1n }],
  ["minutes minute min mins m", { sec: 60n }],
  ["hours hour hr hrs h", { sec: 3_600n }],
  ["days day d", { sec: 86_400n }],
  ["weeks week wk wks w", { sec: 604_800n }],
  ["months month M", { sec: 2_630_016n }],
  ["years year yr yrs y", { sec: 31_557_600n }],
]) {
  for (const name of names.split(" ")) HUMANTIME.set(name, unit);
}
// Nanoseconds per unit for a fraction (humantime's own table: a fraction of a
// nanosecond is refused; of an hour or more, it must come out in whole seconds).
const FRACTION_NS = new Map([
  [1_000n, 1_000n],
  [1_000_000n, 1_000_000n],
]);

const U64_MAX = 2n ** 64n - 1n;
const NS = 1_000_000_000n;
class Refused extends Error {}
const refuse = () => {
  throw new Refused();
};
const checked = (n) => (n > U64_MAX ? refuse() : n);
const exactDiv = (n, d) => (n % d === 0n ? n / d : refuse());
const isDigit = (c) => c >= "0" && c <= "9";
const isSpace = (c) => /^\p{White_Space}$/u.test(c);
const isLetter = (c) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "µ";

/**
 * Seconds from humantime's `parse_duration` (2.x), step for step: spans of
 * `<integer>[.<fraction>] <unit>` with optional spaces, summed. Throws Refused.
 */
function humantime(text) {
  if (text === "0") return 0;
  const chars = Array.from(text);
  let at = 0;
  const firstDigit = () => {
    while (at < chars.length) {
      const c = chars[at++];
      if (isDigit(c)) return BigInt(c);
      if (!isSpace(c)) refuse();
    }
    return null;
  };
  let sec = 0n;
  let nsec = 0n;
  const add = (s, ns) => {
    let total = checked(nsec + ns);
    if (total > NS) {
      s = checked(s + total / NS);
      total %= NS;
    }
    sec = checked(sec + s);
    nsec = total;
    if (nsec >= NS) {
      sec = checked(sec + nsec / NS);
      nsec %= NS;
    }
  };
  const addUnit = (n, fraction, name) => {
    const unit = HUMANTIME.get(name) ?? refuse();
    if (unit.sec !== undefined) add(checked(n * unit.sec), 0n);
    else add(0n, checked(n * unit.ns));
    if (fraction === null) return;
    const { numerator, denominator } = fraction;
    if (unit.ns === 1n) refuse();
    if (unit.ns !== undefined) add(0n, exactDiv(checked(numerator * FRACTION_NS.get(unit.ns)), denominator));
    else if (unit.sec === 1n) add(0n, exactDiv(checked(numerator * NS), denominator));
    else if (unit.sec === 60n) add(0n, exactDiv(checked(numerator * 60n * NS), denominator));
    else add(exactDiv(checked(numerator * unit.sec), denominator), 0n);
  };
  const fractionPart = () => {
    let numerator = 0n;
    let denominator = 1n;
    let zeros = true;
    while (at < chars.length) {
      const c = chars[at++];
      if (c === "0") {
        denominator = checked(denominator * 10n);
        if (!zeros) numerator = checked(numerator * 10n);
      } else if (isDigit(c)) {
        zeros = false;
        denominator = checked(denominator * 10n);
        numerator = checked(numerator * 10n + BigInt(c));
      } else if (isLetter(c)) {
        at--; // the unit starts here
        break;
      } else if (!isSpace(c)) {
        refuse();
      }
    }
    if (denominator === 1n) refuse(); // "1." has no digits after the separator
    return { numerator, denominator };
  };

  let n = firstDigit() ?? refuse();
  for (;;) {
    let fraction = null;
    let start = chars.length;
    while (at < chars.length) {
      const c = chars[at++];
      if (isDigit(c)) n = checked(n * 10n + BigInt(c));
      else if (isSpace(c)) continue;
      else if (isLetter(c)) {
        start = at - 1;
        break;
      } else if (c === ".") {
        fraction = fractionPart();
        start = at;
        if (at < chars.length) at++; // the unit's first letter
        break;
      } else refuse();
    }
    let end = chars.length;
    let nextDigit = null;
    while (at < chars.length) {
      const c = chars[at++];
      if (isDigit(c)) {
        end = at - 1;
        nextDigit = BigInt(c);
        break;
      }
      if (isSpace(c)) {
        end = at - 1;
        break;
      }
      if (!isLetter(c)) refuse();
    }
    addUnit(n, fraction, chars.slice(start, end).join(""));
    if (nextDigit !== null) {
      n = nextDigit;
      continue;
    }
    const following = firstDigit();
    if (following === null) return Number(sec) + Number(nsec) / 1e9;
    n = following;
  }
}

// Rust's `{:?}` of a string, as the Rust copy quotes the input: `\t \r \n \\ \" \0` escaped,
// and characters that do not print (controls, format characters, separators other
// than the space, combining marks, unassigned or private-use code points) as
// `\u{hex}`. A lone surrogate reaches Rust as U+FFFD, and prints so.
const SHORT_ESCAPES = { "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"', "\0": "\\0" };
const UNPRINTABLE = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Grapheme_Extend}]$|^(?! )\p{Zs}$/u;
function debugQuote(text) {
  let out = '"';
  for (const c of text.replace(/\p{Cs}/gu, "\ufffd")) {
    if (c in SHORT_ESCAPES) out += SHORT_ESCAPES[c];
    else if (UNPRINTABLE.test(c)) out += `\\u{${c.codePointAt(0).toString(16)}}`;
    else out += c;
  }
  return out + '"';
}

/** Why a strict parse failed, worded for the person who wrote the value (as the Rust copy words it). */
function invalidExpires(input) {
  return `[polykv] invalid expires ${debugQuote(input)}: use seconds (a number) or a duration such as "10s", "5min", "2h", "1d", "1h 30m"`;
}

/**
 * Whether `input`, which lenient mode read, also reads the same to a person: digit
 * separators only between digits, and a plural `s` only after a unit word.
 */
function strictShape(input) {
  if (/(?<!\d)[,_]|[,_](?!\d)/.test(input)) return false;
  const unit = NUMBER_UNIT.exec(trim(input).toLowerCase().replace(/[,_]/g, ""))[2];
  if (UNITS.has(unit)) return true;
  // Only the plural of a word ("mins", "hrs", "days"): not "ss", "hs", "mss".
  const one = unit.slice(0, -1);
  return one.length >= 2 && one !== "ms" && UNITS.has(one);
}

/** Strict parse: polystore's forms, then humantime's compound durations; else throws an Error with that text. */
function parseStrict(input) {
  const seconds = parseLenient(input);
  if (seconds !== null) {
    if (!strictShape(input)) throw new Error(invalidExpires(input));
    return seconds;
  }
  try {
    return round3(humantime(trim(input)));
  } catch (error) {
    if (error instanceof Refused) throw new Error(invalidExpires(input));
    throw error;
  }
}

module.exports = { parseLenient, parseStrict, invalidExpires };
