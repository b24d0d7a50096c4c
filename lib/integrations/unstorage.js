"use strict";
// polykv/unstorage: an unstorage driver over any polykv store, and Astro's session driver.
//
//   import { createStorage } from "unstorage";
//   import polykvDriver from "polykv/unstorage";
//   const storage = createStorage({ driver: polykvDriver({ url: "sqlite:cache.db", prefix: "app:", ttl: 3600 }) });
//   await storage.setItem("users:ada", { admin: true });
//
// Options are serializable, as unstorage and Astro pass them on: `url` (anything kv()
// takes as a string; default: a memory store), `prefix`, and `ttl` (seconds, the default
// expiry; a call's own `{ ttl }` wins). `store` may give a store or client object
// instead of `url`, in code that builds the driver itself. Raw values are kept as bytes.

const { storeOf } = require("./common.js");
const { polykvError, describe } = require("../errors.js");

const NAME = "polykv";
// prettier-ignore
const METHODS = ["hasItem", "getItem", "getItems", "getItemRaw", "setItem", "setItemRaw", "setItems", "removeItem",
  "getMeta", "getKeys", "clear", "dispose", "getInstance"];

function checkOptions(options) {
  if (options === null || typeof options !== "object") {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `the unstorage driver takes an options object, got ${describe(options)}`,
    );
  }
  const { url, prefix = "", ttl } = options;
  if (url !== undefined && typeof url !== "string") {
    throw polykvError("ERR_POLYKV_OPTIONS", null, `the url option must be a string, got ${describe(url)}`);
  }
  if (typeof prefix !== "string") {
    throw polykvError("ERR_POLYKV_OPTIONS", null, `the prefix option must be a string, got ${describe(prefix)}`);
  }
  if (ttl !== undefined && typeof ttl !== "number") {
    throw polykvError("ERR_POLYKV_OPTIONS", null, `the ttl option is a number of seconds, got ${describe(ttl)}`);
  }
}

class UnstorageDriver {
  name = NAME;
  flags = { ttl: true };

  /** @param options `{ url?, store?, prefix?, ttl? }` */
  constructor(options = {}) {
    checkOptions(options);
    this.options = options;
    // A store made from `url` is ours to close on dispose(); a given `store` is not.
    this.own = options.store === undefined;
    const store = storeOf(options.store ?? options.url);
    this.store = options.prefix ? store.prefix(options.prefix) : store;
    // unstorage calls a driver's methods detached from it.
    for (const name of METHODS) this[name] = this[name].bind(this);
  }

  /** The same driver under `prefix`. */
  prefix(prefix) {
    const driver = new UnstorageDriver({ ...this.options, prefix: undefined, store: this.store.prefix(prefix) });
    return driver;
  }

  // polykv's `expires` for a call: its own ttl, else the driver's, else the store's default.
  #expires(options) {
    return options?.ttl ?? this.options.ttl;
  }

  getInstance() {
    return this.store;
  }

  hasItem(key) {
    return this.store.has(key);
  }

  getItem(key) {
    return this.store.get(key);
  }

  async getItems(items) {
    const values = await this.store.getMany(items.map((item) => item.key));
    return items.map((item, i) => ({ key: item.key, value: values[i] }));
  }

  getItemRaw(key) {
    return this.store.get(key);
  }

  async setItem(key, value, options) {
    await this.store.set(key, value, { expires: this.#expires(options) });
  }

  async setItemRaw(key, value, options) {
    await this.store.set(key, value, { expires: this.#expires(options) });
  }

  async setItems(items, common) {
    // One setMany per distinct ttl (usually one).
    const groups = new Map();
    for (const { key, value, options } of items) {
      const expires = this.#expires({ ...common, ...options });
      if (!groups.has(expires)) groups.set(expires, []);
      groups.get(expires).push([key, value]);
    }
    await Promise.all([...groups].map(([expires, pairs]) => this.store.setMany(pairs, { expires })));
  }

  async removeItem(key) {
    await this.store.del(key);
  }

  /** `{ ttl }` (seconds left, rounded up) for a key that expires; `{}` otherwise; null when missing. */
  async getMeta(key) {
    const { value, expires } = await this.store.getWithMetadata(key);
    if (value === null) return null;
    return expires === null ? {} : { ttl: Math.max(0, Math.ceil((expires - Date.now()) / 1000)) };
  }

  /** The keys under `base` (unstorage filters depth itself). */
  async getKeys(base = "") {
    const keys = await this.store.prefix(base).keys();
    return base ? keys.map((key) => base + key) : keys;
  }

  async clear(base = "") {
    await this.store.prefix(base).clear();
  }

  async dispose() {
    if (this.own) await this.store.close();
  }
}

/** An unstorage driver over a polykv store: `{ url?, store?, prefix?, ttl? }`. */
function unstorageDriver(options) {
  return new UnstorageDriver(options);
}

/**
 * Astro's session driver config (Astro ≥ 6): `session: { driver: sessionDriver({ url }) }`.
 * Astro forwards only serializable config to its runtime, which imports this module
 * and calls its default export with it; so the store comes from `url`.
 */
function sessionDriver(config = {}) {
  checkOptions(config);
  if (config.store !== undefined) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      "Astro forwards only serializable config to the runtime: give the session driver a url, not a store",
    );
  }
  return { entrypoint: "polykv/unstorage", config };
}

unstorageDriver.default = unstorageDriver;
unstorageDriver.UnstorageDriver = UnstorageDriver;
unstorageDriver.sessionDriver = sessionDriver;
module.exports = unstorageDriver;
