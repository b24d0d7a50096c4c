// Runs the conformance suite (suite/) over every store polykv offers, and over
// polystore itself as the reference implementation.
//
// A row: { name, make: async () => emptyStore, caps, env? }. A row with `env`
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

// Under Bun (`npm run test:bun`), bun:sqlite stands in for better-sqlite3, which Bun
// cannot load.
const BunDatabase = typeof Bun === "undefined" ? null : (await import("bun:sqlite")).Database;

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
  { name: "polykv kv()", make: () => kv(), caps: memory },
  { name: "polykv kv(new Map())", make: () => kv(new Map()), caps: memory },
  { name: "polykv kv(kv())", make: () => kv(kv()), caps: memory },
  ...customRows(kv),
  ...serverRows(kv),
  {
    name: 'polykv kv("redis://…") native',
    env: "POLYKV_TEST_REDIS_URL",
    make: () => kv(process.env.POLYKV_TEST_REDIS_URL, { prefix: `polykv-test:native:${process.pid}:${Math.random().toString(36).slice(2)}:` }),
  },
  { name: "polykv kv(level)", make: () => kv(new Level(join(levelFolder, `db${levelCount++}`))) },
  { name: "polykv kv(\"sqlite:///…\")", make: () => kv(`sqlite://${freshPath("store.db")}`) },
  { name: "polykv kv(\"sqlite::memory:\")", make: () => kv("sqlite::memory:") },
  {
    name: `polykv kv(${BunDatabase ? "bun:sqlite" : "better-sqlite3"} Database)`,
    make: () => kv(sqliteClient(freshPath("client.db"))),
  },
  { name: "polykv kv(\"file:///….json\")", make: () => kv(`file://${freshPath("data.json")}`) },
  { name: "polykv kv(new URL(\"file:///….json\"))", make: () => kv(new URL(`file://${freshPath("url data.json")}`)) },
  { name: "polykv kv(\"file:///…/\")", make: () => kv(`file://${freshPath("folder")}/`) },
  // Expiry over HTTP is as precise as the served store (ms), but the suite's 10 ms
  // windows are shorter than a round trip on a busy machine: api.spec.mjs tests it.
  { name: "polykv kv(\"http://…\") over polykv/server", make: () => servedStore(kv), caps: { expiryMs: false } },
  { name: "polystore kv() (reference)", make: () => polystore(), kv: polystore, caps: { ...memory, ...reference } },
  { name: "polystore kv(new Map()) (reference)", make: () => polystore(new Map()), kv: polystore, caps: { ...memory, ...reference } },
];

for (const row of rows) {
  if (row.env && !serviceUrl(row.env, row.name)) continue;
  run(row);
}
