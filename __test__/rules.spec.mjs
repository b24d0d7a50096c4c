// lib/rules.js against the case table that src/core passes too (cargo test), so the
// JS and Rust copies of each rule cannot drift apart.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const rules = require("../lib/rules.js");
const expires = require("../lib/expires.js");
const { generateKey } = require("../lib/key.js");
const cases = require("./fixtures/rules.json");

const hex = (buffer) => (buffer === null ? null : buffer.toString("hex"));

describe("rules (lib/rules.js) against __test__/fixtures/rules.json", () => {
  it("deadline(seconds, now): whole ms, at least one, null for never", () => {
    for (const c of cases.deadline) assert.equal(rules.deadline(c.seconds, c.now), c.expiresAt, JSON.stringify(c));
  });

  it("remainingMs(expiresAt, now): at least one, null for never", () => {
    for (const c of cases.remainingMs) assert.equal(rules.remainingMs(c.expiresAt, c.now), c.ms, JSON.stringify(c));
  });

  it("isLiveAt(expires, now): live while the deadline is ahead", () => {
    for (const c of cases.live) assert.equal(rules.isLiveAt(c.expires, c.now), c.live, JSON.stringify(c));
  });

  it("envelopes: ours are read, anything else is not ours", () => {
    for (const c of cases.envelope) {
      const data = JSON.parse(c.text);
      if (c.record === null) {
        assert.equal(rules.isEnvelope(data), false, c.text);
        assert.equal(rules.isExpiredEnvelope(data, Number.MAX_SAFE_INTEGER), false, `${c.text}: prune leaves it alone`);
        assert.equal(rules.openEnvelopeText(c.text, 0), null, c.text);
      } else {
        assert.equal(rules.isEnvelope(data), true, c.text);
        assert.equal(data.expires ?? null, c.record.expires, c.text);
        assert.deepEqual(rules.openEnvelopeText(c.text, 0), JSON.parse(c.record.value), c.text);
      }
    }
  });

  it("envelopeText(valueText, expiresAt) is polystore's compact record", () => {
    for (const c of cases.envelopeText) assert.equal(rules.envelopeText(c.value, c.expiresAt), c.text);
  });

  it("prefixEnd: the code-point bound of a prefix range", () => {
    for (const c of cases.prefixEnd) assert.equal(rules.prefixEnd(c.prefix), c.end, JSON.stringify(c));
  });

  it("prefixEnd bounds exactly the keys that start with the prefix", () => {
    const end = rules.prefixEnd("user:");
    for (const key of ["user:", "user:1", "user:\u{10FFFF}\u{10FFFF}", "user:zzz"]) {
      assert.ok(key >= "user:" && key < end, key);
    }
    for (const key of ["user", "user;", "users", "v"]) assert.ok(!(key >= "user:" && key < end), key);
  });

  it("prefixEndBytes: the UTF-8 byte bound of a prefix range", () => {
    for (const c of cases.prefixEndBytes) assert.equal(hex(rules.prefixEndBytes(c.prefix)), c.end, JSON.stringify(c));
  });

  it("scanPattern: glob characters match themselves", () => {
    for (const c of cases.scanPattern) assert.equal(rules.scanPattern(c.prefix), c.pattern, JSON.stringify(c));
  });

  it("expires (lib/expires.js): polystore's lenient grammar, and strict mode's compound durations and errors", () => {
    for (const c of cases.expires) {
      const label = JSON.stringify(c);
      assert.equal(expires.parseLenient(c.input), c.lenient, label);
      if (c.strict !== null) assert.equal(expires.parseStrict(c.input), c.strict, label);
      else assert.throws(() => expires.parseStrict(c.input), { message: c.message }, label);
    }
  });

  it("generateKey (lib/key.js): 24 characters of [A-Za-z0-9], each of the 62 about as often (as src/core/key.rs)", () => {
    const counts = new Map();
    for (let i = 0; i < 5000; i++) {
      const key = generateKey();
      assert.match(key, /^[A-Za-z0-9]{24}$/);
      for (const c of key) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // 120 000 draws over 62 symbols: ~1935 each; a biased generator leaves some out.
    assert.equal(counts.size, 62);
    for (const [c, n] of counts) assert.ok(n > 1600 && n < 2300, `${c}: ${n}`);
  });
});
