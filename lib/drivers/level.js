"use strict";
// A `level` database (classic-level, browser-level, memory-level or a sublevel)
// that the user opened. Each record is stored as polystore stores it: key = full
// key, value = the JSON text of `{ "expires": <unix ms or null>, "value": … }`
// (what level's "json" value encoding writes), so polystore and polykv share a
// database. We write that text with the "utf8" encoding and read records as bytes
// ("view") per call, so a database opened with any default encoding works, and
// hide expired records ourselves: they are invisible at once, and prune() deletes
// them.
//
// A binary value is stored as bytes, not base64: a zero byte (which no JSON text
// starts with), the JSON header `{"expires":<unix ms or null>}`, a zero byte (which
// JSON text never holds), then the bytes as they are. polystore cannot read such a
// record (its "json" encoding fails on it); every other record stays its format.
// Metadata rides in the value as lib/record.js's tagged record.
//
// Level keeps keys sorted byte-wise, so the keys under a prefix are one
// contiguous range: listing seeks to the prefix and stops at the first key past
// it, instead of reading every key as polystore does. getMany is level's own;
// setMany and delMany are one batch, which level applies atomically.

const { capabilities } = require("../contract.js");
const { envelopeText, isEnvelope, isLiveAt } = require("../rules.js");

// Ordered; not atomic: level is one process's database, and two stores' read-modify-write can interleave.
const CAPS = capabilities({ ordered: true, bytes: true });

const BYTES = { keyEncoding: "utf8", valueEncoding: "view" };
const KEY_TEXT = { keyEncoding: "utf8" };
const BATCH = 256;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

// level 8 rejects a missing key with LEVEL_NOT_FOUND; level 9+ resolves undefined.
function notFound(error) {
  if (error && (error.code === "LEVEL_NOT_FOUND" || error.notFound)) return undefined;
  throw error;
}

function parse(bytes) {
  try {
    return JSON.parse(fromUtf8.decode(bytes));
  } catch {
    return null;
  }
}

/**
 * A stored record (bytes as level returns them) opened: `{ value, expires }` with
 * `expires` in ms or null, `live` whether it has not expired at `now`; null when
 * it is not one of ours (someone else's item: never read, never pruned).
 */
function openRecord(stored, now) {
  if (stored === undefined || stored === null || stored.length === 0) return null;
  if (stored[0] !== 0) {
    const data = parse(stored);
    if (!isEnvelope(data)) return null;
    return { value: data.value, expires: data.expires ?? null, live: isLiveAt(data.expires, now) };
  }
  const end = stored.indexOf(0, 1);
  const header = end < 0 ? null : parse(stored.subarray(1, end));
  if (
    header === null ||
    typeof header !== "object" ||
    !(header.expires === null || typeof header.expires === "number")
  ) {
    return null;
  }
  return { value: stored.subarray(end + 1), expires: header.expires, live: isLiveAt(header.expires, now) };
}

/** What set() writes for a stored form: [value, encoding]. */
function recordOf(stored, expiresAt) {
  if (typeof stored === "string") return [envelopeText(stored, expiresAt), "utf8"];
  const header = utf8.encode(`\0{"expires":${expiresAt ?? "null"}}\0`);
  const record = new Uint8Array(header.length + stored.byteLength);
  record.set(header);
  record.set(stored, header.length);
  return [record, "view"];
}

const liveValue = (stored, now = Date.now()) => {
  const record = openRecord(stored, now);
  return record !== null && record.live ? record.value : null;
};

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

  // [key, bytes] for every record under `prefix` (after the key `after`, when given), in key order.
  async *#range(prefix, after) {
    const iterator = this.#db.iterator({ ...BYTES, ...(after === undefined ? { gte: prefix } : { gt: after }) });
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

  // The methods below return level's own promises where they can (no extra async
  // layer: the facade awaits them).
  get(key) {
    return this.#db.get(key, BYTES).then(liveValue, (error) => liveValue(notFound(error)));
  }

  getRecord(key) {
    const open = (stored) => {
      const record = openRecord(stored, Date.now());
      return record !== null && record.live ? { value: record.value, expiresAt: record.expires } : null;
    };
    return this.#db.get(key, BYTES).then(open, (error) => open(notFound(error)));
  }

  set(key, stored, expiresAt) {
    const [value, valueEncoding] = recordOf(stored, expiresAt);
    return this.#db.put(key, value, { keyEncoding: "utf8", valueEncoding });
  }

  del(key) {
    return this.#db.del(key, KEY_TEXT);
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async getMany(keys) {
    const now = Date.now();
    return (await this.#db.getMany(keys, BYTES)).map((stored) => liveValue(stored, now));
  }

  // One batch: level applies it whole or not at all.
  setMany(writes) {
    return this.#db.batch(
      writes.map(([key, stored, expiresAt]) => {
        if (stored === null) return { type: "del", key, keyEncoding: "utf8" };
        const [value, valueEncoding] = recordOf(stored, expiresAt);
        return { type: "put", key, value, keyEncoding: "utf8", valueEncoding };
      }),
    );
  }

  delMany(keys) {
    return this.#db.batch(
      keys.map((key) => ({ type: "del", key })),
      KEY_TEXT,
    );
  }

  async *iterate(prefix = "", after = undefined) {
    for await (const [key, stored] of this.#range(prefix, after)) {
      const record = openRecord(stored, Date.now());
      if (record !== null && record.live) yield [key, record.value, record.expires];
    }
  }

  async clear(prefix = "") {
    if (!prefix) return void (await this.#db.clear());
    await this.#deleteWhere(prefix, () => true);
  }

  async prune(prefix = "") {
    const now = Date.now();
    await this.#deleteWhere(prefix, (stored) => {
      const record = openRecord(stored, now);
      return record !== null && !record.live;
    });
  }

  // Deletes the records under `prefix` whose bytes pass `test`, in batches.
  async #deleteWhere(prefix, test) {
    let batch = [];
    for await (const [key, stored] of this.#range(prefix)) {
      if (!test(stored)) continue;
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
