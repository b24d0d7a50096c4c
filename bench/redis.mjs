// Bench rows for Redis, against the server in POLYKV_TEST_REDIS_URL:
//
// - kv("redis://…"): polykv's native backend (Rust, redis crate on tokio; the calls of
//   one tick go to Redis as one pipeline) vs polystore over a node-redis v5 client.
// - node-redis client: polykv and polystore over the same kind of node-redis client.
// - anchors, in the polykv column, vs the same polystore row: node-redis used directly
//   (JSON.stringify + SET/GET/EXISTS/DEL, no store layer) and keyv over @keyv/redis.
//   They show what a hand-written Node client reaches on this machine.
//
// Every store gets its own key prefix, so clearing one never touches another's keys
// (polystore's clear() without a prefix would FLUSHALL the whole server).
import Keyv from "keyv";
import KeyvRedis from "@keyv/redis";
import polystore from "polystore";
import { createClient } from "redis";
import polykv from "../index.js";

const PREFIX = "polykv-bench:";

// node-redis used directly, shaped like a store for the bench harness.
async function rawNodeRedis(url, prefix) {
  const client = createClient({ url });
  await client.connect();
  return {
    set: (key, value) => client.set(prefix + key, JSON.stringify(value)),
    get: async (key) => {
      const text = await client.get(prefix + key);
      return text === null ? null : JSON.parse(text);
    },
    has: async (key) => (await client.exists(prefix + key)) > 0,
    del: (key) => client.del(prefix + key),
    clear: async () => {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        if (keys.length) await client.unlink(keys);
      }
    },
    close: () => client.close(),
  };
}

// keyv over @keyv/redis, shaped like a store (keyv's own names: delete, has).
async function keyvStore(url, namespace) {
  const keyv = new Keyv({ store: new KeyvRedis(url), namespace, useKeyPrefix: false });
  return {
    set: (key, value) => keyv.set(key, value),
    get: async (key) => (await keyv.get(key)) ?? null,
    has: (key) => keyv.has(key),
    del: (key) => keyv.delete(key),
    clear: () => keyv.clear(),
    close: () => keyv.disconnect(),
  };
}

async function polystoreOverNodeRedis(url, prefix) {
  return polystore(createClient({ url }), { prefix });
}

export default async function redisRows() {
  const url = process.env.POLYKV_TEST_REDIS_URL;
  const skip = url ? undefined : "set POLYKV_TEST_REDIS_URL (source .ci/services.sh start)";
  const group = "redis";
  return [
    {
      name: 'kv("redis://…") native',
      group,
      skip,
      polykv: () => polykv(url, { prefix: `${PREFIX}native:` }),
      polystore: () => polystoreOverNodeRedis(url, `${PREFIX}polystore:`),
    },
    {
      name: "node-redis client",
      group,
      skip,
      polykv: () => polykv(createClient({ url }), { prefix: `${PREFIX}client:` }),
      polystore: () => polystoreOverNodeRedis(url, `${PREFIX}polystore:`),
    },
    {
      name: "anchor: node-redis direct",
      group,
      skip,
      polykv: () => rawNodeRedis(url, `${PREFIX}raw:`),
      polystore: () => polystoreOverNodeRedis(url, `${PREFIX}polystore:`),
    },
    {
      name: "anchor: keyv + @keyv/redis",
      group,
      skip,
      polykv: () => keyvStore(url, `${PREFIX}keyv`),
      polystore: () => polystoreOverNodeRedis(url, `${PREFIX}polystore:`),
    },
  ];
}
