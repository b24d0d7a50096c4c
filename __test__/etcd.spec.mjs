// ETCD3 over the user's `etcd3` client: what the conformance suite cannot see.
// Needs POLYKV_TEST_ETCD_URL (.ci/services.sh). Every test works under its own
// random key prefix.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Etcd3 } from "etcd3";
import polystore from "polystore";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";

const URL = serviceUrl("POLYKV_TEST_ETCD_URL", "etcd3");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Every prefix of this file starts with its run's own, so the cleanup below
// deletes this run's keys only, never those of a concurrent run on the same server.
const RUN = `polykv-test:${randomBytes(4).toString("hex")}:`;
const unique = () => `${RUN}${randomBytes(5).toString("hex")}:`;

if (URL) {
  describe("etcd3", () => {
    let client;
    before(() => {
      client = new Etcd3({ hosts: URL });
    });
    after(async () => {
      await client.delete().prefix(RUN);
      client.close();
    });

    it("is type ETCD3 and stores polystore's JSON envelope {expires, value}, without a lease", async () => {
      const prefix = unique();
      const store = kv(client, { prefix });
      assert.equal(store.type, "ETCD3");
      await store.set("forever", { a: [1, "two"] });
      await store.set("later", "x", { expires: 60 });
      const before = Date.now();
      assert.deepEqual(await client.get(prefix + "forever").json(), { expires: null, value: { a: [1, "two"] } });
      const later = await client.get(prefix + "later").json();
      assert.equal(later.value, "x");
      assert.ok(Math.abs(later.expires - (before + 60_000)) < 2000, `expires ${later.expires}`);
      const { kvs } = await client.get(prefix + "later").exec();
      assert.equal(String(kvs[0].lease), "0", "no etcd lease");
    });

    it("polystore writes, polykv reads, and back, expiry included", async () => {
      const prefix = unique();
      const theirs = polystore(client, { prefix });
      const ours = kv(client, { prefix });
      await theirs.set("a", { deep: [1, { two: 2 }] });
      await theirs.set("b", "an hour", { expires: "1h" });
      await theirs.set("c", "soon", { expires: 0.3 });
      assert.deepEqual(await ours.get("a"), { deep: [1, { two: 2 }] });
      assert.equal(await ours.get("b"), "an hour");
      assert.equal(await ours.has("c"), true);
      assert.deepEqual((await ours.keys()).sort(), ["a", "b", "c"]);

      await ours.set("d", [true, null]);
      await ours.set("e", "soon too", { expires: 0.3 });
      assert.deepEqual(await theirs.get("d"), [true, null]);
      assert.equal(await theirs.get("e"), "soon too");
      assert.deepEqual((await theirs.keys()).sort(), ["a", "b", "c", "d", "e"]);

      await sleep(400);
      for (const store of [ours, theirs]) {
        assert.equal(await store.get("c"), null);
        assert.equal(await store.get("e"), null);
        assert.deepEqual((await store.keys()).sort(), ["a", "b", "d"]);
      }
      assert.equal(await ours.has("c"), false);
    });

    it("prune() deletes expired envelopes under the prefix only, and nothing else", async () => {
      const prefix = unique();
      const store = kv(client, { prefix: prefix + "in:" });
      const other = kv(client, { prefix: prefix + "out:" });
      await store.set("old", 1, { expires: 0.05 });
      await store.set("live", 2, { expires: 60 });
      await store.set("forever", 3);
      await other.set("old", 4, { expires: 0.05 });
      await client.put(prefix + "in:not-json").value("plain text");
      await client.put(prefix + "in:no-envelope").value('{"x":1}');
      await sleep(100);
      await store.prune();
      assert.deepEqual((await client.getAll().prefix(prefix).keys()).sort(), [
        `${prefix}in:forever`,
        `${prefix}in:live`,
        `${prefix}in:no-envelope`,
        `${prefix}in:not-json`,
        `${prefix}out:old`,
      ]);
    });

    it("lists and iterates a large prefix in pages, in byte order, and clears only its prefix", async () => {
      const prefix = unique();
      const store = kv(client, { prefix: prefix + "big:" });
      const n = 1234;
      const keys = Array.from({ length: n }, (_, i) => `k${i}`);
      for (let i = 0; i < n; i += 100) await Promise.all(keys.slice(i, i + 100).map((key) => store.set(key, key)));
      await client.put(prefix + "big").value('{"expires":null,"value":"outside"}');
      await client.put(prefix + "bih:x").value('{"expires":null,"value":"outside"}');
      const seen = [];
      for await (const [key, value] of store) {
        assert.equal(value, key);
        seen.push(key);
      }
      assert.deepEqual(seen, keys.slice().sort());
      assert.equal((await store.entries()).length, n);
      await store.clear();
      assert.deepEqual(await store.keys(), []);
      assert.deepEqual((await client.getAll().prefix(prefix).keys()).sort(), [`${prefix}big`, `${prefix}bih:x`]);
    });

    // The client with one write by someone else slipped in before the next
    // transaction commits, as another process could.
    function interfering(key, envelope) {
      let armed = true;
      return new Proxy(client, {
        get(target, name) {
          const value = Reflect.get(target, name, target);
          if (name !== "if") return typeof value === "function" ? value.bind(target) : value;
          return (...args) => {
            const builder = target.if(...args);
            const commit = builder.commit.bind(builder);
            builder.commit = async () => {
              if (armed) {
                armed = false;
                await client.put(key).value(JSON.stringify(envelope));
              }
              return commit();
            };
            return builder;
          };
        },
      });
    }

    it("cas, increment and getAndDelete commit only if the key's mod revision is the one read", async () => {
      const prefix = unique();
      const plain = kv(client, { prefix });
      await plain.set("c", 1);
      const c = kv(interfering(`${prefix}c`, { expires: null, value: 100 }), { prefix });
      assert.equal(await c.cas("c", 1, 2), false, "the write in between wins; cas sees 100 on its retry");
      assert.equal(await plain.get("c"), 100);

      await plain.set("n", 1, { expires: 3600 });
      const deadline = (await plain.getWithMetadata("n")).expires;
      const n = kv(interfering(`${prefix}n`, { expires: deadline, value: 10 }), { prefix });
      assert.equal(await n.increment("n"), 11, "the increment is retried over the value written in between");
      assert.deepEqual(await plain.getWithMetadata("n"), { value: 11, metadata: null, expires: deadline });

      await plain.set("t", "first");
      const t = kv(interfering(`${prefix}t`, { expires: null, value: "second" }), { prefix });
      assert.equal(await t.getAndDelete("t"), "second", "the value taken is the one the delete removed");
      assert.equal(await plain.has("t"), false);
    });

    it("getMany, setMany and delMany are one transaction per 128 keys", async () => {
      const prefix = unique();
      let txns = 0;
      const counting = new Proxy(client, {
        get(target, name) {
          const value = Reflect.get(target, name, target);
          if (name === "kv") {
            return new Proxy(value, {
              get: (kvClient, method) =>
                method === "txn" ? (...args) => (txns++, kvClient.txn(...args)) : Reflect.get(kvClient, method),
            });
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const store = kv(counting, { prefix });
      const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
      await store.setMany(keys.map((key, i) => [key, i]));
      assert.equal(txns, 3);
      txns = 0;
      const values = await store.getMany([...keys, "missing", "k0"]);
      assert.equal(txns, 3);
      assert.deepEqual(values, [...keys.map((_, i) => i), null, 0]);
      txns = 0;
      await store.delMany(keys.slice(0, 128));
      assert.equal(txns, 1);
      assert.equal((await store.keys()).length, 172);
    });

    it("works on an etcd3 namespace, and close() leaves the client open as polystore does", async () => {
      const prefix = unique();
      const space = client.namespace(prefix);
      const store = kv(space, { prefix: "p:" });
      assert.equal(store.type, "ETCD3");
      await store.set("k", 1);
      assert.deepEqual(await store.keys(), ["k"]);
      assert.deepEqual(await client.get(`${prefix}p:k`).json(), { expires: null, value: 1 });
      await store.close();
      assert.equal(await store.get("k"), 1);
    });
  });
}
