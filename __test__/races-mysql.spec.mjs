// Races across processes on MySQL/MariaDB (docs/behaviour.md §30): four processes,
// each with a client of its own, race on the same keys of one kv table. The atomic
// operations lose nothing and hand nothing out twice:
//   4 × 250 increment() on one key       → exactly 1 000
//   4 × 50 read-then-cas() loops          → exactly 200, each process winning its 50
//   4 × getAndDelete() over the same 200  → each value received by exactly one process
// once for each way the driver does them: a mysql2 pool (transactions on its
// connections), a single mysql2 connection (one statement at a time, over swap), and
// a mariadb pool (DELETE … RETURNING on MariaDB). Needs POLYKV_TEST_MYSQL_URL; each
// race works under a fresh prefix of its own on the shared database.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";

const SERVER = serviceUrl("POLYKV_TEST_MYSQL_URL", "races across processes (MySQL)");
const WORKER = new URL("./fixtures/race-worker-mysql.mjs", import.meta.url).pathname;
const PROCESSES = 4;
const CLIENTS = ["mysql2-pool", "mysql2-connection", "mariadb-pool"];

// One worker process: `ready` once it is connected, `done` with its printed result.
// It is killed after 60 s, so a hang fails the test instead of the run.
function worker(args) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => (err += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.startsWith("ready\n")) resolve();
    });
    child.once("close", () => reject(new Error(`a worker ended before it was ready:\n${err}`)));
  });
  const done = new Promise((resolve, reject) => {
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`a worker ended with ${code ?? signal}:\n${err}`));
      resolve(JSON.parse(out.trim().split("\n").pop()));
    });
  });
  return { child, ready, done };
}

// Starts the workers, lets them all go at once, and resolves with their results.
async function race(client, prefix, kind, count) {
  const workers = Array.from({ length: PROCESSES }, () => worker([SERVER, client, prefix, kind, String(count)]));
  try {
    await Promise.all(workers.map((one) => one.ready));
  } finally {
    for (const { child } of workers) child.stdin.end("go\n");
  }
  return Promise.all(workers.map((one) => one.done));
}

if (SERVER) {
  describe("races across processes (MySQL)", () => {
    const pool = mysql.createPool({ uri: SERVER, connectionLimit: 2 });
    const store = kv(pool);
    const prefixes = [];
    const fresh = () => {
      const prefix = `polykv-race:${randomBytes(4).toString("hex")}:`;
      prefixes.push(prefix);
      return store.prefix(prefix);
    };
    after(async () => {
      for (const prefix of prefixes) await store.prefix(prefix).clear();
      await store.close();
      await pool.end();
    });

    for (const client of CLIENTS) {
      describe(client, () => {
        it(`${PROCESSES} processes × 250 increment() on one key reach exactly 1 000`, async () => {
          const mine = fresh();
          const counts = await race(client, mine.PREFIX, "increment", 250);
          assert.deepEqual(counts, Array(PROCESSES).fill(250));
          assert.equal(await mine.get("n"), 1000);
        });

        it(`${PROCESSES} processes × 50 read-then-cas() loops end at exactly 200, each winning 50`, async () => {
          const mine = fresh();
          await mine.set("c", 0);
          const wins = await race(client, mine.PREFIX, "cas", 50);
          assert.deepEqual(wins, Array(PROCESSES).fill(50));
          assert.equal(await mine.get("c"), 200);
        });

        it(`${PROCESSES} processes racing getAndDelete() over 200 keys receive each value exactly once`, async () => {
          const mine = fresh();
          const entries = Array.from({ length: 200 }, (_, i) => [`t${i}`, `value ${i}`]);
          await mine.setMany(entries);
          const received = (await race(client, mine.PREFIX, "take", 200)).flat();
          assert.equal(received.length, 200, `200 values received in all, got ${received.length}`);
          assert.deepEqual([...received].sort(), entries.map(([, value]) => value).sort());
          assert.deepEqual(await mine.keys(), []);
        });
      });
    }
  });
}
