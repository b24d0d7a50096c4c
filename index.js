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

const native = require("./native.js");
const drivers = require("./lib/drivers/index.js");
const { adaptClient } = require("./lib/adapt.js");
const { listEntries, listKeys, clearByListing, isThenable } = require("./lib/contract.js");
const { deadline, MAX_EXPIRES } = require("./lib/rules.js");
const { encode } = require("./lib/json.js");
const { polykvError, describe } = require("./lib/errors.js");

// Parsed `expires` strings: a string is parsed once, then looked up.
const lenientExpires = new Map();
const DERIVE = Symbol("polykv.derive");

// Keys and prefixes must be well-formed UTF-16: a lone surrogate has no UTF-8 form, so
// SQLite, file, folder and Redis would store "\ud800", "\udc00" and "\ufffd" as one key
// (docs/behaviour.md §28). isWellFormed() is Node 20+ and Bun; the regex is for Node 18.
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

// Beyond MAX_EXPIRES seconds no backend holds the deadline the same way (docs/behaviour.md §29).
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
    try {
      seconds = native.parseExpires(value, true);
    } catch (error) {
      throw polykvError("ERR_POLYKV_EXPIRES", null, error.message, { verbatim: true });
    }
  } else {
    seconds = lenientExpires.get(value);
    if (seconds === undefined) {
      seconds = native.parseExpires(value, false);
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

/** The driver for whatever the user passed (not a store or a promise), or polystore's errors. */
function toDriver(input, options) {
  for (const factory of drivers) {
    if (factory.test(input)) return factory.create(input, options);
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

  // Takes the driver and starts its connect(), if any; returns that promise.
  attach(driver) {
    this.driver = driver;
    this.serializes = driver.caps.serializes;
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
    const done = driver.set(full, core.serializes ? encode(id, value) : value, deadline(seconds), seconds);
    if (done !== undefined && isThenable(done)) await done;
    return id;
  }

  async add(value, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const driver = core.driver;
    if (typeof driver.add !== "function") return this.set(native.generateKey(), value, options);
    const seconds = this.#expiresFrom(options);
    const prefix = options?.prefix ? toPrefix(options.prefix, "the prefix option") : this.PREFIX;
    return driver.add(prefix, value, deadline(seconds), seconds);
  }

  async get(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    let value = core.driver.get(this.PREFIX + toKey(key));
    if (isThenable(value)) value = await value;
    return value ?? null;
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
    for await (const [key, value] of driver.iterate(this.PREFIX)) yield [key.slice(cut), value];
  }

  // Every method below reaches its driver in the same tick it was called in, once
  // the store is ready, so calls take effect in the order they were made.

  async entries() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const cut = this.PREFIX.length;
    const list = await listEntries(this.#listing(core.driver), this.PREFIX);
    return list.map(([key, value]) => [key.slice(cut), value]);
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
    if (typeof driver.values === "function") return driver.values(this.PREFIX);
    return (await listEntries(this.#listing(driver), this.PREFIX)).map((entry) => entry[1]);
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

kv.default = kv;
kv.kv = kv;
kv.Store = Store;
kv.parseExpires = parseExpires;
module.exports = kv;
