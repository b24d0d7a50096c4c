// `npm run bench [-- <filter>...]`: polykv and polystore side by side, in one process.
//
// For each store row: set/get/has/del over 10 000 keys, awaited one at a time (seq) and
// 64 in flight (x64); ops/s for each library and the polykv/polystore ratio (> 1: polykv
// is faster). Every number is the median of several passes that alternate the two
// libraries, after a warm-up pass. Filters pick rows by group or by part of the row name:
// `npm run bench -- memory sqlite`.
//
// Rows beyond memory come from the other bench/*.mjs files (embedded.mjs, clients.mjs,
// redis.mjs, postgres.mjs, ...); each default-exports `async ({ filters, wants }) => rows`
// (see bench/lib.mjs).
// Rows that need a server read POLYKV_TEST_REDIS_URL / POLYKV_TEST_POSTGRES_URL and
// come back with `skip` set when it is absent.

import { readdirSync, readFileSync } from "node:fs";
import polystore from "polystore";
import polykv from "../index.js";
import { environment, printTable, runRow } from "./lib.mjs";

const here = new URL(".", import.meta.url);
const NOT_ROWS = ["index.mjs", "lib.mjs"];
const ORDER = ["embedded.mjs", "clients.mjs", "redis.mjs", "postgres.mjs"];
const rank = (file) => (ORDER.includes(file) ? ORDER.indexOf(file) : ORDER.length);
// Each mode of each row runs at least RUNS passes per library, and keeps going for up to
// SECONDS (fast in-memory rows need many short passes for a stable median).
const RUNS = Number(process.env.POLYKV_BENCH_RUNS) || 5;
const SECONDS = Number(process.env.POLYKV_BENCH_SECONDS) || 2;

function memoryRows() {
  return [
    { name: "kv()", group: "memory", clock: "cpu", polykv: () => polykv(), polystore: () => polystore() },
    {
      name: "kv(new Map())",
      group: "memory",
      clock: "cpu",
      polykv: () => polykv(new Map()),
      polystore: () => polystore(new Map()),
    },
  ];
}

// Every other bench/*.mjs whose default export is a function is a row module; known ones
// run in this order, any new one after them. `wants(group)` lets a module skip costly
// setup for groups the filters leave out. A module that fails to load (a missing
// dependency, a server that refuses) becomes a skipped line rather than ending the run.
async function allRows(filters) {
  const rows = memoryRows();
  const files = readdirSync(here)
    .filter((file) => file.endsWith(".mjs") && !NOT_ROWS.includes(file))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const wants = (group) => filters.length === 0 || filters.some((f) => f.toLowerCase() === String(group).toLowerCase());
  for (const file of files) {
    try {
      const { default: makeRows } = await import(new URL(file, here).href);
      if (typeof makeRows === "function") rows.push(...(await makeRows({ filters, wants })));
    } catch (error) {
      rows.push({ name: `bench/${file}`, group: file.replace(/\.mjs$/, ""), skip: `could not load: ${error.message}` });
    }
  }
  return rows;
}

function matches(row, filters) {
  if (filters.length === 0) return true;
  return filters.some((filter) => {
    const f = filter.toLowerCase();
    return row.group?.toLowerCase() === f || row.name.toLowerCase().includes(f);
  });
}

const version = (path) => JSON.parse(readFileSync(path, "utf8")).version;

const filters = process.argv.slice(2);
const rows = (await allRows(filters)).filter((row) => matches(row, filters));
console.log(
  `polykv ${version(new URL("../package.json", here))} vs polystore ${version(new URL("../node_modules/polystore/package.json", here))}`,
);
console.log(environment());
console.log(
  `per row and mode: a warm-up pass, then >= ${RUNS} timed passes per library (up to ${SECONDS} s), alternating; medians shown`,
);
console.log("ratio = polykv / polystore ops/s (> 1: polykv is faster)\n");
if (rows.length === 0) {
  console.log(`no rows match ${filters.join(" ")}`);
  process.exitCode = 1;
}

const measured = [];
const skipped = [];
for (const row of rows) {
  if (row.skip) {
    skipped.push(`${row.name}: ${row.skip}`);
    continue;
  }
  const started = Date.now();
  try {
    measured.push(await runRow(row, { runs: RUNS, seconds: SECONDS }));
    console.log(`measured ${row.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.log(`FAILED ${row.name}: ${error.stack}`);
    process.exitCode = 1;
  }
}
if (measured.length) {
  console.log("\nkeys = keys per pass; seq = await each call, x64 = 64 calls in flight;");
  console.log(
    "clock: wall = elapsed time, cpu = this process's CPU time (memory rows: not skewed by other processes)\n",
  );
  printTable(measured);
}
for (const note of skipped) console.log(`skipped ${note}`);
