// REDIS over the user's own client (node-redis v5 and v4, ioredis): what the
// conformance suite cannot see. Needs POLYKV_TEST_REDIS_URL (.ci/services.sh).
// Every test works under its own random key prefix; the one that empties a whole
// database uses database 9, which nothing else here touches.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient, createCluster, RESP_TYPES } from "redis";
import { createClient as createClient4, createCluster as createCluster4 } from "redis4";
import Redis from "ioredis";
import polystore from "polystore";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";
import { commandCalls, privateRedis } from "./fixtures/private-redis.mjs";

const URL = serviceUrl("POLYKV_TEST_REDIS_URL", "redis (users' clients)");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = () => `polykv-test:${randomBytes(5).toString("hex")}:`;

// Every client a test makes, so a failing test cannot leave a socket open that
// keeps the test process alive: whatever is still open is dropped at the end.
const opened = [];
const track = (client) => (opened.push(client), client);
after(async () => {
  for (const client of opened.splice(0)) {
    if (client.status !== undefined)
      client.disconnect(); // ioredis
    else if (client.isOpen) await (client.destroy ?? client.disconnect).call(client); // node-redis v5 / v4
  }
});

const flavors = [
  { name: "node-redis v5", make: (options = {}, url = URL) => track(createClient({ url, ...options })) },
  { name: "node-redis v4", make: (options = {}, url = URL) => track(createClient4({ url, ...options })) },
  { name: "ioredis", make: (options = {}, url = URL) => track(new Redis(url, { lazyConnect: true, ...options })) },
];

// A raw, connected node-redis v5 client to look at what is on the wire.
async function rawClient(options = {}) {
  const client = track(createClient({ url: URL, ...options }));
  await client.connect();
  return client;
}

if (URL) {
  for (const flavor of flavors) {
    describe(`redis over ${flavor.name}`, () => {
      it("is type REDIS and connects an unconnected client once, for every store built on it", async () => {
        const client = flavor.make();
        const prefix = unique();
        const a = kv(client, { prefix });
        assert.equal(a.type, "REDIS");
        const b = a.prefix("b:");
        const c = kv(client, { prefix: prefix + "c:" });
        await Promise.all([a.set("1", 1), b.set("2", 2), c.set("3", 3)]);
        assert.deepEqual((await a.keys()).sort(), ["1", "b:2", "c:3"]);
        await a.clear();
        await a.close();
      });

      it("works on a client that is already connected", async () => {
        const client = flavor.make();
        await client.connect();
        const store = kv(client, { prefix: unique() });
        await store.set("k", "v");
        assert.equal(await store.get("k"), "v");
        await store.clear();
        await store.close();
      });

      it("writes the full key, JSON text and a millisecond TTL (PX), and reads them back", async () => {
        const raw = await rawClient();
        const prefix = unique();
        const store = kv(flavor.make(), { prefix });
        await store.set("obj", { a: [1, "two", null], b: { c: true } });
        await store.set("short", "x", { expires: 0.4 });
        await store.set("tiny", "y", { expires: 0.01 });
        assert.equal(await raw.get(prefix + "obj"), JSON.stringify({ a: [1, "two", null], b: { c: true } }));
        assert.equal(await raw.pTTL(prefix + "obj"), -1, "no expiry means no TTL");
        const ttl = await raw.pTTL(prefix + "short");
        assert.ok(ttl > 200 && ttl <= 400, `PTTL ${ttl}`);
        // polystore's whole-second EX would round 0.01 s to "never"; PX keeps it.
        await sleep(40);
        assert.equal(await raw.exists(prefix + "tiny"), 0);
        assert.equal(await store.get("tiny"), null);
        await raw.set(prefix + "written-by-hand", '{"hand":1}');
        assert.deepEqual(await store.get("written-by-hand"), { hand: 1 });
        await store.clear();
        await store.close();
        await raw.quit();
      });

      it("treats glob characters in a prefix as plain characters (SCAN MATCH is escaped)", async () => {
        const base = unique();
        const root = kv(flavor.make(), { prefix: base });
        const keys = ["a*1", "ab1", "a?1", "a[b]1", "ab]1", "a\\1", "a\\\\1", "a^1", "b1", "[ab]1", "a1"];
        for (const key of keys) await root.set(key, key);
        const under = async (p) => (await root.prefix(p).keys()).sort();
        assert.deepEqual(await under("a*"), ["1"]);
        assert.deepEqual(await under("a?"), ["1"]);
        assert.deepEqual(await under("a["), ["b]1"]);
        assert.deepEqual(await under("[ab]"), ["1"]);
        assert.deepEqual(await under("a\\"), ["1", "\\1"]);
        assert.deepEqual(await under("a^"), ["1"]);
        assert.deepEqual(await root.prefix("a*").entries(), [["1", "a*1"]]);
        await root.prefix("a*").clear();
        await root.prefix("a[").clear();
        const expected = ["[ab]1", "a1", "a?1", "a\\1", "a\\\\1", "a^1", "ab1", "ab]1", "b1"];
        assert.deepEqual((await root.keys()).sort(), expected);
        await root.clear();
        assert.deepEqual(await root.keys(), []);
        await root.close();
      });

      it("lists, iterates and clears thousands of keys over many SCAN pages, each key once", async () => {
        const raw = await rawClient();
        const prefix = unique();
        const n = 2500;
        await raw.mSet(Array.from({ length: n }, (_, i) => [`${prefix}k${i}`, JSON.stringify(i)]));
        await raw.set(`${prefix.slice(0, -1)}-outside`, "1"); // shares the text, not the prefix
        const store = kv(flavor.make(), { prefix });
        const keys = await store.keys();
        assert.equal(keys.length, n);
        assert.equal(new Set(keys).size, n);
        let sum = 0;
        let count = 0;
        for await (const [, value] of store) {
          sum += value;
          count++;
        }
        assert.equal(count, n);
        assert.equal(sum, (n * (n - 1)) / 2);
        assert.equal((await store.entries()).length, n);
        await store.clear();
        assert.equal((await store.keys()).length, 0);
        assert.equal(await raw.get(`${prefix.slice(0, -1)}-outside`), "1");
        await raw.del(`${prefix.slice(0, -1)}-outside`);
        await store.close();
        await raw.quit();
      });
    });
  }

  describe("redis over the users' clients: data model and atomic operations", () => {
    for (const flavor of flavors) {
      it(`${flavor.name}: bytes as 0xFF then the bytes, read back as bytes everywhere, shared with redis://`, async () => {
        const raw = await rawClient();
        const buffers = raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
        const prefix = unique();
        const store = kv(flavor.make(), { prefix });
        const native = kv(URL, { prefix });
        const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
        await store.set("bin", bytes);
        assert.ok((await buffers.get(`${prefix}bin`)).equals(Buffer.concat([Buffer.from([0xff]), bytes])));
        const same = (value, label) => assert.ok(Buffer.from(value).equals(bytes), label);
        same(await native.get("bin"), "the native store reads it");
        await native.set("from-native", bytes);
        same(await store.get("from-native"), "get");
        same((await store.getWithMetadata("from-native")).value, "getWithMetadata");
        same((await store.getMany(["json", "from-native"]))[1], "getMany");
        same(Object.fromEntries(await store.entries())["from-native"], "entries");
        const iterated = {};
        for await (const [key, value] of store) iterated[key] = value;
        same(iterated.bin, "iteration");
        assert.equal(await store.cas("bin", bytes, "text"), true);
        assert.equal(await raw.get(`${prefix}bin`), '"text"');
        same(await store.getAndDelete("from-native"), "getAndDelete");
        await store.clear();
        await Promise.all([store.close(), native.close(), raw.quit()]);
      });

      it(`${flavor.name}: one command per bulk or atomic method; scripts sent again after SCRIPT FLUSH`, async () => {
        const server = await privateRedis();
        const store = kv(flavor.make({}, server.url));
        try {
          await store.setMany([
            ["a", 1],
            ["b", 2],
          ]);
          await server.control.configResetStat();
          assert.deepEqual(await store.getMany(["a", "b", "x"]), [1, 2, null]);
          await store.setMany({ c: 3, d: null }, { expires: 60 });
          await store.delMany(["c", "x"]);
          assert.equal(await store.increment("n"), 1);
          assert.equal(await store.increment("n"), 2);
          assert.equal(await store.cas("n", 2, 3), true);
          assert.equal(await store.getAndDelete("n"), 3);
          const calls = await commandCalls(server.control);
          assert.equal(calls.mget, 1, JSON.stringify(calls));
          assert.equal(calls.multi, 1);
          assert.equal(calls.exec, 1);
          assert.equal(calls.unlink, 1);
          assert.equal(calls.getdel, 1);
          assert.equal(calls.eval, 2, "INCR and SWAP sent whole once");
          assert.equal(calls.evalsha, 1, "then by their SHA1");
          await server.control.scriptFlush();
          assert.equal(await store.increment("m"), 1, "NOSCRIPT: sent whole again");
          assert.equal(await store.increment("m"), 2);
        } finally {
          await store.close();
          await server.stop();
        }
      });

      it(`${flavor.name}: on a Redis without GETDEL and PEXPIRETIME, the fallbacks work`, async () => {
        const server = await privateRedis(["--rename-command", "GETDEL", "", "--rename-command", "PEXPIRETIME", ""]);
        const store = kv(flavor.make({}, server.url));
        try {
          const before = Date.now();
          await store.set("k", "v", { expires: 60 });
          const { value, expires } = await store.getWithMetadata("k");
          assert.equal(value, "v");
          assert.ok(Math.abs(expires - (before + 60_000)) < 1000, String(expires));
          assert.ok(Math.abs((await store.list()).keys[0].expiration - (before + 60_000) / 1000) <= 2);
          assert.deepEqual(await Promise.all([store.getAndDelete("k"), store.getAndDelete("k")]), ["v", null]);
        } finally {
          await store.close();
          await server.stop();
        }
      });
    }

    it("ioredis keyPrefix: the atomic and bulk methods and list() see keys without it", async () => {
      const raw = await rawClient();
      const keyPrefix = unique();
      const store = kv(track(new Redis(URL, { keyPrefix })), { prefix: "p:" });
      assert.equal(await store.increment("n", 2), 2);
      assert.equal(await raw.get(`${keyPrefix}p:n`), "2");
      assert.equal(await store.cas("n", 2, "two"), true);
      await store.setMany({ a: 1, b: Buffer.from([1]) });
      assert.deepEqual((await store.getMany(["a", "n"])).map(String), ["1", "two"]);
      const { keys, list_complete } = await store.list({ limit: 2 });
      assert.equal(list_complete, false);
      const rest = await store.list({ cursor: (await store.list({ limit: 2 })).cursor });
      assert.deepEqual([...keys.map((key) => key.name), ...rest.keys.map((key) => key.name)].sort(), ["a", "b", "n"]);
      assert.equal(await store.getAndDelete("a"), 1);
      await store.delMany(["b", "n"]);
      assert.equal(
        await raw.dbSize().then(() => raw.exists([`${keyPrefix}p:a`, `${keyPrefix}p:b`, `${keyPrefix}p:n`])),
        0,
      );
      await store.close();
      await raw.quit();
    });
  });

  describe("redis interop with polystore (node-redis)", () => {
    for (const flavor of flavors) {
      it(`polystore writes, polykv over ${flavor.name} reads, and back`, async () => {
        const prefix = unique();
        const theirs = polystore(track(createClient({ url: URL })), { prefix });
        const ours = kv(flavor.make(), { prefix });
        await theirs.set("a", { deep: [1, { two: 2 }] });
        await theirs.set("b", "for an hour", { expires: "1h" });
        assert.deepEqual(await ours.get("a"), { deep: [1, { two: 2 }] });
        assert.equal(await ours.get("b"), "for an hour");
        assert.equal(await ours.has("b"), true);
        assert.deepEqual((await ours.keys()).sort(), ["a", "b"]);

        await ours.set("c", [true, null]);
        await ours.set("d", "soon", { expires: 0.3 });
        assert.deepEqual(await theirs.get("c"), [true, null]);
        assert.equal(await theirs.get("d"), "soon");
        assert.deepEqual((await theirs.keys()).sort(), ["a", "b", "c", "d"]);
        assert.deepEqual(Object.keys(await theirs.all()).sort(), ["a", "b", "c", "d"]);
        await sleep(400);
        assert.equal(await theirs.get("d"), null);
        assert.deepEqual((await theirs.keys()).sort(), ["a", "b", "c"]);
        await ours.clear();
        assert.deepEqual(await theirs.keys(), []);
        await ours.close();
        await theirs.close();
      });
    }
  });

  describe("redis, client specifics", () => {
    it("clear() on an unprefixed store empties only the selected database (polystore would FLUSHALL)", async () => {
      const nine = await rawClient({ database: 9 });
      const ten = await rawClient({ database: 10 });
      const marker = unique();
      await nine.set(`${marker}x`, "1");
      await ten.set(`${marker}y`, "1");
      const store = kv(track(createClient({ url: URL, database: 9 })));
      assert.ok((await store.keys()).includes(`${marker}x`));
      await store.clear();
      assert.equal(await nine.dbSize(), 0);
      assert.equal(await ten.get(`${marker}y`), "1");
      await ten.del(`${marker}y`);
      await store.close();
      await nine.quit();
      await ten.quit();
    });

    it("honours ioredis's keyPrefix: keys carry it in Redis, not in polykv", async () => {
      const raw = await rawClient();
      const keyPrefix = unique();
      const store = kv(track(new Redis(URL, { keyPrefix })), { prefix: "p:" });
      await store.set("k", 1);
      assert.equal(await raw.get(`${keyPrefix}p:k`), "1");
      assert.deepEqual(await store.keys(), ["k"]);
      assert.deepEqual(await store.entries(), [["k", 1]]);
      await store.clear();
      assert.equal(await raw.exists(`${keyPrefix}p:k`), 0);
      await store.close();
      await raw.quit();
    });

    // Cluster clients are accepted (redis-cluster-clients.spec.mjs tests them over a
    // cluster); one that cannot reach its nodes rejects the first call, without crashing.
    const nowhere = { host: "127.0.0.1", port: 1 };
    const socket = { ...nowhere, reconnectStrategy: false };
    for (const [name, make] of [
      ["node-redis v5", () => createCluster({ rootNodes: [{ socket }] })],
      ["node-redis v4", () => createCluster4({ rootNodes: [{ socket }] })],
      ["ioredis", () => new Redis.Cluster([nowhere], { lazyConnect: true, clusterRetryStrategy: () => null })],
    ]) {
      it(`accepts a ${name} cluster client as type REDIS; unreachable, it rejects the first call`, async () => {
        const cluster = make();
        cluster.on("error", () => {});
        const store = kv(cluster);
        assert.equal(store.type, "REDIS");
        await assert.rejects(() => store.get("k"));
        if (cluster.status !== undefined) cluster.disconnect();
      });
    }

    it("a client that cannot connect rejects the first call instead of crashing", async () => {
      const client = createClient({ url: "redis://127.0.0.1:1", socket: { reconnectStrategy: false } });
      client.on("error", () => {});
      const store = kv(client);
      await assert.rejects(() => store.get("k"));
    });
  });
}
