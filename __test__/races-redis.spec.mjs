// Races across processes on Redis (issue 11): 4 processes share one key or one set of
// keys, over the native redis:// store and over each of the users' clients. Atomic
// operations must come out exact: no increment lost, every cas win counted once,
// every value taken by exactly one process. Needs POLYKV_TEST_REDIS_URL.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { serviceUrl } from "./fixtures/service.mjs";

const URL_ = serviceUrl("POLYKV_TEST_REDIS_URL", "redis (races)");
const racer = fileURLToPath(new URL("./fixtures/redis-racer.mjs", import.meta.url));
const PROCESSES = 4;

// Starts `PROCESSES` racers with `config`, lets them go at once, and resolves their
// results (each within 60 s).
async function race(config) {
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, [racer, JSON.stringify(config)], { stdio: ["pipe", "pipe", "pipe"] }),
  );
  const outputs = children.map((child) => {
    let stdout = "";
    let stderr = "";
    let onReady;
    const ready = new Promise((resolve) => (onReady = resolve));
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (stdout.includes("ready\n")) onReady();
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const exited = new Promise((resolve) =>
      child.on("exit", (code) => {
        clearTimeout(timer);
        onReady();
        resolve({ code, stdout, stderr });
      }),
    );
    return { ready, exited };
  });
  await Promise.all(outputs.map((output) => output.ready));
  for (const child of children) child.stdin.end("go\n");
  const results = [];
  for (const { exited } of outputs) {
    const { code, stdout, stderr } = await exited;
    assert.equal(code, 0, `a racer failed: ${stderr}`);
    results.push(JSON.parse(stdout.trim().split("\n").pop()));
  }
  return results;
}

if (URL_) {
  for (const client of ["native", "node-redis v5", "node-redis v4", "ioredis"]) {
    describe(`races across ${PROCESSES} processes: Redis over ${client}`, () => {
      const place = async (run) => {
        const prefix = `polykv-races:${randomBytes(5).toString("hex")}:`;
        const raw = createClient({ url: URL_ });
        await raw.connect();
        try {
          await run(prefix, raw);
        } finally {
          for await (const keys of raw.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
            if (keys.length) await raw.unlink(keys);
          }
          await raw.close();
        }
      };

      it(`${PROCESSES} × 250 increments on one key reach exactly ${PROCESSES * 250}`, () =>
        place(async (prefix, raw) => {
          const results = await race({ client, url: URL_, prefix, task: "increment", count: 250 });
          assert.equal(await raw.get(`${prefix}counter`), String(PROCESSES * 250));
          assert.equal(Math.max(...results.map((result) => result.last)), PROCESSES * 250);
        }));

      it(`${PROCESSES} × 50 read-then-cas loops end at exactly ${PROCESSES * 50}, each process winning 50`, () =>
        place(async (prefix, raw) => {
          await raw.set(`${prefix}counter`, "0");
          const results = await race({ client, url: URL_, prefix, task: "cas", count: 50 });
          assert.equal(await raw.get(`${prefix}counter`), String(PROCESSES * 50));
          assert.deepEqual(
            results.map((result) => result.wins),
            Array(PROCESSES).fill(50),
          );
        }));

      it(`${PROCESSES} processes racing getAndDelete over 200 keys get each value exactly once`, () =>
        place(async (prefix, raw) => {
          await raw.mSet(Array.from({ length: 200 }, (_, i) => [`${prefix}t${i}`, JSON.stringify({ i })]));
          const results = await race({ client, url: URL_, prefix, task: "take", count: 200 });
          const got = results.flatMap((result) => result.got.map((value) => value.i));
          assert.equal(got.length, 200, "no value twice");
          assert.deepEqual(
            [...got].sort((a, b) => a - b),
            Array.from({ length: 200 }, (_, i) => i),
          );
          assert.equal(await raw.exists(Array.from({ length: 200 }, (_, i) => `${prefix}t${i}`)), 0);
        }));
    });
  }
}
