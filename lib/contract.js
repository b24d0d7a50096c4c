"use strict";
// The one internal contract between the facade (index.js) and a driver
// (lib/drivers/<name>.js). Nothing here runs: it is the written promise, in JSDoc,
// that every driver keeps and the facade relies on. The Rust `Backend` trait
// (src/backend/mod.rs) is the same contract for the engines written in Rust.
//
// The facade owns: key checks, prefixes (drivers always get the full key),
// parsing `expires` and turning it into one absolute deadline, JSON-encoding the
// value for drivers that serialize (so a refused value names the caller's key),
// deletes for `null` values and `expires <= 0`, and deriving keys/values/entries
// from iterate() where a driver has no faster way.
//
// The driver owns: storage, its stored format, expiry (an expired record is never
// returned, whether or not it was pruned) and its client's errors.

/**
 * What a backend can do, declared once per driver and read by the facade
 * (`store.capabilities`) and the conformance suite. Every field is a plain boolean.
 *
 * @typedef {object} Capabilities
 * @property {boolean} expiryMs   expiry holds at millisecond resolution (false: whole
 *                                seconds, or a minimum TTL such as Cloudflare's 60 s)
 * @property {boolean} expiresItself the backend drops expired records by itself
 *                                (Redis TTL, Cloudflare KV, cookies): prune() is a no-op
 * @property {boolean} ordered    listings come in ascending key (byte / code-point) order
 * @property {boolean} serializes values are stored as JSON text: `set` receives the text
 *                                and reads return a fresh copy (false: the very object)
 * @property {boolean} listing    iterate/keys/values/entries work (false: a custom client
 *                                without `iterate`)
 * @property {boolean} atomic     `swap` is atomic across processes (a transaction, a lock,
 *                                a Lua script, a txn), so cas/increment/getAndDelete are
 *                                (false: cas is ERR_POLYKV_UNSUPPORTED; increment and
 *                                getAndDelete are serialized within this process only)
 * @property {boolean} bytes      binary values are kept as bytes: `set` may receive a
 *                                Uint8Array, and reads return one for it (false: the facade
 *                                stores them as base64 in a tagged JSON record, lib/record.js)
 * @property {boolean} metadata   the driver keeps metadata itself: `set` receives it and
 *                                getRecord/iterate return it (false: the facade tags it into
 *                                the stored JSON, lib/record.js)
 */

/**
 * A driver instance, made by a factory's `create(input)`. Any method may return a
 * promise instead of its value; the facade awaits only what is a promise, so a sync
 * backend costs no extra microtask.
 *
 * @typedef {object} Driver
 * @property {string} type              `store.type`: MEMORY, SQLITE, REDIS, …
 * @property {Capabilities} caps
 * @property {() => Promise<void>} [connect]  called once, from kv(); the first call waits for it
 * @property {(key: string) => any} get      the live value, or null when missing or expired
 * @property {(key: string, value: any, expiresAt: number | null, seconds: number | null, metadata?: any) => void} set
 *   inserts or replaces. `value` is JSON text when `caps.serializes` (or a Uint8Array
 *   when `caps.bytes`), else the caller's value itself. `expiresAt` is the absolute
 *   deadline in integer Unix ms (null: never); `seconds` is the caller's TTL as given,
 *   only for polystore's RAW custom clients, which take seconds. `metadata` only when
 *   `caps.metadata` (JSON text when serializing, else the caller's value; undefined:
 *   none, and a set without it clears it). Never called with a null value or a past
 *   deadline (the facade deletes instead).
 * @property {(key: string) => ({ value: any, expiresAt: number | null, metadata?: any } | null)} getRecord
 *   the live record with its deadline (ms, null: never), as get() reads the value;
 *   `metadata` only when `caps.metadata`. null when missing or expired.
 * @property {(key: string) => void} del      deleting a missing key is fine
 * @property {(key: string) => boolean} [has] default: get() !== null
 * @property {(prefix: string, after?: string) => Iterable<any[]> | AsyncIterable<any[]>} [iterate]
 *   the live records whose key starts with `prefix`, streamed, each as
 *   `[fullKey, value, expiresAt, metadata?]` (value as get() reads it, expiresAt as in
 *   getRecord; metadata only when `caps.metadata`); required when `caps.listing`.
 *   When `caps.ordered`, in ascending code-point order, starting after the key
 *   `after` when given (one range read: list() pages with it).
 * @property {(prefix: string, after: string | null, limit: number) => { records: any[][], next: string | null }} [listPage]
 *   for an unordered backend with a cursor of its own (Redis SCAN), or one that reads
 *   a page in one call (the Rust engines: records without their values, a record's
 *   metadata as a tagged record holding only it); default: lib/list.js over iterate()
 * @property {(prefix: string) => string[]} [keys]          only where faster than iterate()
 * @property {(prefix: string) => [string, any][]} [entries] only where faster than iterate()
 * @property {(prefix: string) => any[]} [values]           only where faster than iterate()
 * @property {(prefix: string) => void} [clear]  deletes every record under `prefix` ("" = all
 *   of this store's records; never other databases); default: del() each listed key
 * @property {(prefix: string) => void} [prune]  deletes the expired records under `prefix`;
 *   absent where expired records take no room or the backend drops them itself
 * @property {() => void} [close]   releases what the driver opened (never the user's client
 *   where polystore leaves it open)
 * @property {(prefix: string, value: any, expiresAt: number | null, seconds: number | null) => string} [add]
 *   a custom client's own key generation (polystore's protocol); returns the new key
 * @property {(key: string) => any} [getRaw]  the record as stored (what swap compares), null
 *   when missing or expired; with swap, the atomic primitive of lib/atomic.js
 * @property {(key: string, seen: any, next: any, expiresAt: number | null | undefined) => boolean} [swap]
 *   replaces the record by `next` (a stored form as set() takes; null deletes) only if
 *   it is still `seen` (null: missing or expired); `expiresAt` undefined keeps the
 *   record's deadline. Atomic across processes when `caps.atomic`. True when swapped.
 * @property {(key: string, by: number, expiresAt: number | null, id: string) => number | undefined} [increment]
 *   one-step increment where the backend has one (else lib/atomic.js over swap); `id`
 *   is the caller's key (without the prefix), for the TypeError of a non-number;
 *   undefined, nothing changed, when it cannot add to the stored record (a tagged
 *   record, not a number): the facade then goes through swap, which says why
 * @property {(key: string) => any} [getAndDelete]  one-step take (else over swap)
 * @property {(keys: string[]) => any[]} [getMany]   values as get() reads them, in order
 * @property {(writes: [string, any, number | null, any][]) => void} [setMany]
 *   [key, stored, expiresAt, metadata] each, as set() takes them; one transaction or
 *   round trip where the backend has one
 * @property {(keys: string[]) => void} [delMany]
 * @property {(key: string, expiresAt: number | null) => boolean} [touch]
 *   moves a live record's deadline without rewriting its value (Redis PEXPIRE, SQL
 *   UPDATE); false when missing. Default: a swap of the record with itself, else a rewrite
 * @property {(event: "connect" | "disconnect" | "error", payload?: any) => void} [notify]
 *   set by the facade on every driver: how a network driver reports a connection
 *   going or coming back (once per transition) and background errors no call can
 *   return; dropped while nobody listens
 */

/**
 * One entry of the detection table (lib/drivers/index.js), tried in order.
 *
 * @typedef {object} DriverFactory
 * @property {string} name                       the driver's name, as in `store.type`
 * @property {(input: any) => boolean} test      whether `input` (client, string, URL) is ours
 * @property {(input: any, options: object) => Driver} create  the driver over `input`
 *   (`options`: kv()'s, for the ones that are the driver's: `asset`); throws a clear error
 */

/** The capabilities a driver starts from; each driver spreads it and says what differs. */
const BASE_CAPS = Object.freeze({
  expiryMs: true,
  expiresItself: false,
  ordered: false,
  serializes: true,
  listing: true,
  atomic: false,
  bytes: false,
  metadata: false,
});

/** A frozen capabilities object: BASE_CAPS with `overrides`. */
function capabilities(overrides = {}) {
  for (const name of Object.keys(overrides)) {
    if (!(name in BASE_CAPS)) throw new Error(`[polykv] unknown capability "${name}"`);
  }
  return Object.freeze({ ...BASE_CAPS, ...overrides });
}

/** Whether a driver's (or a client's) answer is a promise to await rather than the value itself. */
function isThenable(value) {
  return (
    value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function"
  );
}

// Default bodies, used where a driver has no method of its own (the facade and the
// custom-client adapter both call these, so each default is written once).

/** Collects an iterable or async iterable of entries into an array. */
async function collect(iterable) {
  if (typeof iterable[Symbol.iterator] === "function") return Array.from(iterable);
  const list = [];
  for await (const entry of iterable) list.push(entry);
  return list;
}

/** The live [fullKey, value] pairs under `prefix`: the driver's entries(), else its iterate() collected. */
function listEntries(driver, prefix) {
  if (typeof driver.entries === "function") return driver.entries(prefix);
  return collect(driver.iterate(prefix));
}

/** The full keys under `prefix`: the driver's keys(), else from its entries. */
async function listKeys(driver, prefix) {
  if (typeof driver.keys === "function") return driver.keys(prefix);
  return (await listEntries(driver, prefix)).map((entry) => entry[0]);
}

/** clear(prefix) for a driver without one: delete every listed key. */
async function clearByListing(driver, prefix) {
  const keys = await listKeys(driver, prefix);
  await Promise.all(keys.map((key) => driver.del(key)));
}

/**
 * The live record under `key` with its deadline: the driver's getRecord(), else (a
 * custom client that owns its expiry and cannot say it) its value with no deadline.
 */
function getRecordOf(driver, key) {
  if (typeof driver.getRecord === "function") return driver.getRecord(key);
  const done = (value) => (value === null || value === undefined ? null : { value, expiresAt: null });
  const value = driver.get(key);
  return isThenable(value) ? value.then(done) : done(value);
}

module.exports = { BASE_CAPS, capabilities, isThenable, listEntries, listKeys, clearByListing, getRecordOf };
