"use strict";
// REDIS over redis+cluster:// and rediss+cluster:// URLs: a Redis Cluster, natively
// (docs/behaviour.md §39). The user's node-redis and ioredis cluster clients go to
// lib/drivers/redis.js instead.
//
// One native connection per master (./redis-native.js, in its cluster mode: each of
// its multi-key commands keeps to one hash slot), and the slot map, read with CLUSTER
// SLOTS of every master at once (of the seeds the first time: the URL lists some nodes,
// any will do), the first answer taken, so a master that hangs does not hold it up.
// A key's call goes to the master of its slot (lib/redis-slots.js) and is batched
// there with the other calls of the tick, as on one node.
//
// Redirections and failover. A call answered with
//   MOVED slot host:port  goes there at once, and that slot is remapped (the whole map
//                         is read again in the background);
//   ASK slot host:port    (a slot being migrated) goes there once after ASKING, when the
//                         call is one command; a call that may be several (getRecord,
//                         increment, setMany) waits for the migration to end, as for
//                         TRYAGAIN;
//   TRYAGAIN, CLUSTERDOWN, EXECABORT (a transaction refused before it ran), or a
//   connection error      waits for the slot map to be read again (at most every
//                         REFRESH_EVERY ms) and is sent again,
// for RETRY_FOR ms at most, then fails with the last error. None of those replies
// means the command ran, but a lost connection may: after one, only reads are sent
// again, and a write is retried only if it was never written (redis-native.js
// neverSent). So while a master fails over, reads wait for its replica's promotion
// and writes fail fast or wait; a call waits at most its reply deadline, RETRY_FOR,
// and the reply deadline of its last attempt.
//
// Group methods (keys, entries, values, clear, list, iteration) run on every master
// and are merged; keys and entries are sent again whole after a failure, listing
// pages are master after master (the cursor names the master by the first slot it
// serves), an iteration is not resumed. getMany, setMany and delMany are split by
// slot: setMany is one MULTI … EXEC per slot, all or nothing within a slot, which is
// why a substore wants its keys under one hash tag (`{tenant}:`).

const { polykvError } = require("../errors.js");
const { SLOTS, slotOf, bySlot } = require("../redis-slots.js");
const { addon } = require("../addon.js");
const native = require("./redis-native.js");
const redis = require("../redis-common.js");

const TYPE = "REDIS";
const RETRY_FOR = 10000; // ms a call may spend redirected or waiting for a failover
const REFRESH_EVERY = 250; // ms at least between two reads of the slot map
const MAX_REDIRECTS = 16; // MOVED/ASK answers followed by one call

// How a call may be sent again (#run).
const WRITE = 0; // a write: sent again after a lost connection only if it was never written
const READ = 1; // a read: sent again after any connection error
const ONE = 2; // one command: an ASK redirection is followed with ASKING

const REPLY = /^\[polykv\] \[REDIS\] (?:(MOVED|ASK) (\d+) (\S+)|(TRYAGAIN|CLUSTERDOWN|EXECABORT)\b)/;

function isClusterUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && /^rediss?\+cluster:\/\//i.test(href);
}

const address = (host, port) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

// A node's address as a server may name it (CLUSTER SLOTS, MOVED, ASK): a host name or an
// IP address, and a port. Anything else (credentials, a path) is a broken or hostile reply.
function isAddress(at) {
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(String(at));
  return match !== null && Number(match[1]) >= 1 && Number(match[1]) <= 65535;
}

/** `redis[s]+cluster://[[user]:password@]host[:port][,host[:port]…][/0]`: the seeds and how to reach each node. */
function parseClusterUrl(href) {
  const invalid = (why) =>
    polykvError("ERR_POLYKV_CLIENT", TYPE, `invalid Redis Cluster URL ${native.hidePassword(href)}: ${why}`);
  const scheme = href.slice(0, href.indexOf("+")).toLowerCase();
  const rest = href.slice(href.indexOf("://") + 3);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const path = end < 0 ? "" : rest.slice(end);
  if (/[?#]/.test(path)) throw invalid("it has a query or fragment: a cluster URL takes none");
  if (!/^(\/0?)?$/.test(path)) throw invalid(`a cluster has one database, 0 (the URL ends with "${path}")`);
  const at = authority.lastIndexOf("@");
  const credentials = authority.slice(0, at + 1); // "user:password@", still URL-encoded
  const seeds = [];
  for (const seed of authority.slice(at + 1).split(",")) {
    let url;
    try {
      url = new URL(`redis://${seed}`);
    } catch {
      throw invalid(`"${seed}" is not a host[:port]`);
    }
    if (!url.hostname || url.pathname !== "") throw invalid(`"${seed}" is not a host[:port]`);
    seeds.push(address(url.hostname.replace(/^\[(.*)\]$/, "$1"), url.port === "" ? 6379 : Number(url.port)));
  }
  return { scheme, credentials, seeds, label: `${scheme}+cluster://${seeds.join(",")}` };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class RedisClusterDriver {
  type = TYPE;
  caps = native.CAPS;
  #config;
  #nodes = new Map(); // "host:port" → its connection (a RedisNativeDriver)
  #slots = null; // slot → the connection to its master, once the map is read
  #masters = []; // [{ first slot, node }], by first slot
  #replicas = []; // their addresses, asked when no master answers
  #reading = null; // the slot map being read
  #readAt = 0;
  #up = false; // what the store's events last said
  #closed = false;
  #onNodeEvent = (event, payload) => {
    if (event === "connect" && !this.#up) {
      this.#up = true;
      this.notify?.("connect");
    } else if (event === "disconnect" && this.#up) {
      this.#up = false;
      this.notify?.("disconnect", payload);
    } else if (event === "error") this.notify?.("error", payload);
  };

  constructor(url) {
    this.#config = parseClusterUrl(url instanceof URL ? url.href : String(url));
  }

  get(key) {
    return this.#run(key, (node) => node.get(key), READ | ONE);
  }

  set(key, stored, expiresAt) {
    return this.#run(key, (node) => node.set(key, stored, expiresAt), WRITE | ONE);
  }

  has(key) {
    return this.#run(key, (node) => node.has(key), READ | ONE);
  }

  del(key) {
    return this.#run(key, (node) => node.del(key), WRITE | ONE);
  }

  getRecord(key) {
    return this.#run(key, (node) => node.getRecord(key), READ);
  }

  getRaw(key) {
    return this.#run(key, (node) => node.getRaw(key), READ | ONE);
  }

  swap(key, seen, next, expiresAt) {
    return this.#run(key, (node) => node.swap(key, seen, next, expiresAt), WRITE | ONE);
  }

  increment(key, by, expiresAt, id = key) {
    return this.#run(key, (node) => node.increment(key, by, expiresAt, id), WRITE);
  }

  touch(key, expiresAt) {
    return this.#run(key, (node) => node.touch(key, expiresAt), WRITE | ONE);
  }

  getAndDelete(key) {
    return this.#run(key, (node) => node.getAndDelete(key), WRITE | ONE);
  }

  // One call per master (one MGET per slot in its write); the keys of a master whose call
  // fails are read again slot by slot, each followed through redirections.
  async getMany(keys) {
    const values = new Array(keys.length);
    const fill = (indices) => (read) => indices.forEach((i, j) => (values[i] = read[j]));
    const perSlot = (indices) =>
      this.#perSlot(
        indices.map((i) => keys[i]),
        (key) => key,
        READ | ONE,
        (node, slice, within) => node.getMany(slice).then(fill(within.map((j) => indices[j]))),
      );
    const slots = this.#slots;
    if (slots === null) await perSlot(keys.map((_, i) => i));
    else {
      const parts = new Map(); // node → indices of its keys
      for (let i = 0; i < keys.length; i++) {
        const node = slots[slotOf(keys[i])];
        const part = parts.get(node);
        if (part === undefined) parts.set(node, [i]);
        else part.push(i);
      }
      const calls = [];
      for (const [node, indices] of parts) {
        if (node === undefined) calls.push(perSlot(indices));
        else calls.push(node.getMany(indices.map((i) => keys[i])).then(fill(indices), () => perSlot(indices)));
      }
      await Promise.all(calls);
    }
    return values;
  }

  async setMany(writes) {
    await this.#perSlot(
      writes,
      (write) => write[0],
      WRITE,
      (node, slice) => node.setMany(slice),
    );
  }

  async delMany(keys) {
    await this.#perSlot(
      keys,
      (key) => key,
      WRITE | ONE,
      (node, slice) => node.delMany(slice),
    );
  }

  async keys(prefix = "") {
    return [...new Set((await this.#everyMaster((node) => node.keys(prefix))).flat())];
  }

  // A key seen on two masters (its slot migrating meanwhile) is listed once.
  async entries(prefix = "") {
    const seen = new Set();
    return (await this.#everyMaster((node) => node.entries(prefix)))
      .flat()
      .filter((entry) => !seen.has(entry[0]) && seen.add(entry[0]));
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  async clear(prefix = "") {
    await this.#everyMaster((node) => node.clear(prefix));
  }

  // Redis expires keys itself.
  async prune() {}

  async *iterate(prefix = "") {
    await this.#ready();
    for (const { node } of this.#masters) yield* node.iterate(prefix);
  }

  // Master after master (lib/redis-common.js mastersPage).
  async listPage(prefix, after, limit) {
    await this.#ready();
    return redis.mastersPage(this.#masters, after, limit, (master, cursor, count) =>
      master.node.listPage(prefix, cursor, count),
    );
  }

  async close() {
    this.#closed = true;
    await this.#reading?.catch(() => {});
    await Promise.all([...this.#nodes.values()].map((node) => node.close()));
  }

  // A key's call on its slot's master, followed through redirections and failovers.
  #run(key, call, how) {
    const node = this.#slots?.[slotOf(key)];
    if (node === undefined) return this.#retry(key, call, how, null);
    return call(node).catch((error) => this.#retry(key, call, how, error));
  }

  async #retry(key, call, how, error) {
    if (this.#closed) throw error ?? this.#closedError();
    const deadline = Date.now() + RETRY_FOR;
    let redirects = 0;
    if (error === null) await this.#ready();
    for (;;) {
      let node;
      let asking = false;
      if (error !== null) {
        const reply = REPLY.exec(error.message);
        const redirect = reply !== null && reply[1] !== undefined ? reply : null;
        const follow = redirect !== null && (redirect[1] === "MOVED" || (how & ONE) !== 0);
        if (!follow && !this.#transient(error, how, reply)) throw error;
        if (Date.now() >= deadline || (follow && ++redirects > MAX_REDIRECTS)) throw error;
        if (follow) {
          if (Number(redirect[2]) !== slotOf(key) || !isAddress(redirect[3])) {
            const why = `a ${redirect[1]} reply that names another slot or no node: "${redirect[0].slice(17, 120)}"`;
            throw polykvError("ERR_POLYKV_BACKEND", TYPE, `${why} (key "${key}")`);
          }
          node = this.#node(redirect[3]);
          asking = redirect[1] === "ASK";
          if (!asking) this.#moved(Number(redirect[2]), node);
        } else await this.#refresh().catch(() => sleep(REFRESH_EVERY));
        if (this.#closed) throw error;
      }
      node ??= this.#slots[slotOf(key)];
      if (node === undefined) {
        error = polykvError(
          "ERR_POLYKV_CONNECTION",
          TYPE,
          `no master of ${this.#config.label} serves the slot of key "${key}"`,
        );
        continue;
      }
      try {
        if (asking) node.asking(); // in the same tick, right before the call's command
        return await call(node);
      } catch (failed) {
        error = failed;
      }
    }
  }

  // Whether a failed call may be sent again once the slot map is read again.
  #transient(error, how, reply) {
    if (reply !== null) return true; // TRYAGAIN, CLUSTERDOWN, EXECABORT, or an ASK not followed
    if (error.code === "ERR_POLYKV_CLOSED") return !this.#closed; // a node left the map meanwhile
    if (error.code !== "ERR_POLYKV_CONNECTION") return false;
    return (how & READ) !== 0 || native.neverSent(error) || error.message.includes(" serves the slot of ");
  }

  // The items' calls, one per slot (`keyOf` an item's key): call(node, items, indices).
  #perSlot(items, keyOf, how, call) {
    if (items.length === 0) return Promise.resolve();
    const groups = bySlot(items, keyOf);
    const calls = [];
    for (const indices of groups.values()) {
      const slice = groups.size === 1 ? items : indices.map((i) => items[i]);
      calls.push(this.#run(keyOf(slice[0]), (node) => call(node, slice, indices), how));
    }
    return Promise.all(calls);
  }

  // A group method on every master, sent again whole after a transient failure.
  async #everyMaster(call) {
    await this.#ready();
    const deadline = Date.now() + RETRY_FOR;
    for (;;) {
      try {
        return await Promise.all(this.#masters.map((master) => call(master.node)));
      } catch (error) {
        if (this.#closed || Date.now() >= deadline || !this.#transient(error, READ, REPLY.exec(error.message))) {
          throw error;
        }
        await this.#refresh().catch(() => sleep(REFRESH_EVERY));
      }
    }
  }

  #ready() {
    if (this.#closed) return Promise.reject(this.#closedError());
    return this.#slots !== null ? Promise.resolve() : this.#refresh();
  }

  // MOVED: the slot is the node's now; the rest of the map is read again soon.
  #moved(slot, node) {
    this.#slots[slot] = node;
    this.#refresh().catch(() => {}); // a failure leaves the map as it is
  }

  #node(at) {
    let node = this.#nodes.get(at);
    if (node === undefined) {
      const { scheme, credentials } = this.#config;
      node = new native.RedisNativeDriver(`${scheme}://${credentials}${at}`, { cluster: true });
      node.notify = this.#onNodeEvent;
      this.#nodes.set(at, node);
    }
    return node;
  }

  // Reads the slot map again, at most every REFRESH_EVERY ms; concurrent callers share one read.
  #refresh() {
    if (this.#reading === null) {
      const wait = this.#readAt + REFRESH_EVERY - Date.now();
      const read = async () => {
        if (wait > 0) await sleep(wait);
        await this.#readSlots();
      };
      this.#reading = read().finally(() => {
        this.#reading = null;
        this.#readAt = Date.now();
      });
    }
    return this.#reading;
  }

  // CLUSTER SLOTS from the masters (the seeds before the first map), all asked at once:
  // the first good answer is the map, so a master that hangs costs nothing. When none
  // answers, the seeds and replicas are asked the same way.
  async #readSlots() {
    const masters = this.#masters.map((master) => this.#addressOf(master.node));
    const first = masters.length > 0 ? masters : this.#config.seeds;
    const rest = [...this.#config.seeds, ...this.#replicas].filter((at) => !first.includes(at));
    let failures = [];
    for (const round of [first, rest]) {
      if (round.length === 0) continue;
      if (this.#closed) throw this.#closedError();
      let done = false; // the first good answer only: a later one may be older news
      const ask = async (at) => {
        const reply = await this.#node(at).command(["CLUSTER", "SLOTS"], "CLUSTER SLOTS");
        if (done || this.#closed) return;
        this.#apply(at, reply); // throws on a malformed reply: another node's may do
        done = true;
      };
      try {
        return await Promise.any([...new Set(round)].map(ask));
      } catch (error) {
        failures = error.errors;
      }
      const disabled = failures.find((failure) => /cluster support disabled/i.test(failure.message));
      if (disabled !== undefined) {
        const why = "is not in cluster mode (cluster support disabled): use a redis:// URL for one server";
        throw polykvError("ERR_POLYKV_CLIENT", TYPE, `${this.#config.label} ${why}`);
      }
    }
    throw failures[failures.length - 1];
  }

  // The map from a CLUSTER SLOTS reply: [[first, last, [host, port, id], replicas…], …].
  #apply(asked, reply) {
    // An empty or "?" host: the node answering (it does not know its own address).
    const askedHost = asked.slice(0, asked.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
    const hostOf = (node) => (node[0] === "" || node[0] === "?" ? askedHost : node[0]);
    const valid = (range) =>
      Array.isArray(range) &&
      Number.isInteger(range[0]) &&
      Number.isInteger(range[1]) &&
      range[0] >= 0 &&
      range[1] < SLOTS &&
      range[0] <= range[1] &&
      range.length >= 3 &&
      range
        .slice(2)
        .every(
          (node) => Array.isArray(node) && typeof node[0] === "string" && isAddress(address(hostOf(node), node[1])),
        );
    if (!Array.isArray(reply) || reply.length === 0 || !reply.every(valid)) {
      const why =
        Array.isArray(reply) && reply.length === 0 ? "serves no slot yet" : "sent an unexpected reply to CLUSTER SLOTS";
      throw polykvError("ERR_POLYKV_CONNECTION", TYPE, `the node ${asked} of ${this.#config.label} ${why}`);
    }
    const slots = new Array(SLOTS);
    const firsts = new Map(); // node → its first slot
    const replicas = [];
    for (const [first, last, master, ...others] of reply) {
      const node = this.#node(address(hostOf(master), master[1]));
      for (let slot = first; slot <= last; slot++) slots[slot] = node;
      if (!firsts.has(node) || firsts.get(node) > first) firsts.set(node, first);
      for (const replica of others) replicas.push(address(hostOf(replica), replica[1]));
    }
    this.#slots = slots;
    this.#masters = [...firsts].map(([node, first]) => ({ first, node })).sort((a, b) => a.first - b.first);
    this.#replicas = replicas;
    // Connections to nodes that serve no slot now are closed (after their calls).
    for (const [at, node] of this.#nodes) {
      if (firsts.has(node)) continue;
      this.#nodes.delete(at);
      node.close();
    }
  }

  #addressOf(node) {
    for (const [at, known] of this.#nodes) if (known === node) return at;
    return null;
  }

  #closedError() {
    return polykvError("ERR_POLYKV_CLOSED", TYPE, `the store for ${this.#config.label} is closed`);
  }
}

// The addon reads the replies: without one, kv("redis+cluster://…") is refused at once.
function create(url) {
  addon(TYPE);
  return new RedisClusterDriver(url);
}

module.exports = { name: TYPE, test: isClusterUrl, create };
