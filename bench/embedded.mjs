// Bench rows for the embedded stores, each next to polystore's equivalent:
//
// - sqlite: kv("sqlite:///…") (Rust, rusqlite) and kv(better-sqlite3 Database) vs
//   polystore over better-sqlite3, both with WAL + synchronous=NORMAL, 10 000 keys;
//   the anchor row puts raw better-sqlite3 with cached statements (no store layer:
//   JSON.stringify + one prepared statement per op) in the polykv column.
// - file: kv("file:///….json") vs polystore's file store, 1 000 keys (polystore
//   rewrites and re-reads the whole file on every call: one pass takes seconds, so
//   this row runs a single timed pass per mode).
// - folder: kv("file:///…/") vs polystore's folder store, 1 000 keys.
// - keys() of a 100-key prefix in a 1 000 000-key SQLite store, median ms, printed
//   before the table (polykv: a primary-key range scan; polystore: LIKE, a full scan).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import polystore from "polystore";
import polykv from "../index.js";
import { median } from "./lib.mjs";

const root = mkdtempSync(join(tmpdir(), "polykv-bench-embedded-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = (name) => join(root, `${count++}-${name}`);

/** better-sqlite3 with the pragmas the native store uses. */
function betterSqlite(file) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 10000");
  return db;
}

/**
 * Raw better-sqlite3 on polystore's table with cached statements, shaped like a store,
 * with the expires_at index a polykv table has (an anchor without it skipped one
 * page write a set, which was most of polykv's distance to it).
 */
function rawBetterSqlite(file) {
  const db = betterSqlite(file);
  db.exec("CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
  db.exec("CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL");
  const get = db.prepare("SELECT value FROM kv WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)").pluck();
  const has = db.prepare("SELECT 1 FROM kv WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)").pluck();
  const set = db.prepare(
    "INSERT INTO kv (id, value, expires_at) VALUES (?, ?, NULL) ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
  );
  const del = db.prepare("DELETE FROM kv WHERE id = ?");
  const clear = db.prepare("DELETE FROM kv");
  return {
    set: async (key, value) => void set.run(key, JSON.stringify(value)),
    get: async (key) => {
      const text = get.get(key, Date.now());
      return text === undefined ? null : JSON.parse(text);
    },
    has: async (key) => has.get(key, Date.now()) !== undefined,
    del: async (key) => void del.run(key),
    clear: async () => void clear.run(),
    close: async () => db.close(),
  };
}

/** keys() of a 100-key prefix among 1 000 000 rows: polykv native vs polystore (LIKE). */
async function prefixKeysInBigStore(log = console.log) {
  const file = fresh("million.db");
  const db = betterSqlite(file);
  db.exec("CREATE TABLE kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
  db.exec("CREATE INDEX idx_kv_expires_at ON kv (expires_at)");
  const insert = db.prepare("INSERT INTO kv (id, value, expires_at) VALUES (?, ?, NULL)");
  const started = Date.now();
  db.transaction(() => {
    for (let i = 0; i < 999_900; i++) insert.run(`user:${String(i).padStart(7, "0")}`, `{"id":${i}}`);
    for (let i = 0; i < 100; i++) insert.run(`session:${String(i).padStart(3, "0")}`, `{"id":${i}}`);
  })();
  const built = Date.now() - started;

  const timeIt = async (fn, runs) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const keys = await fn();
      times.push(performance.now() - t);
      if (keys.length !== 100) throw new Error(`[bench] prefix keys(): expected 100 keys, got ${keys.length}`);
    }
    return median(times);
  };
  const native = polykv(`sqlite://${file}`).prefix("session:");
  const nativeMs = await timeIt(() => native.keys(), 101);
  await native.close();
  const old = polystore(db).prefix("session:");
  const polystoreMs = await timeIt(() => old.keys(), 5);
  db.close();
  log(
    `sqlite keys() of a 100-key prefix in a 1 000 000-key store (built in ${(built / 1000).toFixed(1)} s): ` +
      `polykv ${nativeMs.toFixed(3)} ms median of 101, polystore over better-sqlite3 ${polystoreMs.toFixed(1)} ms median of 5 ` +
      `(${(polystoreMs / nativeMs).toFixed(0)}x)`,
  );
  return { nativeMs, polystoreMs };
}

export default async function embeddedRows({ wants = () => true } = {}) {
  if (wants("sqlite")) await prefixKeysInBigStore();
  const polystoreSqlite = () => polystore(betterSqlite(fresh("polystore.db")));
  return [
    {
      name: 'kv("sqlite:///…") native',
      group: "sqlite",
      n: 10_000,
      polykv: () => polykv(`sqlite://${fresh("native.db")}`),
      polystore: polystoreSqlite,
    },
    {
      name: "better-sqlite3 Database",
      group: "sqlite",
      n: 10_000,
      polykv: () => polykv(betterSqlite(fresh("client.db"))),
      polystore: polystoreSqlite,
    },
    {
      name: "anchor: raw better-sqlite3, cached statements",
      group: "sqlite",
      n: 10_000,
      polykv: () => rawBetterSqlite(fresh("raw.db")),
      polystore: polystoreSqlite,
    },
    {
      name: 'kv("file:///….json")',
      group: "file",
      n: 1_000,
      runs: 1,
      seconds: 0,
      polykv: () => polykv(`file://${fresh("polykv.json")}`),
      polystore: () => polystore(`file://${fresh("polystore.json")}`),
    },
    {
      name: 'kv("file:///…/") folder',
      group: "folder",
      n: 1_000,
      polykv: () => polykv(`file://${fresh("polykv")}/`),
      polystore: () => polystore(`file://${fresh("polystore")}/`),
    },
  ];
}
