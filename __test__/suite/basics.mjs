// docs/behaviour.md §7–10: the single-key methods.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { useStore } from "./helpers.mjs";

export default function basics(make, caps) {
  describe("single-key methods", () => {
    const box = useStore(make);

    it("get of a missing key is null, never undefined", async () => {
      assert.equal(await box.store.get("basics:missing"), null);
      assert.equal(await box.store.has("basics:missing"), false);
    });

    it("set returns the key and get reads the value back", async () => {
      assert.equal(await box.store.set("basics:a", "hello"), "basics:a");
      assert.equal(await box.store.get("basics:a"), "hello");
      assert.equal(await box.store.has("basics:a"), true);
    });

    it("set overwrites", async () => {
      await box.store.set("basics:over", 1);
      await box.store.set("basics:over", 2);
      assert.equal(await box.store.get("basics:over"), 2);
    });

    it("0, false and the empty string are real values", async () => {
      for (const [key, value] of [
        ["basics:zero", 0],
        ["basics:false", false],
        ["basics:empty", ""],
      ]) {
        await box.store.set(key, value);
        assert.equal(await box.store.get(key), value, key);
        assert.equal(await box.store.has(key), true, key);
      }
    });

    it("set(key, null) deletes", async () => {
      await box.store.set("basics:null", "x");
      assert.equal(await box.store.set("basics:null", null), "basics:null");
      assert.equal(await box.store.get("basics:null"), null);
      assert.equal(await box.store.has("basics:null"), false);
    });

    it("del returns the key, also for a missing key", async () => {
      await box.store.set("basics:del", "x");
      assert.equal(await box.store.del("basics:del"), "basics:del");
      assert.equal(await box.store.get("basics:del"), null);
      assert.equal(await box.store.has("basics:del"), false);
      assert.equal(await box.store.del("basics:never"), "basics:never");
    });

    it("a finite number key is the same as its string", async () => {
      await box.store.set(5, "five");
      assert.equal(await box.store.get("5"), "five");
      assert.equal(await box.store.has(5), true);
      await box.store.del(5);
      assert.equal(await box.store.get("5"), null);
    });

    it("keys with unicode, spaces, slashes and glob characters are plain strings", async () => {
      const keys = ["basics:ñ 日本", "basics:a/b\\c", "basics:*?[x]", "basics:%2e%2e", "basics:'\"`"];
      for (const key of keys) await box.store.set(key, key);
      for (const key of keys) assert.equal(await box.store.get(key), key);
      assert.equal(await box.store.get("basics:a/b"), null);
    });

    it("add returns a new 24-character alphanumeric key holding the value", async () => {
      const key = await box.store.add({ added: true });
      assert.match(key, /^[A-Za-z0-9]{24}$/);
      assert.deepEqual(await box.store.get(key), { added: true });
      assert.notEqual(await box.store.add(1), key);
      await box.store.del(key);
    });

    if (caps.polykv) {
      it("set(key, undefined) deletes, like null", async () => {
        await box.store.set("basics:undef", "x");
        await box.store.set("basics:undef", undefined);
        assert.equal(await box.store.get("basics:undef"), null);
        assert.equal(await box.store.has("basics:undef"), false);
      });

      it("a key that is not a string or a finite number is a TypeError that names the problem", async () => {
        for (const bad of [{}, [], null, undefined, NaN, Infinity, Symbol("s"), () => 1, 10n, true]) {
          for (const call of [
            () => box.store.get(bad),
            () => box.store.set(bad, 1),
            () => box.store.has(bad),
            () => box.store.del(bad),
          ]) {
            await assert.rejects(
              call,
              (error) => error instanceof TypeError && /key must be a string/.test(error.message),
            );
          }
        }
      });

      // UTF-8 has no form for them: SQLite, file, folder and Redis stored all three as U+FFFD.
      it("a key with a lone surrogate is a TypeError, never a key that collides with another", async () => {
        await box.store.set("basics:\ufffd", "replacement");
        for (const bad of ["basics:\ud800", "basics:\udc00", "\ud83d", "x\ude00y"]) {
          for (const call of [
            () => box.store.get(bad),
            () => box.store.set(bad, 1),
            () => box.store.has(bad),
            () => box.store.del(bad),
          ]) {
            await assert.rejects(call, { name: "TypeError", code: "ERR_POLYKV_KEY", message: /lone surrogate/ });
          }
        }
        assert.throws(() => box.store.prefix("\ud800"), { name: "TypeError", code: "ERR_POLYKV_OPTIONS" });
        assert.equal(await box.store.get("basics:\ufffd"), "replacement");
        await box.store.set("basics:\ud83d\ude00", "pair"); // a well-formed pair is an ordinary key
        assert.equal(await box.store.get("basics:\ud83d\ude00"), "pair");
      });
    }
  });
}
