// polykv/fedify: the behaviours of Fedify's own MemoryKvStore tests, run side by side
// on Fedify's MemoryKvStore (the oracle) and on polykv's KvStore over every backend
// that has cas().
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Temporal } from "@js-temporal/polyfill";
import { MemoryKvStore } from "@fedify/fedify";
import polykvKvStore, { FedifyKvStore } from "polykv/fedify";
import { rowsWithCas, sleep } from "./fixtures/integration-stores.mjs";

// Listed entries in key order. MemoryKvStore keeps a key whose cas() set `undefined`
// and lists it with that value; get() reads it as absent, and polykv deletes it (a
// `undefined` new value deletes), so such entries are left out of the comparison.
const collect = async (iterable) => {
  const entries = [];
  for await (const entry of iterable) if (entry.value !== undefined) entries.push(entry);
  return entries.sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));
};

// What a KvStore answers, step by step, as plain data to compare.
async function scenario(store) {
  const seen = {};
  seen.missing = await store.get(["foo", "bar"]);
  await store.set(["foo", "bar"], { a: 1 });
  seen.set = await store.get(["foo", "bar"]);
  await store.set(["ttl"], "short", { ttl: Temporal.Duration.from({ milliseconds: 50 }) });
  seen.beforeTtl = await store.get(["ttl"]);
  await store.delete(["foo", "bar"]);
  seen.deleted = await store.get(["foo", "bar"]);
  await store.delete(["never"]);
  // cas: absent expected, wrong expected, right expected, new undefined deletes
  seen.casAbsent = await store.cas(["c"], undefined, "one");
  seen.casWrong = await store.cas(["c"], "two", "three");
  seen.afterWrong = await store.get(["c"]);
  seen.casRight = await store.cas(["c"], "one", { deep: [1, 2] });
  seen.casDeep = await store.cas(["c"], { deep: [1, 2] }, { deep: [3] });
  seen.afterDeep = await store.get(["c"]);
  seen.casDelete = await store.cas(["c"], { deep: [3] }, undefined);
  seen.afterDelete = await store.get(["c"]);
  seen.casAbsentTaken = await store.cas(["d"], undefined, 1);
  seen.casAbsentAgain = await store.cas(["d"], undefined, 2);
  // list
  await store.set(["prefix", "a"], "value-a");
  await store.set(["prefix", "b"], "value-b");
  await store.set(["prefix", "nested", "c"], "value-c");
  await store.set(["prefix"], "exact");
  await store.set(["prefixed"], "other");
  await store.set(["other", "x"], "value-x");
  await store.set(["prefix", "expiring"], "gone", { ttl: Temporal.Duration.from({ milliseconds: 50 }) });
  await sleep(120);
  seen.afterTtl = await store.get(["ttl"]);
  seen.list = await collect(store.list(["prefix"]));
  seen.nested = await collect(store.list(["prefix", "nested"]));
  seen.none = await collect(store.list(["nothing"]));
  seen.all = await collect(store.list());
  return seen;
}

const oracle = await scenario(new MemoryKvStore());

for (const row of await rowsWithCas()) {
  describe(`polykv/fedify over ${row.name}`, () => {
    it("answers as Fedify's MemoryKvStore does", async () => {
      const store = polykvKvStore(row.make());
      assert.ok(store instanceof FedifyKvStore);
      assert.deepEqual(await scenario(store), oracle);
    });

    it('keys: ["a"] and ["ab"] never meet; "/" and "%" in a part decode back', async () => {
      const store = polykvKvStore(row.make()).prefix("fedify:");
      await store.set(["a"], 1);
      await store.set(["ab"], 2);
      await store.set(["a/b", "50%", "%2F"], 3);
      await store.set(["", "x"], 4);
      assert.deepEqual(
        (await collect(store.list(["a"]))).map((entry) => entry.key),
        [["a"]],
      );
      assert.deepEqual(await collect(store.list(["a/b"])), [{ key: ["a/b", "50%", "%2F"], value: 3 }]);
      assert.deepEqual(await collect(store.list([""])), [{ key: ["", "x"], value: 4 }]);
      assert.equal(await store.get(["a/b", "50%", "%2F"]), 3);
      assert.equal(await store.get(["a", "b"]), undefined);
      await assert.rejects(store.get([]), { code: "ERR_POLYKV_KEY" });
      await assert.rejects(store.get("a"), { code: "ERR_POLYKV_KEY" });
    });
  });
}
