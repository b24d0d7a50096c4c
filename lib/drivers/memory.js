"use strict";
// MEMORY: `kv()` and `kv(new Map())`. The Map holds polystore's records
// `{ expires: <Unix ms or null>, value }` with the very value the caller set (no
// copy, no JSON), so the user's own Map reads as it does under polystore. An
// expired record is invisible at once and deleted when read.

const { capabilities } = require("../contract.js");
const { isLive, isExpiredEnvelope } = require("../rules.js");

const CAPS = capabilities({ serializes: false, atomic: true });

function create(input) {
  const map = input instanceof Map ? input : new Map();
  return {
    type: "MEMORY",
    caps: CAPS,
    get(key) {
      const data = map.get(key);
      if (data === undefined) return null;
      if (isLive(data, Date.now())) return data.value;
      map.delete(key);
      return null;
    },
    set(key, value, expiresAt) {
      map.set(key, { expires: expiresAt, value });
    },
    del(key) {
      map.delete(key);
    },
    has(key) {
      const data = map.get(key);
      return data !== undefined && isLive(data, Date.now());
    },
    *iterate(prefix) {
      const now = Date.now();
      for (const [key, data] of map) if (key.startsWith(prefix) && isLive(data, now)) yield [key, data.value];
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
