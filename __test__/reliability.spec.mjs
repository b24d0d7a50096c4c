// Reliability of the embedded stores (SQLite, JSON file, folder) with real processes:
// - kill -9 in the middle of a stream of writes, 20 times each: the store still opens
//   and parses, and every write the child saw acknowledged is there;
// - two processes writing 5 000 distinct keys each into the same store at once: all
//   10 000 are there and neither process saw an error.
// Corrupt files are covered in sqlite/file/folder.spec.mjs.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import kv from "../index.mjs";

const WRITER = new URL("./fixtures/embedded-writer.mjs", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "polykv-reliability-"));
after(() => rmSync(root, { recursive: true, force: true }));

const stores = [
  { name: "SQLITE", url: (dir) => `sqlite://${join(dir, "store.db")}` },
  { name: "FILE", url: (dir) => `file://${join(dir, "data.json")}` },
  { name: "FOLDER", url: (dir) => `file://${join(dir, "records")}/` },
];

/** Runs the writer; resolves with its acknowledged keys, stderr and exit code. */
function writer(url, prefix, count, inFlight, { killAfter } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, url, prefix, String(count), String(inFlight)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked = [];
    let buffer = "";
    let stderr = "";
    let done = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop();
      for (const line of lines) {
        if (line.startsWith("ack ")) acked.push(line.slice(4));
        if (line === "done") done = true;
      }
      if (killAfter !== undefined && acked.length >= killAfter && child.exitCode === null) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ acked, stderr, code, signal, done });
    });
  });
}

/** The store opens and its format parses, independently of polykv. */
function assertParses(name, dir) {
  if (name === "FILE") JSON.parse(readFileSync(join(dir, "data.json"), "utf8"));
  if (name === "SQLITE") {
    const db = new Database(join(dir, "store.db"), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    } finally {
      db.close();
    }
  }
}

describe("kill -9 in the middle of writes", () => {
  for (const { name, url } of stores) {
    it(`${name}: 20 crashes, every acknowledged write survives and the store opens`, async () => {
      const dir = mkdtempSync(join(root, `kill-${name}-`));
      let killedMidway = 0;
      for (let run = 0; run < 20; run++) {
        // Kill after a random number of acknowledgements, while more writes are in flight.
        const killAfter = 1 + Math.floor(Math.random() * 60);
        const result = await writer(url(dir), `run${run}:`, 100_000, run % 2 ? 8 : 1, { killAfter });
        assert.equal(result.signal, "SIGKILL", `run ${run}: ${result.stderr}`);
        if (!result.done) killedMidway++;
        assertParses(name, dir);
        const store = kv(url(dir));
        for (const key of result.acked) {
          const value = await store.get(key);
          assert.ok(value !== null, `run ${run}: acknowledged key ${key} is missing`);
          assert.equal(value.i, Number(key.split(":")[1]));
        }
        await store.close();
      }
      assert.equal(killedMidway, 20);
    });
  }
});

describe("two processes writing the same store at once", () => {
  for (const { name, url } of stores) {
    it(`${name}: 2 × 5 000 distinct keys, all 10 000 present, no error`, async () => {
      const dir = mkdtempSync(join(root, `pair-${name}-`));
      // Opened once first so both children find it ready (creation races are a
      // separate matter from concurrent writes).
      await kv(url(dir)).close();
      const [a, b] = await Promise.all([writer(url(dir), "a:", 5000, 16), writer(url(dir), "b:", 5000, 16)]);
      for (const result of [a, b]) {
        assert.equal(result.stderr, "");
        assert.equal(result.code, 0);
        assert.equal(result.acked.length, 5000);
      }
      assertParses(name, dir);
      const store = kv(url(dir));
      const keys = await store.keys();
      assert.equal(keys.length, 10_000);
      assert.equal(new Set(keys).size, 10_000);
      assert.deepEqual(await store.get("a:4999"), { i: 4999, text: "value 4999 ".repeat(4) });
      assert.deepEqual(await store.get("b:0"), { i: 0, text: "value 0 ".repeat(4) });
      await store.close();
    });
  }
});
