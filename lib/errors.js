"use strict";
// One error shape for every store: a JS `TypeError` (bad input) or `Error` with a
// stable `code` and a message a person understands, reading
//   [polykv] [<TYPE>] what went wrong
// where <TYPE> is the backend's `store.type` spelling (REDIS, SQLITE, …), or
// `[polykv] what went wrong` for the facade's own checks. polystore's exact texts
// ("Adapter should have .get() and .set()") keep their words and get a code too.
// The Rust core maps its `ErrorKind` to the same codes (src/core/error.rs).

/** code → whether it is a TypeError (the caller passed something wrong). */
const CODES = Object.freeze({
  ERR_POLYKV_KEY: true, // a key that is not a string or a finite number, or one the backend cannot hold
  ERR_POLYKV_VALUE: true, // a value that cannot be stored (not JSON, too big for the backend)
  ERR_POLYKV_EXPIRES: true, // an `expires` of the wrong type or, in strict mode, unreadable
  ERR_POLYKV_OPTIONS: true, // kv() options or a prefix of the wrong type
  ERR_POLYKV_CLIENT: false, // not a client polykv can use (polystore's adapter messages, bad URLs)
  ERR_POLYKV_UNSUPPORTED: false, // the backend cannot do this operation
  ERR_POLYKV_ADDON: false, // the backend runs in the native addon, and none loads on this platform
  ERR_POLYKV_CONNECTION: false, // the server cannot be reached, or the connection was lost
  ERR_POLYKV_CORRUPT: false, // stored data that should be ours cannot be read
  ERR_POLYKV_CLOSED: false, // the store was closed
  ERR_POLYKV_BACKEND: false, // the backend refused or failed the operation (SQL, I/O, HTTP, Redis errors)
});

/**
 * An error with `code`. `backend` is the store type for the `[polykv] [TYPE]` tag,
 * or null for the facade's own messages; `verbatim` keeps `message` as it is
 * (polystore's exact texts); `range` makes it a RangeError (a value of the right
 * type, out of range). `cause` is kept when given.
 */
function polykvError(code, backend, message, { cause, verbatim = false, range = false } = {}) {
  if (!(code in CODES)) throw new Error(`[polykv] unknown error code ${code}`);
  const text = verbatim ? message : backend ? `[polykv] [${backend}] ${message}` : `[polykv] ${message}`;
  const Class = range ? RangeError : CODES[code] ? TypeError : Error;
  const error = new Class(text, cause && { cause });
  error.code = code;
  return error;
}

/** How a value is named in messages: "null", "an array", "the number 5", "a function". */
function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no prototype"})`;
  return `a ${typeof value}`;
}

module.exports = { CODES, polykvError, describe };
