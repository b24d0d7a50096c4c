"use strict";
// hash() and what setWithCache() hashes (docs/behaviour.md §31). The digest is
// BLAKE3-256, computed in Rust (src/core/hash.rs); the browser build swaps this file
// for lib/hash-browser.js, which has no addon to compute it with.

const { addon } = require("./addon.js");
const { isBytes, asUint8 } = require("./record.js");
const { polykvError, describe } = require("./errors.js");

/** A stable content hash of a string (its UTF-8 bytes) or bytes, as 64 lowercase hex digits. */
function hash(input) {
  if (typeof input === "string") return addon("HASH").hashText(input);
  if (typeof input === "object" && input !== null && isBytes(input)) {
    const bytes = asUint8(input);
    return addon("HASH").hashBytes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  throw polykvError("ERR_POLYKV_VALUE", null, `hash() takes a string or bytes, got ${describe(input)}`);
}

/** What setWithCache() hashes: a string or bytes as they are, another value as its JSON text. */
function contentOf(value) {
  if (typeof value === "string" || (typeof value === "object" && value !== null && isBytes(value))) return value;
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw polykvError("ERR_POLYKV_VALUE", null, `cannot hash ${describe(value)}: it is not JSON-serializable`);
  }
  return text;
}

module.exports = { hash, contentOf };
