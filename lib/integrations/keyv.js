"use strict";
// polykv/keyv: a keyv storage adapter over any polykv store, and so a store for
// cache-manager, cacheable and @nestjs/cache-manager.
//
//   import Keyv from "keyv";
//   import { createCache } from "cache-manager";
//   import polykvKeyv from "polykv/keyv";
//   const cache = createCache({ stores: [new Keyv({ store: polykvKeyv("redis://localhost:6379") })] });
//
// keyv 5's KeyvStoreAdapter; keyv 6 wraps it in its KeyvBridgeAdapter. keyv hands the
// adapter full keys ("<namespace>:<key>") and its own serialized text; ttl is in ms.
// clear() and iterator() keep to the namespace keyv sets on the adapter.

const { EventEmitter } = require("node:events");
const { storeOf } = require("./common.js");

// keyv's ttl (ms; undefined or 0: none) as polykv's `expires` in seconds.
const expiresOf = (ttl) => (typeof ttl === "number" && ttl > 0 ? ttl / 1000 : null);

class KeyvStore extends EventEmitter {
  // keyv 5 gives Keyv#iterator() only to adapters whose opts.dialect is on its list of
  // iterable ones, and reads the dialect for nothing else; polykv's iterator works on
  // every store that lists, so it names one of them.
  opts = { dialect: "sqlite", url: "polykv:" };
  // No `namespace` property until keyv 5 sets one: keyv 6's bridge reads a store that
  // has one as scoping keys by itself, and would then not prefix them.

  /** @param client anything kv() takes (default: a memory store) */
  constructor(client) {
    super();
    this.store = storeOf(client);
  }

  /** The same adapter under `prefix`. */
  prefix(prefix) {
    return new KeyvStore(this.store.prefix(prefix));
  }

  // The store that holds this namespace's keys only.
  #scope(namespace = this.namespace) {
    return namespace ? this.store.prefix(`${namespace}:`) : this.store;
  }

  async get(key) {
    return (await this.store.get(key)) ?? undefined;
  }

  async getMany(keys) {
    return (await this.store.getMany(keys)).map((value) => value ?? undefined);
  }

  async set(key, value, ttl) {
    await this.store.set(key, value, { expires: expiresOf(ttl) });
    return true;
  }

  /** Writes `[{ key, value, ttl }]`; one store.setMany() per distinct ttl. */
  async setMany(entries) {
    const byTtl = new Map();
    for (const { key, value, ttl } of entries) {
      const expires = expiresOf(ttl);
      if (!byTtl.has(expires)) byTtl.set(expires, []);
      byTtl.get(expires).push([key, value]);
    }
    await Promise.all([...byTtl].map(([expires, pairs]) => this.store.setMany(pairs, { expires })));
  }

  /** True when the key held a value. */
  async delete(key) {
    return (await this.store.getAndDelete(key)) !== null;
  }

  async deleteMany(keys) {
    const found = await this.store.getMany(keys);
    await this.store.delMany(keys);
    return found.some((value) => value !== null);
  }

  async has(key) {
    return this.store.has(key);
  }

  async hasMany(keys) {
    return (await this.store.getMany(keys)).map((value) => value !== null);
  }

  /** Deletes this namespace's keys (every key of the store when there is no namespace). */
  async clear() {
    await this.#scope().clear();
  }

  /** `[fullKey, storedText]` for every live key of `namespace`. */
  async *iterator(namespace) {
    const base = namespace ? `${namespace}:` : "";
    for await (const [key, value] of this.#scope(namespace)) yield [base + key, value];
  }

  async disconnect() {
    await this.store.close();
  }
}

/** A keyv storage adapter over `client` (anything kv() takes; default: memory). */
function keyvStore(client) {
  return new KeyvStore(client);
}

keyvStore.default = keyvStore;
keyvStore.KeyvStore = KeyvStore;
module.exports = keyvStore;
