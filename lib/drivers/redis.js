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
//
// Bytes, the atomic operations' Lua scripts and list() are lib/redis-common.js's, as
// for the native driver. Both clients decode replies as UTF-8 text by default, which
// is what get() wants; a binary value (it starts with 0xFF, which the client turns
// into U+FFFD) is read again as a Buffer, and the reads that must be exact (getRaw,
// getAndDelete, listings) ask for Buffers: node-redis v5 through withTypeMapping, v4
// with commandOptions({ returnBuffers }), ioredis with its *Buffer commands.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { remainingMs, scanPattern } = require("../rules.js");
const { decode } = require("../json.js");
const { incrementBySwap } = require("../atomic.js");
const { openValue } = require("../record.js");
const redis = require("../redis-common.js");

// Redis keeps ms TTLs and drops expired keys itself; SCAN lists in no order.
const CAPS = capabilities({ expiresItself: true, atomic: true, bytes: true });
const BLOB_STRING = 36; // node-redis v5 RESP_TYPES.BLOB_STRING ("$")

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

// node-redis v5 reads Buffers through a proxy client made once (withTypeMapping); v4
// takes commandOptions as a first argument to each command.
function nodeRedisBuffers(client) {
  if (typeof client.withTypeMapping === "function") {
    const buffers = client.withTypeMapping({ [BLOB_STRING]: Buffer });
    return { on: buffers, options: [] };
  }
  return { on: client, options: [client.commandOptions({ returnBuffers: true })] };
}

// The two client libraries, behind the same small set of calls. `b` is the client's
// way to Buffer replies (buffers(), once per driver).
const nodeRedis = {
  buffers: nodeRedisBuffers,
  getBuffer: (client, b, key) => b.on.get(...b.options, key),
  mgetBuffer: (client, b, keys) => b.on.mGet(...b.options, keys),
  getdelBuffer: (client, b, key) => b.on.getDel(...b.options, key),
  evalsha: (client, b, sha, keys, args) =>
    b === null
      ? client.evalSha(sha, { keys, arguments: args })
      : b.on.evalSha(...b.options, sha, { keys, arguments: args }),
  eval: (client, b, text, keys, args) =>
    b === null
      ? client.eval(text, { keys, arguments: args })
      : b.on.eval(...b.options, text, { keys, arguments: args }),
  // One MULTI … EXEC; node-redis rejects when a command in it fails.
  async multi(client, writes) {
    const multi = client.multi();
    for (const [key, stored, ms] of writes) {
      if (stored === null) multi.del(key);
      else if (ms === null) multi.set(key, stored);
      else multi.set(key, stored, { PX: ms });
    }
    await multi.exec();
  },
  connect: (client) => (client.isOpen ? undefined : client.connect()),
  get: (client, key) => client.get(key),
  set: (client, key, text, ms) => (ms === null ? client.set(key, text) : client.set(key, text, { PX: ms })),
  exists: (client, key) => client.exists(key),
  del: (client, key) => client.del(key),
  unlink: (client, keys) => client.unlink(keys),
  mget: (client, keys) => client.mGet(keys),
  // v4 takes and returns a numeric cursor, v5 a string one; String() suits both.
  async scan(client, cursor, match, count = SCAN_COUNT) {
    const reply = await client.scan(String(cursor), { MATCH: match, COUNT: count });
    return [String(reply.cursor), reply.keys];
  },
  close: (client) => (typeof client.close === "function" ? client.close() : client.quit()),
};

const ioredis = {
  buffers: () => ({}),
  getBuffer: (client, b, key) => client.getBuffer(key),
  mgetBuffer: (client, b, keys) => client.mgetBuffer(keys),
  getdelBuffer: (client, b, key) => client.getdelBuffer(key),
  evalsha: (client, b, sha, keys, args) =>
    client[b === null ? "evalsha" : "evalshaBuffer"](sha, keys.length, ...keys, ...args),
  eval: (client, b, text, keys, args) =>
    client[b === null ? "eval" : "evalBuffer"](text, keys.length, ...keys, ...args),
  // One MULTI … EXEC; ioredis answers each command's error in place.
  async multi(client, writes) {
    const multi = client.multi();
    for (const [key, stored, ms] of writes) {
      if (stored === null) multi.del(key);
      else if (ms === null) multi.set(key, stored);
      else multi.set(key, stored, "PX", ms);
    }
    const failed = (await multi.exec()).find(([error]) => error);
    if (failed) throw failed[0];
  },
  // With `lazyConnect` the client waits in status "wait" until connect().
  connect: (client) => (client.status === "wait" ? client.connect() : undefined),
  get: (client, key) => client.get(key),
  set: (client, key, text, ms) => (ms === null ? client.set(key, text) : client.set(key, text, "PX", ms)),
  exists: (client, key) => client.exists(key),
  del: (client, key) => client.del(key),
  unlink: (client, keys) => client.unlink(keys),
  mget: (client, keys) => client.mget(keys),
  async scan(client, cursor, match, count = SCAN_COUNT) {
    const [next, keys] = await client.scan(String(cursor), "MATCH", match, "COUNT", count);
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
  #buffers; // the client's way to Buffer replies (lib.buffers)
  #scripts = new Set(); // the scripts sent once with EVAL (EVALSHA after)
  #noGetdel = false; // the server has no GETDEL (Redis < 6.2): getAndDelete is a script
  #listings = new redis.ScanListings();

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
    this.#buffers = this.#lib.buffers(input);
    this.#watch(input);
  }

  // The client's own connection events, as the store's (docs/behaviour.md §34): both
  // libraries emit "ready" once connected and "end" when the connection is gone for
  // good or until they reconnect (node-redis), "close" (ioredis). Its "error" stays
  // the app's: a listener here would hide errors the app relies on crashing on.
  #watch(client) {
    if (typeof client.on !== "function") return;
    let up = client.isReady === true || client.status === "ready";
    client.on("ready", () => {
      if (up) return;
      up = true;
      this.notify?.("connect");
    });
    const down = () => {
      if (!up) return;
      up = false;
      this.notify?.("disconnect");
    };
    client.on("end", down);
    client.on("close", down);
  }

  async connect() {
    await this.#lib.connect(this.#client);
  }

  // The single-key methods return the client's promise without an async frame of
  // their own: at 64 in flight every microtask per call shows.
  get(key) {
    return this.#lib.get(this.#client, key).then((text) => this.#read(key, text));
  }

  set(key, stored, expiresAt) {
    return this.#lib.set(this.#client, key, redis.toWire(stored), remainingMs(expiresAt));
  }

  // A value the client read as text: JSON, or bytes to read again as a Buffer (a read
  // of a moment later: null if the key went meanwhile).
  #read(key, text) {
    if (!redis.isLossyBytes(text)) return decode("REDIS", key, text);
    return this.getRaw(key).then((stored) => redis.readValue("REDIS", key, stored));
  }

  // The RECORDS script over one key: one command (a client's own cost per command is
  // what a read spends most on: GET + PEXPIRETIME as two measured ~0.5x a get, this ~0.7x).
  async getRecord(key) {
    const [record] = await this.#records([key]);
    return record === undefined ? null : { value: record[1], expiresAt: record[2] };
  }

  // The stored form: JSON text, or bytes, as swap() compares it.
  async getRaw(key) {
    return redis.fromWire(await this.#lib.getBuffer(this.#client, this.#buffers, key));
  }

  async swap(key, seen, next, expiresAt) {
    const args = redis.swapArgs(seen, next, expiresAt, redis.toWire);
    return (await this.#eval(redis.scripts.SWAP, [key], args, false)) === 1;
  }

  async increment(key, by, expiresAt, id = key) {
    const reply = await this.#eval(redis.scripts.INCR, [key], redis.incrementArgs(by, expiresAt), false);
    return redis.incrementResult("REDIS", key, id, by, reply, () => {
      const read = (raw) => openValue(redis.readValue("REDIS", key, raw), "REDIS");
      return incrementBySwap(this, key, id, by, expiresAt, read, (number) => JSON.stringify(number));
    });
  }

  // PEXPIRE (PERSIST for never): the value is not rewritten (docs/behaviour.md §32).
  async touch(key, expiresAt) {
    return Number(await this.#eval(redis.scripts.TOUCH, [key], redis.touchArgs(remainingMs(expiresAt)))) === 1;
  }

  async getAndDelete(key) {
    let stored;
    if (this.#noGetdel) stored = await this.#eval(redis.scripts.TAKE, [key], [], true);
    else {
      try {
        stored = await this.#lib.getdelBuffer(this.#client, this.#buffers, key);
      } catch (error) {
        if (!redis.isUnknownCommand(error)) throw error;
        this.#noGetdel = true;
        stored = await this.#eval(redis.scripts.TAKE, [key], [], true);
      }
    }
    return redis.readValue("REDIS", key, redis.fromWire(stored));
  }

  async getMany(keys) {
    if (keys.length === 0) return [];
    const texts = await this.#lib.mget(this.#client, keys);
    const values = new Array(keys.length);
    const bytes = [];
    for (let i = 0; i < keys.length; i++) {
      if (redis.isLossyBytes(texts[i])) bytes.push(i);
      else values[i] = decode("REDIS", keys[i], texts[i]);
    }
    if (bytes.length > 0) {
      // Read again as Buffers (a moment later).
      const again = await this.#lib.mgetBuffer(
        this.#client,
        this.#buffers,
        bytes.map((i) => keys[i]),
      );
      bytes.forEach((i, j) => (values[i] = redis.readValue("REDIS", keys[i], redis.fromWire(again[j]))));
    }
    return values;
  }

  // One MULTI … EXEC: all or nothing.
  async setMany(writes) {
    if (writes.length === 0) return;
    const wire = writes.map(([key, stored, expiresAt]) => [
      key,
      stored === null ? null : redis.toWire(stored),
      remainingMs(expiresAt),
    ]);
    await this.#lib.multi(this.#client, wire);
  }

  async delMany(keys) {
    if (keys.length > 0) await this.#lib.unlink(this.#client, keys);
  }

  // list(): pages over SCAN (lib/redis-common.js).
  listPage(prefix, after, limit) {
    const ops = {
      scan: async (_pattern, cursor, count) => {
        const [next, found] = await this.#lib.scan(this.#client, cursor, scanPattern(this.#keyPrefix + prefix), count);
        const cut = this.#keyPrefix.length;
        return [next, cut ? found.map((raw) => raw.slice(cut)) : found];
      },
      records: (keys) => this.#records(keys),
    };
    return this.#listings.page(prefix, after, limit, ops);
  }

  // The live records of up to 1000 keys, with their deadlines (RECORDS, as Buffers).
  async #records(keys) {
    const reply = await this.#eval(redis.scripts.RECORDS, keys, [], true);
    return redis.recordsOf(keys, reply, (key, stored) => redis.readValue("REDIS", key, redis.fromWire(stored)));
  }

  // A script of lib/redis-common.js: EVAL the first time, EVALSHA after, EVAL again
  // if the server forgot it (NOSCRIPT: SCRIPT FLUSH, a restart). `buffers`: replies
  // as Buffers.
  async #eval(script, keys, args, buffers) {
    const b = buffers ? this.#buffers : null;
    if (this.#scripts.has(script)) {
      try {
        return await this.#lib.evalsha(this.#client, b, script.sha, keys, args);
      } catch (error) {
        if (!String(error?.message).includes("NOSCRIPT")) throw error;
      }
    }
    const reply = await this.#lib.eval(this.#client, b, script.text, keys, args);
    this.#scripts.add(script);
    return reply;
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
      const values = await this.getMany(slice);
      for (let j = 0; j < slice.length; j++) {
        if (values[j] !== null && values[j] !== undefined) yield [slice[j], values[j]];
      }
    }
  }

  // [key, value, expiresAt] records, as SCAN finds the keys.
  async *iterate(prefix = "") {
    for await (const batch of this.#scan(prefix)) {
      for (let i = 0; i < batch.length; i += BATCH) yield* await this.#records(batch.slice(i, i + BATCH));
    }
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
