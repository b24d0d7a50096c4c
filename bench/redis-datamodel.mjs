// Bench lines for Redis's data model and atomic operations (issues 10 and 11),
// printed before the table (they do not fit its set/get/has/del columns), against the
// server in POLYKV_TEST_REDIS_URL:
//
// - getWithMetadata vs get (GET + PEXPIRETIME in one write vs GET), native and over
//   node-redis, awaited one at a time (seq) and 64 in flight (x64).
// - getMany of 100 keys vs polystore over node-redis doing Promise.all of 100 gets,
//   in keys/s, beside redis-benchmark on the same server: GET with a pipeline of 100
//   (-P 100) and MGET of 100 keys (the ceilings of a client on this machine).
// - increment on native Redis (one Lua script) vs polystore's get + set pair, seq
//   and x64, over 100 counters.
// - list() page times in a 1 000 000-key store, in a database of its own (claimed as
//   the tests claim theirs, fixtures/places.mjs, and emptied afterwards): pages of
//   1 000 keys through the store, and the one page of a 1 000-key prefix among them
//   (SCAN walks the whole keyspace for it: Redis keeps no order).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createClient } from "redis";
import polystore from "polystore";
import polykv from "../index.js";
import { measure, median } from "./lib.mjs";

const PREFIX = "polykv-bench-dm:";
const PASSES = Number(process.env.POLYKV_BENCH_RUNS) || 5;
const fmt = (value) =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0);

// Median ops/s of `a` and `b` over PASSES alternating passes (after one to warm up),
// and the median ratios of their wall-clock and of this process's CPU time per op: on
// a busy shared machine the wall clock moves with the others' load, the CPU time less.
async function sideBySide(a, b, options) {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const samples = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    const order = pass % 2 ? [b, a] : [a, b];
    const result = new Map();
    for (const fn of order) {
      const before = cpu();
      const opsPerSecond = await measure(fn, options);
      result.set(fn, { opsPerSecond, cpuMs: cpu() - before });
    }
    if (pass > 0) samples.push([result.get(a), result.get(b)]);
  }
  return {
    a: median(samples.map((s) => s[0].opsPerSecond)),
    b: median(samples.map((s) => s[1].opsPerSecond)),
    ratio: median(samples.map((s) => s[0].opsPerSecond / s[1].opsPerSecond)),
    cpuRatio: median(samples.map((s) => s[1].cpuMs / s[0].cpuMs)),
  };
}

const ratios = (r) => `${r.ratio.toFixed(2)}x (CPU time per op: ${r.cpuRatio.toFixed(2)}x)`;

async function clearPrefix(client, prefix) {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length) await client.unlink(keys);
  }
}

const value = (i) => ({ id: i, name: `user ${i}`, tags: ["a", "b"], active: i % 2 === 0 });

async function metadataVsGet(url, log) {
  const n = 5000;
  const keys = Array.from({ length: n }, (_, i) => `key:${i}`);
  for (const [label, make] of [
    ["native", () => polykv(url, { prefix: `${PREFIX}meta:` })],
    ["node-redis", () => polykv(createClient({ url }), { prefix: `${PREFIX}meta-client:` })],
  ]) {
    const store = make();
    await store.setMany(
      keys.map((key, i) => [key, value(i)]),
      { expires: 3600 },
    );
    for (const inFlight of [1, 64]) {
      const r = await sideBySide(
        (i) => store.getWithMetadata(keys[i]),
        (i) => store.get(keys[i]),
        { n, inFlight },
      );
      log(
        `redis ${label} getWithMetadata vs get, ${inFlight === 1 ? "seq" : "x64"}: ` +
          `${fmt(r.a)} vs ${fmt(r.b)} ops/s = ${ratios(r)}`,
      );
    }
    await store.clear();
    await store.close();
  }
}

// redis-benchmark's requests/s of the `line` ("GET", "MGET") it prints for `args`, or null.
function redisBenchmark(url, db, line, args) {
  const { hostname, port } = new URL(url);
  const run = spawnSync(
    "redis-benchmark",
    ["-h", hostname, "-p", port || "6379", "--dbnum", String(db), "-q", "-c", "1", ...args],
    { encoding: "utf8", timeout: 60_000 },
  );
  // Progress lines end with \r; the result line is "<line>…: <n> requests per second, …".
  for (const text of (run.stdout ?? "").split(/[\r\n]/)) {
    const match = /^\s*([^:\s]+).*?: ([\d.]+) requests per second/.exec(text);
    if (match && match[1] === line) return Number(match[2]);
  }
  return null;
}

async function getManyVsGets(url, db, control, log) {
  const n = 200; // calls of 100 keys
  const keys = Array.from({ length: 100 }, (_, i) => `many:${i}`);
  const native = polykv(url, { prefix: PREFIX });
  const client = polykv(createClient({ url }), { prefix: PREFIX });
  const theirs = polystore(createClient({ url }), { prefix: PREFIX });
  await native.setMany(keys.map((key, i) => [key, value(i)]));
  for (const [label, ours] of [
    ["native", native],
    ["node-redis", client],
  ]) {
    for (const inFlight of [1, 8]) {
      const r = await sideBySide(
        () => ours.getMany(keys),
        () => Promise.all(keys.map((key) => theirs.get(key))),
        { n, inFlight },
      );
      log(
        `redis ${label} getMany(100) vs polystore Promise.all(100 gets), ${inFlight} call${inFlight > 1 ? "s" : ""} in flight: ` +
          `${fmt(r.a * 100)} vs ${fmt(r.b * 100)} keys/s = ${ratios(r)}`,
      );
    }
  }
  await native.delMany(keys);
  await Promise.all([native.close(), client.close(), theirs.close()]);
  // The ceilings, on the bench's own database, over values of the same size (-d):
  // SET then GET of key:__rand_int__, and MGET of 100 keys holding the bench's values.
  const size = String(JSON.stringify(value(50)).length);
  const get = redisBenchmark(url, db, "GET", ["-n", "500000", "-P", "100", "-d", size, "-t", "set,get"]);
  const mgetKeys = Array.from({ length: 100 }, (_, i) => `mget:${i}`);
  await control.mSet(mgetKeys.map((key, i) => [key, JSON.stringify(value(i))]));
  const mget = redisBenchmark(url, db, "MGET", ["-n", "20000", "MGET", ...mgetKeys]);
  if (get === null || mget === null) log("redis-benchmark: not found or failed, no ceiling printed");
  else {
    log(
      `redis-benchmark on the same server, 1 connection: GET -P 100 ${fmt(get)} keys/s; ` +
        `MGET of 100 keys, no pipeline: ${fmt(mget * 100)} keys/s (${fmt(mget)} calls/s)`,
    );
  }
}

async function incrementVsGetSet(url, log) {
  const n = 5000;
  const counters = Array.from({ length: 100 }, (_, i) => `counter:${i}`);
  const ours = polykv(url, { prefix: `${PREFIX}incr:` });
  const theirs = polystore(createClient({ url }), { prefix: `${PREFIX}incr-polystore:` });
  for (const inFlight of [1, 64]) {
    const r = await sideBySide(
      (i) => ours.increment(counters[i % 100]),
      async (i) => theirs.set(counters[i % 100], ((await theirs.get(counters[i % 100])) ?? 0) + 1),
      { n, inFlight },
    );
    log(
      `redis native increment vs polystore get+set, ${inFlight === 1 ? "seq" : "x64"}: ` +
        `${fmt(r.a)} vs ${fmt(r.b)} ops/s = ${ratios(r)}`,
    );
  }
  await ours.clear();
  await theirs.clear();
  await Promise.all([ours.close(), theirs.close()]);
}

// A database of the bench's own, claimed as fixtures/places.mjs claims the tests'
// (from the top down, where the tests go up), emptied and released by `release()`.
async function claimDatabase(url) {
  const claims = createClient({ url });
  await claims.connect();
  const databases = Number((await claims.configGet("databases")).databases);
  const token = randomBytes(4).toString("hex");
  for (let db = databases - 1; db > 10; db--) {
    const claim = `polykv-test:private-db:${db}`;
    if ((await claims.set(claim, token, { NX: true, EX: 3600 })) !== "OK") continue;
    const control = createClient({ url, database: db });
    await control.connect();
    await control.flushDb();
    const release = async () => {
      await control.flushDb();
      await control.close();
      if ((await claims.get(claim)) === token) await claims.del(claim);
      await claims.close();
    };
    return { db, control, release };
  }
  await claims.close();
  throw new Error("no free Redis database for the bench");
}

async function listPages(url, db, control, log) {
  const total = 1_000_000;
  await control.flushDb(); // redis-benchmark's keys hold no JSON
  const started = performance.now();
  for (let i = 0; i < total; i += 10_000) {
    const pairs = [];
    for (let j = i; j < i + 10_000; j++) {
      const key = j < 1000 ? `session:${j}` : `user:${j}`;
      pairs.push(key, `{"id":${j}}`);
    }
    await control.sendCommand(["MSET", ...pairs]);
  }
  const built = performance.now() - started;
  const store = polykv(`${url.replace(/\/\d*$/, "")}/${db}`);
  const times = [];
  let cursor;
  let listed = 0;
  for (let page = 0; page < 50; page++) {
    const t = performance.now();
    const result = await store.list({ cursor });
    times.push(performance.now() - t);
    listed += result.keys.length;
    cursor = result.cursor;
  }
  // The whole listing of the sparse prefix: its pages until list_complete.
  const sparse = [];
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    let found = 0;
    let page = { cursor: undefined };
    do {
      page = await store.list({ prefix: "session:", cursor: page.cursor });
      found += page.keys.length;
    } while (!page.list_complete);
    sparse.push(performance.now() - t);
    if (found !== 1000) throw new Error(`[bench] listing session: gave ${found} keys`);
  }
  await store.close();
  log(
    `redis list() in a 1 000 000-key store (built in ${(built / 1000).toFixed(1)} s): pages of 1 000 keys ` +
      `${median(times).toFixed(1)} ms median of 50 (${listed} keys); listing a 1 000-key prefix among them ` +
      `${median(sparse).toFixed(0)} ms median of 3 (SCAN walks the whole keyspace)`,
  );
}

export default async function redisDataModel({ wants = () => true } = {}) {
  const url = process.env.POLYKV_TEST_REDIS_URL;
  if (!url || !wants("redis")) return [];
  const log = console.log;
  const { db, control, release } = await claimDatabase(url);
  try {
    await metadataVsGet(url, log);
    await incrementVsGetSet(url, log);
    await getManyVsGets(url, db, control, log);
    if (!process.env.POLYKV_BENCH_QUICK) await listPages(url, db, control, log);
  } finally {
    await release();
  }
  const raw = createClient({ url });
  await raw.connect();
  await clearPrefix(raw, PREFIX);
  await raw.close();
  return [];
}
