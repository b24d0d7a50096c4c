"use strict";
// hash() in the browser build (scripts/build-browser.mjs swaps lib/hash.js for this
// file): BLAKE3 runs in the native addon, which a page does not have.

const { polykvError } = require("./errors.js");

function hash() {
  throw polykvError(
    "ERR_POLYKV_UNSUPPORTED",
    null,
    "hash() and setWithCache() with [hash] compute BLAKE3 in polykv's native addon, which the browser build does not have",
  );
}

// Nothing to hash with: setWithCache() reaches hash(), which says so.
module.exports = { hash, contentOf: (value) => value };
