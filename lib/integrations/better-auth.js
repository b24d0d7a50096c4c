"use strict";
// polykv/better-auth: better-auth's `secondaryStorage` over any polykv store.
//
//   import { betterAuth } from "better-auth";
//   import secondaryStorage from "polykv/better-auth";
//   export const auth = betterAuth({ database, secondaryStorage: secondaryStorage("redis://localhost:6379") });
//
// better-auth ≥ 1.7 requires the atomic getAndDelete and increment (its rate limiter
// counts with increment, which it calls detached from the object): every method here
// is an own property closed over the store, so it works unbound. A TTL is in seconds;
// a missing or 0 TTL means no expiry. increment() creates the counter at 1 with the
// TTL, and later increments never extend it (the store's increment rule).

const { storeOf } = require("./common.js");

// better-auth's ttl (seconds; undefined or 0: none) as polykv's `expires`.
const expiresOf = (ttl) => (ttl ? ttl : null);

class BetterAuthStorage {
  /** @param client anything kv() takes (default: a memory store) */
  constructor(client) {
    const store = storeOf(client);
    this.store = store;
    this.get = (key) => store.get(key);
    this.set = async (key, value, ttl) => {
      await store.set(key, value, { expires: expiresOf(ttl) });
    };
    this.delete = async (key) => {
      await store.del(key);
    };
    this.getAndDelete = (key) => store.getAndDelete(key);
    this.increment = (key, ttl) => store.increment(key, 1, { expires: expiresOf(ttl) });
  }

  /** The same storage under `prefix` (e.g. "auth:"). */
  prefix(prefix) {
    return new BetterAuthStorage(this.store.prefix(prefix));
  }
}

/** better-auth secondary storage over `client` (anything kv() takes; default: memory). */
function betterAuthStorage(client) {
  return new BetterAuthStorage(client);
}

betterAuthStorage.default = betterAuthStorage;
betterAuthStorage.BetterAuthStorage = BetterAuthStorage;
module.exports = betterAuthStorage;
