"use strict";
// ETCD3: the user's `etcd3` client (or one of its namespaces), recognised as
// polystore does by `leaseClient`, `watchClient` and `watchManager`.
//
// On the wire, shared with polystore: key = the full key, value = the JSON text
// of an envelope `{ "expires": <Unix ms or null>, "value": <the value> }`, with
// no etcd lease (polystore stores etcd in wrapper mode). An envelope whose time
// has passed reads as missing everywhere and is deleted by prune(); polystore
// and polykv read each other's envelopes. Metadata and binary values ride in the
// value as lib/record.js's tagged record (bytes as base64), so an envelope stays
// JSON; etcd's default request limit (1.5 MiB, --max-request-bytes) bounds a value.
//
// Listing reads the key range in pages (etcd returns keys in byte order), so
// memory stays flat while iterating. close() leaves the client open, as
// polystore does: the etcd3 client belongs to the application.
//
// Atomic operations are etcd transactions on the key's mod revision: swap reads
// the key, checks that it still holds what the caller read, and commits its write
// only `if (mod_revision == the one read)`, so a writer in between (in any process)
// makes it fail and the facade retry. getMany, setMany and delMany are one
// transaction per 128 keys (etcd's default --max-txn-ops): one consistent read, or
// all-or-nothing writes, for up to 128 keys at a time.

const { capabilities } = require("../contract.js");
const { envelopeText, openEnvelopeText, isExpiredText, isLive, parseStored, prefixEndBytes } = require("../rules.js");

const PAGE = 500; // key-values per range request when listing
const TXN_OPS = 128; // etcd's default limit of operations in one transaction
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

  // The live envelope under `key` (null when missing or expired) and the key's mod
  // revision ("0" when there is no key), read together.
  async #read(key) {
    const { kvs } = await this.#etcd.get(key).exec();
    if (kvs.length === 0) return { data: null, revision: "0" };
    const data = parseStored(kvs[0].value.toString());
    return { data: isLive(data) ? data : null, revision: kvs[0].mod_revision };
  }

  async getRecord(key) {
    const { data } = await this.#read(key);
    return data === null ? null : { value: data.value, expiresAt: data.expires ?? null };
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

  // The stored value's JSON text (what swap compares), null when missing or expired.
  async getRaw(key) {
    const { data } = await this.#read(key);
    return data === null ? null : JSON.stringify(data.value);
  }

  async swap(key, seen, next, expiresAt) {
    const { data, revision } = await this.#read(key);
    if ((data === null ? null : JSON.stringify(data.value)) !== seen) return false;
    const deadline = expiresAt === undefined ? (data?.expires ?? null) : expiresAt;
    const write =
      next === null ? this.#etcd.delete().key(key) : this.#etcd.put(key).value(envelopeText(next, deadline));
    return (await this.#etcd.if(key, "Mod", "==", revision).then(write).commit()).succeeded;
  }

  async getAndDelete(key) {
    for (;;) {
      const { data, revision } = await this.#read(key);
      if (data === null) return null;
      const taken = await this.#etcd.if(key, "Mod", "==", revision).then(this.#etcd.delete().key(key)).commit();
      if (taken.succeeded) return data.value;
    }
  }

  // Runs `ops` (builders of the client: get, put, delete) in transactions of at most
  // TXN_OPS, one after the other; resolves with every operation's response, in order.
  async #transact(ops) {
    const responses = [];
    for (let i = 0; i < ops.length; i += TXN_OPS) {
      const success = await Promise.all(ops.slice(i, i + TXN_OPS).map((op) => op.op()));
      // No comparison: the transaction always takes its success branch.
      const reply = await this.#etcd.kv.txn({ compare: [], success, failure: [] });
      responses.push(...reply.responses);
    }
    return responses;
  }

  async getMany(keys) {
    const unique = [...new Set(keys)];
    const responses = await this.#transact(unique.map((key) => this.#etcd.get(key)));
    const now = Date.now();
    const texts = new Map(unique.map((key, i) => [key, responses[i].response_range.kvs[0]?.value.toString() ?? null]));
    // Opened per position, so a key asked twice gives two copies.
    return keys.map((key) => openEnvelopeText(texts.get(key), now));
  }

  async setMany(writes) {
    // One write per key (a transaction may not name a key twice): the last wins.
    const last = new Map();
    for (const write of writes) last.set(write[0], write);
    await this.#transact(
      [...last.values()].map(([key, text, expiresAt]) =>
        text === null ? this.#etcd.delete().key(key) : this.#etcd.put(key).value(envelopeText(text, expiresAt)),
      ),
    );
  }

  async delMany(keys) {
    await this.#transact([...new Set(keys)].map((key) => this.#etcd.delete().key(key)));
  }

  // Pages of raw key-values (key and value as Buffers) under `prefix`, in key order,
  // after the key `after` when given; `size` a page.
  async *#pages(prefix, after, size = PAGE) {
    const end = prefixEndBytes(prefix) ?? ZERO;
    // The key just after `after` is `after` followed by a zero byte.
    let start = after !== undefined ? Buffer.concat([Buffer.from(after), ZERO]) : prefix ? Buffer.from(prefix) : ZERO;
    for (;;) {
      const { kvs, more } = await this.#etcd.getAll().inRange({ start, end }).limit(size).exec();
      if (kvs.length) yield kvs;
      if (!more || kvs.length === 0) return;
      // The next page starts just after the last key seen.
      start = Buffer.concat([kvs[kvs.length - 1].key, ZERO]);
    }
  }

  // Live records [key, value, expiresAt] under `prefix`, after `after`, read `size` at a time.
  async *#records(prefix, after, size) {
    for await (const page of this.#pages(prefix, after, size)) {
      const now = Date.now();
      for (const { key, value } of page) {
        const data = parseStored(value.toString());
        if (isLive(data, now)) yield [key.toString(), data.value, data.expires ?? null];
      }
    }
  }

  iterate(prefix = "", after = undefined) {
    return this.#records(prefix, after, PAGE);
  }

  // A list() page: `limit` + 1 keys a range read, so a page with no expired keys is one read.
  async listPage(prefix, after, limit) {
    const records = [];
    for await (const record of this.#records(prefix, after ?? undefined, limit + 1)) {
      records.push(record);
      if (records.length > limit) break;
    }
    if (records.length <= limit) return { records, next: null };
    records.length = limit;
    return { records, next: records[limit - 1][0] };
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
