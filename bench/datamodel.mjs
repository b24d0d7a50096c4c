// Bench lines for the data model and the bulk operations on the embedded stores
// (issues 10 and 11), printed before the table (they are not set/get/has/del rows):
//
// - getWithMetadata vs get on each embedded store (the same 2 000 keys);
// - 1 MB binary set/get on native SQLite, vs raw better-sqlite3 binding a Buffer
//   (cached statements, same pragmas), vs the same bytes stored as a base64 JSON string;
// - list() page times, 1 000 keys a page, in a 1 000 000-key SQLite store;
// - getMany of 100 keys vs polystore's Promise.all of 100 get()s, in keys/s.
//
// Each comparison alternates its sides pass by pass and reports medians, so both see
// the same machine load.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import polystore from "polystore";
import polykv from "../index.js";
import { median } from "./lib.mjs";

const root = mkdtempSync(join(tmpdir(), "polykv-bench-datamodel-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = (name) => join(root, `${count++}-${name}`);

function betterSqlite(file) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 10000");
  return db;
}

const format = (value) => (value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : `${(value / 1e3).toFixed(1)}k`);

/**
 * Ops/s of each side (`sides`: { name: async (i) => void }) over `n` calls, awaited one
 * at a time, in `runs` passes alternating which side goes first; medians.
 */
async function compare(sides, n, runs) {
  const names = Object.keys(sides);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let run = -1; run < runs; run++) {
    const order = run % 2 ? names : [...names].reverse();
    for (const name of order) {
      const start = performance.now();
      for (let i = 0; i < n; i++) await sides[name](i);
      // The first pass warms up and is not counted.
      if (run >= 0) samples[name].push(n / ((performance.now() - start) / 1000));
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name])]));
}

async function metadataVsGet(log) {
  const stores = {
    'kv("sqlite:///…")': polykv(`sqlite://${fresh("meta.db")}`),
    "kv(better-sqlite3)": polykv(betterSqlite(fresh("meta-client.db"))),
    'kv("file:///….json")': polykv(`file://${fresh("meta.json")}`),
    'kv("file:///…/")': polykv(`file://${fresh("meta")}/`),
  };
  for (const [name, store] of Object.entries(stores)) {
    const n = name.includes("file") ? 500 : 2000;
    await store.setMany(Array.from({ length: n }, (_, i) => [`k${i}`, { id: i, name: `user ${i}` }]));
    const result = await compare(
      { get: (i) => store.get(`k${i}`), getWithMetadata: (i) => store.getWithMetadata(`k${i}`) },
      n,
      7,
    );
    log(
      `${name.padEnd(22)} get ${format(result.get)}/s, getWithMetadata ${format(result.getWithMetadata)}/s: ` +
        `${(result.getWithMetadata / result.get).toFixed(2)}x`,
    );
    await store.close();
  }
}

async function binary(log) {
  const MB = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < MB.length; i++) MB[i] = (i * 7919) & 0xff;
  const native = polykv(`sqlite://${fresh("bin.db")}`);
  const base64 = polykv(`sqlite://${fresh("b64.db")}`);
  const db = betterSqlite(fresh("raw-bin.db"));
  db.exec("CREATE TABLE kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
  const put = db.prepare(
    "INSERT INTO kv (id, value, expires_at) VALUES (?, ?, NULL) ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
  );
  const read = db.prepare("SELECT value FROM kv WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)").pluck();
  const n = 50;
  const sets = await compare(
    {
      native: (i) => native.set(`b${i}`, MB),
      raw: async (i) => void put.run(`b${i}`, MB),
      base64: (i) => base64.set(`b${i}`, MB.toString("base64")),
    },
    n,
    7,
  );
  const gets = await compare(
    {
      native: (i) => native.get(`b${i}`),
      raw: async (i) => read.get(`b${i}`, Date.now()),
      base64: async (i) => Buffer.from(await base64.get(`b${i}`), "base64"),
    },
    n,
    7,
  );
  for (const [op, result] of [
    ["set", sets],
    ["get", gets],
  ]) {
    log(
      `1 MB binary ${op}: native SQLite ${result.native.toFixed(0)}/s, raw better-sqlite3 Buffer ${result.raw.toFixed(0)}/s ` +
        `(${(result.native / result.raw).toFixed(2)}x), base64 JSON ${result.base64.toFixed(0)}/s (${(result.native / result.base64).toFixed(2)}x)`,
    );
  }
  await native.close();
  await base64.close();
  db.close();
}

async function listPages(log) {
  const file = fresh("million.db");
  const db = betterSqlite(file);
  db.exec("CREATE TABLE kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
  db.exec("CREATE INDEX idx_kv_expires_at ON kv (expires_at)");
  const insert = db.prepare("INSERT INTO kv (id, value, expires_at) VALUES (?, ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < 1_000_000; i++) {
      insert.run(`user:${String(i).padStart(7, "0")}`, `{"id":${i}}`, i % 10 ? null : 4_000_000_000_000);
    }
  })();
  db.close();
  const store = polykv(`sqlite://${file}`);
  const first = [];
  const middle = [];
  const { cursor } = await store.list({ prefix: "user:05", limit: 1000 });
  for (let i = 0; i < 51; i++) {
    let t = performance.now();
    const page = await store.list({ limit: 1000 });
    first.push(performance.now() - t);
    t = performance.now();
    const next = await store.list({ prefix: "user:05", limit: 1000, cursor });
    middle.push(performance.now() - t);
    if (page.keys.length !== 1000 || next.keys.length !== 1000) throw new Error("[bench] list(): short page");
  }
  log(
    `sqlite list() of 1 000 keys in a 1 000 000-key store: first page ${median(first).toFixed(2)} ms, ` +
      `a page after a cursor ${median(middle).toFixed(2)} ms (medians of 51)`,
  );
  await store.close();
}

async function getMany(log) {
  const keys = Array.from({ length: 100 }, (_, i) => `key:${i}`);
  const native = polykv(`sqlite://${fresh("many.db")}`);
  const old = polystore(betterSqlite(fresh("many-polystore.db")));
  for (const store of [native, old]) {
    for (const key of keys) await store.set(key, { key, tags: ["a", "b"] });
  }
  const result = await compare(
    { polykv: () => native.getMany(keys), polystore: () => Promise.all(keys.map((key) => old.get(key))) },
    200,
    7,
  );
  log(
    `sqlite getMany of 100 keys: polykv native ${format(result.polykv * 100)} keys/s, ` +
      `polystore Promise.all of 100 get()s over better-sqlite3 ${format(result.polystore * 100)} keys/s ` +
      `(${(result.polykv / result.polystore).toFixed(1)}x)`,
  );
  await native.close();
  await old.close();
}

export default async function datamodelLines({ wants = () => true } = {}) {
  if (!wants("datamodel") && !wants("sqlite")) return [];
  const log = (line) => console.log(`datamodel: ${line}`);
  await metadataVsGet(log);
  await binary(log);
  await getMany(log);
  await listPages(log);
  console.log("");
  return [];
}
