// Bench rows for Redis, against the server in POLYKV_TEST_REDIS_URL:
//
// - kv("redis://…"): polykv's native backend (a socket owned by JS, the RESP codec in
//   Rust; the calls of one tick go to Redis as one write) vs polystore over a node-redis
//   v5 client.
// - node-redis client: polykv and polystore over the same kind of node-redis client.
// - anchors, in the polykv column, vs the same polystore row: node-redis used directly
//   (JSON.stringify + SET/GET/EXISTS/DEL, no store layer) and keyv over @keyv/redis.
//   They show what a hand-written Node client reaches on this machine.
// - anchor: a bare RESP client (below): one socket, commands of a tick written at once,
//   replies matched in order, no error handling, no reconnection, no store layer. It
//   shows the ceiling of a Node client that awaits a promise per call.
//
// Every store gets its own key prefix, so clearing one never touches another's keys
// (polystore's clear() without a prefix would FLUSHALL the whole server).
import Keyv from "keyv";
import KeyvRedis from "@keyv/redis";
import polystore from "polystore";
import net from "node:net";
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

// The least a Node Redis client can do: it is not usable (a protocol error or a
// dropped connection leaves its callers hanging), only a measure.
async function bareResp(url, prefix) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname);
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const waiting = []; // resolve functions, in the order of the commands
  let out = "";
  let input = null;
  const flush = () => {
    socket.write(out);
    out = "";
  };
  const send = (command) => {
    if (out === "") queueMicrotask(flush);
    out += command;
    return new Promise((resolve) => waiting.push(resolve));
  };
  socket.on("data", (chunk) => {
    input = input === null ? chunk : Buffer.concat([input, chunk]);
    let pos = 0;
    while (pos < input.length) {
      const end = input.indexOf(13, pos);
      if (end < 0) break;
      if (input[pos] === 36) {
        // $len\r\n…\r\n, or $-1\r\n for null
        const length = Number(input.latin1Slice(pos + 1, end));
        if (length < 0) {
          pos = end + 2;
          waiting.shift()(null);
          continue;
        }
        if (end + 4 + length > input.length) break;
        waiting.shift()(input.utf8Slice(end + 2, end + 2 + length));
        pos = end + 4 + length;
      } else {
        // +OK or :n
        waiting.shift()(input.latin1Slice(pos + 1, end));
        pos = end + 2;
      }
    }
    input = pos < input.length ? input.subarray(pos) : null;
  });
  const bulk = (text) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  const admin = createClient({ url });
  await admin.connect();
  return {
    set: (key, value) => send(`*3\r\n$3\r\nSET\r\n${bulk(prefix + key)}${bulk(JSON.stringify(value))}`),
    get: async (key) => {
      const text = await send(`*2\r\n$3\r\nGET\r\n${bulk(prefix + key)}`);
      return text === null ? null : JSON.parse(text);
    },
    has: async (key) => (await send(`*2\r\n$6\r\nEXISTS\r\n${bulk(prefix + key)}`)) !== "0",
    del: (key) => send(`*2\r\n$3\r\nDEL\r\n${bulk(prefix + key)}`),
    clear: async () => {
      for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        if (keys.length) await admin.unlink(keys);
      }
    },
    close: async () => {
      socket.end();
      await admin.close();
    },
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
      name: "anchor: bare RESP client",
      group,
      skip,
      polykv: () => bareResp(url, `${PREFIX}bare:`),
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
