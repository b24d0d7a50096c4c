"use strict";
// Values cross into Rust (and onto disk or the wire) as JSON text made by V8.
// JSON.stringify silently turns a function or symbol into `undefined` and throws
// a bare TypeError on cycles and BigInt; a store must instead refuse the value,
// say which key it was for, and change nothing.

function encode(key, value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const why = /BigInt/i.test(error.message)
      ? "it contains a BigInt"
      : /circular|cyclic/i.test(error.message)
        ? "it contains a circular reference"
        : error.message;
    throw new TypeError(`[polykv] cannot store the value for key "${key}": ${why}; values must be JSON-serializable`);
  }
  if (text === undefined) {
    throw new TypeError(
      `[polykv] cannot store the value for key "${key}": a ${typeof value} is not JSON-serializable`,
    );
  }
  return text;
}

function decode(text) {
  return text === null || text === undefined ? null : JSON.parse(text);
}

module.exports = { encode, decode };
