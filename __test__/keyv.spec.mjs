// polykv/keyv under keyv 5 and cache-manager 7, and under keyv 6 through its bridge.
// keyv's own test suite runs under vitest: `npm run test:keyv` (__test__/keyv/).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Keyv from "keyv";
import { Keyv as Keyv6, KeyvBridgeAdapter } from "keyv6";
import { createCache } from "cache-manager";
import polykvKeyv, { KeyvStore } from "polykv/keyv";
import { rows, sleep } from "./fixtures/integration-stores.mjs";

for (const row of rows) {
  describe(`polykv/keyv over ${row.name}`, () => {
    it("cache-manager: createCache({ stores: [new Keyv({ store })] }) gets, sets, wraps and expires", async () => {
      const store = polykvKeyv(row.make());
      assert.ok(store instanceof KeyvStore);
      const cache = createCache({ stores: [new Keyv({ store, namespace: "cm" })] });
      await cache.set("user:1", { name: "Ada" }, 200);
      assert.deepEqual(await cache.get("user:1"), { name: "Ada" });
      assert.deepEqual(await store.store.keys(), ["cm:user:1"], "stored under keyv's namespace");
      let computed = 0;
      const compute = async () => ++computed;
      assert.equal(await cache.wrap("slow", compute, 5000), 1);
      assert.equal(await cache.wrap("slow", compute, 5000), 1, "the second wrap() is served by the store");
      await sleep(300);
      assert.equal(await cache.get("user:1"), undefined);
      assert.equal(await store.store.get("cm:user:1"), null, "the store expired the record itself");
      await cache.mset([
        { key: "a", value: 1 },
        { key: "b", value: 2, ttl: 100 },
      ]);
      assert.deepEqual(await cache.mget(["a", "b", "c"]), [1, 2, undefined]);
      assert.equal(await cache.del("a"), true);
      await cache.clear();
      assert.deepEqual(await store.store.keys(), []);
    });

    it("keyv 6 takes it through its KeyvBridgeAdapter, namespace and iterator included", async () => {
      const base = polykvKeyv(row.make());
      const bridged = new KeyvBridgeAdapter(base.prefix(""));
      const one = new Keyv6({ store: bridged, namespace: "one" });
      const two = new Keyv6({ store: new KeyvBridgeAdapter(base.prefix("")), namespace: "two" });
      await one.set("k", "from one");
      await two.set("k", "from two", 5000);
      assert.equal(await one.get("k"), "from one");
      assert.equal(await two.get("k"), "from two");
      const listed = [];
      for await (const entry of one.iterator()) listed.push(entry);
      assert.deepEqual(listed, [["k", "from one"]]);
      await one.clear();
      assert.equal(await one.get("k"), undefined);
      assert.equal(await two.get("k"), "from two", "clear() kept to its namespace");
    });
  });
}
