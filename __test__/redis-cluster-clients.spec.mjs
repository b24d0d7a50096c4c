// REDIS over the user's own Redis Cluster clients (node-redis v5 and v4 createCluster(),
// ioredis Cluster; docs/behaviour.md §39): what the conformance suite cannot see, with
// keys in many slots on every master. Needs POLYKV_TEST_REDIS_CLUSTER_URL (the shared
// cluster of .ci/services.sh); every test works under its own random prefix and
// removes its keys.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";
import { clusterClients, clusterNodes } from "./fixtures/server-rows.mjs";
import Redis from "ioredis";

const URL = serviceUrl("POLYKV_TEST_REDIS_CLUSTER_URL", "redis cluster (users' cluster clients)");
const unique = () => `polykv-test:${randomBytes(5).toString("hex")}:`;
const MANY = 2000;
const many = (n = MANY) => Array.from({ length: n }, (_, i) => `k${i}`);

// Every client and store a test makes: whatever is still open is closed at the end,
// so a failing test cannot keep the process alive.
const opened = [];
const track = (thing) => (opened.push(thing), thing);
after(async () => {
  for (const thing of opened.splice(0).reverse()) {
    if (typeof thing.close === "function" && thing.type === "REDIS") await thing.close().catch(() => {});
    else if (thing.status !== undefined)
      thing.disconnect(); // ioredis
    else if (thing.isOpen) await (thing.destroy ?? thing.disconnect).call(thing); // node-redis
  }
});

// The native driver over the same cluster, to see what is on the server.
const native = (prefix) => track(kv(URL, { prefix }));

if (URL) {
  for (const [name, make] of Object.entries(clusterClients)) {
    describe(`redis over a ${name} cluster client`, () => {
      const store = (prefix, client = track(make(URL))) => kv(client, { prefix });

      it("is type REDIS, accepted at kv() time without connecting there and then", () => {
        const client = track(make(URL));
        const s = kv(client);
        assert.equal(s.type, "REDIS");
        return s.close();
      });

      it(`lists, reads and clears ${MANY} keys spread over every master`, async () => {
        const prefix = unique();
        const s = store(prefix);
        const keys = many();
        await s.setMany(keys.map((key, i) => [key, { i }]));
        const listed = await s.keys();
        assert.equal(listed.length, MANY);
        assert.deepEqual([...listed].sort(), [...keys].sort());
        assert.deepEqual(
          (await s.getMany(keys)).map((value) => value.i),
          keys.map((_, i) => i),
        );
        assert.equal((await s.entries()).length, MANY);
        let iterated = 0;
        for await (const [key, value] of s) {
          assert.equal(key, `k${value.i}`);
          iterated++;
        }
        assert.equal(iterated, MANY);
        await s.clear();
        assert.deepEqual(await s.keys(), []);
        assert.deepEqual(await native(prefix).keys(), []);
        await s.close();
      });

      it("getMany, setMany and delMany over keys in many slots keep the caller's order", async () => {
        const prefix = unique();
        const s = store(prefix);
        const keys = many(300);
        await s.setMany(keys.map((key) => [key, key.toUpperCase()]));
        const probe = ["missing", ...keys.slice(0, 50).reverse(), "k299", "nope"];
        assert.deepEqual(await s.getMany(probe), [
          null,
          ...keys
            .slice(0, 50)
            .reverse()
            .map((k) => k.toUpperCase()),
          "K299",
          null,
        ]);
        await s.delMany(keys.filter((_, i) => i % 2 === 0));
        assert.deepEqual((await s.keys()).sort(), keys.filter((_, i) => i % 2 === 1).sort());
        // Bytes and expiries through the split paths too.
        await s.setMany(
          [
            ["bytes", Buffer.from([0, 255, 7])],
            ["soon", 1],
          ],
          { expires: 60 },
        );
        const [bytes, soon] = await s.getMany(["bytes", "soon"]);
        assert.deepEqual(bytes, Buffer.from([0, 255, 7]));
        assert.equal(soon, 1);
        await s.clear();
        assert.deepEqual(await native(prefix).keys(), []);
        await s.close();
      });

      it("runs its scripts on the slot of their key (increments over many slots)", async () => {
        const prefix = unique();
        const s = store(prefix);
        const keys = many(100);
        await Promise.all(keys.map((key) => s.increment(key, 2)));
        await Promise.all(keys.map((key) => s.increment(key, 3)));
        assert.deepEqual(
          await s.getMany(keys),
          keys.map(() => 5),
        );
        await s.clear();
        await s.close();
      });

      it("list() pages over every master, each key once", async () => {
        const prefix = unique();
        const s = store(prefix);
        const keys = many(700);
        await s.setMany(keys.map((key) => [key, 1]));
        const seen = [];
        let cursor;
        let pages = 0;
        do {
          const page = await s.list({ limit: 128, cursor });
          seen.push(...page.keys.map((entry) => entry.name));
          cursor = page.list_complete ? undefined : page.cursor;
          pages++;
        } while (cursor !== undefined);
        assert.ok(pages >= 6, `${pages} pages`);
        assert.equal(new Set(seen).size, seen.length);
        assert.deepEqual(seen.sort(), keys.sort());
        await s.clear();
        await s.close();
      });

      it("interoperates with kv('redis+cluster://…'): each reads what the other wrote", async () => {
        const prefix = unique();
        const s = store(prefix);
        const n = native(prefix);
        const keys = many(200);
        await s.setMany(keys.map((key) => [key, { by: "client", key }]));
        assert.deepEqual(
          await n.getMany(keys),
          keys.map((key) => ({ by: "client", key })),
        );
        await n.setMany(keys.map((key) => [`n:${key}`, { by: "native", key }]));
        assert.deepEqual(
          await s.getMany(keys.map((key) => `n:${key}`)),
          keys.map((key) => ({ by: "native", key })),
        );
        assert.equal((await s.keys()).length, 400);
        await n.clear("n:");
        await s.clear();
        assert.deepEqual(await n.keys(), []);
        await s.close();
      });

      it("connects once for stores made on it at the same time, and close() ends it", async () => {
        const prefix = unique();
        const client = track(make(URL));
        const a = kv(client, { prefix });
        const b = kv(client, { prefix: `${prefix}b:` });
        await Promise.all([a.set("1", 1), b.set("2", 2), a.get("x"), b.keys()]);
        assert.deepEqual((await a.keys()).sort(), ["1", "b:2"]);
        await a.clear();
        await a.close();
        // ioredis's quit() resolves once the nodes said OK; its status reads "end" a moment later.
        for (let waited = 0; client.status !== undefined && client.status !== "end" && waited < 2000; waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        if (client.status !== undefined) assert.equal(client.status, "end");
        else assert.equal(client.isOpen, false);
      });
    });
  }

  describe("redis over an ioredis Cluster with keyPrefix", () => {
    it("keys carry the keyPrefix in Redis, not in polykv, and are split by their full key's slot", async () => {
      const keyPrefix = unique();
      const client = track(new Redis.Cluster(clusterNodes(URL), { keyPrefix, lazyConnect: true }));
      const s = kv(client, { prefix: "p:" });
      const keys = many(300);
      await s.setMany(keys.map((key) => [key, key]));
      assert.deepEqual(await native(`${keyPrefix}p:`).getMany(keys.slice(0, 3)), ["k0", "k1", "k2"]);
      assert.deepEqual((await s.keys()).sort(), [...keys].sort());
      assert.deepEqual(await s.getMany(keys), keys);
      assert.equal((await s.entries()).length, keys.length);
      await s.delMany(keys.slice(0, 100));
      assert.equal((await s.keys()).length, 200);
      await s.clear();
      assert.deepEqual(await native(keyPrefix).keys(), []);
      await s.close();
    });
  });

  describe("redis cluster client events", () => {
    for (const name of ["node-redis v5", "ioredis"]) {
      it(`${name}: the store emits connect once the cluster is up, disconnect when it is closed`, async () => {
        const s = kv(track(clusterClients[name](URL)), { prefix: unique() });
        const events = [];
        s.on("connect", () => events.push("connect"));
        s.on("disconnect", () => events.push("disconnect"));
        await s.get("k");
        assert.deepEqual(events, ["connect"]);
        await s.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(events, ["connect", "disconnect"]);
      });
    }
  });
}
