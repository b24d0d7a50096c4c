"use strict";
// cas, increment and getAndDelete, written once over the driver contract's one
// atomic primitive (docs/behaviour.md §30):
//
//   driver.getRaw(key)                      the record as stored (JSON text, bytes, or
//                                           memory's record object), null when missing
//                                           or expired
//   driver.swap(key, seen, next, expiresAt) replaces the record by `next` (stored form;
//                                           null deletes) only if it is still `seen`
//                                           (null: missing or expired), atomically, across
//                                           processes where the backend can; `expiresAt`
//                                           undefined keeps the record's deadline; true
//                                           when it swapped
//
// Equality with the caller's `expected` is JSON deep equality, decided here; the
// driver only compares what it stored with what it handed out. A lost race re-reads
// and tries again, so an operation never fails because another writer was first.
// A driver may also have its own `increment` or `getAndDelete` (one Redis command,
// one SQL statement): those are used instead.

const { polykvError } = require("./errors.js");

/** JSON deep equality: what two values would be after a JSON round trip (key order ignored). */
function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return a === b || (Number.isNaN(a) && Number.isNaN(b));
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((byte, i) => byte === y[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const keys = Object.keys(a).filter((key) => a[key] !== undefined);
  const other = Object.keys(b).filter((key) => b[key] !== undefined);
  return keys.length === other.length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

/** How many lost races an operation retries before it gives up (a live-lock guard, never hit in practice). */
const MAX_TRIES = 10_000;

function contended(type, key) {
  return polykvError("ERR_POLYKV_BACKEND", type, `gave up on key "${key}" after ${MAX_TRIES} lost races`);
}

/**
 * Runs `attempt()` until it returns something other than RETRY. Sync drivers stay
 * sync (memory cannot lose a race); a promise is awaited.
 */
const RETRY = Symbol("retry");
async function retrying(type, key, attempt) {
  for (let i = 0; i < MAX_TRIES; i++) {
    const result = await attempt();
    if (result !== RETRY) return result;
  }
  throw contended(type, key);
}

/**
 * cas: `read(raw)` turns a getRaw() answer into the caller's value; `next` is the
 * stored form of the new value (null deletes).
 */
function compareAndSwap(driver, key, expected, next, expiresAt, read) {
  return retrying(driver.type, key, async () => {
    const raw = await driver.getRaw(key);
    const current = raw === null ? null : read(raw);
    if (!jsonEqual(current, expected ?? null)) return false;
    return (await driver.swap(key, raw, next, expiresAt)) ? true : RETRY;
  });
}

/** increment over getRaw/swap: `read` as above, `store(number)` the stored form of a number. */
function incrementBySwap(driver, key, id, by, expiresAt, read, store) {
  return retrying(driver.type, key, async () => {
    const raw = await driver.getRaw(key);
    const current = raw === null ? null : read(raw);
    if (current !== null && typeof current !== "number") throw notANumber(id, current);
    const value = sum(id, current, by);
    // A new record takes the caller's expiry; an existing one keeps its own.
    return (await driver.swap(key, raw, store(value), raw === null ? expiresAt : undefined)) ? value : RETRY;
  });
}

/** current + by, or ERR_POLYKV_VALUE when it overflows (JSON would store Infinity as null). */
function sum(id, current, by) {
  const value = (current ?? 0) + by;
  if (Number.isFinite(value)) return value;
  throw polykvError("ERR_POLYKV_VALUE", null, `cannot increment key "${id}": the sum is beyond a JSON number`);
}

function notANumber(id, current) {
  const what = Array.isArray(current) ? "an array" : typeof current === "object" ? "an object" : `a ${typeof current}`;
  return polykvError("ERR_POLYKV_VALUE", null, `cannot increment key "${id}": it holds ${what}, not a number`);
}

/** getAndDelete over getRaw/swap: the value goes to exactly one caller. */
function takeBySwap(driver, key, read) {
  return retrying(driver.type, key, async () => {
    const raw = await driver.getRaw(key);
    if (raw === null) return null;
    return (await driver.swap(key, raw, null, undefined)) ? read(raw) : RETRY;
  });
}

/**
 * For drivers without swap: one in-process queue per key, so increments and takes
 * made by this process never interleave (other processes and tabs can still race:
 * `capabilities.atomic` is false there).
 */
class KeyQueue {
  #tails = new Map();

  run(key, task) {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

module.exports = { sum, jsonEqual, compareAndSwap, incrementBySwap, takeBySwap, notANumber, KeyQueue, retrying, RETRY };
