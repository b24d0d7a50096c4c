"use strict";
// polykv/axios-cache-interceptor: an axios-cache-interceptor storage over any polykv store.
//
//   import Axios from "axios";
//   import { setupCache } from "axios-cache-interceptor";
//   import polykvStorage from "polykv/axios-cache-interceptor";
//   const axios = setupCache(Axios.create(), { storage: polykvStorage("sqlite:http-cache.db") });
//
// Each entry expires when the interceptor could no longer use it: a cached response
// that cannot go stale at the end of its ttl, a stale one at the end of its stale ttl.
// A response that can be revalidated (ETag, Last-Modified) is kept until replaced, as
// the library's own storages keep it. A `loading` entry (a request in flight) expires
// after `loadingTtl` seconds (default 60), so a request that never finishes does not
// leave its entry forever.

const { buildStorage, canStale } = require("axios-cache-interceptor");
const { storeOf, secondsUntil } = require("./common.js");

class AxiosCacheStorage {
  /**
   * @param client anything kv() takes (default: a memory store)
   * @param options `loadingTtl`: seconds a `loading` entry lives at most (default 60)
   */
  constructor(client, options = {}) {
    this.store = storeOf(client);
    this.loadingTtl = options.loadingTtl ?? 60;
  }

  /** The same storage under `prefix`, ready for setupCache(). */
  prefix(prefix) {
    return storage(new AxiosCacheStorage(this.store.prefix(prefix), { loadingTtl: this.loadingTtl }));
  }

  // polykv's `expires` (seconds, null: never) for an entry about to be stored.
  #expires(value) {
    switch (value.state) {
      case "loading":
        // Not the request's cache ttl: a response may take longer than it is fresh for,
        // and the loading entry carries the stale data a 304 answer needs.
        return this.loadingTtl;
      case "cached":
        if (!canStale(value)) return secondsUntil(value.createdAt + value.ttl);
        if (revalidates(value) || value.staleTtl === undefined) return null;
        return secondsUntil(value.createdAt + value.ttl + value.staleTtl);
      case "stale":
      case "must-revalidate":
        return typeof value.ttl === "number" ? secondsUntil(value.createdAt + value.ttl) : null;
      default:
        return null;
    }
  }

  async find(key) {
    return (await this.store.get(key)) ?? undefined;
  }

  async set(key, value) {
    await this.store.set(key, value, { expires: this.#expires(value) });
  }

  async remove(key) {
    await this.store.del(key);
  }

  async clear() {
    await this.store.clear();
  }
}

// Whether the response can be revalidated (an ETag or a Last-Modified to send back).
function revalidates(value) {
  const headers = value.data?.headers ?? {};
  const revalidation = value.data?.meta?.revalidation;
  return "etag" in headers || "last-modified" in headers || Boolean(revalidation?.etag || revalidation?.lastModified);
}

// The interceptor's storage object over `adapter`, with `store` and `prefix()` on it.
function storage(adapter) {
  const built = buildStorage({
    find: (key, request) => adapter.find(key, request),
    set: (key, value, request) => adapter.set(key, value, request),
    remove: (key, request) => adapter.remove(key, request),
    clear: () => adapter.clear(),
  });
  return Object.assign(built, { store: adapter.store, prefix: (prefix) => adapter.prefix(prefix) });
}

/** An axios-cache-interceptor storage over `client` (anything kv() takes; default: memory). */
function axiosCacheStorage(client, options) {
  return storage(new AxiosCacheStorage(client, options));
}

axiosCacheStorage.default = axiosCacheStorage;
axiosCacheStorage.AxiosCacheStorage = AxiosCacheStorage;
module.exports = axiosCacheStorage;
