// docs/behaviour.md §10–11, §13, §15: group methods, iteration, prefixes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sorted, sortedEntries, useStore } from "./helpers.mjs";

async function fill(store) {
  await store.set("a", 1);
  await store.set("b", { two: 2 });
  await store.set("c:1", [3]);
  await store.set("c:2", "four");
}

// Keys whose code-point order differs from every other order a backend might use:
// locale collation (a < ä < b < B), natural order (item:2 < item:10) and UTF-16
// order, where "k\u{1F600}" (a 4-byte UTF-8 character, a surrogate pair in UTF-16)
// sorts before "k\uFB00" (3 bytes, one UTF-16 unit above the surrogates).
const ORDERED = ["B", "a", "b", "item:10", "item:2", "k", "k\uFB00", "k\u{1F600}", "\u00E4"];
// Written in another order: neither sorted nor reversed.
const WRITTEN = ["item:2", "\u00E4", "k\u{1F600}", "b", "B", "item:10", "k", "a", "k\uFB00"];

export default function group(make, caps) {
  describe("group methods and prefixes", () => {
    const box = useStore(make);

    if (!caps.listing) {
      it("group methods reject with '<type> does not support .iterate()'", async () => {
        const message = `${box.store.type} does not support .iterate()`;
        for (const method of ["keys", "values", "entries", "all"]) {
          await assert.rejects(() => box.store[method](), { message });
        }
        await assert.rejects(
          async () => {
            for await (const entry of box.store) assert.fail(`unexpected ${entry}`);
          },
          { message },
        );
      });
      return;
    }

    it("keys, values, entries and all list the store's records", async () => {
      const store = box.store.prefix("g1:");
      await fill(store);
      assert.deepEqual(sorted(await store.keys()), ["a", "b", "c:1", "c:2"]);
      assert.deepEqual(sortedEntries(await store.entries()), [
        ["a", 1],
        ["b", { two: 2 }],
        ["c:1", [3]],
        ["c:2", "four"],
      ]);
      const values = (await store.values()).map((value) => JSON.stringify(value));
      assert.deepEqual(sorted(values), sorted(["1", '{"two":2}', "[3]", '"four"']));
      assert.deepEqual(await store.all(), { a: 1, b: { two: 2 }, "c:1": [3], "c:2": "four" });
    });

    it("an empty store lists nothing", async () => {
      const store = box.store.prefix("g-empty:");
      assert.deepEqual(await store.keys(), []);
      assert.deepEqual(await store.values(), []);
      assert.deepEqual(await store.entries(), []);
      assert.deepEqual(await store.all(), {});
    });

    it("for await iterates [key, value] pairs without the prefix", async () => {
      const store = box.store.prefix("g2:");
      await fill(store);
      const seen = [];
      for await (const [key, value] of store) seen.push([key, value]);
      assert.deepEqual(sortedEntries(seen), [
        ["a", 1],
        ["b", { two: 2 }],
        ["c:1", [3]],
        ["c:2", "four"],
      ]);
    });

    it("a prefix is a plain startsWith: 'c:' sees 'c:1' as '1'", async () => {
      const root = box.store.prefix("g3:");
      await fill(root);
      const sub = root.prefix("c:");
      assert.equal(sub.PREFIX, root.PREFIX + "c:");
      assert.deepEqual(sorted(await sub.keys()), ["1", "2"]);
      assert.deepEqual(await sub.get("1"), [3]);
      assert.equal(await sub.has("a"), false);
      await sub.set("3", 5);
      assert.equal(await root.get("c:3"), 5);
      await sub.del("1");
      assert.equal(await root.has("c:1"), false);
    });

    it("prefixes nest and the root sees prefixed keys in full", async () => {
      const root = box.store.prefix("g4:");
      const deep = root.prefix("x:").prefix("y:");
      await deep.set("k", "v");
      assert.deepEqual(await root.keys(), ["x:y:k"]);
      assert.deepEqual(await deep.keys(), ["k"]);
      assert.equal(await root.get("x:y:k"), "v");
    });

    it("clear removes only this store's prefix", async () => {
      const root = box.store.prefix("g5:");
      await fill(root);
      await root.prefix("c:").clear();
      assert.deepEqual(sorted(await root.keys()), ["a", "b"]);
      await root.clear();
      assert.deepEqual(await root.keys(), []);
    });

    it("a prefix that is a prefix of another's name does not leak: 'ab' is not under 'abc'", async () => {
      const root = box.store.prefix("g6:");
      await root.set("ab", 1);
      await root.set("abc", 2);
      await root.set("abd", 3);
      assert.deepEqual(await root.prefix("abc").keys(), [""]);
      assert.deepEqual(sorted(await root.prefix("ab").keys()), ["", "c", "d"]);
    });

    it("iteration streams many records", async () => {
      const store = box.store.prefix("g7:");
      const count = 1500;
      await Promise.all(Array.from({ length: count }, (_, i) => store.set(`k${i}`, i)));
      let seen = 0;
      let sum = 0;
      for await (const [, value] of store) {
        seen += 1;
        sum += value;
      }
      assert.equal(seen, count);
      assert.equal(sum, (count * (count - 1)) / 2);
      assert.equal((await store.keys()).length, count);
      await store.clear();
      assert.deepEqual(await store.keys(), []);
    });
  });

  if (!caps.listing) return;

  // The store itself, at its own root: for the unprefixed rows, the root of their
  // private place (an empty prefix range is a case of its own for range scans).
  describe("group methods on the store itself, without a sub-prefix", () => {
    const box = useStore(make);

    it("keys, values, entries, all and iteration list the store's records", async () => {
      const { store } = box;
      await fill(store);
      const expected = [
        ["a", 1],
        ["b", { two: 2 }],
        ["c:1", [3]],
        ["c:2", "four"],
      ];
      assert.deepEqual(sorted(await store.keys()), ["a", "b", "c:1", "c:2"]);
      assert.deepEqual(sortedEntries(await store.entries()), expected);
      const values = (await store.values()).map((value) => JSON.stringify(value));
      assert.deepEqual(sorted(values), sorted(["1", '{"two":2}', "[3]", '"four"']));
      assert.deepEqual(await store.all(), Object.fromEntries(expected));
      const seen = [];
      for await (const entry of store) seen.push(entry);
      assert.deepEqual(sortedEntries(seen), expected);
    });

    it("prune keeps live records and clear empties the store", async () => {
      const { store } = box;
      await store.set("p:live", 1);
      await store.set("p:later", 2, { expires: "1h" });
      await store.prune();
      assert.equal(await store.get("p:live"), 1);
      assert.equal(await store.get("p:later"), 2);
      await store.clear();
      assert.deepEqual(await store.keys(), []);
      assert.deepEqual(await store.entries(), []);
      assert.equal(await store.get("p:live"), null);
    });
  });

  if (caps.ordered) {
    describe("listing order", () => {
      const box = useStore(make);

      it("keys, entries and iteration come in ascending code-point order", async () => {
        const { store } = box;
        for (const key of WRITTEN) await store.set(key, `value of ${key}`);
        assert.deepEqual(await store.keys(), ORDERED);
        assert.deepEqual(
          await store.entries(),
          ORDERED.map((key) => [key, `value of ${key}`]),
        );
        const seen = [];
        for await (const [key] of store) seen.push(key);
        assert.deepEqual(seen, ORDERED);
        const items = store.prefix("item:");
        assert.deepEqual(await items.keys(), ["10", "2"]);
        assert.deepEqual(await items.entries(), [
          ["10", "value of item:10"],
          ["2", "value of item:2"],
        ]);
      });
    });
  }
}
