"use strict";
// REDIS over a redis:// or rediss:// URL: the native backend. node-redis and ioredis
// client objects go to lib/drivers/redis.js instead.
//
// Two Rust engines answer the same calls with the same onAnswers callback:
// - RedisLoop (src/binding/redis_loop.rs) for get/set/has/del over redis:// in Node:
//   the socket is written from this thread and watched by Node's event loop, so an
//   awaited call costs one round trip and no thread hand-off;
// - RedisNative (src/backend/redis.rs, the redis crate on a tokio thread) for the
//   group methods (keys, entries, clear, iteration), for rediss:// (TLS), in runtimes
//   without libuv (Bun), and for everything when POLYKV_REDIS_ENGINE=thread.
// With both, a group method first waits until every operation sent before it is
// answered, and operations issued while it runs wait for it: calls take effect in
// the order they were made, as on one connection.
//
// Why the queue: an awaited async napi call costs 18-40 µs here, more than a Redis
// round trip, so one crossing per operation would be slower than node-redis. Every
// get/set/has/del issued in the same tick is queued, and the queue crosses into Rust
// once (parallel arrays: op codes, keys, values, expiries), where it goes to Redis as
// one pipeline. Each operation's promise is settled from its own slot of the reply,
// so one failing operation (e.g. WRONGTYPE on a key holding a list) rejects alone.
// Awaiting each call in turn makes batches of one: the same cost as a plain call.
//
// The queue is flushed from a microtask, i.e. right after the code that issued the
// operations yields: 64 callers that each await in a loop make batches of 64
// (setImmediate would catch the same but add an event-loop turn to every awaited
// call). Operations reach Redis in the order they were issued; group calls (keys,
// entries, clear, iteration) first send what is queued before them.
//
// Answers come back through one callback per store (onAnswers, below), not one
// promise per crossing: a napi promise costs a threadsafe function of its own.
//
// On the wire (CONTRACT §24), shared with polystore over node-redis: key = the full
// key, value = JSON text, expiry = the Redis TTL, set with PX (milliseconds).

const native = require("../../native.js");
const { capabilities } = require("../contract.js");
const { remainingMs } = require("../rules.js");

const CAPS = capabilities({ expiresItself: true, atomic: true });

// A batch this long is sent at once, without waiting for the end of the tick, so a
// burst of thousands of calls reaches Redis in pieces while JS is still queuing.
// (Smaller chunks measured slower at 64 calls in flight: each crossing costs a wake-up.)
const CHUNK = 1024;

const GET = 0;
const SET = 1;
const HAS = 2;
const DEL = 3;

function isRedisUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && /^rediss?:\/\//i.test(href);
}

function parse(key, text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`[polykv] [redis] the value at "${key}" is not JSON (${error.message}); was it written by another program?`);
  }
}

// The operations of one tick, waiting to cross into Rust together.
class Batch {
  ops = [];
  keys = [];
  values = []; // JSON text, one per SET, in order
  expires = []; // milliseconds (0: never), one per SET
  resolve = [];
  reject = [];
  engine = null;
  settled = false;
  onSettled = null; // called once answered, when a group method waits for it
}

// Batches sent to Rust and not answered yet, by id. Module-wide, so the answer
// callback holds no store; a batch holds the engine it went to (batch.engine), so an
// engine with answers to give is not collected.
const pending = new Map();
let lastId = 0;

// Called by Rust (through one threadsafe function per store) with the batches one
// pipeline round answered; see src/binding/redis.rs for the layout. Must not throw.
function onAnswers(ids, failures, values, errorSlots, errorMessages) {
  let offset = 0;
  let nextError = 0;
  for (let b = 0; b < ids.length; b++) {
    const batch = pending.get(ids[b]);
    pending.delete(ids[b]);
    if (batch === undefined) continue;
    batch.settled = true;
    batch.onSettled?.();
    const failure = failures[b];
    if (failure !== null) {
      for (const reject of batch.reject) reject(new Error(failure));
      continue;
    }
    const { ops, keys, resolve, reject } = batch;
    for (let i = 0; i < ops.length; i++, offset++) {
      if (nextError < errorSlots.length && errorSlots[nextError] === offset) {
        reject[i](new Error(`${errorMessages[nextError++]} (key "${keys[i]}")`));
        continue;
      }
      const op = ops[i];
      const text = values[offset];
      if (op === GET) {
        if (text === null) resolve[i](null);
        else {
          let value;
          try {
            value = parse(keys[i], text);
          } catch (error) {
            reject[i](error);
            continue;
          }
          resolve[i](value);
        }
      } else if (op === HAS) resolve[i](text !== null);
      else resolve[i]();
    }
  }
}

class RedisNativeDriver {
  type = "REDIS";
  caps = CAPS;
  #native; // RedisNative: group methods, and everything when #hot is null
  #hot = null; // RedisLoop: get/set/has/del, when available
  #batch = null;
  #lastSent = null; // the last batch sent to #hot
  #groups = 0; // group methods running on #native while #hot holds operations back
  #flush = () => this.#send();

  constructor(input) {
    const url = input instanceof URL ? input.href : String(input);
    try {
      this.#native = new native.RedisNative(url, onAnswers);
      // Bun is ruled out by name too: it may define libuv symbols only as stubs.
      const loop =
        !/^rediss:/i.test(url) && process.env.POLYKV_REDIS_ENGINE !== "thread" && !process.versions.bun && native.RedisLoop.available();
      if (loop) this.#hot = new native.RedisLoop(url, onAnswers);
    } catch (error) {
      throw new TypeError(error.message);
    }
  }

  // Which engine runs get/set/has/del: "loop" (RedisLoop) or "thread" (RedisNative).
  get ENGINE() {
    return this.#hot === null ? "thread" : "loop";
  }

  // Runs a group method on #native after what was issued before it, holding back
  // what is issued while it runs (see the header).
  async #group(run) {
    this.#send();
    if (this.#hot === null) return run();
    this.#groups++;
    try {
      const last = this.#lastSent;
      if (last !== null && !last.settled) {
        await new Promise((resolve) => {
          const before = last.onSettled; // another group method may wait on it too
          last.onSettled = before === null ? resolve : () => (before(), resolve());
        });
      }
      return await run();
    } finally {
      if (--this.#groups === 0) this.#send();
    }
  }

  #start() {
    queueMicrotask(this.#flush);
    return (this.#batch = new Batch());
  }

  #push(op, key) {
    const batch = this.#batch ?? this.#start();
    batch.ops.push(op);
    batch.keys.push(key);
    const done = new Promise((resolve, reject) => {
      batch.resolve.push(resolve);
      batch.reject.push(reject);
    });
    if (batch.ops.length >= CHUNK) this.#send();
    return done;
  }

  // Sends the queued batch, if any (also called by the group methods to keep order).
  #send() {
    const batch = this.#batch;
    if (batch === null || this.#groups > 0) return;
    this.#batch = null;
    const id = (lastId = (lastId + 1) >>> 0);
    const engine = this.#hot ?? this.#native;
    try {
      engine.exec(id, Uint8Array.from(batch.ops), batch.keys, batch.values, batch.expires);
    } catch (error) {
      batch.settled = true;
      for (const reject of batch.reject) reject(new Error(error.message));
      return;
    }
    batch.engine = engine;
    this.#lastSent = batch;
    pending.set(id, batch);
  }

  get(key) {
    return this.#push(GET, key);
  }

  set(key, text, expiresAt) {
    const ms = remainingMs(expiresAt) ?? 0;
    const batch = this.#batch ?? this.#start();
    batch.values.push(text);
    batch.expires.push(ms);
    return this.#push(SET, key);
  }

  has(key) {
    return this.#push(HAS, key);
  }

  del(key) {
    return this.#push(DEL, key);
  }

  async *iterate(prefix = "") {
    const seen = new Set(); // SCAN may return a key twice
    let cursor = "0";
    do {
      const page = await this.#group(() => this.#native.page(prefix, cursor));
      cursor = page.cursor;
      for (let i = 0; i < page.keys.length; i++) {
        const key = page.keys[i];
        if (seen.has(key)) continue;
        seen.add(key);
        yield [key, parse(key, page.values[i])];
      }
    } while (cursor !== "0");
  }

  keys(prefix = "") {
    return this.#group(() => this.#native.keys(prefix));
  }

  async entries(prefix = "") {
    const { keys, values } = await this.#group(() => this.#native.entries(prefix));
    return keys.map((key, i) => [key, parse(key, values[i])]);
  }

  async values(prefix = "") {
    const { keys, values } = await this.#group(() => this.#native.entries(prefix));
    return values.map((text, i) => parse(keys[i], text));
  }

  // Only the keys under the prefix (the whole selected database for ""), by SCAN +
  // UNLINK; never FLUSHALL, which would empty every database on the server.
  async clear(prefix = "") {
    await this.#group(() => this.#native.clear(prefix));
  }

  // Redis expires keys itself.
  async prune() {}

  async close() {
    await this.#group(() => {
      this.#hot?.close();
      return this.#native.close();
    });
  }
}

module.exports = { name: "REDIS", test: isRedisUrl, create: (url) => new RedisNativeDriver(url), RedisNativeDriver };
