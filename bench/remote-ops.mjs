// `node bench/remote-ops.mjs`: the data-model and bulk operations over the network
// backends (issues 10 and 11), beside the single-key reads they replace:
//   getWithMetadata vs get, sequential, on Postgres (pg Client) and etcd: a record
//     with its deadline should cost what the value alone does (>= 0.9x);
//   getMany of 100 keys vs polystore doing Promise.all of 100 get()s, on Postgres
//     (pg Client and Pool of 8), in keys per second.
// Each figure is the median of RUNS timed passes that alternate the two sides,
// after a warm-up pass. Reads POLYKV_TEST_POSTGRES_URL and POLYKV_TEST_ETCD_URL; a
// backend without its URL is skipped. Not a row module of bench/index.mjs (its
// table is set/get/has/del per library); run on its own.
import { pathToFileURL } from "node:url";
import pg from "pg";
import { Etcd3 } from "etcd3";
import polystore from "polystore";
import polykv from "../index.js";
import { environment, median, measure } from "./lib.mjs";

const RUNS = Number(process.env.POLYKV_BENCH_RUNS) || 5;
const N = Number(process.env.POLYKV_BENCH_REMOTE_KEYS) || 1000;
const BATCH = 100;

// Median ops/s of `a` and `b` (each `(i) => promise`), passes alternating.
async function sideBySide(a, b, n) {
  await measure(a, { n });
  await measure(b, { n });
  const results = { a: [], b: [] };
  for (let run = 0; run < RUNS; run++) {
    results.a.push(await measure(a, { n }));
    results.b.push(await measure(b, { n }));
  }
  return [median(results.a), median(results.b)];
}

const rows = [];
const show = (name, left, right, unit) =>
  rows.push([name, `${Math.round(left)} ${unit}`, `${Math.round(right)} ${unit}`, (left / right).toFixed(2)]);

async function fill(store, keys) {
  for (let i = 0; i < keys.length; i += BATCH) {
    await Promise.all(keys.slice(i, i + BATCH).map((key, j) => store.set(key, { i: i + j, text: `value ${i + j}` })));
  }
}

async function metadataVsGet(label, store) {
  const keys = Array.from({ length: N }, (_, i) => `m${i}`);
  await fill(store, keys);
  const [withMeta, plain] = await sideBySide(
    (i) => store.getWithMetadata(keys[i]),
    (i) => store.get(keys[i]),
    N,
  );
  show(`${label}: getWithMetadata vs get (seq)`, withMeta, plain, "ops/s");
}

async function getManyVsAll(label, ours, theirs) {
  const keys = Array.from({ length: N }, (_, i) => `g${i}`);
  await fill(ours, keys);
  await fill(theirs, keys);
  const batches = N / BATCH;
  const slice = (i) => keys.slice(i * BATCH, (i + 1) * BATCH);
  const [many, all] = await sideBySide(
    (i) => ours.getMany(slice(i)),
    (i) => Promise.all(slice(i).map((key) => theirs.get(key))),
    batches,
  );
  show(`${label}: polykv getMany(100) vs polystore Promise.all(100 get)`, many * BATCH, all * BATCH, "keys/s");
}

async function main() {
  console.log(environment());
  const pgUrl = process.env.POLYKV_TEST_POSTGRES_URL;
  if (pgUrl) {
    const admin = new pg.Client(pgUrl);
    await admin.connect();
    for (const schema of ["bench_ops_polykv", "bench_ops_polystore"]) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${schema}`);
    }
    const options = (schema) => ({ connectionString: pgUrl, options: `-c search_path=${schema}` });
    const client = polykv(new pg.Client(options("bench_ops_polykv")));
    await metadataVsGet("postgres pg Client", client);
    const theirClient = polystore(new pg.Client(options("bench_ops_polystore")));
    await getManyVsAll("postgres pg Client", client, theirClient);
    await client.close();
    await theirClient.close();
    const pool = polykv(new pg.Pool({ ...options("bench_ops_polykv"), max: 8 }));
    const theirPool = polystore(new pg.Pool({ ...options("bench_ops_polystore"), max: 8 }));
    await getManyVsAll("postgres pg Pool (8)", pool, theirPool);
    await pool.close();
    await theirPool.close();
    for (const schema of ["bench_ops_polykv", "bench_ops_polystore"]) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
    await admin.end();
  } else {
    rows.push(["postgres", "skipped: set POLYKV_TEST_POSTGRES_URL", "", ""]);
  }
  const etcdUrl = process.env.POLYKV_TEST_ETCD_URL;
  if (etcdUrl) {
    const etcd = new Etcd3({ hosts: etcdUrl });
    const prefix = `bench-ops:${process.pid}:`;
    await metadataVsGet("etcd3", polykv(etcd, { prefix }));
    await etcd.delete().prefix(prefix);
    etcd.close();
  } else {
    rows.push(["etcd", "skipped: set POLYKV_TEST_ETCD_URL", "", ""]);
  }
  const widths = [0, 1, 2, 3].map((c) =>
    Math.max(...[["row", "left", "right", "ratio"], ...rows].map((r) => r[c].length)),
  );
  for (const row of [["row", "left", "right", "ratio"], ...rows]) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
