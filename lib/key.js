"use strict";
// Keys for `add()`: 24 characters from `[A-Za-z0-9]`, cryptographically random and
// uniform over all 62 characters (nanoid's masked rejection sampling), about 143
// bits of entropy; the same shape as the Rust copy (src/core/key.rs). In JS so that
// add() needs no native addon, in Node, Bun and the browser alike.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LENGTH = 24;
const MASK = 63; // the smallest 2^n - 1 that covers the 62 indexes; 62 and 63 are drawn again
// Random bytes per draw: enough that one usually suffices (nanoid's 1.6 factor).
const STEP = Math.ceil((1.6 * MASK * LENGTH) / ALPHABET.length);

let webcrypto = null;
function random(bytes) {
  // Node 18 has no global `crypto` by default; Node 19+, Bun and browsers do.
  webcrypto ??= globalThis.crypto ?? require("node:crypto").webcrypto;
  return webcrypto.getRandomValues(bytes);
}

/** A fresh key for `add()`. */
function generateKey() {
  const bytes = new Uint8Array(STEP);
  let key = "";
  for (;;) {
    random(bytes);
    for (let i = 0; i < STEP; i++) {
      const index = bytes[i] & MASK;
      if (index < ALPHABET.length) {
        key += ALPHABET[index];
        if (key.length === LENGTH) return key;
      }
    }
  }
}

module.exports = { generateKey, KEY_LENGTH: LENGTH };
