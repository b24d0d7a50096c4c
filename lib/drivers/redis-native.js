"use strict";
// REDIS over a redis:// or rediss:// URL: the native backend (src/backend/redis.rs),
// the redis crate on tokio with one multiplexed connection. node-redis and ioredis
// client objects go to lib/drivers/redis.js instead.
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
const { encode } = require("../json.js");

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
}

// Batches sent to Rust and not answered yet, by id. Module-wide, so the answer
// callback holds no store: a store nobody references can be collected.
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
  static test(input) {
    return isRedisUrl(input);
  }

  TYPE = "REDIS";
  HAS_EXPIRATION = true;
  #native;
  #batch = null;
  #flush = () => this.#send();

  constructor(input) {
    const url = input instanceof URL ? input.href : String(input);
    try {
      this.#native = new native.RedisNative(url, onAnswers);
    } catch (error) {
      throw new TypeError(error.message);
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
    if (batch === null) return;
    this.#batch = null;
    const id = (lastId = (lastId + 1) >>> 0);
    try {
      this.#native.exec(id, Uint8Array.from(batch.ops), batch.keys, batch.values, batch.expires);
    } catch (error) {
      for (const reject of batch.reject) reject(new Error(error.message));
      return;
    }
    pending.set(id, batch);
  }

  get(key) {
    return this.#push(GET, key);
  }

  set(key, value, seconds) {
    const text = encode(key, value); // throws before anything is queued
    const ms = seconds === null || seconds === undefined ? 0 : Math.max(1, Math.round(seconds * 1000));
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
    this.#send();
    const seen = new Set(); // SCAN may return a key twice
    let cursor = "0";
    do {
      const page = await this.#native.page(prefix, cursor);
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
    this.#send();
    return this.#native.keys(prefix);
  }

  async entries(prefix = "") {
    this.#send();
    const { keys, values } = await this.#native.entries(prefix);
    return keys.map((key, i) => [key, parse(key, values[i])]);
  }

  async values(prefix = "") {
    this.#send();
    const { keys, values } = await this.#native.entries(prefix);
    return values.map((text, i) => parse(keys[i], text));
  }

  // Only the keys under the prefix (the whole selected database for ""), by SCAN +
  // UNLINK; never FLUSHALL, which would empty every database on the server.
  async clear(prefix = "") {
    this.#send();
    await this.#native.clear(prefix);
  }

  // Redis expires keys itself.
  async prune() {}

  async close() {
    this.#send();
    await this.#native.close();
  }
}

module.exports = RedisNativeDriver;
