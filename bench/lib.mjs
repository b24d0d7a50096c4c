// Shared helpers for the benchmark: timing a batch of operations and printing the table.
//
// A row module (any other bench/*.mjs: embedded.mjs, redis.mjs, ...) default-exports
// `async ({ filters, wants }) => rows`, where `wants(group)` says whether the command-line
// filters keep that group (to skip costly setup), and each row is:
//   { name: "kv(\"sqlite::memory:\")", group: "sqlite",
//     polykv: async () => store, polystore: async () => store,   // fresh, empty stores
//     skip?: "why it is skipped", n?: 10000,     // keys per pass
//     runs?: 5, seconds?: 2,                      // timed passes: at least, and up to (runRow)
//     clock?: "wall" | "cpu" }                    // see CLOCKS below; default "wall"
// A slow row (network round trips) keeps the whole run near 2 minutes with a smaller n
// or runs: a pass is 8 x n operations, and each row does 2 modes x (1 + runs) passes.
// bench/index.mjs measures every row the same way (runRow) and prints one table.

import os from "node:os";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

// A full GC before each timed pass, so one library's garbage is not collected on the
// other's time. Node exposes gc() only behind a flag, which can be turned on at run time.
const collectGarbage = (() => {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  if (typeof Bun !== "undefined") return () => Bun.gc(true);
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc");
  } catch {
    return () => {};
  }
})();

export const OPS = ["set", "get", "has", "del"];
export const MODES = [
  { name: "seq", inFlight: 1 },
  { name: "x64", inFlight: 64 },
];

// Clocks a row can be timed with. "wall" is elapsed time, what a user waits for: right
// for rows that wait on a server or a disk. "cpu" is the CPU time this process spent
// (all its threads), in µs: for rows that never wait, it does not count the time other
// processes held the CPU, which on a shared 2-core machine otherwise decides the result.
const CLOCKS = {
  wall: () => performance.now(),
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

/**
 * Runs `fn(i)` for i in 0..n-1 with at most `inFlight` calls pending at once and
 * returns operations per second (of the clock: "wall" or "cpu"). inFlight 1 awaits
 * each call before the next.
 */
export async function measure(fn, { n, inFlight = 1, clock = "wall" }) {
  const now = CLOCKS[clock];
  const start = now();
  if (inFlight <= 1) {
    for (let i = 0; i < n; i++) await fn(i);
  } else {
    let next = 0;
    const worker = async () => {
      while (next < n) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
  }
  const seconds = (now() - start) / 1000;
  return n / seconds;
}

export function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The keys and values every row uses: small JSON objects, like a session or a cache entry. */
export function dataset(n) {
  const keys = Array.from({ length: n }, (_, i) => `key:${i}`);
  const values = Array.from({ length: n }, (_, i) => ({
    id: i,
    name: `user ${i}`,
    tags: ["a", "b"],
    active: i % 2 === 0,
  }));
  return { keys, values };
}

// The operation each column times, over key i of the dataset.
const CALLS = {
  set:
    (store, { keys, values }) =>
    (i) =>
      store.set(keys[i], values[i]),
  get:
    (store, { keys }) =>
    (i) =>
      store.get(keys[i]),
  has:
    (store, { keys }) =>
    (i) =>
      store.has(keys[i]),
  del:
    (store, { keys }) =>
    (i) =>
      store.del(keys[i]),
};

// One pass: both stores emptied, then set -> get -> has -> del over `n` keys, each op
// timed for one library right after the other (in `order`), so the two numbers of a
// pair see the same machine load. Returns { [lib]: { [op]: ops/s } }.
async function pass(stores, order, data, n, inFlight, clock) {
  const result = {};
  for (const lib of order) {
    await stores[lib].clear();
    result[lib] = {};
  }
  for (const op of OPS) {
    for (const lib of order) {
      collectGarbage();
      result[lib][op] = await measure(CALLS[op](stores[lib], data), { n, inFlight, clock });
    }
  }
  return result;
}

// Fails loudly when a store does not behave, so a broken path never shows up as "fast".
async function check(label, store, { keys, values }) {
  await store.set(keys[0], values[0]);
  const back = await store.get(keys[0]);
  if (JSON.stringify(back) !== JSON.stringify(values[0]) || !(await store.has(keys[0]))) {
    throw new Error(`[bench] ${label}: get() after set() returned ${JSON.stringify(back)}`);
  }
  await store.del(keys[0]);
  if ((await store.get(keys[0])) !== null) throw new Error(`[bench] ${label}: del() left the key behind`);
}

/**
 * Measures one row: for each mode, a warm-up pass per library, then timed passes,
 * alternating which library goes first so both share the machine's noise: at least
 * `runs`, more while the mode has used less than `seconds` (fast stores finish a pass
 * in a few ms, where a single GC pause would decide the result), at most 101. Each number
 * is the median of the passes. Returns { name, n, results: { [mode]: { [op]: { polykv, polystore, ratio } } } }.
 */
export async function runRow(row, options = {}) {
  const { n = row.n ?? 10_000, data = dataset(n) } = options;
  const runs = row.runs ?? options.runs ?? 5;
  const seconds = row.seconds ?? options.seconds ?? 2;
  const clock = row.clock ?? "wall";
  if (!CLOCKS[clock]) throw new Error(`[bench] ${row.name}: unknown clock "${clock}" (use "wall" or "cpu")`);
  const stores = { polykv: await row.polykv(), polystore: await row.polystore() };
  const libs = ["polykv", "polystore"];
  const results = {};
  try {
    for (const lib of libs) await check(`${row.name} (${lib})`, stores[lib], data);
    for (const mode of MODES) {
      const samples = [];
      await pass(stores, libs, data, n, mode.inFlight, clock);
      const started = performance.now();
      while (samples.length < runs || (performance.now() - started < seconds * 1000 && samples.length < 101)) {
        const order = samples.length % 2 ? [...libs].reverse() : libs;
        samples.push(await pass(stores, order, data, n, mode.inFlight, clock));
      }
      results[mode.name] = {};
      for (const op of OPS) {
        results[mode.name][op] = {
          polykv: median(samples.map((sample) => sample.polykv[op])),
          polystore: median(samples.map((sample) => sample.polystore[op])),
          // The median of the per-pass ratios: each pair ran back to back under the same load.
          ratio: median(samples.map((sample) => sample.polykv[op] / sample.polystore[op])),
        };
      }
    }
  } finally {
    for (const lib of libs) await stores[lib].close?.();
  }
  return { name: row.name, n, clock, results };
}

function formatOps(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

/** Prints the measured rows as one table; a ratio below 1.0 is marked with "<". */
export function printTable(rows, log = console.log) {
  const header = ["store", "keys", "clock", "op"];
  for (const mode of MODES) header.push(`${mode.name} polykv`, `${mode.name} polystore`, `${mode.name} ratio`);
  const lines = [header];
  for (const row of rows) {
    for (const op of OPS) {
      const line = [row.name, String(row.n), row.clock ?? "wall", op];
      for (const mode of MODES) {
        const { polykv, polystore, ratio = polykv / polystore } = row.results[mode.name][op];
        line.push(formatOps(polykv), formatOps(polystore), `${ratio.toFixed(2)}${ratio < 1 ? " <" : ""}`);
      }
      lines.push(line);
    }
  }
  const widths = header.map((_, c) => Math.max(...lines.map((line) => line[c].length)));
  const render = (line) =>
    line
      .map((cell, c) => (c === 0 || c === 2 || c === 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ");
  log(render(lines[0]));
  log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines.slice(1)) log(render(line));
}

export function environment() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
  return `${runtime}, ${os.platform()} ${os.arch()}, ${cpu.trim()} (${os.cpus().length} cores)`;
}
