"use strict";
// The rules every JS driver shares, each written once: the expiry deadline, the
// `{ expires, value }` envelope and its liveness, the end of a prefix's key range,
// and glob escaping for Redis SCAN MATCH. The Rust engines have the same rules in
// src/core; both copies pass the cases of __test__/fixtures/rules.json (node --test
// here, cargo test there), so they cannot drift apart.

/**
 * The longest `expires` polykv takes, in seconds: 2^31 - 1 (about 68 years), the
 * largest TTL every backend holds the same way. Cloudflare KV's `expirationTtl` is a
 * 32-bit integer; a JS Date, Redis PX and SQL integers hold far more. Beyond it, a
 * RangeError.
 */
const MAX_EXPIRES = 2 ** 31 - 1;

/**
 * The absolute deadline, in integer Unix ms, of a record that lives `seconds` from
 * `now`; null for never. Whole milliseconds, at least one, so a positive TTL never
 * makes a record that is dead on arrival.
 */
function deadline(seconds, now) {
  if (seconds === null || seconds === undefined) return null;
  // The clock is read only for a record that expires (set() of one that never does is hot).
  return (now ?? Date.now()) + Math.max(1, Math.round(seconds * 1000));
}

/** Milliseconds left before `expiresAt` (at least 1), or null for never: for TTL-based backends. */
function remainingMs(expiresAt, now) {
  return expiresAt === null ? null : Math.max(1, expiresAt - (now ?? Date.now()));
}

/** Whether a record with deadline `expires` (ms, maybe fractional; null/undefined never) is live at `now`. */
function isLiveAt(expires, now) {
  return expires === null || expires === undefined || expires > now;
}

/**
 * Whether `data` is one of our records: an object with a non-null `value` (a null
 * value is never stored: it deletes) and an `expires` that is a number, null or
 * absent. Anything else is someone else's: it reads as missing and is left alone.
 */
function isEnvelope(data) {
  return (
    data !== null &&
    typeof data === "object" &&
    data.value !== null &&
    data.value !== undefined &&
    (data.expires === null || data.expires === undefined || typeof data.expires === "number")
  );
}

/** True when `data` is an envelope whose time has not come. */
function isLive(data, now = Date.now()) {
  return isEnvelope(data) && isLiveAt(data.expires, now);
}

/** True when `data` is an envelope whose time has passed (prune removes those, and nothing else). */
function isExpiredEnvelope(data, now = Date.now()) {
  return isEnvelope(data) && !isLiveAt(data.expires, now);
}

/** The envelope's JSON text, from the value's JSON text: polystore's stored shape. */
function envelopeText(valueText, expiresAt) {
  return `{"expires":${expiresAt ?? "null"},"value":${valueText}}`;
}

/** The value of a live envelope, or null when it is missing, expired or not an envelope. */
function openEnvelope(data, now = Date.now()) {
  return isLive(data, now) ? (data.value ?? null) : null;
}

/** Stored text parsed, or null when it is not JSON (someone else's item: never ours). */
function parseStored(text) {
  if (typeof text !== "string" || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Same as openEnvelope, from JSON text; text that is not JSON reads as missing. */
function openEnvelopeText(text, now = Date.now()) {
  return openEnvelope(parseStored(text), now);
}

/** Whether envelope text has expired; text that is not an envelope of ours is never expired. */
function isExpiredText(text, now = Date.now()) {
  return isExpiredEnvelope(parseStored(text), now);
}

/**
 * The smallest string above every string that starts with `prefix`, in code-point
 * order (SQL text under a binary/"C" collation), or null when there is none (an
 * empty prefix, or one of U+10FFFF only). Surrogate code points are skipped: they
 * cannot be sent as UTF-8.
 */
function prefixEnd(prefix) {
  const points = Array.from(prefix, (char) => char.codePointAt(0));
  while (points.length) {
    const last = points.pop();
    if (last < 0x10ffff) {
      points.push(last + 1 === 0xd800 ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/**
 * The same bound in UTF-8 bytes (byte-ordered stores: etcd, level): the prefix's
 * bytes with the last byte below 0xff incremented and what follows it dropped, or
 * null when there is none (an empty prefix, or bytes that are all 0xff).
 */
function prefixEndBytes(prefix) {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return null;
}

/** A prefix for Redis SCAN MATCH: glob characters escaped so they match themselves, then `*`. */
function scanPattern(prefix) {
  return prefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
}

module.exports = {
  MAX_EXPIRES,
  deadline,
  remainingMs,
  isLiveAt,
  isEnvelope,
  isLive,
  isExpiredEnvelope,
  envelopeText,
  openEnvelope,
  openEnvelopeText,
  parseStored,
  isExpiredText,
  prefixEnd,
  prefixEndBytes,
  scanPattern,
};
