"use strict";
// REDIS: the user's own Redis client (redis:// URLs are ./redis-native.js).
//
// - node-redis (`redis` npm, v4 and v5), connected or not: recognised as polystore
//   does, by `pSubscribe` and `sSubscribe`; connected once by connect() if not open.
//   A node-redis cluster (`createCluster()`) has them too and is refused at kv()
//   time, before it connects: it is told apart by `getSlotRandomNode` and `masters`,
//   which a single-node client lacks. Over a cluster, SCAN would list one master's
//   share of the keys and UNLINK of keys in several slots fails with CROSSSLOT.
// - ioredis (single node): recognised by its shape, `isCluster === false` plus
//   `status`, `pipeline` and `sendCommand`. Its `keyPrefix` option is honoured.
//   ioredis Cluster is refused with a clear error too (SCAN and multi-key commands
//   would need per-node and per-slot handling).
//
// On the wire (docs/behaviour.md §24), shared with polystore: key = the full key, value =
// JSON text, expiry = the Redis TTL. We set it with PX (milliseconds); polystore's
// whole-second EX turns 0.01 s into "never", PX does not. Reading back works both
// ways because both sides write plain JSON.
//
// Listing is SCAN MATCH <escaped prefix>* (never KEYS, which blocks the server);
// SCAN may repeat a key, so listings drop duplicates. clear(prefix) is SCAN +
// UNLINK in batches; with an empty prefix that empties the selected database
// only, where polystore's clearAll would FLUSHALL every database on the server.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { remainingMs, scanPattern } = require("../rules.js");
const { decode } = require("../json.js");

// Redis keeps ms TTLs and drops expired keys itself; SCAN lists in no order.
const CAPS = capabilities({ expiresItself: true, atomic: true });

const SCAN_COUNT = 1000; // keys per SCAN round trip (a hint to the server)
const BATCH = 1000; // keys per MGET / UNLINK

function isNodeRedis(input) {
  return Boolean(input && input.pSubscribe && input.sSubscribe);
}

// node-redis v4 and v5 `createCluster()`: slot routing that a single client lacks.
function isNodeRedisCluster(input) {
  return isNodeRedis(input) && typeof input.getSlotRandomNode === "function" && "masters" in input;
}

function isIoredis(input) {
  return Boolean(
    input &&
    typeof input === "object" &&
    typeof input.isCluster === "boolean" &&
    typeof input.status === "string" &&
    typeof input.pipeline === "function" &&
    typeof input.sendCommand === "function",
  );
}

const isPositive = (count) => count > 0;

// The two client libraries, behind the same small set of calls.
const nodeRedis = {
  connect: (client) => (client.isOpen ? undefined : client.connect()),
  get: (client, key) => client.get(key),
  set: (client, key, text, ms) => (ms === null ? client.set(key, text) : client.set(key, text, { PX: ms })),
  exists: (client, key) => client.exists(key),
  del: (client, key) => client.del(key),
  unlink: (client, keys) => client.unlink(keys),
  mget: (client, keys) => client.mGet(keys),
  // v4 takes and returns a numeric cursor, v5 a string one; String() suits both.
  async scan(client, cursor, match) {
    const reply = await client.scan(String(cursor), { MATCH: match, COUNT: SCAN_COUNT });
    return [String(reply.cursor), reply.keys];
  },
  close: (client) => (typeof client.close === "function" ? client.close() : client.quit()),
};

const ioredis = {
  // With `lazyConnect` the client waits in status "wait" until connect().
  connect: (client) => (client.status === "wait" ? client.connect() : undefined),
  get: (client, key) => client.get(key),
  set: (client, key, text, ms) => (ms === null ? client.set(key, text) : client.set(key, text, "PX", ms)),
  exists: (client, key) => client.exists(key),
  del: (client, key) => client.del(key),
  unlink: (client, keys) => client.unlink(keys),
  mget: (client, keys) => client.mget(keys),
  async scan(client, cursor, match) {
    const [next, keys] = await client.scan(String(cursor), "MATCH", match, "COUNT", SCAN_COUNT);
    return [String(next), keys];
  },
  close: (client) => client.quit(),
};

class RedisDriver {
  type = "REDIS";
  caps = CAPS;
  #client;
  #lib;
  // ioredis adds `keyPrefix` to every key argument but not to SCAN patterns, and
  // SCAN returns keys with it: listings add it to the pattern and strip it back off.
  #keyPrefix = "";

  constructor(input) {
    if (isNodeRedisCluster(input)) {
      const why = "a node-redis cluster (createCluster()) is not supported yet";
      throw polykvError("ERR_POLYKV_CLIENT", "REDIS", `${why}; pass a single-node client or a redis:// URL`);
    }
    if (isIoredis(input) && input.isCluster) {
      const why = "an ioredis Cluster is not supported yet";
      throw polykvError("ERR_POLYKV_CLIENT", "REDIS", `${why}; pass a single-node client or a redis:// URL`);
    }
    this.#client = input;
    this.#lib = isNodeRedis(input) ? nodeRedis : ioredis;
    if (this.#lib === ioredis) this.#keyPrefix = input.options?.keyPrefix || "";
  }

  async connect() {
    await this.#lib.connect(this.#client);
  }

  // The single-key methods return the client's promise without an async frame of
  // their own: at 64 in flight every microtask per call shows.
  get(key) {
    return this.#lib.get(this.#client, key).then((text) => decode("REDIS", key, text));
  }

  set(key, text, expiresAt) {
    return this.#lib.set(this.#client, key, text, remainingMs(expiresAt));
  }

  has(key) {
    return this.#lib.exists(this.#client, key).then(isPositive);
  }

  del(key) {
    return this.#lib.del(this.#client, key);
  }

  // Batches of distinct full keys under `prefix`, as SCAN finds them.
  async *#scan(prefix) {
    const cut = this.#keyPrefix.length;
    const match = scanPattern(this.#keyPrefix + prefix);
    const seen = new Set();
    let cursor = "0";
    do {
      const [next, found] = await this.#lib.scan(this.#client, cursor, match);
      cursor = next;
      const batch = [];
      for (const raw of found) {
        const key = cut ? raw.slice(cut) : raw;
        if (!seen.has(key)) {
          seen.add(key);
          batch.push(key);
        }
      }
      if (batch.length) yield batch;
    } while (cursor !== "0");
  }

  // [key, value] pairs for `keys`, fetched with MGET in batches; a key that
  // expired or was deleted since SCAN saw it is left out.
  async *#fetch(keys) {
    for (let i = 0; i < keys.length; i += BATCH) {
      const slice = keys.length <= BATCH ? keys : keys.slice(i, i + BATCH);
      const texts = await this.#lib.mget(this.#client, slice);
      for (let j = 0; j < slice.length; j++) {
        if (texts[j] !== null && texts[j] !== undefined) yield [slice[j], decode("REDIS", slice[j], texts[j])];
      }
    }
  }

  async *iterate(prefix = "") {
    for await (const batch of this.#scan(prefix)) yield* this.#fetch(batch);
  }

  async keys(prefix = "") {
    const keys = [];
    for await (const batch of this.#scan(prefix)) keys.push(...batch);
    return keys;
  }

  async entries(prefix = "") {
    const entries = [];
    for await (const entry of this.#fetch(await this.keys(prefix))) entries.push(entry);
    return entries;
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  async clear(prefix = "") {
    for await (const batch of this.#scan(prefix)) {
      for (let i = 0; i < batch.length; i += BATCH) await this.#lib.unlink(this.#client, batch.slice(i, i + BATCH));
    }
  }

  // Redis expires keys itself: nothing to prune.
  async prune() {}

  async close() {
    await this.#lib.close(this.#client);
  }
}

module.exports = {
  name: "REDIS",
  test: (input) => isNodeRedis(input) || isIoredis(input),
  create: (client) => new RedisDriver(client),
};
