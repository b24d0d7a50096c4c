"use strict";
// ETCD3: the user's `etcd3` client (or one of its namespaces), recognised as
// polystore does by `leaseClient`, `watchClient` and `watchManager`.
//
// On the wire, shared with polystore: key = the full key, value = the JSON text
// of an envelope `{ "expires": <Unix ms or null>, "value": <the value> }`, with
// no etcd lease (polystore stores etcd in wrapper mode). An envelope whose time
// has passed reads as missing everywhere and is deleted by prune(); polystore
// and polykv read each other's envelopes.
//
// Listing reads the key range in pages (etcd returns keys in byte order), so
// memory stays flat while iterating. close() leaves the client open, as
// polystore does: the etcd3 client belongs to the application.

const { encode } = require("../json.js");

const PAGE = 500; // key-values per range request when listing

// A stored envelope's value, or undefined when missing, malformed or expired.
function open(text, now) {
  if (text === null || text === undefined) return undefined;
  const data = JSON.parse(text);
  if (data === null || typeof data !== "object" || !("value" in data)) return undefined;
  if (data.expires !== null && data.expires !== undefined && !(data.expires > now)) return undefined;
  return data.value;
}

// Whether `text` is an envelope whose time has passed (anything else is left alone).
function isExpired(text, now) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return false;
  }
  return data !== null && typeof data === "object" && typeof data.expires === "number" && data.expires <= now;
}

// The end of the byte range holding every key that starts with `prefix`: the
// prefix with its last byte (below 0xff) incremented. "\0" means "no end".
function rangeEnd(prefix) {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

class EtcdDriver {
  static test(input) {
    return Boolean(input && typeof input === "object" && input.leaseClient && input.watchClient && input.watchManager);
  }

  TYPE = "ETCD3";
  HAS_EXPIRATION = true;
  #etcd;

  constructor(etcd) {
    this.#etcd = etcd;
  }

  async get(key) {
    const value = open(await this.#etcd.get(key).string(), Date.now());
    return value === undefined ? null : value;
  }

  async set(key, value, seconds) {
    const text = encode(key, value);
    const expires = seconds === null || seconds === undefined ? null : Date.now() + Math.round(seconds * 1000);
    await this.#etcd.put(key).value(`{"expires":${expires},"value":${text}}`);
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async del(key) {
    await this.#etcd.delete().key(key);
  }

  // Pages of raw key-values (key and value as Buffers) under `prefix`, in key order.
  async *#pages(prefix) {
    const end = rangeEnd(prefix);
    let start = Buffer.from(prefix);
    for (;;) {
      const { kvs, more } = await this.#etcd.getAll().inRange({ start, end }).limit(PAGE).exec();
      if (kvs.length) yield kvs;
      if (!more || kvs.length === 0) return;
      // The next page starts just after the last key seen.
      start = Buffer.concat([kvs[kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  async *iterate(prefix = "") {
    for await (const page of this.#pages(prefix)) {
      const now = Date.now();
      for (const { key, value } of page) {
        const data = open(value.toString(), now);
        if (data !== undefined) yield [key.toString(), data];
      }
    }
  }

  async clear(prefix = "") {
    if (prefix) await this.#etcd.delete().prefix(prefix);
    else await this.#etcd.delete().all();
  }

  // Deletes expired envelopes under `prefix`. Each delete only happens if the key
  // was not rewritten since we read it (same mod revision), so a fresh write racing
  // with prune() survives.
  async prune(prefix = "") {
    for await (const page of this.#pages(prefix)) {
      const now = Date.now();
      const expired = page.filter(({ value }) => isExpired(value.toString(), now));
      await Promise.all(
        expired.map(({ key, mod_revision: revision }) =>
          this.#etcd.if(key, "Mod", "==", revision).then(this.#etcd.delete().key(key)).commit(),
        ),
      );
    }
  }
}

EtcdDriver.rangeEnd = rangeEnd; // exported for the tests
module.exports = EtcdDriver;
