// docs/behaviour.md §12: values round-trip; persistent stores copy, memory keeps the object.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { useStore } from "./helpers.mjs";

const samples = {
  string: 'héllo wörld 日本 🎉 "quoted" \\ back\nslash',
  integer: 42,
  negative: -17,
  float: 3.141592653589793,
  big: 1e21,
  tiny: 5e-324,
  true: true,
  array: [1, "two", { three: 3 }, [4], null],
  empty: {},
  emptyArray: [],
  nested: { a: { b: { c: [1, 2, { d: "deep" }] } }, unicode: "✓", nul: "a\u0000b" },
};

export default function values(make, caps) {
  describe("values", () => {
    const box = useStore(make);

    it("JSON values round-trip deep-equal", async () => {
      const store = box.store.prefix("v1:");
      for (const [key, value] of Object.entries(samples)) {
        await store.set(key, value);
        assert.deepEqual(await store.get(key), value, key);
      }
    });

    if (caps.copies) {
      it("get returns a copy, not the stored object", async () => {
        const value = { list: [1, 2] };
        await box.store.set("v2:k", value);
        const read = await box.store.get("v2:k");
        assert.notEqual(read, value);
        assert.deepEqual(read, value);
        value.list.push(3);
        assert.deepEqual(await box.store.get("v2:k"), { list: [1, 2] });
      });
    } else {
      it("get returns the very object that was set", async () => {
        const value = { list: [1, 2] };
        await box.store.set("v2:k", value);
        assert.equal(await box.store.get("v2:k"), value);
        if (caps.listing) {
          const [[, listed]] = await box.store.prefix("v2:").entries();
          assert.equal(listed, value);
        }
      });
    }

    if (caps.serializes && caps.polykv) {
      it("a value that is not JSON is a TypeError naming the key, and the store is unchanged", async () => {
        const store = box.store.prefix("v3:");
        await store.set("k", "before");
        const cyclic = { name: "loop" };
        cyclic.self = cyclic;
        for (const bad of [cyclic, { n: 10n }, 10n, () => 1, Symbol("s")]) {
          await assert.rejects(
            () => store.set("k", bad),
            (error) => {
              return error instanceof TypeError && error.message.includes('"k"');
            },
          );
          assert.equal(await store.get("k"), "before");
        }
        await assert.rejects(() => store.add(cyclic), TypeError);
        if (caps.listing) assert.deepEqual(await store.keys(), ["k"]);
      });
    }
  });
}
