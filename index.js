"use strict";
// polykv's public facade: `kv(client, options)` returns a Store.
//
// The JS layer stays thin: it recognises the client, calls user-supplied JS
// clients, and turns everything into promises and async iterators. Storage
// engines written in Rust (SQLite, file, folder, Redis) are drivers in
// lib/drivers/ that call the native addon; the memory store keeps the user's
// very objects in a Map, as polystore does, and never crosses into Rust.
//
// Every client ends up speaking polystore's custom-client protocol in one of two
// modes (CONTRACT §19–20):
// - wrapper mode: the client stores `{ expires, value }` envelopes (expires is an
//   absolute Unix time in ms or null) and the Store hides expired ones;
// - native mode (`RAW` or `HAS_EXPIRATION`): the client gets
//   `set(key, value, expiresSeconds | null)` and owns expiry. All built-in
//   drivers but memory use this mode.

const native = require("./native.js");
const drivers = require("./lib/drivers/index.js");
const { deadline, isLive } = require("./lib/envelope.js");

// One connect() per client object, shared by every store built on it.
const connections = new WeakMap();
// Parsed `expires` strings: a string is parsed once, then looked up.
const lenientExpires = new Map();
const DERIVE = Symbol("polykv.derive");

function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no prototype"})`;
  return `a ${typeof value}`;
}

function toKey(key) {
  if (typeof key === "string") return key;
  if (typeof key === "number" && Number.isFinite(key)) return String(key);
  throw new TypeError(`[polykv] a key must be a string (or a finite number), got ${describe(key)}`);
}

/** Seconds (fractions allowed) or null for "never", from a number or a string such as "2h". */
function parseExpires(value, strict = false) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (Number.isNaN(value)) throw new TypeError("[polykv] expires must be a number of seconds, got NaN");
    return value === Infinity ? null : value;
  }
  if (typeof value !== "string") {
    throw new TypeError(
      `[polykv] expires must be a number of seconds, a duration string such as "10s", or null; got ${describe(value)}`,
    );
  }
  if (strict) {
    try {
      return native.parseExpires(value, true);
    } catch (error) {
      throw new TypeError(error.message);
    }
  }
  let seconds = lenientExpires.get(value);
  if (seconds === undefined) {
    seconds = native.parseExpires(value, false);
    if (lenientExpires.size < 10_000) lenientExpires.set(value, seconds);
  }
  return seconds;
}

function isThenable(value) {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function";
}

function isClass(value) {
  return typeof value === "function" && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** Turns whatever the user passed into a client object, or throws polystore's messages. */
function toClient(input) {
  if (input instanceof Map) return { TYPE: "MEMORY", map: input };
  for (const Driver of drivers) {
    if (Driver.test(input)) return new Driver(input);
  }
  if (typeof input === "string" && /^file:/i.test(input)) {
    throw new Error(`[polykv] "${input}" is not a file URL polykv reads: use file:///abs/path/data.json for a file, file:///abs/path/folder/ for a folder`);
  }
  const client = isClass(input) ? new input() : input;
  validateClient(client);
  return client;
}

function validateClient(client) {
  if (!client || (typeof client !== "object" && typeof client !== "function")) {
    throw new Error("Adapter should have .get() and .set()");
  }
  if (typeof client.get !== "function" || typeof client.set !== "function") {
    throw new Error("Adapter should have .get() and .set()");
  }
  const { RAW, HAS_EXPIRATION } = client;
  if (RAW !== undefined && HAS_EXPIRATION !== undefined && !RAW !== !HAS_EXPIRATION) {
    throw new Error("RAW and HAS_EXPIRATION must match");
  }
  if (!(RAW ?? HAS_EXPIRATION)) {
    for (const method of ["has", "keys", "values"]) {
      if (client[method]) throw new Error(`adapter.${method}() requires RAW or HAS_EXPIRATION`);
    }
  }
}

function connectOnce(client) {
  if (client.promise) return Promise.resolve(client.promise);
  if (typeof client.connect !== "function") return null;
  let pending = connections.get(client);
  if (!pending) {
    // Called right here, inside kv(), as polystore does; a throw becomes a rejection.
    try {
      pending = Promise.resolve(client.connect());
    } catch (error) {
      pending = Promise.reject(error);
    }
    connections.set(client, pending);
  }
  return pending;
}

/**
 * What every store built on the same client shares: the client, whether it owns
 * expiry, the Map for memory stores, and the promise to await before the first
 * operation (null once ready; a failed connect stays a rejected promise so every
 * call reports it).
 */
class Core {
  constructor() {
    this.client = null;
    this.native = false;
    this.map = null;
    this.ready = null;
  }

  attach(client) {
    this.client = client;
    this.native = Boolean(client.RAW ?? client.HAS_EXPIRATION);
    this.map = client.TYPE === "MEMORY" && client.map instanceof Map ? client.map : null;
  }

  // Waits for `pending` (a promise of a client, or of readiness); marks the core
  // ready when it settles well, and never leaves an unhandled rejection behind.
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
      this.#trackType();
      return;
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(`[polykv] kv() options must be an object, got ${describe(options)}`);
    }
    const { prefix = "", expires = null, strict = false } = options;
    if (typeof prefix !== "string") {
      throw new TypeError(`[polykv] the prefix option must be a string, got ${describe(prefix)}`);
    }
    this.#strict = Boolean(strict);
    this.PREFIX = prefix;
    // polystore treats a falsy default (0 included) as "never expire".
    this.EXPIRES = parseExpires(expires || null, this.#strict);

    if (isThenable(input)) {
      console.warn("[polykv] kv() got a promise: pass the client itself, polykv connects it for you");
      this.#core = new Core();
      this.type = "PROMISE";
      this.#core.wait(Promise.resolve(input).then((resolved) => this.#setup(resolved)));
      this.#trackType();
    } else {
      this.#core = new Core();
      this.#setup(input);
    }
  }

  // Fills the core from a resolved input; returns the connect promise, if any.
  #setup(input) {
    const core = this.#core;
    if (input instanceof Store) {
      this.PREFIX = input.PREFIX + this.PREFIX;
      this.EXPIRES = this.EXPIRES ?? input.EXPIRES;
      const parent = input.#core;
      if (parent.ready === null) {
        core.attach(parent.client);
        this.type = input.type;
        return undefined;
      }
      const settled = parent.ready.then(() => core.attach(parent.client));
      if (!isThenable(core.ready)) core.wait(settled);
      return settled;
    }
    const client = input === undefined ? { TYPE: "MEMORY", map: new Map() } : toClient(input);
    core.attach(client);
    this.type = client.TYPE || "UNKNOWN";
    const connecting = connectOnce(client);
    if (connecting && core.ready === null) core.wait(connecting);
    return connecting ?? undefined;
  }

  // A store made before its client is known shows its type once it is.
  #trackType() {
    const core = this.#core;
    if (core.ready === null) {
      this.type = core.client.TYPE || "UNKNOWN";
      return;
    }
    if (this.type === "UNKNOWN") this.type = "PROMISE";
    core.ready.then(
      () => {
        this.type = core.client.TYPE || "UNKNOWN";
      },
      () => {},
    );
  }

  #expiresFrom(options) {
    if (options === undefined || options === null || options.expires === undefined) return this.EXPIRES;
    return parseExpires(options.expires, this.#strict);
  }

  #requireIterate() {
    if (!this.#core.client.iterate) throw new Error(`${this.type} does not support .iterate()`);
  }

  async set(key, value, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const prefix = options?.prefix || this.PREFIX;
    const seconds = this.#expiresFrom(options);
    const full = prefix + id;
    if (value === null || value === undefined || (typeof seconds === "number" && seconds <= 0)) {
      const done = this.#delete(full);
      if (isThenable(done)) await done;
      return id;
    }
    if (core.map !== null) {
      core.map.set(full, { expires: deadline(seconds), value });
      return id;
    }
    try {
      const done = core.native ? core.client.set(full, value, seconds) : core.client.set(full, { expires: deadline(seconds), value });
      if (isThenable(done)) await done;
    } catch (error) {
      // Drivers only see the full key; a refused value names the key the caller passed.
      if (error instanceof TypeError && full !== id) error.message = error.message.split(`"${full}"`).join(`"${id}"`);
      throw error;
    }
    return id;
  }

  async add(value, options) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const prefix = options?.prefix || this.PREFIX;
    const client = core.client;
    if (typeof client.add === "function") {
      const seconds = this.#expiresFrom(options);
      return core.native ? client.add(prefix, value, seconds) : client.add(prefix, { expires: deadline(seconds), value });
    }
    return this.set(native.generateKey(), value, options);
  }

  async get(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const full = this.PREFIX + toKey(key);
    if (core.map !== null) {
      const data = core.map.get(full);
      if (data === undefined) return null;
      if (isLive(data, Date.now())) return data.value;
      core.map.delete(full);
      return null;
    }
    let data = core.client.get(full);
    if (isThenable(data)) data = await data;
    if (core.native) return data ?? null;
    return data != null && isLive(data, Date.now()) ? data.value : null;
  }

  async has(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const full = this.PREFIX + toKey(key);
    if (core.map !== null) {
      const data = core.map.get(full);
      return data !== undefined && isLive(data, Date.now());
    }
    if (typeof core.client.has === "function") return Boolean(await core.client.has(full));
    return (await this.get(key)) !== null;
  }

  async del(key) {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const id = toKey(key);
    const done = this.#delete(this.PREFIX + id);
    if (isThenable(done)) await done;
    return id;
  }

  // Deletes one record; returns what the client returned (maybe a promise), so
  // a sync client costs no extra await.
  #delete(full) {
    const { client, map, native: ownsExpiry } = this.#core;
    if (map !== null) return map.delete(full);
    if (typeof client.del === "function") return client.del(full);
    return ownsExpiry ? client.set(full, null, 0) : client.set(full, null);
  }


  // Live records under this store's prefix, as [fullKey, value], streamed.
  async *#records() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const prefix = this.PREFIX;
    if (core.map !== null) {
      const now = Date.now();
      for (const [key, data] of core.map) {
        if (key.startsWith(prefix) && isLive(data, now)) yield [key, data.value];
      }
      return;
    }
    this.#requireIterate();
    for await (const [key, data] of core.client.iterate(prefix)) {
      if (core.native) yield [key, data];
      else if (isLive(data, Date.now())) yield [key, data.value];
    }
  }

  async *[Symbol.asyncIterator]() {
    const cut = this.PREFIX.length;
    for await (const [key, value] of this.#records()) yield [key.slice(cut), value];
  }

  async entries() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const cut = this.PREFIX.length;
    if (core.map === null && typeof core.client.entries === "function") {
      const list = await core.client.entries(this.PREFIX);
      if (core.native) return list.map(([key, value]) => [key.slice(cut), value]);
      const now = Date.now();
      return list.filter(([, data]) => isLive(data, now)).map(([key, data]) => [key.slice(cut), data.value]);
    }
    const list = [];
    for await (const [key, value] of this.#records()) list.push([key.slice(cut), value]);
    return list;
  }

  async keys() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    if (core.native && typeof core.client.keys === "function") {
      const cut = this.PREFIX.length;
      return (await core.client.keys(this.PREFIX)).map((key) => key.slice(cut));
    }
    return (await this.entries()).map((entry) => entry[0]);
  }

  async values() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    if (core.map === null && typeof core.client.values === "function") {
      const list = await core.client.values(this.PREFIX);
      if (core.native) return list;
      const now = Date.now();
      return list.filter((data) => isLive(data, now)).map((data) => data.value);
    }
    return (await this.entries()).map((entry) => entry[1]);
  }

  async all() {
    return Object.fromEntries(await this.entries());
  }

  async clear() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const { client, map } = core;
    if (map !== null) {
      if (!this.PREFIX) return map.clear();
      for (const key of map.keys()) if (key.startsWith(this.PREFIX)) map.delete(key);
      return undefined;
    }
    if (!this.PREFIX && typeof client.clearAll === "function") return void (await client.clearAll());
    if (typeof client.clear === "function") return void (await client.clear(this.PREFIX));
    const keys = await this.keys();
    await Promise.all(keys.map((key) => this.#delete(this.PREFIX + key)));
    return undefined;
  }

  /** Removes expired records under this prefix (a no-op where the backend expires them itself). */
  async prune() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    const { client, map } = core;
    const prefix = this.PREFIX;
    if (map !== null) {
      const now = Date.now();
      for (const [key, data] of map) if (key.startsWith(prefix) && !isLive(data, now)) map.delete(key);
      return;
    }
    if (typeof client.prune === "function") return void (await client.prune(prefix));
    if (core.native || !client.iterate) return;
    const now = Date.now();
    const expired = [];
    for await (const [key, data] of client.iterate(prefix)) if (!isLive(data, now)) expired.push(key);
    for (const key of expired) await this.#delete(key);
  }

  async close() {
    const core = this.#core;
    if (core.ready !== null) await core.ready;
    if (typeof core.client.close === "function") return core.client.close();
    return undefined;
  }

  /** A store over the same client whose keys all start with `PREFIX + prefix`. */
  prefix(prefix = "") {
    if (typeof prefix !== "string") {
      throw new TypeError(`[polykv] prefix() takes a string, got ${describe(prefix)}`);
    }
    return new Store(DERIVE, { from: this, prefix: this.PREFIX + prefix, expires: this.EXPIRES });
  }

  /** A store over the same client whose default expiry is `expires` (null: never). */
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
