// docs/behaviour.md §1–3, §14–15: the store object, substores, re-wrapping, promises.
import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { useStore } from "./helpers.mjs";

export default function store(make, caps) {
  describe("store object", () => {
    const box = useStore(make);

    it("type is known synchronously and PREFIX, EXPIRES, type are own enumerable properties", () => {
      const { store } = box;
      assert.equal(typeof store.type, "string");
      assert.notEqual(store.type, "PROMISE");
      for (const name of ["PREFIX", "EXPIRES", "type"]) {
        assert.ok(Object.prototype.propertyIsEnumerable.call(store, name), name);
      }
      assert.deepEqual(Object.keys(store), Object.keys(store.prefix("x:")));
    });

    it("the store is extensible and substores do not inherit additions", () => {
      const extended = box.store.prefix("s1:");
      Object.assign(extended, { hello: () => "hi" });
      assert.equal(extended.hello(), "hi");
      assert.equal(extended.prefix("y:").hello, undefined);
    });

    it("a per-call prefix replaces the store's prefix for that call", async () => {
      const root = box.store.prefix("s2:");
      const a = root.prefix("a:");
      assert.equal(await a.set("k", 1, { prefix: root.PREFIX + "b:" }), "k");
      assert.equal(await root.get("b:k"), 1);
      assert.equal(await a.get("k"), null);
      const key = await a.add(2, { prefix: root.PREFIX + "c:" });
      assert.equal(await root.get("c:" + key), 2);
    });

    it("re-wrapping a store keeps its prefix and expiry, and appends a new prefix", async () => {
      const inner = box.store.prefix("s3:").expires("1h");
      const wrapped = caps.kv(inner, { prefix: "w:" });
      assert.equal(wrapped.PREFIX, inner.PREFIX + "w:");
      assert.equal(wrapped.EXPIRES, 3600);
      assert.equal(wrapped.type, inner.type);
      await wrapped.set("k", "v");
      assert.equal(await inner.get("w:k"), "v");
      const same = caps.kv(inner);
      assert.equal(same.PREFIX, inner.PREFIX);
      assert.equal(await same.get("w:k"), "v");
    });

    it("a promise of the store works, warns once, and is PROMISE until it resolves", async () => {
      const warn = mock.method(console, "warn", () => {});
      try {
        const inner = box.store.prefix("s4:");
        const pending = caps.kv(Promise.resolve(inner));
        assert.equal(pending.type, "PROMISE");
        assert.equal(warn.mock.callCount(), 1);
        assert.match(String(warn.mock.calls[0].arguments[0]), /pass the client/);
        await pending.set("k", "v");
        assert.equal(await inner.get("k"), "v");
        assert.equal(pending.type, inner.type);
        assert.equal(pending.PREFIX, inner.PREFIX);
      } finally {
        warn.mock.restore();
      }
    });

    it("prefix('') and expires() return new stores over the same data", async () => {
      const root = box.store.prefix("s5:");
      const same = root.prefix();
      assert.notEqual(same, root);
      await same.set("k", 1);
      assert.equal(await root.get("k"), 1);
      assert.equal(await root.expires().get("k"), 1);
    });
  });
}
