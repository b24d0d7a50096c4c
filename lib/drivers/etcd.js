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

const { capabilities } = require("../contract.js");
const { envelopeText, openEnvelopeText, isExpiredText, prefixEndBytes } = require("../rules.js");

const PAGE = 500; // key-values per range request when listing
const CAPS = capabilities({ ordered: true, atomic: true });
// etcd has no empty key: the range of every key starts at "\0", and an end of "\0"
// means "no end".
const ZERO = Buffer.from([0]);

class EtcdDriver {
  type = "ETCD3";
  caps = CAPS;
  #etcd;

  constructor(etcd) {
    this.#etcd = etcd;
  }

  async get(key) {
    return openEnvelopeText(await this.#etcd.get(key).string());
  }

  async set(key, text, expiresAt) {
    await this.#etcd.put(key).value(envelopeText(text, expiresAt));
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async del(key) {
    await this.#etcd.delete().key(key);
  }

  // Pages of raw key-values (key and value as Buffers) under `prefix`, in key order.
  async *#pages(prefix) {
    const end = prefixEndBytes(prefix) ?? ZERO;
    let start = prefix ? Buffer.from(prefix) : ZERO;
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
        const data = openEnvelopeText(value.toString(), now);
        if (data !== null) yield [key.toString(), data];
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
      const expired = page.filter(({ value }) => isExpiredText(value.toString(), now));
      await Promise.all(
        expired.map(({ key, mod_revision: revision }) =>
          this.#etcd.if(key, "Mod", "==", revision).then(this.#etcd.delete().key(key)).commit(),
        ),
      );
    }
  }
}

module.exports = {
  name: "ETCD3",
  test: (input) =>
    Boolean(input && typeof input === "object" && input.leaseClient && input.watchClient && input.watchManager),
  create: (etcd) => new EtcdDriver(etcd),
};
