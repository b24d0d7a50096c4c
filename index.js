"use strict";
// polykv's public facade: `kv(client, options)` returns a Store.
//
// The JS layer stays thin. kv() turns whatever it is given into one driver
// (lib/contract.js): a built-in driver from the detection table (lib/drivers/), or
// the user's custom client adapted once by lib/adapt.js. From then on every store
// method is the same few lines for every backend: check the key, add the prefix,
// compute the deadline once, call the driver. Storage engines written in Rust
// (SQLite, file, folder, the Redis codec) sit behind their drivers; the memory
// store is a driver too, keeping the user's very objects in a Map as polystore does.

// No native addon here: the backends that run in it load it when they are made
// (lib/addon.js), so memory, Map, custom clients and the browser build need none.
const drivers = require("./lib/drivers/index.js");
const { adaptClient } = require("./lib/adapt.js");
const { listEntries, listKeys, clearByListing, isThenable, getRecordOf } = require("./lib/contract.js");
const { deadline, MAX_EXPIRES } = require("./lib/rules.js");
const { decode } = require("./lib/json.js");
const { parseLenient, parseStrict } = require("./lib/expires.js");
const { generateKey } = require("./lib/key.js");
const { hash, contentOf } = require("./lib/hash.js");
const { polykvError, describe } = require("./lib/errors.js");
const record = require("./lib/record.js");
const listing = require("./lib/list.js");
const atomic = require("./lib/atomic.js");
const { Events } = require("./lib/events.js");

// Parsed `expires` strings: a string is parsed once, then looked up (strict mode
// keeps only the strings it could read).
const lenientExpires = new Map();
const strictExpires = new Map();
const DERIVE = Symbol("polykv.derive");

// Keys and prefixes must be well-formed UTF-16: a lone surrogate has no UTF-8 form, so
// SQLite, file, folder and Redis would store "\ud800", "\udc00" and "\ufffd" as one key
// (docs/behaviour.md §37). isWellFormed() is Node 20+ and Bun; the regex is for Node 18.
const isWellFormed =
  String.prototype.isWellFormed ??
  function () {
    return !/\p{Cs}/u.test(this);
  };
const shown = (text) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

function toKey(key) {
  if (typeof key === "string") {
    if (isWellFormed.call(key)) return key;
    throw polykvError("ERR_POLYKV_KEY", null, `a key must be well-formed Unicode, ${shown(key)} has a lone surrogate`);
  }
  if (typeof key === "number" && Number.isFinite(key)) return String(key);
  throw polykvError("ERR_POLYKV_KEY", null, `a key must be a string (or a finite number), got ${describe(key)}`);
}

// A prefix (option, .prefix() or per call): a string of well-formed Unicode.
function toPrefix(prefix, what) {
  if (typeof prefix !== "string") {
    throw polykvError("ERR_POLYKV_OPTIONS", null, `${what} must be a string, got ${describe(prefix)}`);
  }
  if (!isWellFormed.call(prefix)) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `${what} must be well-formed Unicode, ${shown(prefix)} has a lone surrogate`,
    );
  }
  return prefix;
}

// Beyond MAX_EXPIRES seconds no backend holds the deadline the same way (docs/behaviour.md §38).
function tooFar(value) {
  return polykvError(
    "ERR_POLYKV_EXPIRES",
    null,
    `expires ${typeof value === "string" ? JSON.stringify(value) : value} is over the maximum of ${MAX_EXPIRES} seconds (2^31 - 1, about 68 years); use null for never`,
    { range: true },
  );
}

/** Seconds (fractions allowed) or null for "never", from a number or a string such as "2h". */
function parseExpires(value, strict = false) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (Number.isNaN(value))
      throw polykvError("ERR_POLYKV_EXPIRES", null, "expires must be a number of seconds, got NaN");
    if (value > MAX_EXPIRES) {
      if (value === Infinity) return null;
      throw tooFar(value);
    }
    return value;
  }
  if (typeof value !== "string") {
    throw polykvError(
      "ERR_POLYKV_EXPIRES",
      null,
      `expires must be a number of seconds, a duration string such as "10s", or null; got ${describe(value)}`,
    );
  }
  let seconds;
  if (strict) {
    seconds = strictExpires.get(value);
    if (seconds === undefined) {
      try {
        seconds = parseStrict(value);
      } catch (error) {
        throw polykvError("ERR_POLYKV_EXPIRES", null, error.message, { verbatim: true });
      }
      if (strictExpires.size < 10_000) strictExpires.set(value, seconds);
    }
  } else {
    seconds = lenientExpires.get(value);
    if (seconds === undefined) {
      seconds = parseLenient(value);
      if (lenientExpires.size < 10_000) lenientExpires.set(value, seconds);
    }
  }
  // A string never means "never" by overflowing: "1e400ms" is out of range, not forever.
  if (seconds !== null && seconds > MAX_EXPIRES) throw tooFar(value);
  return seconds;
}

function isClass(value) {
  return typeof value === "function" && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/**
 * The driver for whatever the user passed (not a store or a promise), or polystore's
 * errors. `options` are kv()'s; factories read the ones that are theirs (`asset`).
 */
function toDriver(input, options) {
  for (const factory of drivers) {
    if (!factory.test(input)) continue;
    const driver = factory.create(input, options);
    if (options.asset && !driver.asset) {
      throw polykvError("ERR_POLYKV_OPTIONS", null, "the asset option needs a folder URL: file:///abs/path/folder/");
    }
    return driver;
  }
  if (options.asset) {
    throw polykvError("ERR_POLYKV_OPTIONS", null, "the asset option needs a folder URL: file:///abs/path/folder/");
  }
  if (typeof input === "string" && /^file:/i.test(input)) {
    throw polykvError(
      "ERR_POLYKV_CLIENT",
      null,
      `"${input}" is not a file URL polykv reads: use file:///abs/path/data.json for a file, file:///abs/path/folder/ for a folder`,
    );
  }
  return adaptClient(isClass(input) ? new input() : input);
}

/**
 * What every store built on the same driver shares: the driver, and the promise to
 * await before the first operation (null once ready; a failed connect stays a
 * rejected promise so every call reports it).
 */
class Core {
  driver = null;
  serializes = false; // driver.caps.serializes, read on every set()
  ready = null;
  // increment/getAndDelete on a driver without swap: serialized per key, in this process.
  queue = new atomic.KeyQueue();

  #events = null;

  /** The listeners of every store on this driver (made on the first on()). */
  events() {
    return (this.#events ??= new Events());
  }

  // Takes the driver and starts its connect(), if any; returns that promise.
  attach(driver) {
    this.driver = driver;
    this.serializes = driver.caps.serializes;
    // How the driver reports connect/disconnect/error: dropped while nobody listens.
    driver.notify = (event, payload) => this.#events?.emit(event, payload) ?? false;
    if (typeof driver.connect !== "function") return undefined;
    // Called right here, inside kv(), as polystore does; a throw becomes a rejection.
    let connecting;
    try {
      connecting = Promise.resolve(driver.connect());
    } catch (error) {
      connecting = Promise.reject(error);
    }
    if (this.ready === null) this.wait(connecting);
    return connecting;
  }

  // Waits for `pending`; marks the core ready when it settles well, and never
  // leaves an unhandled rejection behind.
  wait(pending) {
    const ready = pending.then(() => {
      if (this.ready === ready) this.ready = null;
    });
    ready.catch(() => {});
    this.ready = ready;
  }
}

class Store {
  PREFIX = "";
  EXPIRES = null;
  type = "UNKNOWN";
  #core;
  #strict = false;

  constructor(input, options = {}) {
    if (input === DERIVE) {
      const { from, prefix, expires } = options;
      this.#core = from.#core;
      this.#strict = from.#strict;
      this.PREFIX = prefix;
      this.EXPIRES = expires;
      this.type = from.type;
      this.#trackType();
      return;
    }
    if (options === null || typeof options !== "object") {
      throw polykvError("ERR_POLYKV_OPTIONS", null, `kv() options must be an object, got ${describe(options)}`);
    }
    const { prefix = "", expires = null, strict = false } = options;
    this.#strict = Boolean(strict);
    this.PREFIX = toPrefix(prefix, "the prefix option");
    // polystore treats a falsy default (0 included) as "never expire".
    this.EXPIRES = parseExpires(expires || null, this.#strict);

    if (input instanceof Store) {
      this.#wrap(input);
    } else if (isThenable(input)) {
      console.warn("[polykv] kv() got a promise: pass the client itself, polykv connects it for you");
      this.#core = new Core();
      this.type = "PROMISE";
      this.#core.wait(
        Promise.resolve(input).then((resolved) => {
          if (resolved instanceof Store) return this.#wrap(resolved, this.#core);
          return this.#core.attach(toDriver(resolved, options));
        }),
      );
      this.#trackType();
    } else {
      this.#core = new Core();
      this.#core.attach(toDriver(input, options));
      this.type = this.#core.driver.type;
    }
  }

  // Re-wrapping a store keeps its driver, prefix and default expiry (a new prefix
  // is appended). `core` is this store's own core when it was a promise of a store.
  #wrap(inner, core = null) {
    this.PREFIX = inner.PREFIX + this.PREFIX;
    this.EXPIRES = this.EXPIRES ?? inner.EXPIRES;
    if (core === null) {
      this.#core = inner.#core;
      this.type = inner.type;
      this.#trackType();
      return undefined;
    }
    const parent = inner.#core;
    return Promise.resolve(parent.ready).then(() => {
      core.driver = parent.driver;
      core.serializes = parent.serializes;
    });
  }

  // A store made before its driver is known shows its type once it is.
  #trackType() {
    const core = this.#core;
    if (core.ready === null) {
      this.type = core.driver.type;
      return;
    }
    core.ready.then(
      () => {
        this.type = core.driver.type;
      },
      () => {},
    );
  }

  /** What the backend can do (lib/contract.js); null until a promised client resolves. */
  get capabilities() {
    return this.#core.driver?.caps ?? null;
  }

  #expiresFrom(options) {
    if (options === undefined || options === null || options.expires === undefined) return this.EXPIRES;
    return parseExpires(options.expires, this.#strict);
  }

  // The driver, when it can list; polystore's error otherwise.
  #listing(driver) {
    if (!driver.caps.listing) {
      throw polykvError("ERR_POLYKV_UNSUPPORTED", null, `${this.type} does not support .iterate()`, { verbatim: true });
    }
    return driver;
  }

  async set(key, value, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const full = (options?.prefix ? toPrefix(options.prefix, "the prefix option") : this.PREFIX) + id;
    const seconds = this.#expiresFrom(options);
    const driver = core.driver;
    if (value === null || value === undefined || (seconds !== null && seconds <= 0)) {
      const done = driver.del(full);
      if (isThenable(done)) await done;
      return id;
    }
    const metadata = options?.metadata;
    const done =
      metadata === undefined && core.serializes
        ? driver.set(full, record.storedText(id, value, null, driver.caps), deadline(seconds), seconds)
        : this.#setWithMetadata(driver, full, id, value, metadata, seconds);
    if (done !== undefined && isThenable(done)) await done;
    return id;
  }

  // set() with metadata, or on a driver that keeps the caller's own objects (memory).
  #setWithMetadata(driver, full, id, value, metadata, seconds) {
    const text = record.metadataText(id, metadata);
    const expiresAt = deadline(seconds);
    if (this.#core.serializes) {
      const own = driver.caps.metadata && text !== null ? text : undefined;
      return driver.set(full, record.storedText(id, value, text, driver.caps), expiresAt, seconds, own);
    }
    return driver.set(full, this.#ownForm(id, value), expiresAt, seconds, text === null ? undefined : metadata);
  }

  // What a driver that keeps the caller's objects stores: the value itself, bytes as a Uint8Array.
  #ownForm(id, value) {
    return typeof value === "object" && value !== null && record.isBytes(value)
      ? record.checkedBytes(id, value)
      : value;
  }

  // The stored form of `value` without metadata, as set() would hand it to the driver.
  #storedForm(id, value) {
    if (value === null || value === undefined) return null;
    return this.#core.serializes
      ? record.storedText(id, value, null, this.#core.driver.caps)
      : this.#ownForm(id, value);
  }

  // The caller's value from a getRaw() answer (stored text or bytes; a record object
  // `{ value }` for drivers that keep the caller's objects).
  #readRaw(raw, full) {
    if (!this.#core.serializes) return raw.value ?? null;
    return record.openValue(typeof raw === "string" ? decode(this.type, full, raw) : raw, this.type);
  }

  async add(value, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    if (typeof driver.add !== "function") return this.set(generateKey(), value, options);
    const seconds = this.#expiresFrom(options);
    const prefix = options?.prefix ? toPrefix(options.prefix, "the prefix option") : this.PREFIX;
    return driver.add(prefix, value, deadline(seconds), seconds);
  }

  async get(key, type) {
    const as = type === undefined ? "json" : record.readType(type);
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    let value = core.driver.get(this.PREFIX + toKey(key));
    if (isThenable(value)) value = await value;
    if (core.serializes && typeof value === "object" && value !== null) value = record.openValue(value, this.type);
    return as === "json" ? (value ?? null) : record.asType(value ?? null, as);
  }

  /** `{ value, metadata, expires }` (expires: the deadline in ms, or null); all null when missing. */
  async getWithMetadata(key, type) {
    const as = type === undefined ? "json" : record.readType(type);
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const found = await getRecordOf(core.driver, this.PREFIX + toKey(key));
    if (found === null || found === undefined || found.value === null || found.value === undefined) {
      return { value: null, metadata: null, expires: null };
    }
    const { value, metadata } = this.#open(found.value, found.metadata);
    return { value: record.asType(value, as), metadata, expires: found.expiresAt ?? null };
  }

  // A driver's value (and, for drivers that keep it, metadata) as the caller's.
  #open(stored, metadata) {
    if (this.#core.serializes && !this.#core.driver.caps.metadata) return record.openStored(stored, this.type);
    const value = this.#core.serializes ? record.openValue(stored, this.type) : stored;
    return { value, metadata: metadata ?? null };
  }

  /**
   * One page of keys, as Workers KV lists them: `{ keys: [{ name, expiration?,
   * metadata? }], list_complete, cursor? }`; names relative to this store's prefix.
   */
  async list(options = {}) {
    if (options === null || typeof options !== "object") {
      throw polykvError("ERR_POLYKV_OPTIONS", null, `list() takes an options object, got ${describe(options)}`);
    }
    const { prefix = "", limit, cursor } = options;
    if (typeof prefix !== "string") {
      throw polykvError("ERR_POLYKV_OPTIONS", null, `list() prefix must be a string, got ${describe(prefix)}`);
    }
    const size = listing.pageLimit(limit);
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = this.#listing(core.driver);
    const base = this.PREFIX + prefix;
    const page = await listing.readPage(driver, base, listing.decodeCursor(cursor, base), size);
    const cut = this.PREFIX.length;
    const keys = [];
    for (const [key, value, known, own] of page.records) {
      let expiresAt = known;
      let stored = value;
      let metadata = own;
      if (expiresAt === undefined) {
        // This driver's listing does not carry deadlines: read the record.
        const found = await getRecordOf(driver, key);
        if (found === null || found === undefined) continue;
        ({ expiresAt, value: stored, metadata } = found);
      }
      const entry = { name: key.slice(cut) };
      if (expiresAt !== null && expiresAt !== undefined) entry.expiration = Math.ceil(expiresAt / 1000);
      const meta = this.#open(stored, metadata).metadata;
      if (meta !== null) entry.metadata = meta;
      keys.push(entry);
    }
    if (page.next === null) return { keys, list_complete: true };
    return { keys, list_complete: false, cursor: listing.encodeCursor(base, page.next) };
  }

  /**
   * Stores `value` under `key` with `[hash]` replaced by hash(value), only when that
   * key is absent or holds other content; returns the final key.
   */
  async setWithCache(key, value, options) {
    const id = toKey(key);
    const final = id.includes("[hash]") ? id.replaceAll("[hash]", hash(contentOf(value))) : id;
    const current = await this.get(final);
    if (current !== null && atomic.jsonEqual(current, value)) return final;
    return this.set(final, value, options);
  }

  /**
   * Replaces the value by `next` only when it deep-equals `expected` (null/undefined:
   * the key is absent); `next` null/undefined deletes. True when it replaced.
   */
  async cas(key, expected, next, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const full = this.PREFIX + id;
    const driver = core.driver;
    if (typeof driver.swap !== "function") {
      throw polykvError(
        "ERR_POLYKV_UNSUPPORTED",
        this.type,
        "cas() needs a backend that can compare and swap atomically; this one cannot (see README, Atomicity)",
      );
    }
    const seconds = this.#expiresFrom(options);
    const gone = next === null || next === undefined || (seconds !== null && seconds <= 0);
    const stored = gone ? null : this.#storedForm(id, next);
    return atomic.compareAndSwap(driver, full, expected, stored, deadline(seconds), (raw) => this.#readRaw(raw, full));
  }

  /** Adds `by` (default 1) to the number under `key` and returns the new number; a new key takes `expires`. */
  async increment(key, by = 1, options) {
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw polykvError("ERR_POLYKV_VALUE", null, `increment() takes a finite number, got ${describe(by)}`);
    }
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const full = this.PREFIX + id;
    const driver = core.driver;
    const expiresAt = deadline(this.#expiresFrom(options));
    if (typeof driver.increment === "function") {
      // undefined: the driver cannot add to what is stored (a tagged record, not a number): swap decides.
      const sum = await driver.increment(full, by, expiresAt, id);
      if (sum !== undefined) return sum;
    }
    if (typeof driver.swap === "function") {
      return atomic.incrementBySwap(
        driver,
        full,
        id,
        by,
        expiresAt,
        (raw) => this.#readRaw(raw, full),
        (number) => this.#storedForm(id, number),
      );
    }
    return this.#core.queue.run(full, async () => {
      const found = await getRecordOf(driver, full);
      const current = found === null || found === undefined ? null : this.#open(found.value).value;
      if (current !== null && typeof current !== "number") throw atomic.notANumber(id, current);
      const value = atomic.sum(id, current, by);
      const keep = current === null ? expiresAt : (found.expiresAt ?? null);
      await driver.set(full, this.#storedForm(id, value), keep, keep === null ? null : (keep - Date.now()) / 1000);
      return value;
    });
  }

  /** The value under `key`, deleted: each value is returned to exactly one caller. */
  async getAndDelete(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const full = this.PREFIX + toKey(key);
    const driver = core.driver;
    if (typeof driver.getAndDelete === "function") {
      let value = driver.getAndDelete(full);
      if (isThenable(value)) value = await value;
      return core.serializes && value !== null ? record.openValue(value, this.type) : (value ?? null);
    }
    if (typeof driver.swap === "function") return atomic.takeBySwap(driver, full, (raw) => this.#readRaw(raw, full));
    return this.#core.queue.run(full, async () => {
      const value = await this.get(full.slice(this.PREFIX.length));
      if (value !== null) await driver.del(full);
      return value;
    });
  }

  /** The values of `keys`, in order, null where missing. */
  async getMany(keys) {
    const ids = this.#keyList(keys, "getMany");
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    const full = ids.map((id) => this.PREFIX + id);
    let values;
    if (typeof driver.getMany === "function") values = await driver.getMany(full);
    else values = await Promise.all(full.map((key) => driver.get(key)));
    if (!core.serializes) return values.map((value) => value ?? null);
    return values.map((value) => (value === null || value === undefined ? null : record.openValue(value, this.type)));
  }

  /**
   * Writes every `[key, value]` (an array of pairs, or an object); a null value
   * deletes. Every value is checked before anything is written. Returns the keys.
   */
  async setMany(entries, options) {
    const pairs = Array.isArray(entries)
      ? entries
      : entries && typeof entries === "object"
        ? Object.entries(entries)
        : null;
    if (pairs === null || !pairs.every((pair) => Array.isArray(pair) && pair.length >= 1)) {
      throw polykvError("ERR_POLYKV_OPTIONS", null, "setMany() takes an array of [key, value] pairs or an object");
    }
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    const seconds = this.#expiresFrom(options);
    const gone = seconds !== null && seconds <= 0;
    const expiresAt = deadline(seconds);
    const writes = pairs.map(([key, value]) => {
      const id = toKey(key);
      return [this.PREFIX + id, gone ? null : this.#storedForm(id, value), expiresAt, id];
    });
    if (typeof driver.setMany === "function") {
      await driver.setMany(writes.map(([key, stored]) => [key, stored, expiresAt]));
    } else {
      await Promise.all(
        writes.map(([key, stored]) =>
          stored === null ? driver.del(key) : driver.set(key, stored, expiresAt, seconds),
        ),
      );
    }
    return writes.map((write) => write[3]);
  }

  /** Deletes every key of `keys`; returns them. */
  async delMany(keys) {
    const ids = this.#keyList(keys, "delMany");
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    const full = ids.map((id) => this.PREFIX + id);
    if (typeof driver.delMany === "function") await driver.delMany(full);
    else await Promise.all(full.map((key) => driver.del(key)));
    return ids;
  }

  #keyList(keys, method) {
    if (!Array.isArray(keys)) {
      throw polykvError("ERR_POLYKV_OPTIONS", null, `${method}() takes an array of keys, got ${describe(keys)}`);
    }
    return keys.map(toKey);
  }

  async has(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    if (typeof driver.has !== "function") return (await this.get(key)) !== null;
    let found = driver.has(this.PREFIX + toKey(key));
    if (isThenable(found)) found = await found;
    return Boolean(found);
  }

  async del(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const done = core.driver.del(this.PREFIX + id);
    if (isThenable(done)) await done;
    return id;
  }

  async *[Symbol.asyncIterator]() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = this.#listing(core.driver);
    const cut = this.PREFIX.length;
    const open = this.#opener();
    for await (const [key, value] of driver.iterate(this.PREFIX)) yield [key.slice(cut), open(value)];
  }

  // What turns a listed value into the caller's: tags and bytes opened on drivers that serialize.
  #opener() {
    if (!this.#core.serializes) return (value) => value;
    const type = this.type;
    return (value) => record.openValue(value, type);
  }

  // Every method below reaches its driver in the same tick it was called in, once
  // the store is ready, so calls take effect in the order they were made.

  async entries() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const cut = this.PREFIX.length;
    const list = await listEntries(this.#listing(core.driver), this.PREFIX);
    const open = this.#opener();
    return list.map(([key, value]) => [key.slice(cut), open(value)]);
  }

  async keys() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    // A native-mode custom client may answer keys() without iterate().
    if (typeof driver.keys !== "function") this.#listing(driver);
    const cut = this.PREFIX.length;
    return (await listKeys(driver, this.PREFIX)).map((key) => key.slice(cut));
  }

  async values() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    const open = this.#opener();
    if (typeof driver.values === "function") return (await driver.values(this.PREFIX)).map(open);
    return (await listEntries(this.#listing(driver), this.PREFIX)).map((entry) => open(entry[1]));
  }

  async all() {
    return Object.fromEntries(await this.entries());
  }

  async clear() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    if (typeof driver.clear === "function") return void (await driver.clear(this.PREFIX));
    if (typeof driver.keys !== "function") this.#listing(driver);
    return clearByListing(driver, this.PREFIX);
  }

  /** Removes expired records under this prefix (a no-op where the backend expires them itself). */
  async prune() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    if (typeof core.driver.prune === "function") await core.driver.prune(this.PREFIX);
  }

  async close() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    if (typeof core.driver.close === "function") return core.driver.close();
    return undefined;
  }

  /** The deadline of `key` in Unix ms; null when it never expires; undefined when it is missing. */
  async expiresAt(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const found = await getRecordOf(core.driver, this.PREFIX + toKey(key));
    if (found === null || found === undefined) return undefined;
    return found.expiresAt ?? null;
  }

  /** The ms left before `key` expires; null when it never does; undefined when it is missing. */
  async ttl(key) {
    const at = await this.expiresAt(key);
    return at === null || at === undefined ? at : Math.max(0, at - Date.now());
  }

  /**
   * Moves the expiry of `key` to `expires` from now (null: never; <= 0 deletes)
   * without changing its value or metadata; false when the key is missing.
   */
  async touch(key, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const full = this.PREFIX + toKey(key);
    const seconds = this.#expiresFrom(options);
    const driver = core.driver;
    if (seconds !== null && seconds <= 0) {
      if (!(await this.has(key))) return false;
      await driver.del(full);
      return true;
    }
    const expiresAt = deadline(seconds);
    if (typeof driver.touch === "function") return Boolean(await driver.touch(full, expiresAt));
    if (typeof driver.swap === "function") {
      return atomic.retrying(driver.type, full, async () => {
        const raw = await driver.getRaw(full);
        if (raw === null) return false;
        return (await driver.swap(full, raw, raw, expiresAt)) ? true : atomic.RETRY;
      });
    }
    // No atomic primitive: rewrite the record, serialized with increment() in this process.
    return core.queue.run(full, async () => {
      const found = await getRecordOf(driver, full);
      if (found === null || found === undefined) return false;
      const { value, metadata } = this.#open(found.value, found.metadata);
      await this.set(key, value, { expires: seconds, metadata: metadata ?? undefined });
      return true;
    });
  }

  /** Listens to the backend's `connect`, `disconnect` and `error` events (Node's EventEmitter shape). */
  on(event, listener) {
    this.#core.events().on(event, listener);
    return this;
  }

  once(event, listener) {
    this.#core.events().once(event, listener);
    return this;
  }

  off(event, listener) {
    this.#core.events().off(event, listener);
    return this;
  }

  removeListener(event, listener) {
    return this.off(event, listener);
  }

  listenerCount(event) {
    return this.#core.events().listenerCount(event);
  }

  /** A store over the same driver whose keys all start with `PREFIX + prefix`. */
  prefix(prefix = "") {
    toPrefix(prefix, "prefix()'s argument");
    return new Store(DERIVE, { from: this, prefix: this.PREFIX + prefix, expires: this.EXPIRES });
  }

  /** A store over the same driver whose default expiry is `expires` (null: never). */
  expires(expires = null) {
    return new Store(DERIVE, { from: this, prefix: this.PREFIX, expires: parseExpires(expires, this.#strict) });
  }
}

/**
 * Wraps a client in a store: `kv()` (memory), `kv(new Map())`, a URL string, a
 * client object or class, another store, or a promise of any of these.
 */
function kv(client, options) {
  return new Store(client, options);
}

// kv.open(): one store per label per process.
const opened = new Map();

/**
 * The store the environment names for `label` (Spin's model): POLYKV_STORE_<LABEL>
 * (upper-cased, "-" as "_") holding any URL kv() takes; for "default" also
 * POLYKV_URL, and with neither the zero-config `sqlite:` store.
 */
function open(label = "default") {
  if (typeof label !== "string" || !/^[A-Za-z0-9_-]+$/.test(label)) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `kv.open() takes a label of letters, digits, "-" and "_", got ${typeof label === "string" ? `"${label}"` : describe(label)}`,
    );
  }
  const name = `POLYKV_STORE_${label.toUpperCase().replace(/-/g, "_")}`;
  const env = typeof process === "object" && process.env ? process.env : {};
  const url = env[name] || (label === "default" ? env.POLYKV_URL || "sqlite:" : undefined);
  if (!url) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `no store is configured for the label "${label}": set ${name} to a URL kv() takes (such as sqlite:///data/${label}.db or redis://host:6379)`,
    );
  }
  const cached = opened.get(label);
  if (cached !== undefined && cached.url === url) return cached.store;
  const store = kv(url);
  opened.set(label, { url, store });
  return store;
}

kv.default = kv;
kv.kv = kv;
kv.Store = Store;
kv.parseExpires = parseExpires;
kv.hash = hash;
kv.open = open;
module.exports = kv;
