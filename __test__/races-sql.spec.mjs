// Races across processes on Postgres (docs/behaviour.md §30): four processes, each
// with its own connection, race on the same keys of one table. Atomic operations
// must lose nothing and hand nothing out twice:
//   4 × 250 increment() on one key       → exactly 1 000
//   4 × 50 read-then-cas() loops          → exactly 200, each process winning its 50
//   4 × getAndDelete() over the same 200  → each value received by exactly one process
// Needs POLYKV_TEST_POSTGRES_URL; each test works under a fresh prefix of its own.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";

const SERVER = serviceUrl("POLYKV_TEST_POSTGRES_URL", "races across processes (Postgres)");
const WORKER = new URL("./fixtures/race-worker-sql.mjs", import.meta.url).pathname;
const PROCESSES = 4;

// Starts `PROCESSES` workers, lets them go together once all are connected, and
// resolves with each one's printed result. Each worker is killed after 60 s.
function race(prefix, kind, count) {
  const workers = Array.from({ length: PROCESSES }, () => {
    const child = spawn(process.execPath, [WORKER, SERVER, prefix, kind, String(count)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const ready = new Promise((resolve, reject) => {
      child.stdout.on("data", () => out.includes("ready\n") && resolve());
      child.on("close", () => reject(new Error(`a worker exited before it was ready:\n${err}`)));
    });
    const done = new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) return reject(new Error(`a worker ended with ${code ?? signal}:\n${err}`));
        resolve(JSON.parse(out.split("\n").filter(Boolean).pop()));
      });
    });
    return { child, ready, done };
  });
  return Promise.all(workers.map((worker) => worker.ready)).then(() => {
    for (const { child } of workers) child.stdin.end("go\n");
    return Promise.all(workers.map((worker) => worker.done));
  });
}

if (SERVER) {
  describe("races across processes (Postgres)", () => {
    const store = kv(new pg.Client(SERVER));
    const prefixes = [];
    const fresh = () => {
      const prefix = `polykv-race:${randomBytes(4).toString("hex")}:`;
      prefixes.push(prefix);
      return prefix;
    };
    after(async () => {
      for (const prefix of prefixes) await store.prefix(prefix).clear();
      await store.close();
    });

    it(`${PROCESSES} processes × 250 increment() on one key reach exactly 1 000`, async () => {
      const prefix = fresh();
      const counts = await race(prefix, "increment", 250);
      assert.deepEqual(counts, Array(PROCESSES).fill(250));
      assert.equal(await store.prefix(prefix).get("n"), 1000);
    });

    it(`${PROCESSES} processes × 50 read-then-cas() loops end at exactly 200, each winning 50`, async () => {
      const prefix = fresh();
      await store.prefix(prefix).set("c", 0);
      const wins = await race(prefix, "cas", 50);
      assert.deepEqual(wins, Array(PROCESSES).fill(50));
      assert.equal(await store.prefix(prefix).get("c"), 200);
    });

    it(`${PROCESSES} processes racing getAndDelete() over 200 keys receive each value exactly once`, async () => {
      const prefix = fresh();
      const keys = Array.from({ length: 200 }, (_, i) => [`t${i}`, `value ${i}`]);
      await store.prefix(prefix).setMany(keys);
      const received = (await race(prefix, "take", 200)).flat();
      assert.equal(received.length, 200, "no value went to two processes");
      assert.deepEqual([...received].sort(), keys.map(([, value]) => value).sort());
      assert.deepEqual(await store.prefix(prefix).keys(), []);
    });
  });
}
