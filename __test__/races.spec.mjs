// Races between processes, not only between promises in one process (issue 11): 4
// processes (fixtures/race-worker.mjs) work on one store at once, and the counts add
// up exactly. A row is a name and a function returning a fresh store URL; a row for a
// server-backed store (Redis, Postgres) adds its URL the same way.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import kv from "../index.mjs";

const WORKER = fileURLToPath(new URL("./fixtures/race-worker.mjs", import.meta.url));
const PROCESSES = 4;

const root = mkdtempSync(join(tmpdir(), "polykv-races-"));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = (name) => join(root, `${count++}-${name}`);

const rows = [
  { name: "native SQLite", url: () => `sqlite://${fresh("race.db")}` },
  { name: "JSON file", url: () => `file://${fresh("race.json")}` },
  { name: "folder", url: () => `file://${fresh("race")}/` },
];

/** Runs one worker; resolves with its parsed output, rejects with its stderr. */
function worker(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`race worker ${args.join(" ")} exited with ${code}: ${err}`));
    });
  });
}

/** PROCESSES workers started together (they wait for a common start time once loaded). */
function race(url, ...args) {
  const start = Date.now() + 1500;
  return Promise.all(Array.from({ length: PROCESSES }, () => worker([url, String(start), ...args])));
}

for (const row of rows) {
  describe(`races across ${PROCESSES} processes: ${row.name}`, { timeout: 120_000 }, () => {
    it(`${PROCESSES} × 250 increments on one key reach exactly 1 000`, async () => {
      const url = row.url();
      await race(url, "increment", "counter", "250");
      const store = kv(url);
      assert.equal(await store.get("counter"), PROCESSES * 250);
      await store.close();
    });

    it(`${PROCESSES} × 50 read-then-cas loops end at exactly 200, each process winning 50`, async () => {
      const url = row.url();
      const store = kv(url);
      await store.set("counter", 0);
      const results = await race(url, "cas", "counter", "50");
      assert.deepEqual(
        results.map((result) => result.wins),
        Array(PROCESSES).fill(50),
      );
      assert.equal(await store.get("counter"), PROCESSES * 50);
      await store.close();
    });

    it(`${PROCESSES} processes racing getAndDelete over 200 keys receive each value exactly once`, async () => {
      const url = row.url();
      const store = kv(url);
      const values = Array.from({ length: 200 }, (_, i) => ({ n: i }));
      await store.setMany(values.map((value, i) => [`token:${i}`, value]));
      const results = await race(url, "take", "token:", "200");
      const taken = results.flatMap((result) => result.taken.map((value) => value.n));
      assert.equal(taken.length, 200, "no value given twice, none lost");
      assert.deepEqual(
        [...taken].sort((a, b) => a - b),
        values.map((value) => value.n),
      );
      assert.deepEqual(await store.keys(), []);
      await store.close();
    });
  });
}
