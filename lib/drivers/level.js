"use strict";
// A `level` database (classic-level, browser-level, memory-level or a sublevel)
// that the user opened. Each record is stored as polystore stores it: key = full
// key, value = the JSON text of `{ "expires": <unix ms or null>, "value": … }`
// (what level's "json" value encoding writes), so polystore and polykv share a
// database. We read and write that text with the "utf8" encoding per call, so a
// database opened with any default encoding works, and hide expired records
// ourselves: they are invisible at once, and prune() deletes them.
//
// Level keeps keys sorted byte-wise, so the keys under a prefix are one
// contiguous range: listing seeks to the prefix and stops at the first key past
// it, instead of reading every key as polystore does.

const { capabilities } = require("../contract.js");
const { envelopeText, openEnvelopeText, isExpiredText } = require("../rules.js");

// Ordered; not atomic: level is one process's database, and two stores' read-modify-write can interleave.
const CAPS = capabilities({ ordered: true });

const TEXT = { keyEncoding: "utf8", valueEncoding: "utf8" };
const KEY_TEXT = { keyEncoding: "utf8" };
const BATCH = 256;

// level 8 rejects a missing key with LEVEL_NOT_FOUND; level 9+ resolves undefined.
function notFound(error) {
  if (error && (error.code === "LEVEL_NOT_FOUND" || error.notFound)) return null;
  throw error;
}

class LevelDriver {
  type = "LEVEL";
  caps = CAPS;
  #db;

  constructor(db) {
    this.#db = db;
  }

  // A database the user just created opens in the background and queues our
  // operations meanwhile; wait for it here so the first operation does not pay
  // for the open (a 10 ms expiry would otherwise lapse before the first read).
  async connect() {
    if (this.#db.status === "opening") await this.#db.open();
  }

  // [key, text] for every record whose key starts with `prefix`, in key order.
  async *#range(prefix) {
    const iterator = this.#db.iterator({ ...TEXT, gte: prefix });
    try {
      while (true) {
        const batch = await iterator.nextv(BATCH);
        if (batch.length === 0) return;
        for (const entry of batch) {
          if (!entry[0].startsWith(prefix)) return;
          yield entry;
        }
      }
    } finally {
      await iterator.close();
    }
  }

  // The methods below return level's own promises (no extra async layer: the
  // facade awaits them).
  get(key) {
    return this.#db.get(key, TEXT).then(openEnvelopeText, notFound);
  }

  set(key, text, expiresAt) {
    return this.#db.put(key, envelopeText(text, expiresAt), TEXT);
  }

  del(key) {
    return this.#db.del(key, KEY_TEXT);
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async *iterate(prefix = "") {
    for await (const [key, text] of this.#range(prefix)) {
      const value = openEnvelopeText(text);
      if (value !== null) yield [key, value];
    }
  }

  async clear(prefix = "") {
    if (!prefix) return void (await this.#db.clear());
    await this.#deleteWhere(prefix, () => true);
  }

  async prune(prefix = "") {
    const now = Date.now();
    await this.#deleteWhere(prefix, (text) => isExpiredText(text, now));
  }

  // Deletes the records under `prefix` whose text passes `test`, in batches.
  async #deleteWhere(prefix, test) {
    let batch = [];
    for await (const [key, text] of this.#range(prefix)) {
      if (!test(text)) continue;
      batch.push({ type: "del", key });
      if (batch.length === BATCH) {
        await this.#db.batch(batch, KEY_TEXT);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#db.batch(batch, KEY_TEXT);
  }

  async close() {
    await this.#db.close();
  }
}

module.exports = {
  name: "LEVEL",
  test: (input) => Boolean(input && typeof input === "object" && input.attachResource && input.detachResource),
  create: (db) => new LevelDriver(db),
};
