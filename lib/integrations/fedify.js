"use strict";
// polykv/fedify: a Fedify 2 KvStore over any polykv store.
//
//   import { createFederation } from "@fedify/fedify";
//   import polykvKvStore from "polykv/fedify";
//   const federation = createFederation({ kv: polykvKvStore("postgres://localhost/fedify"), queue });
//
// A Fedify key is an array of strings. Each part is stored escaped ("%" → "%25",
// "/" → "%2F") and ended by "/", so ["a"] is "a/", ["a", "b"] is "a/b/" and ["ab"] is
// "ab/": a key's string is a prefix of another's exactly when the key is a prefix of
// the other key, so list(["a"]) is one prefix listing of the store, and never meets ["ab"].
// cas() needs a store that can compare and swap (store.cas).

const { storeOf } = require("./common.js");
const { polykvError, describe } = require("../errors.js");

const escapePart = (part) => part.replaceAll("%", "%25").replaceAll("/", "%2F");
const unescapePart = (part) => part.replaceAll("%2F", "/").replaceAll("%25", "%");

/** The store key of a Fedify key. */
function encodeKey(key) {
  if (!Array.isArray(key) || key.length === 0 || !key.every((part) => typeof part === "string")) {
    throw polykvError("ERR_POLYKV_KEY", null, `a Fedify key is a non-empty array of strings, got ${describe(key)}`);
  }
  return key.map((part) => `${escapePart(part)}/`).join("");
}

/** The Fedify key of a store key made by encodeKey(). */
function decodeKey(text) {
  return text.slice(0, -1).split("/").map(unescapePart);
}

// Fedify's ttl (a Temporal.Duration) as polykv's `expires` in seconds.
function expiresOf(options) {
  const ttl = options?.ttl;
  if (ttl === undefined || ttl === null) return null;
  return ttl.total({ unit: "millisecond" }) / 1000;
}

class FedifyKvStore {
  /** @param client anything kv() takes (default: a memory store) */
  constructor(client) {
    this.store = storeOf(client);
  }

  /** The same store under `prefix`. */
  prefix(prefix) {
    return new FedifyKvStore(this.store.prefix(prefix));
  }

  async get(key) {
    return (await this.store.get(encodeKey(key))) ?? undefined;
  }

  async set(key, value, options) {
    await this.store.set(encodeKey(key), value, { expires: expiresOf(options) });
  }

  async delete(key) {
    await this.store.del(encodeKey(key));
  }

  /** Replaces the value only while it deep-equals `expectedValue` (undefined: absent); undefined `newValue` deletes. */
  cas(key, expectedValue, newValue, options) {
    return this.store.cas(encodeKey(key), expectedValue, newValue, { expires: expiresOf(options) });
  }

  /** Every live entry whose key is `prefix` or starts with it (all of them without a prefix). */
  async *list(prefix) {
    const base = prefix === undefined ? "" : encodeKey(prefix);
    for await (const [key, value] of this.store.prefix(base)) yield { key: decodeKey(base + key), value };
  }
}

/** A Fedify KvStore over `client` (anything kv() takes; default: memory). */
function fedifyKvStore(client) {
  return new FedifyKvStore(client);
}

fedifyKvStore.default = fedifyKvStore;
fedifyKvStore.FedifyKvStore = FedifyKvStore;
module.exports = fedifyKvStore;
