"use strict";
// REDIS over a redis:// or rediss:// URL: the native backend, in Node and Bun alike.
// node-redis and ioredis client objects go to lib/drivers/redis.js instead; a
// redis+cluster:// store (./redis-cluster.js) is one of these per master, in cluster
// mode (`{ cluster: true }`: every multi-key command keeps to one hash slot).
//
// One engine: this file owns one socket per store (`node:net`, or `node:tls` for
// rediss://), watched by the runtime's own event loop. A tick's commands go out as
// one string, written at once (request(), below: building it here measured faster
// than a crossing into Rust that returns a Buffer). Replies are read by Rust
// (src/backend/resp.rs, an iterative parser with caps, through src/binding/resp.rs):
// one sync call per chunk read returns the whole replies in it as one flat array of
// (kind, payload) pairs, matched here to the calls in the order they were written.
// Nothing runs on another thread.
//
// Why the queue: one crossing and one write per operation would cost more than the
// round trip. Every get/set/has/del issued in the same tick is queued, and the queue
// is flushed from a microtask, right after the code that issued the operations
// yields: 64 callers that each await in a loop make batches of 64 (setImmediate
// would catch the same but add an event-loop turn to every awaited call). Each
// operation is settled from its own reply, so one failing operation (e.g. WRONGTYPE
// on a key holding a list) rejects alone. Awaiting each call makes batches of one.
//
// Order: everything goes out on the one connection, in the order it was issued, and
// Redis answers one connection in order. Group methods (keys, entries, values,
// clear, each page of an iteration) are several round trips (SCAN steps, MGET,
// UNLINK): while one runs, the calls issued after it wait behind it, so a listing
// never sees a write issued after it, as with one connection and one command.
//
// Failure (docs/behaviour.md §24): connecting (TCP, TLS, AUTH, SELECT) gives up after
// CONNECT_TIMEOUT; after a failed attempt calls fail at once for RETRY_AFTER. Every
// call has its own deadline, REPLY_TIMEOUT after it was issued, wherever it waits
// (queued behind a group method, or on the wire); a group method has one per round
// trip. A call still waiting behind a group method at its deadline is rejected
// without being sent; a reply overdue on the wire drops the connection, which
// rejects every call waiting on it (a write whose fate is unknown is never replayed:
// it may still have been applied) and the next call connects again. The socket is unref'd while no reply is awaited, so an idle
// store never keeps the process alive.
//
// On the wire (docs/behaviour.md §24), shared with polystore over node-redis: key =
// the full key, value = JSON text, expiry = the Redis TTL, set with PX (milliseconds).
// A binary value is the byte 0xFF and its bytes (lib/redis-common.js), which the
// reply parser hands back as a Buffer. cas, increment and the other atomic operations
// are Lua scripts (lib/redis-common.js), sent with EVAL the first time on a
// connection and with EVALSHA after.

const net = require("node:net");
const tls = require("node:tls");
const { readFileSync } = require("node:fs");
const { addon } = require("../addon.js");
const { capabilities } = require("../contract.js");
const { decode } = require("../json.js");
const { polykvError } = require("../errors.js");
const { remainingMs, scanPattern } = require("../rules.js");
const { incrementBySwap } = require("../atomic.js");
const { openValue } = require("../record.js");
const redis = require("../redis-common.js");
const { bySlot, chunks } = require("../redis-slots.js");

const TYPE = "REDIS";
// Redis keeps ms TTLs and drops expired keys itself; SCAN lists in no order.
const CAPS = capabilities({ expiresItself: true, atomic: true, bytes: true });
const CONNECT_TIMEOUT = 2000; // ms, for TCP + TLS + AUTH + SELECT
const REPLY_TIMEOUT = 10000; // ms from a call's issue (a group method: each round trip's) to its reply
const CHECK_EVERY = 250; // ms between deadline checks
const RETRY_AFTER = 100; // ms after a failed connect during which calls fail at once
// A batch this long is sent at once, without waiting for the end of the tick, so a
// burst of thousands of calls reaches Redis in pieces while JS is still queuing.
const CHUNK = 1024;
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024); // see #connect
const SCAN_COUNT = "1000"; // keys per SCAN step (a hint); also the most keys per MGET and UNLINK
const BATCH = 1000;

// The errors of calls that were never written to a server (no connection, or held
// behind a group method past their deadline): the cluster driver may send them
// again elsewhere, whatever they were.
const unsent = new WeakSet();
const neverSent = (error) => unsent.has(error);

// What a command of a batch is: how request() writes it and how its reply is read.
const GET = 0;
const SET = 1;
const SET_PX = 2;
const EXISTS = 3;
const DEL = 4;
const COMMAND = 5;
const REC_GET = 6; // getRecord: GET, read as GET is …
const REC_TIME = 7; // … then PEXPIRETIME of the same key, in the same write
const REC_PTTL = 8; // … or PTTL, where the server has no PEXPIRETIME (Redis < 7)

// Token kinds of RespDecoder.feed (src/backend/resp.rs `Kind`; BROKEN: src/binding/resp.rs).
const NIL = 0;
const BULK = 1;
const STATUS = 2;
const INT = 3;
const ERROR = 4;
const ARRAY = 5;
const OK = 6;
const BYTES = 7; // a Buffer: a binary value, without its marker
const BROKEN = 255;

// The request of a batch (RESP arrays of bulk strings): `ops[i]` takes its
// arguments in order from `texts` (GET, EXISTS, DEL, REC_*: the key; SET: key and
// value; SET_PX: the same, then milliseconds from `nums`; COMMAND: a count from
// `nums`, then that many texts, the command's name first). One string, or, when a
// value is bytes (a Uint8Array, sent after the marker byte), the pieces to write.
const HEADS = [
  "*2\r\n$3\r\nGET\r\n",
  "*3\r\n$3\r\nSET\r\n",
  "*5\r\n$3\r\nSET\r\n",
  "*2\r\n$6\r\nEXISTS\r\n",
  "*2\r\n$3\r\nDEL\r\n",
  null,
  "*2\r\n$3\r\nGET\r\n",
  "*2\r\n$11\r\nPEXPIRETIME\r\n",
  "*2\r\n$4\r\nPTTL\r\n",
];
const MARKER = Buffer.from([redis.MARKER]);
const bulk = (text) => "$" + Buffer.byteLength(text) + "\r\n" + text + "\r\n";
function request(ops, texts, nums) {
  let out = "";
  let parts = null;
  let t = 0;
  let n = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op === COMMAND) {
      const count = nums[n++];
      out += "*" + count + "\r\n";
      for (let j = 0; j < count; j++) {
        const text = texts[t++];
        if (typeof text === "string") out += bulk(text);
        else {
          (parts ??= []).push(out + "$" + (text.byteLength + 1) + "\r\n", MARKER, text);
          out = "\r\n";
        }
      }
      continue;
    }
    out += HEADS[op] + bulk(texts[t++]);
    if (op !== SET && op !== SET_PX) continue;
    const text = texts[t++];
    if (typeof text === "string") out += bulk(text);
    else {
      (parts ??= []).push(out + "$" + (text.byteLength + 1) + "\r\n", MARKER, text);
      out = "\r\n";
    }
    if (op === SET_PX) out += "$2\r\nPX\r\n" + bulk(String(Math.ceil(nums[n++])));
  }
  if (parts === null) return out;
  parts.push(out);
  return parts;
}

function isRedisUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && /^rediss?:\/\//i.test(href);
}

// The URL with anything between `://` and the last `@` of the authority replaced.
function hidePassword(href) {
  const start = href.indexOf("://") + 3;
  const slash = href.indexOf("/", start);
  const end = slash < 0 ? href.length : slash;
  const at = href.lastIndexOf("@", end - 1);
  return at < start ? href : `${href.slice(0, start)}***@${href.slice(at + 1)}`;
}

/** Where and how to connect: `redis[s]://[[user]:password@]host[:port][/db]`. */
function parseUrl(href) {
  const invalid = (why) => polykvError("ERR_POLYKV_CLIENT", TYPE, `invalid Redis URL ${hidePassword(href)}: ${why}`);
  let url;
  try {
    url = new URL(href);
  } catch {
    throw invalid("it cannot be parsed");
  }
  const secure = url.protocol.toLowerCase() === "rediss:";
  if (!url.hostname) throw invalid("it names no host");
  const path = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (path !== "" && !/^\d{1,9}$/.test(path)) throw invalid(`the database "${path}" is not a number`);
  const port = url.port === "" ? 6379 : Number(url.port);
  const db = path === "" ? 0 : Number(path);
  let username;
  let password;
  try {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw invalid("the credentials are not URL-encoded");
  }
  return {
    secure,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"), // IPv6 without brackets
    port,
    db,
    username,
    password,
    label: `${secure ? "rediss" : "redis"}://${url.hostname}:${port}/${db}`,
  };
}

// The trusted authorities for rediss://: the runtime's, plus SSL_CERT_FILE's when set
// (as OpenSSL-based clients honour it).
function certificates() {
  const file = process.env.SSL_CERT_FILE;
  return file ? [...tls.rootCertificates, readFileSync(file, "utf8")] : undefined;
}

// The tokens of the chunk being read (RespDecoder.feed: pairs of kind and payload),
// and where reading is.
let tokens;
let at = 0;

// The next reply as a JS value: a string (bulk, status), a number, null, an array,
// or an Error for an error reply inside an array. Arrays nest at most 32 deep.
function value() {
  const kind = tokens[at];
  const payload = tokens[at + 1];
  at += 2;
  switch (kind) {
    case BULK:
    case STATUS:
    case INT:
    case BYTES:
      return payload;
    case OK:
      return "OK";
    case ERROR:
      return new Error(payload);
    case ARRAY: {
      const list = new Array(payload);
      for (let j = 0; j < list.length; j++) list[j] = value();
      return list;
    }
    default:
      return null;
  }
}

// Commands written together, waiting for their replies. `ops[i]` says how to read
// reply i; `keys[i]` names what it was about in messages.
class Batch {
  ops = [];
  keys = [];
  texts = []; // arguments, in order (request())
  nums = []; // PX milliseconds and argument counts, in order
  resolve = [];
  reject = [];
  next = 0; // the command whose reply comes next
  deadline = Date.now() + REPLY_TIMEOUT; // of every call in it (issued in the same tick)
  handshake = null; // for AUTH/SELECT: called with an error text, or null when done
}

class RedisNativeDriver {
  type = TYPE;
  caps = CAPS;
  #config;
  #socket = null;
  #open = false; // connected and past AUTH/SELECT
  #up = false; // what the store's events last said: connected (docs/behaviour.md §34)
  #decoder = null;
  #sent = []; // batches written, oldest first from #head, each waiting for replies
  #head = 0;
  #unsent = []; // [request text, batch] waiting for the connection to be ready
  #timers = null; // { connect, replies } while a socket exists
  #failed = null; // { at, message } of the last failed connect
  #batch = null; // this tick's operations, not sent yet
  #busy = false; // a group method runs: what is issued now waits in #held
  #held = []; // batches and group methods waiting behind it, in order
  #idle = []; // resolved when no reply is awaited (close)
  #closed = false;
  #closing = null;
  #flush = () => this.#sendQueued();
  #scripts = new Set(); // the scripts sent with EVAL on #scriptsOn (EVALSHA after)
  #scriptsOn = null;
  #noGetdel = false; // the server has no GETDEL (Redis < 6.2): getAndDelete is a script
  #noExpiretime = false; // nor PEXPIRETIME (Redis < 7): deadlines come from PTTL
  #listings = new redis.ScanListings();
  #inGroup = (args, what) => this.#command(args, what);
  #cluster; // a node of a Redis Cluster (./redis-cluster.js): multi-key commands keep to one slot

  constructor(input, { cluster = false } = {}) {
    this.#config = parseUrl(input instanceof URL ? input.href : String(input));
    this.#cluster = cluster;
  }

  /** A command in this tick's batch, in order with the other calls; resolves to its reply. */
  command(args, what = args[0]) {
    return this.#call(args, what);
  }

  /** ASKING before the next call issued in this tick (a cluster's ASK redirection). */
  asking() {
    this.#call(["ASKING"], "ASKING").catch(() => {}); // the call after it reports
  }

  get(key) {
    return this.#push(GET, key);
  }

  set(key, text, expiresAt) {
    return this.#write(key, text, remainingMs(expiresAt));
  }

  has(key) {
    return this.#push(EXISTS, key);
  }

  del(key) {
    return this.#push(DEL, key);
  }

  // GET and PEXPIRETIME (or PTTL), written together: one round trip, run by Redis
  // back to back.
  getRecord(key) {
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    const absolute = !this.#noExpiretime;
    batch.ops.push(REC_GET, absolute ? REC_TIME : REC_PTTL);
    batch.keys.push(key, key);
    batch.texts.push(key, key);
    // The GET's answer waits in #stashed for the one after it, which #onData turns into
    // the record (no closure per call: getWithMetadata costs little more than get).
    return new Promise((resolve, reject) => {
      batch.resolve.push(this.#stash, resolve);
      batch.reject.push(this.#stashError, reject);
    });
  }

  #stashed = null; // getRecord: the value its GET read (an Error when it failed)
  #stash = (value) => (this.#stashed = value);
  #stashError = (error) => (this.#stashed = error);

  // getRecord's deadline command failed (`why`: the error reply; null: the GET did).
  // Without PEXPIRETIME (Redis < 7), the record is read again with PTTL.
  #recordFailed(batch, i, why) {
    const stashed = this.#stashed;
    this.#stashed = null;
    if (stashed instanceof Error) return batch.reject[i](stashed);
    if (batch.ops[i] === REC_TIME && redis.isUnknownCommand({ message: why })) {
      this.#noExpiretime = true;
      return this.getRecord(batch.keys[i]).then(batch.resolve[i], batch.reject[i]);
    }
    return batch.reject[i](polykvError("ERR_POLYKV_BACKEND", TYPE, `${why} (key "${batch.keys[i]}")`));
  }

  // getRecord's record, from the stashed value and the deadline just read.
  #record(time, absolute) {
    const value = this.#stashed;
    this.#stashed = null;
    const expiresAt = redis.deadlineOf(time, Date.now(), absolute);
    return value === null || expiresAt === undefined ? null : { value, expiresAt };
  }

  // The stored form: JSON text, or bytes (a Buffer), as swap() compares it.
  getRaw(key) {
    return this.#call(["GET", key], `key "${key}"`);
  }

  swap(key, seen, next, expiresAt) {
    const args = redis.swapArgs(seen, next, expiresAt, (stored) => stored);
    return this.#eval(redis.scripts.SWAP, [key], args).then((swapped) => swapped === 1);
  }

  // A whole `by` is Redis's own INCRBY, which keeps the TTL (a new key gets its expiry
  // from a SET NX PX before it, in one MULTI): ~0.4 µs of the server's time where the
  // INCR script takes ~7. When the stored text is not an integer (a float, a string,
  // bytes…) INCRBY fails and changes nothing, and the script decides.
  increment(key, by, expiresAt, id = key) {
    const script = () =>
      this.#eval(redis.scripts.INCR, [key], redis.incrementArgs(by, expiresAt)).then((reply) =>
        redis.incrementResult(TYPE, key, id, by, reply, () => {
          const read = (raw) => openValue(redis.readValue(TYPE, key, raw), TYPE);
          return incrementBySwap(this, key, id, by, expiresAt, read, (number) => JSON.stringify(number));
        }),
      );
    if (!Number.isSafeInteger(by)) return script();
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    const what = `key "${key}"`;
    return new Promise((resolve, reject) => {
      const failed = (error) => (/not an integer|overflow/.test(error.message) ? resolve(script()) : reject(error));
      const incrby = ["INCRBY", key, String(by)];
      if (expiresAt === null) return this.#into(batch, incrby, what, resolve, failed);
      const ignore = () => {}; // EXEC answers for them
      this.#into(batch, ["MULTI"], what, ignore, ignore);
      this.#into(batch, ["SET", key, "0", "NX", "PX", String(remainingMs(expiresAt))], what, ignore, ignore);
      this.#into(batch, incrby, what, ignore, ignore);
      const done = (replies) => (replies[1] instanceof Error ? failed(replies[1]) : resolve(replies[1]));
      return this.#into(batch, ["EXEC"], what, done, reject);
    });
  }

  // PEXPIRE (PERSIST for never): the value is not rewritten (docs/behaviour.md §32).
  touch(key, expiresAt) {
    return this.#eval(redis.scripts.TOUCH, [key], redis.touchArgs(remainingMs(expiresAt))).then((n) => n === 1);
  }

  getAndDelete(key) {
    const read = (stored) => redis.readValue(TYPE, key, stored);
    const take = () => this.#eval(redis.scripts.TAKE, [key], []).then(read);
    if (this.#noGetdel) return take();
    return this.#call(["GETDEL", key], `key "${key}"`).then(read, (error) => {
      if (!redis.isUnknownCommand(error)) throw error;
      this.#noGetdel = true;
      return take();
    });
  }

  // One MGET; on a cluster node, one per slot, in this tick's write, settled together.
  getMany(keys) {
    if (keys.length === 0) return [];
    if (!this.#cluster) {
      return this.#call(["MGET", ...keys], `MGET "${keys[0]}"…`).then((replies) =>
        replies.map((stored, i) => redis.readValue(TYPE, keys[i], stored)),
      );
    }
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    const groups = bySlot(keys);
    const values = new Array(keys.length);
    return new Promise((resolve, reject) => {
      let left = groups.size;
      for (const indices of groups.values()) {
        const args = ["MGET"];
        for (const i of indices) args.push(keys[i]);
        const read = (replies) => {
          try {
            for (let j = 0; j < indices.length; j++)
              values[indices[j]] = redis.readValue(TYPE, args[j + 1], replies[j]);
          } catch (error) {
            return reject(error);
          }
          if (--left === 0) resolve(values);
        };
        this.#into(batch, args, `MGET "${args[1]}"…`, read, reject); // the first failure rejects
      }
    });
  }

  // One MULTI … EXEC in this tick's write: all or nothing, and no other client's
  // command runs in between.
  setMany(writes) {
    if (writes.length === 0) return undefined;
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    const ignore = () => {}; // EXEC answers for them
    this.#into(batch, ["MULTI"], "MULTI", ignore, ignore);
    for (const [key, stored, expiresAt] of writes) {
      let args = ["DEL", key];
      if (stored !== null) {
        args = expiresAt === null ? ["SET", key, stored] : ["SET", key, stored, "PX", String(remainingMs(expiresAt))];
      }
      this.#into(batch, args, `key "${key}"`, ignore, ignore);
    }
    return new Promise((resolve, reject) => {
      const done = (replies) => {
        const failed = Array.isArray(replies) ? replies.find((reply) => reply instanceof Error) : null;
        if (failed) reject(polykvError("ERR_POLYKV_BACKEND", TYPE, `${failed.message} (setMany)`));
        else resolve();
      };
      this.#into(batch, ["EXEC"], "setMany", done, reject);
    });
  }

  delMany(keys) {
    if (keys.length === 0) return undefined;
    return this.#call(["UNLINK", ...keys], `UNLINK "${keys[0]}"…`);
  }

  // list(): pages over SCAN (lib/redis-common.js), each run as a group method.
  listPage(prefix, after, limit) {
    const ops = {
      scan: (pattern, cursor, count) => this.#scan(pattern, cursor, count),
      records: (keys) => this.#records(keys),
    };
    return this.#group(() => this.#listings.page(prefix, after, limit, ops));
  }

  async *iterate(prefix = "") {
    const seen = new Set(); // SCAN may return a key twice
    const pattern = scanPattern(prefix);
    let cursor = "0";
    do {
      const page = await this.#group(async () => {
        const [next, found] = await this.#scan(pattern, cursor);
        return [next, await this.#records(found.filter((key) => !seen.has(key)))];
      });
      cursor = page[0];
      for (const record of page[1]) {
        if (seen.has(record[0])) continue;
        seen.add(record[0]);
        yield record;
      }
    } while (cursor !== "0");
  }

  keys(prefix = "") {
    return this.#group(() => this.#allKeys(scanPattern(prefix)));
  }

  entries(prefix = "") {
    return this.#group(async () => this.#values(await this.#allKeys(scanPattern(prefix))));
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  // Only the keys under the prefix (the whole selected database for ""), by SCAN +
  // UNLINK; never FLUSHALL, which would empty every database on the server.
  async clear(prefix = "") {
    const pattern = scanPattern(prefix);
    await this.#group(async () => {
      let cursor = "0";
      do {
        const [next, found] = await this.#scan(pattern, cursor);
        cursor = next;
        const unlinks = chunks(found, BATCH, this.#cluster).map((slice) =>
          this.#command(["UNLINK", ...slice], `UNLINK under "${prefix}"`),
        );
        await Promise.all(unlinks);
      } while (cursor !== "0");
    });
  }

  // Redis expires keys itself.
  async prune() {}

  // Waits for the calls issued before it, then closes the connection; later calls
  // reject with ERR_POLYKV_CLOSED. Settles even when the server does not answer
  // (after REPLY_TIMEOUT at worst).
  close() {
    if (this.#closing === null) {
      const drained = this.#group(() => (this.#pending() ? new Promise((resolve) => this.#idle.push(resolve)) : null));
      this.#closed = true;
      this.#closing = drained.then(
        () => this.#shut(),
        () => this.#shut(),
      );
    }
    return this.#closing;
  }

  // The one place a SET is made: `pxMs` null keeps the value forever.
  #write(key, text, pxMs) {
    const done = this.#push(pxMs === null ? SET : SET_PX, key);
    const batch = this.#batch;
    if (batch === null) return done; // closed: #push rejected
    batch.texts.push(text);
    if (pxMs !== null) batch.nums.push(pxMs);
    return done;
  }

  // This tick's batch, to add operations to.
  #tickBatch() {
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = new Batch();
      queueMicrotask(this.#flush);
    } else if (batch.ops.length >= CHUNK) {
      this.#sendQueued();
      batch = this.#batch = new Batch();
      queueMicrotask(this.#flush);
    }
    return batch;
  }

  #push(op, key) {
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    batch.ops.push(op);
    batch.keys.push(key);
    batch.texts.push(key);
    return new Promise((resolve, reject) => {
      batch.resolve.push(resolve);
      batch.reject.push(reject);
    });
  }

  // Sends this tick's operations, or holds them behind a running group method.
  #sendQueued() {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    if (this.#busy) this.#held.push(batch);
    else this.#send(batch);
  }

  // Runs `run` (which sends its own commands with #command) after everything issued
  // before, holding back what is issued while it runs.
  #group(run) {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#sendQueued();
    return new Promise((resolve, reject) => {
      const item = { run, resolve, reject, deadline: Date.now() + REPLY_TIMEOUT, late: false };
      if (this.#busy) this.#held.push(item);
      else this.#start(item);
    });
  }

  #start(item) {
    this.#busy = true;
    const done = (settle) => (result) => {
      settle(result);
      this.#release();
    };
    let result;
    try {
      result = Promise.resolve(item.run());
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(done(item.resolve), done(item.reject));
  }

  // A group method ended: send what waited behind it, up to the next group method.
  #release() {
    this.#busy = false;
    while (this.#held.length > 0) {
      const item = this.#held.shift();
      if (item instanceof Batch) this.#send(item);
      else if (!item.late) return this.#start(item);
    }
  }

  // A command in this tick's batch, in order with get/set/…; resolves to its reply.
  #call(args, what) {
    if (this.#closed) return Promise.reject(this.#closedError());
    const batch = this.#tickBatch();
    return new Promise((resolve, reject) => this.#into(batch, args, what, resolve, reject));
  }

  #into(batch, args, what, resolve, reject) {
    batch.ops.push(COMMAND);
    batch.keys.push(what);
    batch.nums.push(args.length);
    for (const arg of args) batch.texts.push(arg);
    batch.resolve.push(resolve);
    batch.reject.push(reject);
  }

  // A script of lib/redis-common.js over `keys`: EVAL the first time on a connection,
  // EVALSHA after; EVAL again if the server forgot it (NOSCRIPT: SCRIPT FLUSH, a
  // restart). `send` is #call, or #inGroup inside a group method.
  #eval(script, keys, args, send = (list, what) => this.#call(list, what)) {
    const what = keys.length === 1 ? `key "${keys[0]}"` : `${keys.length} keys from "${keys[0]}"`;
    const full = () => send(["EVAL", script.text, String(keys.length), ...keys, ...args], what);
    if (this.#scriptsOn !== this.#socket) {
      this.#scriptsOn = this.#socket;
      this.#scripts.clear();
    }
    if (!this.#scripts.has(script)) {
      this.#scripts.add(script);
      return full();
    }
    return send(["EVALSHA", script.sha, String(keys.length), ...keys, ...args], what).catch((error) => {
      if (!error.message.includes("NOSCRIPT")) throw error;
      return full();
    });
  }

  // The live records of `keys` with their deadlines (RECORDS), inside a group method.
  async #records(keys) {
    const calls = [];
    for (const slice of chunks(keys, redis.SCAN_COUNT, this.#cluster)) {
      calls.push(this.#eval(redis.scripts.RECORDS, slice, [], this.#inGroup).then((reply) => [slice, reply]));
    }
    const records = [];
    const read = (key, stored) => redis.readValue(TYPE, key, stored);
    for (const [slice, reply] of await Promise.all(calls)) records.push(...redis.recordsOf(slice, reply, read));
    return records;
  }

  // One command of a group method; resolves to its reply as a JS value.
  #command(args, what) {
    const batch = new Batch();
    batch.ops.push(COMMAND);
    batch.keys.push(what);
    batch.nums.push(args.length);
    for (const arg of args) batch.texts.push(arg);
    const done = new Promise((resolve, reject) => {
      batch.resolve.push(resolve);
      batch.reject.push(reject);
    });
    this.#send(batch);
    return done;
  }

  async #scan(pattern, cursor, count = SCAN_COUNT) {
    const args = ["SCAN", cursor, "MATCH", pattern, "COUNT", String(count)];
    const reply = await this.#command(args, `SCAN "${pattern}"`);
    if (!Array.isArray(reply) || typeof reply[0] !== "string" || !Array.isArray(reply[1])) {
      throw this.#lost(`an unexpected reply to SCAN`);
    }
    // A key of someone else's that starts with 0xFF arrives as bytes: as text, as before.
    const keys = reply[1];
    for (let i = 0; i < keys.length; i++) if (typeof keys[i] !== "string") keys[i] = "\ufffd" + keys[i].toString();
    return reply;
  }

  async #allKeys(pattern) {
    const seen = new Set(); // SCAN may return a key twice
    let cursor = "0";
    do {
      const [next, found] = await this.#scan(pattern, cursor);
      cursor = next;
      for (const key of found) seen.add(key);
    } while (cursor !== "0");
    return [...seen];
  }

  // [key, value] for each key that still exists, by MGET in chunks sent together.
  async #values(keys) {
    const reads = chunks(keys, BATCH, this.#cluster).map((slice) =>
      this.#command(["MGET", ...slice], `MGET "${slice[0]}"…`).then((texts) => [slice, texts]),
    );
    const entries = [];
    for (const [slice, texts] of await Promise.all(reads)) {
      for (let j = 0; j < slice.length; j++) {
        if (texts[j] !== null) entries.push([slice[j], redis.readValue(TYPE, slice[j], texts[j])]);
      }
    }
    return entries;
  }

  // Writes a batch on the connection (opening one if needed), or fails it at once.
  #send(batch) {
    if (batch.next === batch.ops.length) return; // its calls met their deadline while held
    if (batch.deadline <= Date.now()) return this.#fail([batch], this.#heldTooLong());
    if (this.#socket === null) {
      const failed = this.#failed;
      if (failed !== null && Date.now() - failed.at < RETRY_AFTER) {
        return this.#fail([batch], this.#unsentError(failed.message));
      }
      try {
        this.#connect();
      } catch (error) {
        // e.g. an unreadable SSL_CERT_FILE
        const message = `cannot connect to ${this.#config.label}: ${error.message}`;
        this.#failed = { at: Date.now(), message };
        this.#socket = null;
        return this.#fail([batch], this.#unsentError(message));
      }
    }
    const text = request(batch.ops, batch.texts, batch.nums);
    if (this.#open) this.#transmit(text, batch);
    else this.#unsent.push([text, batch]);
  }

  #transmit(text, batch) {
    if (this.#head === this.#sent.length) this.#socket.ref();
    this.#sent.push(batch);
    if (typeof text === "string") return void this.#socket.write(text);
    this.#socket.cork();
    for (const part of text) this.#socket.write(part);
    this.#socket.uncork();
  }

  #pending() {
    return this.#head < this.#sent.length || this.#unsent.length > 0;
  }

  #connect() {
    const { secure, host, port } = this.#config;
    const ca = secure ? certificates() : undefined;
    // Plain TCP reads into one reused buffer, handed to a callback (`onread`, in Node
    // and Bun): no Buffer and no stream event per chunk, which measured ~20% of the CPU
    // time of an awaited call; the decoder copies what it keeps.
    const onread = { buffer: READ_BUFFER, callback: (n, buffer) => this.#onData(socket, buffer.subarray(0, n)) };
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca })
      : net.connect({ host, port, onread });
    this.#socket = socket;
    this.#open = false;
    this.#decoder = new (addon(TYPE).RespDecoder)();
    const late = `no connection within ${CONNECT_TIMEOUT} ms`;
    const connect = setTimeout(() => this.#connectFailed(socket, late), CONNECT_TIMEOUT);
    const replies = setInterval(() => this.#checkDeadlines(socket), CHECK_EVERY);
    connect.unref?.();
    replies.unref?.();
    this.#timers = { connect, replies };
    socket.setNoDelay(true);
    socket.once(secure ? "secureConnect" : "connect", () => this.#handshake(socket));
    if (secure) socket.on("data", (chunk) => this.#onData(socket, chunk));
    socket.on("error", (error) => this.#onEnd(socket, error.message));
    socket.on("close", () => this.#onEnd(socket, "the server closed the connection"));
  }

  // AUTH and SELECT, before anything else is written: a command sent before a
  // failed SELECT would run in database 0.
  #handshake(socket) {
    if (socket !== this.#socket) return;
    const { username, password, db } = this.#config;
    const batch = new Batch();
    if (password !== "") {
      const args = username === "" ? ["AUTH", password] : ["AUTH", username, password];
      batch.ops.push(COMMAND);
      batch.nums.push(args.length);
      batch.texts.push(...args);
    }
    if (db !== 0) {
      batch.ops.push(COMMAND);
      batch.nums.push(2);
      batch.texts.push("SELECT", String(db));
    }
    if (batch.ops.length === 0) return this.#ready(socket);
    let left = batch.ops.length;
    batch.handshake = (error) => {
      if (error !== null) this.#connectFailed(socket, error);
      else if (--left === 0) this.#ready(socket);
    };
    this.#sent.push(batch);
    socket.write(request(batch.ops, batch.texts, batch.nums));
  }

  #ready(socket) {
    clearTimeout(this.#timers.connect);
    this.#open = true;
    this.#failed = null;
    if (!this.#up) {
      this.#up = true;
      this.notify?.("connect");
    }
    const unsent = this.#unsent;
    this.#unsent = [];
    for (const [text, batch] of unsent) this.#transmit(text, batch);
    if (!this.#pending()) this.#settledAll(socket);
  }

  #onData(socket, chunk) {
    if (socket !== this.#socket) return;
    tokens = this.#decoder.feed(chunk);
    at = 0;
    let end = tokens.length;
    const broken = end > 0 && tokens[end - 2] === BROKEN ? tokens[end - 1] : null;
    if (broken !== null) end -= 2;
    const sent = this.#sent;
    while (at < end) {
      const batch = sent[this.#head];
      if (batch === undefined) return this.#lost("a reply to no command");
      const i = batch.next++;
      if (batch.next === batch.ops.length) {
        sent[this.#head++] = undefined;
      }
      const kind = tokens[at];
      if (batch.handshake !== null) {
        const error = kind === ERROR ? tokens[at + 1] : null;
        value();
        batch.handshake(error);
        if (socket !== this.#socket) return; // the handshake failed
        continue;
      }
      if (kind === ERROR && (batch.ops[i] === REC_TIME || batch.ops[i] === REC_PTTL)) {
        this.#recordFailed(batch, i, tokens[at + 1]);
        at += 2;
        continue;
      }
      if (kind === ERROR) {
        const what = batch.ops[i] === COMMAND ? batch.keys[i] : `key "${batch.keys[i]}"`;
        batch.reject[i](polykvError("ERR_POLYKV_BACKEND", TYPE, `${tokens[at + 1]} (${what})`));
        at += 2;
        continue;
      }
      switch (batch.ops[i]) {
        case GET:
        case REC_GET:
          if (kind === BULK) {
            const text = tokens[at + 1];
            at += 2;
            let result;
            try {
              result = decode(TYPE, batch.keys[i], text);
            } catch (error) {
              batch.reject[i](error);
              break;
            }
            batch.resolve[i](result);
          } else if (kind === NIL || kind === BYTES) {
            batch.resolve[i](tokens[at + 1]);
            at += 2;
          } else {
            value();
            const why = `an unexpected reply to GET (key "${batch.keys[i]}")`;
            batch.reject[i](polykvError("ERR_POLYKV_BACKEND", TYPE, why));
          }
          break;
        case EXISTS:
          batch.resolve[i](kind === INT && tokens[at + 1] > 0);
          value();
          break;
        case COMMAND:
          batch.resolve[i](value());
          break;
        case REC_TIME:
        case REC_PTTL: {
          const time = value();
          if (this.#stashed instanceof Error) this.#recordFailed(batch, i, null);
          else batch.resolve[i](this.#record(time, batch.ops[i] === REC_TIME));
          break;
        }
        default: // SET, SET_PX, DEL
          value();
          batch.resolve[i]();
      }
    }
    tokens = null;
    if (this.#head === sent.length) {
      this.#sent = [];
      this.#head = 0;
      if (this.#unsent.length === 0) this.#settledAll(socket);
    } else if (this.#head > 1024) {
      // Under a steady load the queue may never drain: drop the answered front.
      this.#sent = sent.slice(this.#head);
      this.#head = 0;
    }
    if (broken !== null) this.#lost(`a reply broke the protocol: ${broken}`);
  }

  // No reply is awaited: let the process exit if nothing else holds it.
  #settledAll(socket) {
    socket.unref();
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  // Calls past their deadline: waiting behind a group method, they are rejected where
  // they wait; on the wire, the connection is dropped (the replies come in order).
  #checkDeadlines(socket) {
    if (socket !== this.#socket) return;
    const now = Date.now();
    for (const item of this.#held) {
      if (item.deadline > now) continue;
      const error = this.#heldTooLong();
      if (item instanceof Batch) this.#fail([item], error);
      else if (!item.late) {
        item.late = true;
        item.reject(error);
      }
    }
    const oldest = this.#sent[this.#head];
    if (oldest !== undefined && oldest.deadline < now) {
      if (this.#open) this.#lost(`no reply within ${REPLY_TIMEOUT} ms`);
      else this.#connectFailed(socket, `no reply within ${REPLY_TIMEOUT} ms`);
    }
  }

  #onEnd(socket, why) {
    if (socket !== this.#socket) return;
    if (this.#open) this.#lost(why);
    else this.#connectFailed(socket, why);
  }

  #connectFailed(socket, why) {
    if (socket !== this.#socket) return;
    const message = `cannot connect to ${this.#config.label}: ${why}`;
    this.#failed = { at: Date.now(), message };
    this.#drop(this.#unsentError(message)); // nothing is written before the handshake ends
  }

  #unsentError(message) {
    const error = polykvError("ERR_POLYKV_CONNECTION", TYPE, message);
    unsent.add(error);
    return error;
  }

  // The connection is gone (or out of step): every call waiting on it fails. Returns
  // the error, for a group method to throw.
  #lost(why) {
    const error = polykvError("ERR_POLYKV_CONNECTION", TYPE, `lost the connection to ${this.#config.label}: ${why}`);
    this.#drop(error);
    return error;
  }

  #drop(error) {
    const socket = this.#socket;
    if (socket === null) return;
    this.#socket = null;
    this.#open = false;
    this.#decoder = null;
    clearTimeout(this.#timers.connect);
    clearInterval(this.#timers.replies);
    this.#timers = null;
    socket.destroy();
    const waiting = this.#sent.slice(this.#head);
    for (const [, batch] of this.#unsent) waiting.push(batch);
    this.#sent = [];
    this.#head = 0;
    this.#unsent = [];
    this.#fail(waiting, error);
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
    // One `disconnect` per lost connection (not on close(), nor while reconnecting
    // fails); a drop no call was waiting on is also an `error`: no call can report it.
    if (this.#up && error.code !== "ERR_POLYKV_CLOSED") {
      this.#up = false;
      this.notify?.("disconnect", error);
      if (waiting.every((batch) => batch.handshake !== null)) this.notify?.("error", error);
    }
  }

  // Rejects every call of the batches not answered yet.
  #fail(batches, error) {
    for (const batch of batches) {
      if (batch.handshake !== null) continue;
      for (let i = batch.next; i < batch.reject.length; i++) batch.reject[i](error);
      batch.next = batch.reject.length;
    }
  }

  #heldTooLong() {
    const why = "the call waited behind an earlier listing or clear";
    return this.#unsentError(`no reply within ${REPLY_TIMEOUT} ms from ${this.#config.label}: ${why}`);
  }

  #closedError() {
    return polykvError("ERR_POLYKV_CLOSED", TYPE, `the store for ${this.#config.label} is closed`);
  }

  #shut() {
    const socket = this.#socket;
    if (socket === null) return;
    this.#drop(this.#closedError());
    socket.destroy();
  }
}

// The addon reads the replies: without one, kv("redis://…") is refused at once, with the reason.
function create(url) {
  addon(TYPE);
  return new RedisNativeDriver(url);
}

module.exports = { name: TYPE, test: isRedisUrl, create, RedisNativeDriver, neverSent, hidePassword, CAPS };
