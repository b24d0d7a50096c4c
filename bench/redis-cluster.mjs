// Bench lines for Redis Cluster (issue 14), printed before the table, against the
// cluster in POLYKV_TEST_REDIS_CLUSTER_URL (three masters on this machine) and the single
// server in POLYKV_TEST_REDIS_URL:
//
// - kv("redis+cluster://…") vs kv("redis://…"), both native: set and get, awaited one
//   at a time (seq) and 64 in flight (x64), and getMany of 100 keys (one MGET on one
//   node; one MGET per slot, ~100, spread over three masters in a cluster), 8 in flight.
// - kv("redis+cluster://…") vs polystore over a node-redis createCluster() client (its
//   single-key calls work over a cluster; its keys() and clear() do not), x64.
// All the servers run on this one 2-core machine, so a cluster cannot be faster here:
// the lines show what the routing costs, not what more machines would give.
import { randomBytes } from "node:crypto";
import { createCluster } from "redis";
import polystore from "polystore";
import polykv from "../index.js";
import { measure, median } from "./lib.mjs";

const PASSES = Number(process.env.POLYKV_BENCH_RUNS) || 5;
const fmt = (value) =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0);
const value = (i) => ({ id: i, name: `user ${i}`, tags: ["a", "b"], active: i % 2 === 0 });

// Median ops/s of `a` and `b` over PASSES alternating passes, after one to warm up.
async function sideBySide(a, b, options) {
  const samples = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    const first = pass % 2 ? b : a;
    const second = first === a ? b : a;
    const x = await measure(first, options);
    const y = await measure(second, options);
    if (pass > 0) samples.push(first === a ? [x, y] : [y, x]);
  }
  return {
    a: median(samples.map((s) => s[0])),
    b: median(samples.map((s) => s[1])),
    ratio: median(samples.map((s) => s[0] / s[1])),
  };
}

export default async function redisClusterLines({ wants = () => true } = {}) {
  const clusterUrl = process.env.POLYKV_TEST_REDIS_CLUSTER_URL;
  const singleUrl = process.env.POLYKV_TEST_REDIS_URL;
  if (!clusterUrl || !singleUrl || !(wants("redis-cluster") || wants("redis"))) return [];
  const log = console.log;
  const prefix = `polykv-bench-cluster:${randomBytes(3).toString("hex")}:`;
  const cluster = polykv(clusterUrl, { prefix });
  const single = polykv(singleUrl, { prefix });
  const rootNodes = clusterUrl
    .replace(/^redis\+cluster:\/\//, "")
    .split(",")
    .map((at) => ({ url: `redis://${at}` }));
  const client = createCluster({ rootNodes });
  await client.connect();
  const theirs = polystore(client, { prefix: `${prefix}polystore:` });
  const n = 10000;
  const keys = Array.from({ length: n }, (_, i) => `key:${i}`);
  try {
    await Promise.all([cluster, single].map((store) => store.setMany(keys.map((key, i) => [key, value(i)]))));
    for (const [op, call] of [
      ["set", (store) => (i) => store.set(keys[i], value(i))],
      ["get", (store) => (i) => store.get(keys[i])],
    ]) {
      for (const inFlight of [1, 64]) {
        const r = await sideBySide(call(cluster), call(single), { n, inFlight });
        const mode = inFlight === 1 ? "seq" : "x64";
        log(
          `redis cluster vs single node (native), ${op} ${mode}: ${fmt(r.a)} vs ${fmt(r.b)} ops/s = ${r.ratio.toFixed(2)}x`,
        );
      }
      const r = await sideBySide(call(cluster), call(theirs), { n, inFlight: 64 });
      log(
        `redis cluster native vs polystore over createCluster(), ${op} x64: ${fmt(r.a)} vs ${fmt(r.b)} ops/s = ${r.ratio.toFixed(2)}x`,
      );
    }
    const hundred = keys.slice(0, 100);
    for (const key of hundred) await theirs.set(key, value(0));
    for (const [label, other, per] of [
      ["cluster vs single node (native)", () => single.getMany(hundred), "getMany(100)"],
      [
        "cluster native vs polystore over createCluster()",
        () => Promise.all(hundred.map((key) => theirs.get(key))),
        "Promise.all(100 gets)",
      ],
    ]) {
      const r = await sideBySide(() => cluster.getMany(hundred), other, { n: 300, inFlight: 8 });
      log(
        `redis ${label}, getMany(100) vs ${per}, 8 in flight: ` +
          `${fmt(r.a * 100)} vs ${fmt(r.b * 100)} keys/s = ${r.ratio.toFixed(2)}x`,
      );
    }
  } finally {
    await Promise.all([cluster.clear(), single.clear()]); // polystore's keys are under the cluster store's prefix
    await Promise.all([cluster.close(), single.close(), client.close()]);
  }
  return [];
}
