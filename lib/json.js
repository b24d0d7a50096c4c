"use strict";
// Values cross into Rust (and onto disk or the wire) as JSON text made by V8, and
// come back as JSON text that V8 parses. JSON.stringify silently turns a function or
// symbol into `undefined` and throws a bare TypeError on cycles and BigInt; a store
// must instead refuse the value, say which key it was for, and change nothing. Text
// that should be ours and is not JSON is reported the same way everywhere.

const { polykvError } = require("./errors.js");

/** The value's JSON text, or ERR_POLYKV_VALUE naming `key` (the caller's key). */
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
    throw polykvError(
      "ERR_POLYKV_VALUE",
      null,
      `cannot store the value for key "${key}": ${why}; values must be JSON-serializable`,
    );
  }
  if (text === undefined) {
    throw polykvError(
      "ERR_POLYKV_VALUE",
      null,
      `cannot store the value for key "${key}": a ${typeof value} is not JSON-serializable`,
    );
  }
  return text;
}

/** The value stored as `text` (null/undefined: missing), or ERR_POLYKV_CORRUPT naming the backend and key. */
function decode(type, key, text) {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw polykvError(
      "ERR_POLYKV_CORRUPT",
      type,
      `the value stored for key "${key}" is not valid JSON (${error.message})`,
    );
  }
}

module.exports = { encode, decode };
