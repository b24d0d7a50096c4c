// Runs the conformance suite (suite/) over every store polykv offers, and over
// polystore itself as the reference implementation.
//
// A row: { name, make: (options, place) => emptyStore, caps?, env?, place?, probe? };
// run() (suite/index.mjs) runs it twice, under a fresh prefix and unprefixed
// (`options` is { prefix } or {}); a row on a shared server names its `place`
// (fixtures/places.mjs), which is private when unprefixed. What a row's tests rely
// on comes from `store.capabilities` (its driver's declaration); `caps` adds only
// what a store cannot say of itself. A row with `env`
// needs that environment variable (a server URL, set by .ci/services.sh); without
// it the row is skipped with a printed reason, except under CI where it fails.
import polystore from "polystore";
import kv from "../index.mjs";
import { run } from "./suite/index.mjs";
import { customRows } from "./fixtures/custom-clients.mjs";
import { serverRows } from "./fixtures/server-rows.mjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Level } from "level";
import { servedStore } from "./fixtures/served.mjs";
import Database from "better-sqlite3";
import { serviceUrl } from "./fixtures/service.mjs";
import { redisClusterPlace, redisPlace } from "./fixtures/places.mjs";

// Under Bun (`npm run test:bun`), bun:sqlite stands in for better-sqlite3, which Bun
// cannot load.
const BunDatabase = typeof Bun === "undefined" ? null : (await import("bun:sqlite")).Database;

// polystore's stores declare no capabilities: its rows say what they are.
const memory = { serializes: false };
const reference = { polykv: false };

const levelFolder = mkdtempSync(join(tmpdir(), "polykv-level-suite-"));
let levelCount = 0;
after(() => rmSync(levelFolder, { recursive: true, force: true }));

// SQLite, JSON file and folder stores: a fresh path per store, all under one temp folder.
const embeddedFolder = mkdtempSync(join(tmpdir(), "polykv-embedded-suite-"));
let embeddedCount = 0;
const freshPath = (name) => join(embeddedFolder, `${embeddedCount++}-${name}`);
// The user's database keeps the user's pragmas; these are ours, without which every
// write waits for an fsync (~5 ms), longer than the suite's 10 ms expiry windows.
// The user's database object: bun:sqlite under Bun, better-sqlite3 under Node.
function sqliteClient(file) {
  const db = BunDatabase ? new BunDatabase(file) : new Database(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  return db;
}
after(() => rmSync(embeddedFolder, { recursive: true, force: true }));

const rows = [
  { name: "polykv kv()", make: (options) => kv(undefined, options) },
  { name: "polykv kv(new Map())", make: (options) => kv(new Map(), options) },
  { name: "polykv kv(kv())", make: (options) => kv(kv(), options) },
  ...customRows(kv),
  ...serverRows(kv),
  {
    name: 'polykv kv("redis://…") native',
    env: "POLYKV_TEST_REDIS_URL",
    place: redisPlace,
    make: (options, url) => kv(url, options),
  },
  {
    name: 'polykv kv("redis+cluster://…") native',
    env: "POLYKV_TEST_REDIS_CLUSTER_URL",
    place: redisClusterPlace,
    make: (options, url) => kv(url, options),
  },
  { name: "polykv kv(level)", make: (options) => kv(new Level(join(levelFolder, `db${levelCount++}`)), options) },
  { name: 'polykv kv("sqlite:///…")', make: (options) => kv(`sqlite://${freshPath("store.db")}`, options) },
  { name: 'polykv kv("sqlite::memory:")', make: (options) => kv("sqlite::memory:", options) },
  {
    name: `polykv kv(${BunDatabase ? "bun:sqlite" : "better-sqlite3"} Database)`,
    make: (options) => kv(sqliteClient(freshPath("client.db")), options),
  },
  { name: 'polykv kv("file:///….json")', make: (options) => kv(`file://${freshPath("data.json")}`, options) },
  {
    name: 'polykv kv(new URL("file:///….json"))',
    make: (options) => kv(new URL(`file://${freshPath("url data.json")}`), options),
  },
  { name: 'polykv kv("file:///…/")', make: (options) => kv(`file://${freshPath("folder")}/`, options) },
  // Expiry over HTTP is as precise as the served store (ms), but the suite's 10 ms
  // windows are shorter than a round trip on a busy machine: api.spec.mjs tests it.
  // Each store gets a fresh served store, so the unprefixed one is alone on it.
  {
    name: 'polykv kv("http://…") over polykv/server',
    make: (options) => servedStore(kv, options),
    caps: { expiryMs: false },
  },
  {
    name: "polystore kv() (reference)",
    make: (options) => polystore(undefined, options),
    kv: polystore,
    caps: { ...memory, ...reference },
  },
  {
    name: "polystore kv(new Map()) (reference)",
    make: (options) => polystore(new Map(), options),
    kv: polystore,
    caps: { ...memory, ...reference },
  },
];

for (const row of rows) {
  if (row.env && !serviceUrl(row.env, row.name)) continue;
  run(row);
}
