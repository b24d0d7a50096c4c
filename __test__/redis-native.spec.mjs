// REDIS over a redis:// URL, the native backend: what the conformance suite cannot
// see. Needs POLYKV_TEST_REDIS_URL (.ci/services.sh); the reliability test starts
// and kills its own redis-server on a free loopback port. Every test works under its
// own random key prefix; the one that empties a whole database uses database 8.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, RESP_TYPES } from "redis";
import polystore from "polystore";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";
import { commandCalls, privateRedis } from "./fixtures/private-redis.mjs";
import { makeCertificates } from "./fixtures/tls.mjs";
import { fakeRedis } from "./fixtures/fake-redis.mjs";

const URL_ = serviceUrl("POLYKV_TEST_REDIS_URL", "redis (native)");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = () => `polykv-native-test:${randomBytes(5).toString("hex")}:`;
const indexPath = fileURLToPath(new URL("../index.js", import.meta.url));

// The same server, another database: `redis://host:port/8`.
function withDb(url, db) {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.href;
}

async function rawClient(url = URL_) {
  const client = createClient({ url });
  await client.connect();
  return client;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Resolves once something accepts TCP connections on the port (up to 5 s).
async function listening(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port}`);
}

// Starts a private redis-server on the port; resolves the child once it answers PING.
async function startRedis(port) {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", args, { stdio: "ignore" });
  const probe = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  probe.on("error", () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      await probe.close();
      return child;
    } catch {
      await sleep(50);
    }
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

// Runs `test(server, store)` against a private redis-server, which it may pause with
// SIGSTOP; afterwards the server is resumed and killed whatever happened.
async function withPrivateRedis(test) {
  const port = await freePort();
  const server = await startRedis(port);
  const store = kv(`redis://127.0.0.1:${port}/0`);
  try {
    await test(server, store);
  } finally {
    server.kill("SIGCONT");
    await store.close().catch(() => {});
    server.kill("SIGKILL");
  }
}

// Runs a small script in a fresh node process; resolves { code, stdout, stderr, ms }.
function runNode(source, timeoutMs = 20000, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const childEnv = { ...process.env, ...env };
    for (const name of Object.keys(childEnv)) if (childEnv[name] === null) delete childEnv[name];
    const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

if (URL_) {
  const raw = await rawClient();
  after(() => raw.close());

  describe("redis:// native: construction", () => {
    it("is type REDIS for a string and for a URL object, and connects lazily", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      assert.equal(store.type, "REDIS");
      const fromUrl = kv(new URL(URL_), { prefix });
      assert.equal(fromUrl.type, "REDIS");
      await store.set("a", 1);
      assert.equal(await fromUrl.get("a"), 1);
      await store.clear();
      await Promise.all([store.close(), fromUrl.close()]);
    });

    it("refuses a malformed URL at kv() time, without repeating the password", () => {
      assert.throws(
        () => kv("redis://:hunter2@127.0.0.1:6379/notadb"),
        (error) =>
          error.code === "ERR_POLYKV_CLIENT" &&
          /^\[polykv\] \[REDIS\] invalid Redis URL/.test(error.message) &&
          !error.message.includes("hunter2"),
      );
      assert.throws(() => kv("redis://"), { code: "ERR_POLYKV_CLIENT" });
    });

    it("rejects each call within a bounded time when nothing listens, with a clear error", async () => {
      const port = await freePort();
      const store = kv(`redis://:hunter2@127.0.0.1:${port}/0`);
      const started = Date.now();
      const results = await Promise.allSettled([store.get("a"), store.set("b", 1), store.has("c"), store.keys()]);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      for (const result of results) {
        assert.equal(result.status, "rejected");
        assert.equal(result.reason.code, "ERR_POLYKV_CONNECTION");
        assert.match(result.reason.message, new RegExp(`cannot connect to redis://127\\.0\\.0\\.1:${port}/0`));
        assert.ok(!result.reason.message.includes("hunter2"), result.reason.message);
      }
      await store.close();
    });

    it("selects the database in the URL", async () => {
      const prefix = unique();
      const store = kv(withDb(URL_, 8), { prefix });
      await store.set("k", "in db 8");
      const db8 = await rawClient(withDb(URL_, 8));
      assert.equal(await db8.get(`${prefix}k`), '"in db 8"');
      assert.equal(await raw.get(`${prefix}k`), null);
      await store.clear();
      await Promise.all([store.close(), db8.close()]);
    });
  });

  describe("redis:// native: on the wire, shared with polystore over node-redis", () => {
    it("polystore reads what polykv wrote, and polykv reads what polystore wrote", async () => {
      const prefix = unique();
      const ours = kv(URL_, { prefix });
      const theirs = polystore(createClient({ url: URL_ }), { prefix });
      const value = { name: "Ünïcode ✓", list: [1, 2.5, null, true], nested: { deep: "" } };
      await ours.set("from-polykv", value);
      await theirs.set("from-polystore", value);
      assert.deepEqual(await theirs.get("from-polykv"), value);
      assert.deepEqual(await ours.get("from-polystore"), value);
      assert.equal(await theirs.has("from-polykv"), true);
      assert.deepEqual((await ours.keys()).sort(), ["from-polykv", "from-polystore"]);
      assert.deepEqual((await theirs.keys()).sort(), ["from-polykv", "from-polystore"]);
      await ours.del("from-polystore");
      assert.equal(await theirs.get("from-polystore"), null);
      await ours.clear();
      await Promise.all([ours.close(), theirs.close()]);
    });

    it("stores the full key and the JSON text, as polystore does", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("k", { a: [1, "x"] });
      await store.set("zero", 0);
      assert.equal(await raw.get(`${prefix}k`), '{"a":[1,"x"]}');
      assert.equal(await raw.get(`${prefix}zero`), "0");
      assert.equal(await raw.ttl(`${prefix}k`), -1);
      await store.clear();
      await store.close();
    });

    it("writes keys and values of any Unicode as UTF-8, with lengths in bytes", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const key = "ké✓𝄞\r\n$1\r\n";
      await store.set(key, { text: "é€𝄞\r\n*1\r\n" });
      await store.set("lone", "\ud800"); // JSON text escapes a lone surrogate
      assert.equal(await raw.get(`${prefix}${key}`), '{"text":"é€𝄞\\r\\n*1\\r\\n"}');
      assert.deepEqual(await store.get(key), { text: "é€𝄞\r\n*1\r\n" });
      assert.deepEqual((await store.keys()).sort(), [key, "lone"].sort());
      assert.equal(await store.get("lone"), "\ud800");
      await store.clear();
      await store.close();
    });

    it("expires with millisecond precision (PX), where polystore rounds to seconds", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("short", "v", { expires: 0.3 });
      const pttl = await raw.pTTL(`${prefix}short`);
      assert.ok(pttl > 0 && pttl <= 300, `PTTL ${pttl}`);
      // A window a busy 2-core machine can meet: visible right after, gone soon after.
      await store.set("tiny", "v", { expires: "250ms" });
      assert.equal(await store.get("tiny"), "v");
      await sleep(400);
      assert.equal(await store.get("tiny"), null);
      assert.equal(await store.has("tiny"), false);
      await store.set("default", "v"); // store default: never
      assert.equal(await raw.pTTL(`${prefix}default`), -1);
      const expiring = store.expires("2s");
      await expiring.set("two", 2);
      const two = await raw.pTTL(`${prefix}two`);
      assert.ok(two > 1000 && two <= 2000, `PTTL ${two}`);
      await store.clear();
      await store.close();
    });
  });

  describe("redis:// native: prefixes, listing and clear", () => {
    it("treats glob characters in a prefix as plain characters", async () => {
      const base = unique();
      const tricky = kv(URL_, { prefix: `${base}a*[b]?\\:` });
      // Keys an unescaped pattern `a*[b]?\:*` would also match (or a literal one misses).
      const others = ["aXbY\\:1", "a*bZ\\:2", "a*[b]Z\\:3", "ab?\\:4"];
      for (const key of others) await raw.set(`${base}${key}`, '"other"');
      await tricky.set("mine", 1);
      await tricky.set("also:mine", 2);
      assert.deepEqual((await tricky.keys()).sort(), ["also:mine", "mine"]);
      assert.deepEqual((await tricky.entries()).sort(), [
        ["also:mine", 2],
        ["mine", 1],
      ]);
      await tricky.clear();
      assert.deepEqual(await tricky.keys(), []);
      for (const key of others) assert.equal(await raw.get(`${base}${key}`), '"other"', key);
      const rest = kv(URL_, { prefix: base });
      await rest.clear();
      await Promise.all([tricky.close(), rest.close()]);
    });

    it("clear() removes only its own prefix; with no prefix, only its own database", async () => {
      const base = unique();
      const a = kv(URL_, { prefix: `${base}a:` });
      const b = kv(URL_, { prefix: `${base}b:` });
      await Promise.all([a.set("1", 1), a.set("2", 2), b.set("1", 1)]);
      await a.clear();
      assert.deepEqual(await a.keys(), []);
      assert.deepEqual(await b.keys(), ["1"]);

      const whole = kv(withDb(URL_, 8));
      await whole.set("x", 1);
      await whole.clear();
      assert.deepEqual(await whole.keys(), []);
      assert.equal(await b.get("1"), 1, "database 0 untouched");
      await b.clear();
      await Promise.all([a.close(), b.close(), whole.close()]);
    });

    it("lists and iterates thousands of keys (many SCAN steps), each once", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const n = 2500;
      await Promise.all(Array.from({ length: n }, (_, i) => store.set(`k${i}`, i)));
      const keys = await store.keys();
      assert.equal(keys.length, n);
      assert.equal(new Set(keys).size, n);
      const seen = new Map();
      for await (const [key, value] of store) seen.set(key, value);
      assert.equal(seen.size, n);
      assert.equal(seen.get("k1234"), 1234);
      const values = await store.values();
      assert.equal(
        values.reduce((sum, v) => sum + v, 0),
        (n * (n - 1)) / 2,
      );
      await store.clear();
      assert.equal((await store.keys()).length, 0);
      await store.close();
    });
  });

  describe("redis:// native: batching", () => {
    it("keeps the order of calls made without awaiting in between", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const writes = [];
      for (let i = 0; i < 500; i++) writes.push(store.set("k", i));
      const read = store.get("k");
      const removed = store.del("k");
      const after = store.get("k");
      await Promise.all(writes);
      assert.equal(await read, 499);
      await removed;
      assert.equal(await after, null);
      // Across ticks too: a write queued before a listing is visible to it.
      store.set("late", 1);
      assert.deepEqual(await store.keys(), ["late"]);
      await store.clear();
      await store.close();
    });

    it("an operation that fails in a batch rejects alone; the others in the batch succeed", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await raw.lPush(`${prefix}list`, "x"); // not a string: GET answers WRONGTYPE
      await raw.set(`${prefix}text`, "not json");
      const results = await Promise.allSettled([
        store.set("a", 1),
        store.get("list"),
        store.get("a"),
        store.get("text"),
        store.has("list"),
        store.get("missing"),
      ]);
      assert.deepEqual(results[0], { status: "fulfilled", value: "a" });
      assert.equal(results[1].status, "rejected");
      assert.match(results[1].reason.message, /^\[polykv\] \[REDIS\] WRONGTYPE/);
      assert.equal(results[1].reason.code, "ERR_POLYKV_BACKEND");
      assert.match(results[1].reason.message, /list/);
      assert.deepEqual(results[2], { status: "fulfilled", value: 1 });
      assert.equal(results[3].status, "rejected");
      assert.match(results[3].reason.message, /not valid JSON/);
      assert.equal(results[3].reason.code, "ERR_POLYKV_CORRUPT");
      assert.deepEqual(results[4], { status: "fulfilled", value: true });
      assert.deepEqual(results[5], { status: "fulfilled", value: null });
      await store.clear();
      await store.close();
    });

    it("a value that cannot be JSON-encoded rejects that call, names the key and sends nothing", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const cyclic = {};
      cyclic.self = cyclic;
      const results = await Promise.allSettled([store.set("good", 1), store.set("bad", cyclic), store.set("big", 10n)]);
      assert.equal(results[0].status, "fulfilled");
      assert.ok(results[1].reason instanceof TypeError);
      assert.match(results[1].reason.message, /"bad"/);
      assert.ok(results[2].reason instanceof TypeError);
      assert.deepEqual(await store.keys(), ["good"]);
      await store.clear();
      await store.close();
    });

    it("10 000 operations issued at once all settle correctly", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const n = 10_000;
      const keys = await Promise.all(Array.from({ length: n }, (_, i) => store.set(`k${i}`, { i })));
      assert.equal(keys[n - 1], `k${n - 1}`);
      const values = await Promise.all(Array.from({ length: n }, (_, i) => store.get(`k${i}`)));
      assert.ok(values.every((value, i) => value.i === i));
      await store.clear();
      await store.close();
    });

    it("a call made while a listing or clear() runs takes effect after it, as on one connection", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("old", 1);
      const listing = store.keys();
      const added = store.set("new", 2);
      assert.deepEqual(await listing, ["old"]);
      await added;
      const cleared = store.clear();
      const kept = store.set("after", 3);
      await cleared;
      await kept;
      assert.deepEqual(await store.keys(), ["after"]);
      await store.clear();
      await store.close();
    });

    it("large values go out and come back whole (a reply read in many chunks)", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const big = { text: "é€𝄞".repeat(600_000) }; // ~5.4 MB of UTF-8
      const many = Array.from({ length: 500 }, (_, i) => ({ i, pad: "x".repeat(10_000) }));
      await Promise.all([store.set("big", big), ...many.map((value, i) => store.set(`m${i}`, value))]);
      const [bigBack, ...manyBack] = await Promise.all([store.get("big"), ...many.map((_, i) => store.get(`m${i}`))]);
      assert.equal(bigBack.text.length, big.text.length);
      assert.ok(bigBack.text === big.text);
      assert.ok(manyBack.every((value, i) => value.i === i && value.pad.length === 10_000));
      assert.equal(await raw.strLen(`${prefix}big`), Buffer.byteLength(JSON.stringify(big)));
      await store.clear();
      await store.close();
    });

    const together = "group methods called together, behind a pending write, all see it and all finish";
    it(together, { timeout: 10000 }, async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      store.set("a", 1);
      const [keys, entries, values] = await Promise.all([store.keys(), store.entries(), store.values()]);
      assert.deepEqual(keys, ["a"]);
      assert.deepEqual(entries, [["a", 1]]);
      assert.deepEqual(values, [1]);
      await store.clear();
      await store.close();
    });

    it("after close(), calls reject with a clear error", async () => {
      const store = kv(URL_, { prefix: unique() });
      await store.set("a", 1);
      await store.clear();
      await store.close();
      await assert.rejects(store.get("a"), { code: "ERR_POLYKV_CLOSED", message: /^\[polykv\] \[REDIS\] .*closed/ });
      await assert.rejects(store.keys(), { code: "ERR_POLYKV_CLOSED" });
    });
  });

  describe("redis:// native: the process", () => {
    it("a worker thread ending with a store open and a call in flight ends cleanly", async () => {
      const prefix = unique();
      const script = `
        const { Worker } = require("node:worker_threads");
        const code = \`
          const kv = require(\${JSON.stringify(${JSON.stringify(indexPath)})});
          const url = \${JSON.stringify(${JSON.stringify(URL_)})};
          const store = kv(url, { prefix: \${JSON.stringify(${JSON.stringify(prefix)})} });
          store.set("k", 1).then(() => { store.get("k"); process.exit(0); });
        \`;
        const worker = new Worker(code, { eval: true });
        worker.on("exit", (code) => console.log("worker exit " + code));
      `;
      const { code, signal, stdout, stderr } = await runNode(script);
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), "worker exit 0");
      assert.equal(await raw.get(`${prefix}k`), "1", "the worker's write landed");
      await raw.del(`${prefix}k`);
    });

    it("an idle store does not keep Node running; a pending call does", async () => {
      const script = `
        const kv = require(${JSON.stringify(indexPath)});
        const store = kv(${JSON.stringify(URL_)}, { prefix: ${JSON.stringify(unique())} });
        store.set("k", "still here").then(() => store.get("k")).then((v) => { console.log(v); return store.del("k"); });
      `;
      const { code, stdout, stderr, ms } = await runNode(script);
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), "still here");
      assert.ok(ms < 10000, `exited after ${ms} ms`);
    });
  });

  describe("redis:// native: reliability", () => {
    const server = spawnSync("redis-server", ["--version"]);
    const available = server.status === 0;
    const needsServer = { skip: !available && !process.env.CI && "redis-server is not installed" };
    it("survives redis-server being killed and restarted under a 64-in-flight load", needsServer, async () => {
      const port = await freePort();
      const start = () => startRedis(port);

      const unhandled = [];
      const onUnhandled = (reason) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);

      let server = await start();
      const store = kv(`redis://127.0.0.1:${port}/0`, { prefix: "load:" });
      const log = []; // { started, ended, ok, message }
      let running = true;
      let counter = 0;
      const worker = async () => {
        while (running) {
          const i = counter++;
          const started = performance.now();
          try {
            const op = i % 4;
            if (op === 0) await store.set(`k${i % 500}`, { i });
            else if (op === 1) await store.get(`k${i % 500}`);
            else if (op === 2) await store.has(`k${i % 500}`);
            else await store.del(`k${(i + 250) % 500}`);
            log.push({ started, ended: performance.now(), ok: true });
          } catch (error) {
            log.push({ started, ended: performance.now(), ok: false, message: error.message });
            await sleep(5); // a real client backs off a little
          }
        }
      };
      try {
        const workers = Array.from({ length: 64 }, worker);
        await sleep(700);
        const killed = performance.now();
        server.kill("SIGKILL");
        await new Promise((resolve) => server.once("exit", resolve));
        await sleep(700);
        server = await start();
        const back = performance.now();
        await sleep(1500);
        running = false;
        await Promise.all(workers);
        const end = performance.now();

        const before = log.filter((entry) => entry.ended < killed);
        const failures = log.filter((entry) => !entry.ok);
        const late = log.filter((entry) => entry.started > back + 500);
        assert.ok(before.length > 500 && before.every((entry) => entry.ok), "all good before the kill");
        assert.ok(failures.length > 0, "calls fail while the server is down");
        for (const failure of failures) {
          assert.ok(failure.ended >= killed, `a failure before the kill: ${failure.message}`);
          // Failed calls were in flight or issued while down (a reconnect attempt may
          // be refused just before the new server listens: up to 100 ms later).
          const late = Math.round(failure.started - back);
          assert.ok(failure.started <= back + 200, `a failure ${late} ms after the restart: ${failure.message}`);
          assert.match(failure.message, /\[polykv\] \[REDIS\]/);
        }
        assert.ok(late.length > 500 && late.every((entry) => entry.ok), "full service after the restart");
        const slowest = log.reduce((max, entry) => Math.max(max, entry.ended - entry.started), 0);
        assert.ok(slowest < 3000, `a call took ${Math.round(slowest)} ms`);
        assert.ok(end - killed < 10000);
        await sleep(50);
        assert.deepEqual(unhandled, []);
      } finally {
        running = false;
        process.off("unhandledRejection", onUnhandled);
        await store.close();
        server.kill("SIGKILL");
      }
    });

    const big = "a write bigger than the socket buffers, sent while the server is not reading, completes once it reads";
    it(big, needsServer, async () => {
      await withPrivateRedis(async (server, store) => {
        await store.set("warm", 1); // connected
        server.kill("SIGSTOP");
        const text = "x".repeat(20_000_000); // far more than the kernel buffers hold
        const write = store.set("big", text);
        const read = store.get("warm");
        await sleep(300);
        server.kill("SIGCONT");
        assert.equal(await write, "big");
        assert.equal(await read, 1);
        assert.equal((await store.get("big")).length, text.length);
      });
    });

    const stopped = "rejects calls to a server that stopped answering (SIGSTOP) within the 10 s timeout, recovers";
    it(stopped, needsServer, async () => {
      await withPrivateRedis(async (server, store) => {
        await store.set("a", 1);
        server.kill("SIGSTOP");
        const started = performance.now();
        const results = await Promise.allSettled([store.get("a"), store.set("b", 2)]);
        const waited = performance.now() - started;
        for (const result of results) {
          assert.equal(result.status, "rejected");
          assert.match(result.reason.message, /\[polykv\] \[REDIS\]/);
        }
        assert.ok(waited >= 9000 && waited < 13000, `rejected after ${Math.round(waited)} ms`);
        server.kill("SIGCONT");
        assert.equal(await store.get("a"), 1);
      });
    });
  });

  describe("redis:// native: a server that breaks the protocol", () => {
    for (const [name, reply, auth] of [
      ["20 000 nested arrays", "*1\r\n".repeat(20_000)],
      ["20 000 nested arrays in answer to AUTH", "*1\r\n".repeat(20_000), ":pw@"],
      ["a line that never ends", "+" + "a".repeat(200_000)],
      ["an unknown reply type", "?garbage\r\n"],
    ]) {
      it(`${name}: every call rejects with a connection error, and the process lives on`, async () => {
        const fake = await fakeRedis(reply);
        const store = kv(`redis://${auth ?? ""}127.0.0.1:${fake.port}/0`);
        try {
          const results = await Promise.allSettled([store.get("a"), store.set("b", 1), store.has("c"), store.keys()]);
          for (const result of results) {
            assert.equal(result.status, "rejected");
            assert.equal(result.reason.code, "ERR_POLYKV_CONNECTION", result.reason.message);
            assert.match(result.reason.message, /^\[polykv\] \[REDIS\] lost the connection to .*protocol/);
          }
          // The next call connects again (and meets the same server).
          await assert.rejects(store.get("a"), { code: "ERR_POLYKV_CONNECTION" });
        } finally {
          await store.close();
          await fake.close();
        }
      });
    }

    it("a call issued behind a stalled listing rejects at its own deadline, not the listing's plus its own", async () => {
      const silent = await fakeRedis(""); // accepts, never answers
      const store = kv(`redis://127.0.0.1:${silent.port}/0`);
      try {
        const started = performance.now();
        const settled = (promise, from) =>
          promise.then(
            () => ["answered"],
            (error) => [error.code, performance.now() - from, error.message],
          );
        const listing = settled(store.keys(), started);
        await sleep(3000);
        const issued = performance.now();
        const [code, waited, message] = await settled(store.get("a"), issued);
        assert.equal(code, "ERR_POLYKV_CONNECTION", message);
        assert.ok(waited >= 9500 && waited < 11_000, `get rejected ${Math.round(waited)} ms after it was issued`);
        assert.match(message, /no reply within 10000 ms/);
        const [listed, listWaited] = await listing;
        assert.equal(listed, "ERR_POLYKV_CONNECTION");
        assert.ok(listWaited >= 9500 && listWaited < 11_000, `keys() rejected after ${Math.round(listWaited)} ms`);
      } finally {
        await store.close();
        await silent.close();
      }
    });

    it("a whole reply followed by garbage: the whole one is delivered, the rest reject", async () => {
      const fake = await fakeRedis(":1\r\n$-1\r\n?garbage\r\n");
      const store = kv(`redis://127.0.0.1:${fake.port}/0`);
      try {
        const results = await Promise.allSettled([store.has("a"), store.get("b"), store.get("c")]);
        assert.deepEqual(results[0], { status: "fulfilled", value: true });
        assert.deepEqual(results[1], { status: "fulfilled", value: null });
        assert.equal(results[2].status, "rejected");
        assert.equal(results[2].reason.code, "ERR_POLYKV_CONNECTION");
      } finally {
        await store.close();
        await fake.close();
      }
    });
  });

  describe("redis:// native: data model and atomic operations", () => {
    const bytesOf = (store, key) => raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(store + key);

    it("stores bytes as 0xFF then the bytes, JSON text as before; a 0xFF value of anyone's reads as bytes", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0d, 0x0a]);
      await store.set("bin", bytes);
      await store.set("json", { a: 1 });
      await store.set("meta", { a: 1 }, { metadata: { m: 1 } });
      assert.ok((await bytesOf(prefix, "bin")).equals(Buffer.concat([Buffer.from([0xff]), bytes])));
      assert.equal(await raw.get(`${prefix}json`), '{"a":1}');
      assert.equal(await raw.get(`${prefix}meta`), '{"$polykv":1,"value":{"a":1},"metadata":{"m":1}}');
      await raw.set(`${prefix}by-hand`, Buffer.from([0xff, 1, 2]));
      assert.deepEqual([...(await store.get("by-hand"))], [1, 2]);
      const [listed] = (await store.entries()).filter(([key]) => key === "bin");
      assert.ok(Buffer.from(listed[1]).equals(bytes));
      assert.ok((await store.getMany(["bin"]))[0].equals(bytes));
      // A text that merely cannot be decoded as UTF-8 is not bytes: it is not JSON either.
      await raw.set(`${prefix}broken`, Buffer.from([0xfe, 0x31]));
      await assert.rejects(store.get("broken"), { code: "ERR_POLYKV_CORRUPT" });
      await store.clear();
      await store.close();
    });

    it("getWithMetadata and list() read the server's deadline (PEXPIRETIME): the same on every read", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("k", 1, { expires: 60 });
      const deadline = await raw.pExpireTime(`${prefix}k`);
      for (let i = 0; i < 5; i++) assert.equal((await store.getWithMetadata("k")).expires, deadline);
      assert.deepEqual((await store.list()).keys, [{ name: "k", expiration: Math.ceil(deadline / 1000) }]);
      await store.clear();
      await store.close();
    });

    it("increment writes the number as JSON text (polystore reads it) and keeps the TTL", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      const theirs = polystore(createClient({ url: URL_ }), { prefix });
      assert.equal(await store.increment("n", 0.1, { expires: 60 }), 0.1);
      assert.equal(await store.increment("n", 0.2), 0.1 + 0.2);
      assert.equal(await raw.get(`${prefix}n`), String(0.1 + 0.2));
      assert.equal(await theirs.get("n"), 0.1 + 0.2);
      const ttl = await raw.pTTL(`${prefix}n`);
      assert.ok(ttl > 55_000 && ttl <= 60_000, `PTTL ${ttl}`);
      await theirs.set("big", 2 ** 53 - 2);
      assert.equal(await store.increment("big"), 2 ** 53 - 1);
      assert.equal(await store.increment("big", 1e300), 2 ** 53 - 1 + 1e300);
      await store.set("top", Number.MAX_VALUE);
      await assert.rejects(store.increment("top", Number.MAX_VALUE), {
        name: "TypeError",
        code: "ERR_POLYKV_VALUE",
        message: /cannot increment key "top": the result is not a finite number/,
      });
      assert.equal(await store.get("top"), Number.MAX_VALUE, "unchanged");
      await store.clear();
      await Promise.all([store.close(), theirs.close()]);
    });

    it("increment of a number the script does not read (metadata, spaces) goes over getRaw/swap", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("meta", 5, { metadata: { m: 1 }, expires: 60 });
      assert.equal(await store.increment("meta", 2), 7);
      assert.deepEqual(await store.getWithMetadata("meta").then(({ value, metadata }) => [value, metadata]), [7, null]);
      assert.ok((await raw.pTTL(`${prefix}meta`)) > 55_000, "the TTL is kept");
      await raw.set(`${prefix}spaced`, " 3 ");
      assert.equal(await store.increment("spaced"), 4);
      await store.set("bin", Buffer.from([1]));
      await assert.rejects(store.increment("bin"), { name: "TypeError", message: /holds an object/ });
      await store.clear();
      await store.close();
    });

    it("cas compares the stored text exactly and sets the TTL; a key of another type is a clear error", async () => {
      const prefix = unique();
      const store = kv(URL_, { prefix });
      await store.set("k", { a: 1 }, { expires: 60 });
      assert.equal(await store.cas("k", { a: 1 }, { a: 2 }), true);
      assert.equal(await raw.pTTL(`${prefix}k`), -1, "cas without expires: the store's default, never");
      assert.equal(await store.cas("k", { a: 2 }, { a: 3 }, { expires: 30 }), true);
      const ttl = await raw.pTTL(`${prefix}k`);
      assert.ok(ttl > 25_000 && ttl <= 30_000, `PTTL ${ttl}`);
      // The same value written with other spacing is equal as JSON: cas reads, then swaps what it read.
      await raw.set(`${prefix}k`, '{ "a" : 3 }');
      assert.equal(await store.cas("k", { a: 3 }, "next"), true);
      assert.equal(await raw.get(`${prefix}k`), '"next"');
      await raw.rPush(`${prefix}list`, "x");
      await assert.rejects(store.cas("list", null, 1), { code: "ERR_POLYKV_BACKEND", message: /WRONGTYPE/ });
      // getWithMetadata's two replies: a failed GET fails it alone, the next reads well.
      const [failed, next] = await Promise.allSettled([store.getWithMetadata("list"), store.getWithMetadata("k")]);
      assert.match(failed.reason.message, /WRONGTYPE/);
      assert.equal(next.value.value, "next");
      await store.clear();
      await store.close();
    });

    it("every bulk and atomic method is one command, and a script is sent whole once per connection", async () => {
      const server = await privateRedis();
      const store = kv(server.url);
      try {
        await store.setMany([
          ["a", 1],
          ["b", Buffer.from([2])],
          ["c", null],
        ]);
        await server.control.configResetStat();
        const [values] = await Promise.all([store.getMany(["a", "b", "x"]), store.getWithMetadata("a")]);
        assert.deepEqual(
          values.map((value) => (value instanceof Uint8Array ? [...value] : value)),
          [1, [2], null],
        );
        await store.setMany([
          ["d", 4],
          ["e", 5],
        ]);
        await store.delMany(["d", "e", "x"]);
        for (let i = 0; i < 3; i++) await store.increment("n");
        await store.increment("ttl", 1, { expires: 60 });
        await store.increment("ttl", 1, { expires: 60 });
        for (let i = 0; i < 3; i++) await store.increment("f", 0.5);
        await store.cas("n", 3, 4);
        assert.equal(await store.getAndDelete("n"), 4);
        const calls = await commandCalls(server.control);
        assert.equal(calls.mget, 1, JSON.stringify(calls));
        assert.equal(calls.multi, 3, "setMany, and increments with an expiry");
        assert.equal(calls.exec, 3);
        assert.equal(calls.unlink, 1);
        assert.equal(calls.pexpiretime, 1);
        assert.equal(calls.getdel, 1);
        assert.equal(calls.incrby, 5, "whole increments are INCRBY");
        assert.equal(calls.eval, 2, "the INCR script (fractions) and SWAP, sent whole once each");
        assert.equal(calls.evalsha, 2, "then by their SHA1");
      } finally {
        await store.close();
        await server.stop();
      }
    });

    it("scripts are sent again after SCRIPT FLUSH (NOSCRIPT)", async () => {
      const server = await privateRedis();
      const store = kv(server.url);
      try {
        // A fraction: the INCR script, not INCRBY.
        assert.equal(await store.increment("n", 0.5), 0.5);
        await server.control.scriptFlush();
        const [, incremented] = await Promise.all([store.set("k", 1), store.increment("n", 0.5)]);
        assert.equal(incremented, 1);
        assert.equal(await store.get("n"), 1);
        assert.equal((await commandCalls(server.control)).eval, 2, "sent whole again after NOSCRIPT");
        assert.equal(await store.cas("n", 1, 3), true);
      } finally {
        await store.close();
        await server.stop();
      }
    });

    it("on a Redis without GETDEL and PEXPIRETIME (before 6.2 and 7), the Lua and PTTL fallbacks work", async () => {
      const server = await privateRedis(["--rename-command", "GETDEL", "", "--rename-command", "PEXPIRETIME", ""]);
      const store = kv(server.url);
      try {
        await store.set("k", "v", { expires: 60 });
        const before = Date.now();
        const { value, expires } = await store.getWithMetadata("k");
        assert.equal(value, "v");
        assert.ok(Math.abs(expires - (before + 60_000)) < 1000, String(expires));
        assert.ok(Math.abs((await store.list()).keys[0].expiration - (before + 60_000) / 1000) <= 2);
        assert.deepEqual(await Promise.all([store.getAndDelete("k"), store.getAndDelete("k")]), ["v", null]);
        await store.set("b", Buffer.from([7]));
        assert.deepEqual([...(await store.getAndDelete("b"))], [7]);
        assert.equal(await store.has("b"), false);
      } finally {
        await store.close();
        await server.stop();
      }
    });

    it("list() pages over SCAN: each key once within a listing, at least once resumed elsewhere", async () => {
      const prefix = unique();
      const n = 2500;
      await raw.mSet(Array.from({ length: n }, (_, i) => [`${prefix}k${i}`, JSON.stringify(i)]));
      const store = kv(URL_, { prefix });
      // The names of every page from `cursor` on, and the first page's cursor.
      const drain = async (from, cursor) => {
        const names = [];
        let next = null;
        let page = { cursor };
        do {
          page = await from.list({ limit: 700, cursor: page.cursor });
          assert.ok(page.keys.length <= 700);
          names.push(...page.keys.map((key) => key.name));
          next ??= page.cursor;
        } while (!page.list_complete);
        return { names, next };
      };
      const whole = await drain(store);
      assert.equal(whole.names.length, n);
      assert.equal(new Set(whole.names).size, n, "each once");
      // Another store (as another process would) resumes from a first page's cursor:
      // it cannot know what was returned, so it may repeat keys but misses none.
      const start = await store.list({ limit: 700 });
      const before = new Set(start.keys.map((key) => key.name));
      const other = kv(URL_, { prefix });
      const elsewhere = new Set((await drain(other, start.cursor)).names);
      for (let i = 0; i < n; i++) assert.ok(before.has(`k${i}`) || elsewhere.has(`k${i}`), `k${i} is listed`);
      // Here the listing goes on from what it remembers: the rest, each once.
      const rest = (await drain(store, start.cursor)).names;
      assert.equal(rest.length, n - before.size);
      assert.ok(rest.every((name) => !before.has(name)));
      // The same cursor used again (a retried page), once the listing moved on: from the SCAN cursor.
      const retried = new Set((await drain(store, start.cursor)).names);
      for (let i = 0; i < n; i++) assert.ok(before.has(`k${i}`) || retried.has(`k${i}`), `k${i} is listed again`);
      await store.clear();
      await Promise.all([store.close(), other.close()]);
    });
  });

  describe("rediss:// native (TLS)", () => {
    const has = (tool, flag) => spawnSync(tool, [flag]).status === 0;
    const tools = has("openssl", "version") && has("redis-server", "--version");
    const needsTools = { skip: !tools && !process.env.CI && "openssl or redis-server is missing" };
    const name = "connects over TLS with the password from the URL; refuses an unknown authority and a wrong password";
    it(name, needsTools, async () => {
      const dir = mkdtempSync(join(tmpdir(), "polykv-tls-"));
      makeCertificates(dir);
      const port = await freePort();
      const server = spawn(
        "redis-server",
        [
          ...["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
          ...["--requirepass", "s3cret", "--tls-cert-file", "server.pem", "--tls-key-file", "server.key"],
          ...["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"],
        ],
        { cwd: dir, stdio: "ignore" },
      );
      try {
        await listening(port);
        const script = (url) => `
          const kv = require(${JSON.stringify(indexPath)});
          const store = kv(${JSON.stringify(url)}, { prefix: "tls:" });
          store.set("k", { secure: true }).then(() => store.get("k")).then(
            (value) => { console.log(JSON.stringify(value)); return store.close(); },
            (error) => { console.log("ERROR " + error.message); return store.close(); },
          );
        `;
        const trusted = { SSL_CERT_FILE: join(dir, "ca.pem") };
        const good = await runNode(script(`rediss://:s3cret@127.0.0.1:${port}/0`), 20000, trusted);
        assert.equal(good.stdout.trim(), '{"secure":true}', good.stderr);
        const wrongPassword = await runNode(script(`rediss://:wr0ng@127.0.0.1:${port}/0`), 20000, trusted);
        const refused = /^ERROR \[polykv\] \[REDIS\] cannot connect to rediss:\/\/127\.0\.0\.1:\d+\/0: .*(auth|passw)/i;
        assert.match(wrongPassword.stdout, refused);
        assert.ok(!wrongPassword.stdout.includes("wr0ng"));
        const url = `rediss://:s3cret@127.0.0.1:${port}/0`;
        const unknownAuthority = await runNode(script(url), 20000, { SSL_CERT_FILE: null });
        assert.match(unknownAuthority.stdout, /^ERROR .*(certificate|issuer)/i);
      } finally {
        server.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
