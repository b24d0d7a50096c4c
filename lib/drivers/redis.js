"use strict";
// REDIS: the user's own Redis client (redis:// URLs are ./redis-native.js,
// redis+cluster:// URLs ./redis-cluster.js).
//
// - node-redis (`redis` npm, v4 and v5), connected or not: recognised as polystore
//   does, by `pSubscribe` and `sSubscribe`; connected once by connect() if not open.
// - ioredis: recognised by its shape, `isCluster` plus `status`, `pipeline` and
//   `sendCommand`; connected by connect() when it waits (`lazyConnect`). Its
//   `keyPrefix` option is honoured (its Cluster's too).
// - A cluster client, node-redis `createCluster()` (told apart by `getSlotRandomNode`
//   and `masters`) or `new Redis.Cluster()` (`isCluster`), docs/behaviour.md §39. A
//   single-key command goes through the cluster client, which routes it by slot and
//   follows MOVED and ASK. What the two paths differ in is two things only:
//   * the nodes to SCAN (#nodes()): the client itself on one node; on a cluster each
//     master's own client (node-redis nodeClient(), ioredis nodes("master")), by the
//     first slot it serves, read from the client's own slot table;
//   * how a multi-key command is split (#pieces()): in batches of BATCH keys, and on a
//     cluster also by slot (lib/redis-slots.js, of the key as the server sees it,
//     ioredis's keyPrefix included), so MGET, UNLINK, the RECORDS script and
//     setMany's MULTI … EXEC never fail with CROSSSLOT. Pieces are sent together and
//     their results put back in the caller's order. setMany is one transaction on one
//     node, one per slot on a cluster: all or nothing within a slot.
//   Group methods SCAN master after master and drop the keys seen already; list()'s
//   cursor on a cluster is `<first slot of the master>-<that master's cursor>`, as for
//   redis+cluster:// URLs. A cluster client keeps reconnecting by itself: a master
//   that fails over mid-listing fails that call; the next one sees the new master.
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
// with commandOptions({ returnBuffers }) (a v4 cluster with returnBuffers on its
// raw commands, see nodeRedis4Cluster), ioredis with its *Buffer commands.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { remainingMs, scanPattern } = require("../rules.js");
const { decode } = require("../json.js");
const { incrementBySwap } = require("../atomic.js");
const { openValue } = require("../record.js");
const { bySlot } = require("../redis-slots.js");
const redis = require("../redis-common.js");

// Redis keeps ms TTLs and drops expired keys itself; SCAN lists in no order.
const CAPS = capabilities({ expiresItself: true, atomic: true, bytes: true });
const BLOB_STRING = 36; // node-redis v5 RESP_TYPES.BLOB_STRING ("$")

const SCAN_COUNT = 1000; // keys per SCAN round trip (a hint to the server)
const BATCH = 1000; // keys per MGET / UNLINK / RECORDS

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
const same = (key) => key;

// node-redis v5 reads Buffers through a proxy client made once (withTypeMapping); v4
// takes commandOptions as a first argument to each command.
function nodeRedisBuffers(client) {
  if (typeof client.withTypeMapping === "function") {
    const buffers = client.withTypeMapping({ [BLOB_STRING]: Buffer });
    return { on: buffers, options: [] };
  }
  return { on: client, options: [client.commandOptions({ returnBuffers: true })] };
}

// The masters of a cluster as [{ first, client }], by the first slot each serves in
// `slots` (slot → the master's id), `clientOf(id)` its own client.
async function byFirstSlot(slots, clientOf) {
  const firsts = new Map();
  for (let slot = 0; slot < slots.length; slot++) {
    const id = slots[slot];
    if (id !== undefined && id !== null && !firsts.has(id)) firsts.set(id, slot);
  }
  const masters = [...firsts].sort((a, b) => a[1] - b[1]);
  return Promise.all(masters.map(async ([id, first]) => ({ first, client: await clientOf(id) })));
}

// The two client libraries, behind the same small set of calls. `b` is the client's
// way to Buffer replies (buffers(), once per driver).
const nodeRedis = {
  buffers: nodeRedisBuffers,
  // `slots[slot].master`, a node of `masters`; nodeClient() connects it if need be.
  masters: (cluster) =>
    byFirstSlot(
      Array.from(cluster.slots, (shard) => shard?.master),
      (master) => cluster.nodeClient(master),
    ),
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
  // One MULTI … EXEC (a cluster client sends it to its first key's slot); node-redis
  // rejects when a command in it fails.
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
  // v5 close() (a v5 cluster has it too), v4 quit() (its cluster too).
  close: (client) => (typeof client.close === "function" ? client.close() : client.quit()),
  // The connection events (docs/behaviour.md §34): a client's "ready" and "end"; a v5
  // cluster's "connect" and "disconnect" (a v4 cluster emits none).
  events: (client, cluster) =>
    cluster
      ? { isUp: client.isOpen === true, up: ["connect"], down: ["disconnect"] }
      : { isUp: client.isReady === true, up: ["ready"], down: ["end", "close"] },
};

// A node-redis v4 cluster routes eval() and evalSha() by the script, not by their first
// key (its evalFirstKeyIndex reads the wrong argument: a random node, then MOVED until
// it gives up), and has no commandOptions (its symbol is the module's). So those, and
// the reads as Buffers, go as raw commands to their first key's slot: sendCommand(first
// key, read-only, arguments, { returnBuffers }). The raw replies are what the commands
// return anyway.
const BUFFERS = { returnBuffers: true };
const nodeRedis4Cluster = {
  ...nodeRedis,
  buffers: () => BUFFERS,
  getBuffer: (client, b, key) => client.sendCommand(key, true, ["GET", key], BUFFERS),
  mgetBuffer: (client, b, keys) => client.sendCommand(keys[0], true, ["MGET", ...keys], BUFFERS),
  getdelBuffer: (client, b, key) => client.sendCommand(key, false, ["GETDEL", key], BUFFERS),
  evalsha: (client, b, sha, keys, args) =>
    client.sendCommand(keys[0], false, ["EVALSHA", sha, String(keys.length), ...keys, ...args], b ?? undefined),
  eval: (client, b, text, keys, args) =>
    client.sendCommand(keys[0], false, ["EVAL", text, String(keys.length), ...keys, ...args], b ?? undefined),
};

const ioredis = {
  buffers: () => ({}),
  // `slots[slot]` is the "host:port" of its master first, then its replicas'.
  masters(cluster) {
    const nodes = new Map(cluster.nodes("master").map((node) => [`${node.options.host}:${node.options.port}`, node]));
    return byFirstSlot(
      Array.from(cluster.slots, (keys) => nodes.get(keys?.[0])),
      same,
    );
  },
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
  // "ready", and "end" or "close"; a Cluster emits the same.
  events: (client) => ({ isUp: client.status === "ready", up: ["ready"], down: ["end", "close"] }),
};

// A connect() under way, per client: a second store made on a cluster client meanwhile
// waits for it (a node-redis cluster is "open" from the start of its connect() but
// cannot route a command until it has read the slots).
const connecting = new WeakMap();

class RedisDriver {
  type = "REDIS";
  caps = CAPS;
  #client;
  #lib;
  #cluster; // a cluster client: SCAN on every master, multi-key commands split by slot
  // ioredis adds `keyPrefix` to every key argument but not to SCAN patterns, and
  // SCAN returns keys with it: listings add it to the pattern and strip it back off.
  #keyPrefix = "";
  #buffers; // the client's way to Buffer replies (lib.buffers)
  #scripts = new Set(); // the scripts sent once with EVAL (EVALSHA after)
  #noGetdel = false; // the server has no GETDEL (Redis < 6.2): getAndDelete is a script
  #listings = new redis.ScanListings();

  constructor(input) {
    this.#client = input;
    this.#cluster = isNodeRedis(input) ? isNodeRedisCluster(input) : input.isCluster;
    if (!isNodeRedis(input)) this.#lib = ioredis;
    else if (this.#cluster && typeof input.withTypeMapping !== "function") this.#lib = nodeRedis4Cluster;
    else this.#lib = nodeRedis;
    if (this.#lib === ioredis) this.#keyPrefix = input.options?.keyPrefix || "";
    this.#buffers = this.#lib.buffers(input);
    this.#watch(input);
  }

  // The client's own connection events, as the store's (docs/behaviour.md §34): both
  // libraries emit "ready" once connected and "end" when the connection is gone for
  // good or until they reconnect (node-redis), "close" (ioredis); a node-redis v5
  // cluster "connect" and "disconnect". Its "error" stays the app's: a listener here
  // would hide errors the app relies on crashing on.
  #watch(client) {
    if (typeof client.on !== "function") return;
    const events = this.#lib.events(client, this.#cluster);
    let up = events.isUp;
    const onUp = () => {
      if (up) return;
      up = true;
      this.notify?.("connect");
    };
    const onDown = () => {
      if (!up) return;
      up = false;
      this.notify?.("disconnect");
    };
    for (const event of events.up) client.on(event, onUp);
    for (const event of events.down) client.on(event, onDown);
  }

  async connect() {
    const client = this.#client;
    let pending = connecting.get(client);
    if (pending === undefined) {
      pending = Promise.resolve(this.#lib.connect(client)).finally(() => connecting.delete(client));
      connecting.set(client, pending);
    }
    await pending;
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

  // The items' multi-key commands, sent together: call(slice, indices) per piece of
  // at most `size` items, each within one slot on a cluster (the slot of the key as
  // the server sees it: `keyOf(item)` after ioredis's keyPrefix).
  #pieces(items, size, call, keyOf = same) {
    if (items.length === 0) return Promise.resolve([]);
    const groups = this.#cluster
      ? bySlot(items, (item) => this.#keyPrefix + keyOf(item)).values()
      : [items.map((_, i) => i)];
    const calls = [];
    for (const group of groups) {
      for (let i = 0; i < group.length; i += size) {
        const indices = group.length <= size ? group : group.slice(i, i + size);
        const slice = indices.length === items.length ? items : indices.map((j) => items[j]);
        calls.push(call(slice, indices));
      }
    }
    return Promise.all(calls);
  }

  async getMany(keys) {
    const values = new Array(keys.length);
    await this.#pieces(keys, BATCH, async (slice, indices) => {
      const texts = await this.#lib.mget(this.#client, slice);
      const bytes = [];
      for (let j = 0; j < slice.length; j++) {
        if (redis.isLossyBytes(texts[j])) bytes.push(j);
        else values[indices[j]] = decode("REDIS", slice[j], texts[j]);
      }
      if (bytes.length === 0) return;
      // Read again as Buffers (a moment later).
      const again = await this.#lib.mgetBuffer(
        this.#client,
        this.#buffers,
        bytes.map((j) => slice[j]),
      );
      bytes.forEach((j, n) => (values[indices[j]] = redis.readValue("REDIS", slice[j], redis.fromWire(again[n]))));
    });
    return values;
  }

  // One MULTI … EXEC: all or nothing (within a slot on a cluster).
  async setMany(writes) {
    const wire = writes.map(([key, stored, expiresAt]) => [
      key,
      stored === null ? null : redis.toWire(stored),
      remainingMs(expiresAt),
    ]);
    await this.#pieces(
      wire,
      Infinity,
      (slice) => this.#lib.multi(this.#client, slice),
      (write) => write[0],
    );
  }

  async delMany(keys) {
    await this.#pieces(keys, BATCH, (slice) => this.#lib.unlink(this.#client, slice));
  }

  // The clients to SCAN, as [{ first, client }]: the client itself on one node, each
  // master's own on a cluster, by the first slot it serves.
  #nodes() {
    if (!this.#cluster) return Promise.resolve([{ first: 0, client: this.#client }]);
    return this.#lib.masters(this.#client);
  }

  // One SCAN step on `client` under `prefix`: [next cursor, keys without ioredis's keyPrefix].
  async #scanStep(client, prefix, cursor, count) {
    const [next, found] = await this.#lib.scan(client, cursor, scanPattern(this.#keyPrefix + prefix), count);
    const cut = this.#keyPrefix.length;
    return [next, cut ? found.map((raw) => raw.slice(cut)) : found];
  }

  // list(): pages over SCAN (lib/redis-common.js). On a cluster the cursor is
  // `<first slot of the master>-<that master's cursor>`: a page may end on one master
  // and go on with the next (as lib/drivers/redis-cluster.js).
  async listPage(prefix, after, limit) {
    const page = (client, cursor, count) =>
      this.#listings.page(prefix, cursor, count, {
        scan: (_pattern, at, size) => this.#scanStep(client, prefix, at, size),
        records: (keys) => this.#records(keys),
      });
    if (!this.#cluster) return page(this.#client, after, limit);
    return redis.mastersPage(await this.#nodes(), after, limit, (master, cursor, count) =>
      page(master.client, cursor, count),
    );
  }

  // The live records of `keys`, with their deadlines (RECORDS, as Buffers), in pieces
  // of BATCH keys (within one slot each on a cluster), in the order of `keys`.
  async #records(keys) {
    const pieces = await this.#pieces(keys, BATCH, async (slice) => {
      const reply = await this.#eval(redis.scripts.RECORDS, slice, [], true);
      return redis.recordsOf(slice, reply, (key, stored) => redis.readValue("REDIS", key, redis.fromWire(stored)));
    });
    if (pieces.length <= 1) return pieces[0] ?? [];
    const found = new Map(pieces.flat().map((record) => [record[0], record]));
    return keys.filter((key) => found.has(key)).map((key) => found.get(key));
  }

  // A script of lib/redis-common.js: EVAL the first time, EVALSHA after, EVAL again
  // if the server forgot it (NOSCRIPT: SCRIPT FLUSH, a restart, or on a cluster a
  // master that has not seen it yet). `buffers`: replies as Buffers.
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

  // Batches of distinct keys under `prefix`, as SCAN finds them, master after master.
  async *#scan(prefix) {
    const seen = new Set();
    for (const { client } of await this.#nodes()) {
      let cursor = "0";
      do {
        const [next, found] = await this.#scanStep(client, prefix, cursor, SCAN_COUNT);
        cursor = next;
        const batch = [];
        for (const key of found) {
          if (!seen.has(key)) {
            seen.add(key);
            batch.push(key);
          }
        }
        if (batch.length) yield batch;
      } while (cursor !== "0");
    }
  }

  // [key, value, expiresAt] records, as SCAN finds the keys.
  async *iterate(prefix = "") {
    for await (const batch of this.#scan(prefix)) yield* await this.#records(batch);
  }

  async keys(prefix = "") {
    const keys = [];
    for await (const batch of this.#scan(prefix)) keys.push(...batch);
    return keys;
  }

  // [key, value] pairs; a key that expired or was deleted since SCAN saw it is left out.
  async entries(prefix = "") {
    const keys = await this.keys(prefix);
    const values = await this.getMany(keys);
    const entries = [];
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== null && values[i] !== undefined) entries.push([keys[i], values[i]]);
    }
    return entries;
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  async clear(prefix = "") {
    for await (const batch of this.#scan(prefix)) await this.delMany(batch);
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
