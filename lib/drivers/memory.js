"use strict";
// MEMORY: `kv()` and `kv(new Map())`. The Map holds polystore's records
// `{ expires: <Unix ms or null>, value }` with the very value the caller set (no
// copy, no JSON), so the user's own Map reads as it does under polystore; a record
// set with metadata also has `metadata`. An expired record is invisible at once and
// deleted when read. Every method is synchronous, so a getRaw/swap pair made in one
// call cannot be interleaved: cas, increment and getAndDelete are atomic.

const { capabilities } = require("../contract.js");
const { isLive, isExpiredEnvelope } = require("../rules.js");

const CAPS = capabilities({ serializes: false, atomic: true, bytes: true, metadata: true });

function create(input) {
  const map = input instanceof Map ? input : new Map();
  // The live record under `key`, deleting it when it has expired.
  const live = (key) => {
    const data = map.get(key);
    if (data === undefined) return null;
    if (isLive(data, Date.now())) return data;
    map.delete(key);
    return null;
  };
  const record = (expires, value, metadata) =>
    metadata === undefined ? { expires, value } : { expires, value, metadata };
  return {
    type: "MEMORY",
    caps: CAPS,
    get(key) {
      const data = live(key);
      return data === null ? null : data.value;
    },
    getRecord(key) {
      const data = live(key);
      return data === null ? null : { value: data.value, expiresAt: data.expires ?? null, metadata: data.metadata };
    },
    set(key, value, expiresAt, seconds, metadata) {
      map.set(key, record(expiresAt, value, metadata));
    },
    del(key) {
      map.delete(key);
    },
    has(key) {
      const data = map.get(key);
      return data !== undefined && isLive(data, Date.now());
    },
    getRaw: live,
    swap(key, seen, next, expiresAt) {
      if (live(key) !== seen) return false;
      if (next === null) map.delete(key);
      else map.set(key, record(expiresAt === undefined ? (seen?.expires ?? null) : expiresAt, next));
      return true;
    },
    touch(key, expiresAt) {
      const data = live(key);
      if (data === null) return false;
      map.set(key, record(expiresAt, data.value, data.metadata));
      return true;
    },
    *iterate(prefix) {
      const now = Date.now();
      for (const [key, data] of map) {
        if (key.startsWith(prefix) && isLive(data, now)) yield [key, data.value, data.expires ?? null, data.metadata];
      }
    },
    clear(prefix) {
      if (!prefix) return map.clear();
      for (const key of map.keys()) if (key.startsWith(prefix)) map.delete(key);
      return undefined;
    },
    prune(prefix) {
      const now = Date.now();
      for (const [key, data] of map) if (key.startsWith(prefix) && isExpiredEnvelope(data, now)) map.delete(key);
    },
  };
}

module.exports = { name: "MEMORY", test: (input) => input === undefined || input instanceof Map, create };
